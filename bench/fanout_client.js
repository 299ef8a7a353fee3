// Load generator for bench/fanout.py: many WebSocket subscribers (package
// "ws") on one Node.js process, which count the DataSync deltas they receive
// and measure publish-to-receipt latency. Driven by bench/fanout.py through
// stdin/stdout, one JSON object per line; not meant to be run by hand.
//
//   node bench/fanout_client.js --url ws://127.0.0.1:PORT/ws --tokens FILE
//   node bench/fanout_client.js --url ws://127.0.0.1:PORT/ws --idle N
//
// With --tokens, each connection acquires one token of the JSON array in
// FILE; with --idle, N connections are opened and do nothing. Once every
// connection is ready it prints {"event": "ready"}. Each delta's data is
// {"p": phase, "w": publishing worker, "s": that worker's sequence number,
// "t": publish time in ms since the epoch}; each worker's deltas must arrive
// in order. On the line "report" it prints the counts per phase; on "exit"
// it closes every connection and exits.

"use strict";

const fs = require("fs");
const readline = require("readline");
const { performance } = require("perf_hooks");
const WebSocket = require("ws");

const BUCKETS_PER_MS = 10;
// How the server spells a delta message up to the delta's data (its key
// order is fixed). Such messages take a fast path that reads the data's
// fields from the bytes, without a string or JSON.parse, so that this
// process, not the server, is not what limits a run (the general path was
// half of its time). Anything else is parsed whole.
const DELTA_START = Buffer.from('{"service":"datasync","message":{"type":"delta","delta":{"type":"insert","model":"Bench","data":{"p":"');
const QUOTE = 0x22;
const DOT = 0x2e;
const ZERO = 0x30;
const MAX_BUCKET = 100000 * BUCKETS_PER_MS; // 100 s

// Reads the number made of the digits (and at most one dot) of raw at
// fields.at, after the 5 bytes of ',"x":'; leaves fields.at after it.
function readNumber(raw, fields) {
  let i = fields.at + 5;
  let value = 0;
  let scale = 0;
  for (; i < raw.length; i++) {
    const byte = raw[i];
    if (byte === DOT && scale === 0) {
      scale = 1;
    } else if (byte >= ZERO && byte <= ZERO + 9) {
      value = value * 10 + (byte - ZERO);
      if (scale) scale *= 10;
    } else {
      break;
    }
  }
  fields.at = i;
  return scale ? value / scale : value;
}

// Fills fields.{w, s, t} and fields.nameStart/nameEnd (the phase name's
// bytes) from a delta message whose data is exactly
// {"p":"NAME","w":W,"s":S,"t":T}, as bench/fanout.py publishes it;
// returns false for any other message.
function readDelta(raw, fields) {
  const start = DELTA_START.length;
  if (raw.length <= start || raw.compare(DELTA_START, 0, start, 0, start) !== 0) return false;
  const end = raw.indexOf(QUOTE, start);
  if (end < 0) return false;
  fields.nameStart = start;
  fields.nameEnd = end;
  fields.at = end + 1;
  fields.w = readNumber(raw, fields);
  fields.s = readNumber(raw, fields);
  fields.t = readNumber(raw, fields);
  return raw[fields.at] === 0x7d; // "}" closes the data
}

// Whether raw[start:end] spells name, an ASCII string.
function spells(raw, start, end, name) {
  if (name === null || end - start !== name.length) return false;
  for (let i = start; i < end; i++) {
    if (raw[i] !== name.charCodeAt(i - start)) return false;
  }
  return true;
}

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    args[argv[i].replace(/^--/, "")] = argv[i + 1];
  }
  return args;
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function now() {
  return performance.timeOrigin + performance.now();
}

class Phase {
  constructor() {
    this.received = 0;
    this.gaps = 0;
    this.duplicates = 0;
    this.first = Infinity;
    this.last = 0;
    this.histogram = new Uint32Array(MAX_BUCKET + 1);
  }

  record(latencyMs, at) {
    this.received += 1;
    if (at < this.first) this.first = at;
    if (at > this.last) this.last = at;
    const bucket = Math.min(MAX_BUCKET, Math.max(0, Math.floor(latencyMs * BUCKETS_PER_MS)));
    this.histogram[bucket] += 1;
  }

  percentile(fraction) {
    const wanted = Math.ceil(this.received * fraction);
    let seen = 0;
    for (let bucket = 0; bucket <= MAX_BUCKET; bucket++) {
      seen += this.histogram[bucket];
      if (seen >= wanted && seen > 0) return (bucket + 1) / BUCKETS_PER_MS;
    }
    return null;
  }

  summary() {
    return {
      received: this.received,
      gaps: this.gaps,
      duplicates: this.duplicates,
      seconds: this.received ? (this.last - this.first) / 1000 : 0,
      p50_ms: this.percentile(0.5),
      p99_ms: this.percentile(0.99),
      max_ms: this.percentile(1),
    };
  }
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const tokens = args.tokens ? JSON.parse(fs.readFileSync(args.tokens, "utf8")) : null;
  const count = tokens ? tokens.length : parseInt(args.idle, 10);
  const phases = new Map();
  const sockets = [];
  let ready = 0;
  let closedEarly = 0;
  let errors = 0;
  let exiting = false;

  function phase(name) {
    let found = phases.get(name);
    if (!found) {
      found = new Phase();
      phases.set(name, found);
    }
    return found;
  }

  function becameReady() {
    ready += 1;
    if (ready === count) emit({ event: "ready", connections: count });
  }

  for (let i = 0; i < count; i++) {
    // The server's UTF-8 is trusted here, to spare this process the check.
    const ws = new WebSocket(args.url, { perMessageDeflate: false, skipUTF8Validation: true });
    // Phase name -> next sequence number of each worker; the phase of the
    // last delta is kept at hand, since deltas come in long runs of one
    // phase (a string key per delta was a third of this process's time).
    const expected = new Map();
    let lastName = null;
    let lastStats = null;
    let lastNext = null;
    sockets.push(ws);
    ws.on("open", () => {
      if (!tokens) {
        becameReady();
        return;
      }
      ws.send(JSON.stringify({
        service: "datasync",
        message: { command: "acquireSubscription", params: { token: tokens[i] }, callId: 1 },
      }));
    });
    const fields = { w: 0, s: 0, t: 0, at: 0, nameStart: 0, nameEnd: 0 };
    ws.on("message", (raw) => {
      const at = now();
      let data = fields;
      let name;
      if (readDelta(raw, fields)) {
        name = spells(raw, fields.nameStart, fields.nameEnd, lastName)
          ? lastName : raw.toString("latin1", fields.nameStart, fields.nameEnd);
      } else {
        const message = JSON.parse(raw.toString()).message;
        if (message.type === "response") {
          becameReady();
          return;
        }
        if (message.type !== "delta") {
          emit({ event: "unexpected", message });
          return;
        }
        data = message.delta.data;
        name = data.p;
      }
      if (name !== lastName) {
        lastName = name;
        lastStats = phase(lastName);
        lastNext = expected.get(lastName);
        if (!lastNext) {
          lastNext = [];
          expected.set(lastName, lastNext);
        }
      }
      const next = lastNext[data.w] || 0;
      if (data.s > next) lastStats.gaps += data.s - next;
      if (data.s < next) lastStats.duplicates += 1;
      lastNext[data.w] = Math.max(next, data.s + 1);
      lastStats.record(at - data.t, at);
    });
    ws.on("error", () => { errors += 1; });
    ws.on("close", () => { if (!exiting) closedEarly += 1; });
  }

  const input = readline.createInterface({ input: process.stdin });
  input.on("line", (line) => {
    if (line === "report") {
      const report = {};
      for (const [name, stats] of phases) report[name] = stats.summary();
      emit({ event: "report", phases: report, closed_early: closedEarly, errors });
    } else if (line === "exit") {
      exiting = true;
      for (const ws of sockets) ws.terminate();
      process.exit(0);
    }
  });
  input.on("close", () => process.exit(0));
}

main();

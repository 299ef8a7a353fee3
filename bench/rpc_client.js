// Load generator for bench/rpc.py: N WebSocket clients (package "ws") on one
// Node.js process, each sending one request, waiting for one reply, and
// sending the next, for a fixed time. Not meant to be run by hand.
//
//   node bench/rpc_client.js --url ws://127.0.0.1:PORT/ws --clients 50 \
//        --seconds 10 --request '{"service": ...}'
//
// Every client opens first; then all start together. Each request carries
// a fresh callId (the "CALL_ID" placeholder in --request), and each reply
// ends one round trip. At the end it prints one JSON line: round trips,
// the seconds they took, and latency percentiles in milliseconds.

"use strict";

const { performance } = require("perf_hooks");
const WebSocket = require("ws");

function option(name, fallback) {
  const at = process.argv.indexOf("--" + name);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

const url = option("url");
const clients = Number(option("clients", "50"));
const seconds = Number(option("seconds", "10"));
const [before, after] = option("request").split("CALL_ID");
// Latencies in units of 10 microseconds, up to 10 s.
const BUCKETS = 1000000;
const histogram = new Uint32Array(BUCKETS);
let trips = 0;
let running = false;
let started = 0;
let open = 0;
let done = 0;

function percentile(fraction) {
  const wanted = Math.ceil(trips * fraction);
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += histogram[i];
    if (seen >= wanted) return i / 100;
  }
  return null;
}

function finish() {
  done += 1;
  if (done < clients) return;
  const elapsed = (performance.now() - started) / 1000;
  console.log(JSON.stringify({
    trips, seconds: elapsed, p50_ms: percentile(0.5), p99_ms: percentile(0.99),
  }));
  process.exit(0);
}

function client() {
  const socket = new WebSocket(url, { perMessageDeflate: false });
  let callId = 0;
  let sent = 0;
  function send() {
    callId += 1;
    sent = performance.now();
    socket.send(before + callId + after);
  }
  socket.on("open", () => {
    open += 1;
    if (open === clients) {
      running = true;
      started = performance.now();
      const until = started + seconds * 1000;
      for (const each of all) each.start(until);
    }
  });
  socket.on("message", () => {
    const now = performance.now();
    trips += 1;
    histogram[Math.min(BUCKETS - 1, Math.round((now - sent) * 100))] += 1;
    if (now < this_until) {
      send();
    } else {
      socket.close();
      finish();
    }
  });
  socket.on("error", (error) => {
    console.error("client error: " + error.message);
    process.exit(1);
  });
  let this_until = 0;
  return {
    start(until) {
      this_until = until;
      send();
    },
  };
}

const all = [];
for (let i = 0; i < clients; i++) all.push(client());
setTimeout(() => {
  console.error(running ? "the run did not end in time" : "clients did not open in time");
  process.exit(1);
}, (seconds + 30) * 1000);

/*
 * The real sockjs-client in Node against `twistd snorky --workers N`:
 *
 *   node workers_sockjs.js SOCKJS_URL SESSIONS ROUNDS TRANSPORT...
 *
 * For each transport, SESSIONS sessions at once each make ROUNDS echo
 * round trips and subscribe to one PubSub channel; the first then
 * publishes, and every session must get that message once; then all
 * close cleanly. Prints one line "RESULT <json>" per transport.
 */
"use strict";
const SockJS = require("sockjs-client");

const STEP_TIMEOUT_MS = 30000;

function bounded(promise, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out: " + what)), STEP_TIMEOUT_MS);
    promise.then((v) => { clearTimeout(timer); resolve(v); },
                 (e) => { clearTimeout(timer); reject(e); });
  });
}

function open(url, transport) {
  return new Promise((resolve, reject) => {
    const sock = new SockJS(url, null, {transports: [transport], timeout: 15000});
    const inbox = [];
    const waiting = [];
    let closedResolve;
    const closed = new Promise((r) => { closedResolve = r; });
    sock.onmessage = (e) => {
      const data = JSON.parse(e.data);
      if (waiting.length) {
        waiting.shift()(data);
      } else {
        inbox.push(data);
      }
    };
    sock.onopen = () => {
      if (sock.transport !== transport) {
        reject(new Error("opened with " + sock.transport));
        return;
      }
      resolve({
        sock, closed,
        next: () => inbox.length ? Promise.resolve(inbox.shift())
          : new Promise((r) => waiting.push(r)),
        send: (service, message) => sock.send(JSON.stringify({service, message}))
      });
    };
    sock.onclose = (e) => {
      closedResolve(e);
      reject(new Error("closed before open: " + e.code));
    };
  });
}

async function session(url, transport, rounds, index) {
  const conn = await bounded(open(url, transport), "open " + index);
  for (let i = 0; i < rounds; i++) {
    conn.send("echo", {session: index, round: i});
    const got = await bounded(conn.next(), "echo " + i);
    if (got.message.session !== index || got.message.round !== i) {
      throw new Error("echo out of order: " + JSON.stringify(got));
    }
  }
  conn.send("pubsub", {command: "subscribe", params: {channel: "w"}, callId: 1});
  const reply = await bounded(conn.next(), "subscribe");
  if (reply.message.type !== "response") {
    throw new Error("subscribe: " + JSON.stringify(reply));
  }
  return conn;
}

async function run(url, sessions, rounds, transport) {
  const conns = await Promise.all(
    Array.from({length: sessions}, (_, i) => session(url, transport, rounds, i)));
  conns[0].send("pubsub", {command: "publish", params: {channel: "w", message: "all"},
                           callId: 2});
  let received = 0;
  for (const conn of conns) {
    for (;;) {
      const m = await bounded(conn.next(), "publication");
      if (m.message.type === "message") {
        if (m.message.message !== "all") {
          throw new Error("wrong publication " + JSON.stringify(m));
        }
        received++;
        break;
      }
    }
  }
  const codes = await Promise.all(conns.map((c) => {
    c.sock.close();
    return bounded(c.closed, "close").then((e) => e.code);
  }));
  return {transport, sessions, echoes: sessions * rounds, received,
          closed: codes.filter((c) => c === 1000).length};
}

async function main() {
  const [url, sessions, rounds, ...transports] = process.argv.slice(2);
  for (const transport of transports) {
    let result;
    try {
      result = await run(url, Number(sessions), Number(rounds), transport);
    } catch (err) {
      result = {transport, error: String(err)};
    }
    console.log("RESULT " + JSON.stringify(result));
  }
  process.exit(0);
}

main();

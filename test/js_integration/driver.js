/*
 * One snorky.js client in Node, driven by the integration tests:
 *
 *   node driver.js URL[,URL...] websocket|native|sockjs [script|module]
 *
 * It connects to the services of the test server (calc, pubsub,
 * datasync) and reconnects quickly (50 ms, then up to 400 ms). It uses
 * the global build (snorky/static/snorky.js) unless told "module": then
 * the package's ES module (js/src/snorky.js). Several URLs are tried in
 * turn. "native" is Node's own WebSocket (Node 22, or 20 with
 * --experimental-websocket) instead of the ws package's.
 * Commands come on stdin, one JSON object a line:
 *
 *   {"id": 1, "service": "calc", "method": "rpcCall", "args": ["add", {"a": 1, "b": 2}]}
 *
 * and what happens goes to stdout, one JSON object a line: answers
 * {"id": 1, "ok": data} or {"id": 1, "error": text, "name": "RPCError"},
 * and events {"event": "connected" (with the "url") | "disconnected" |
 * "reconnecting" | "reconnected" | "message" | "delta" | "expired", ...}.
 * End of stdin ends it.
 */
"use strict";
const path = require("node:path");
const readline = require("node:readline");

const [urls, kind, build] = process.argv.slice(2);
const SocketClass = kind === "sockjs" ? require("sockjs-client")
  : kind === "native" ? globalThis.WebSocket : require("ws");
const ROOT = path.join(__dirname, "..", "..");

const loaded = build === "module"
  ? import(path.join(ROOT, "js", "src", "snorky.js")).then((module) => module.Snorky)
  : Promise.resolve(require(path.join(ROOT, "snorky", "static", "snorky.js")));
loaded.then(run);

function emit(object) {
  process.stdout.write(JSON.stringify(object) + "\n");
}

function run(Snorky) {
  const url = urls.indexOf(",") === -1 ? urls : urls.split(",");
  const snorky = new Snorky(SocketClass, url, {
    calc: Snorky.RPCService,
    pubsub: Snorky.PubSub,
    datasync: Snorky.DataSync
  }, {reconnect: {initialDelay: 50, maxDelay: 400}});

  snorky.connected.add(() => emit({event: "connected", url: snorky.url}));
  for (const name of ["disconnected", "reconnected"]) {
    snorky[name].add(() => emit({event: name}));
  }
  snorky.reconnecting.add((attempt, delay) => emit({event: "reconnecting", attempt, delay}));
  snorky.services.pubsub.messagePublished.add(
    (m) => emit({event: "message", channel: m.channel, message: m.message}));
  snorky.services.datasync.deltaReceived.add((delta) => emit({event: "delta", delta}));
  snorky.services.datasync.subscriptionExpired.add(
    (token, err) => emit({event: "expired", token, error: err.message}));

  readline.createInterface({input: process.stdin})
    .on("line", (line) => {
      const command = JSON.parse(line);
      const service = snorky.services[command.service];
      Promise.resolve()
        .then(() => service[command.method].apply(service, command.args))
        .then((data) => emit({id: command.id, ok: data === undefined ? null : data}),
              (err) => emit({id: command.id, error: err.message, name: err.name}));
    })
    .on("close", () => {
      snorky.disconnect();
      process.exit(0);
    });
}

/*
 * A browser of the cluster tests: snorky.js in Node, holding one DataSync
 * subscription, that cuts its own connection every CUT deltas and then
 * reconnects (snorky.js moves to the next URL of its list on every
 * reconnection, so each one reaches another node).
 *
 *   node cluster_client.js '{"urls": [...], "token": "...", "expect": 300, "cut": 70}'
 *
 * Prints one JSON object a line: {"event": "acquired"}, {"event": "cut",
 * "at": n}, {"event": "expired"}, and at the end {"event": "done", "ids":
 * [...], "seqs": [...]} once it has `expect` deltas (or after 60 s).
 */
"use strict";
const Snorky = require("../../snorky/static/snorky.js");
const WebSocket = require("ws");

const options = JSON.parse(process.argv[2]);
const ids = [];
const seqs = [];
let sinceCut = 0;

function emit(object) {
  process.stdout.write(JSON.stringify(object) + "\n");
}

const snorky = new Snorky(WebSocket, options.urls, {datasync: Snorky.DataSync},
                          {reconnect: {initialDelay: 20, maxDelay: 200, maxAttempts: 1000}});
const datasync = snorky.services.datasync;

// Read every delta's seq as it arrives, before DataSync drops repeats.
datasync.packetReceived.add((message) => {
  if (message && message.type === "delta") {
    seqs.push(message.seq);
  }
});
datasync.deltaReceived.add((delta) => {
  ids.push(delta.data.id);
  sinceCut += 1;
  if (ids.length >= options.expect) {
    finish();
  } else if (options.cut && sinceCut >= options.cut) {
    sinceCut = 0;
    emit({event: "cut", at: ids.length, url: snorky.url});
    // Cut the TCP connection; the reconnection goes to the next node.
    snorky._socket._socket.destroy();
  }
});
datasync.subscriptionExpired.add((token, err) => emit({event: "expired", error: err.message}));
snorky.disconnected.add(() => emit({event: "disconnected", at: ids.length}));
snorky.connected.add(() => emit({event: "connected", url: snorky.url}));

let acquired = false;
snorky.connected.add(() => {
  if (!acquired) {
    acquired = true;
    datasync.acquireSubscription({token: options.token}).then(
      () => emit({event: "acquired"}),
      (err) => emit({event: "error", error: err.message}));
  }
});

function finish() {
  emit({event: "done", ids: ids, seqs: seqs});
  process.exit(0);
}
setTimeout(finish, options.timeout || 60000);

"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const Snorky = require("../../snorky/static/snorky.js");
const {fakeSocketClass, flush} = require("./fake-socket.js");

function connect(t) {
  t.mock.timers.enable({apis: ["setTimeout"]});
  const Socket = fakeSocketClass();
  const snorky = new Snorky(Socket, "ws://x/ws", {datasync: Snorky.DataSync},
                            {random: () => 0});
  Socket.last().open();
  return {Socket, snorky, datasync: snorky.services.datasync};
}

function commands(socket) {
  return socket.envelopes().map((e) => [e.message.command, e.message.params]);
}

function answer(socket, index, error) {
  const {callId} = socket.envelopes()[index].message;
  socket.receive({service: "datasync", message: error
    ? {type: "error", callId, message: error}
    : {type: "response", callId, data: null}});
}

async function reconnect(t, Socket) {
  Socket.last().drop();
  t.mock.timers.tick(500);
  Socket.last().open();
  await flush();
  return Socket.last();
}

test("acquireSubscription and cancelSubscription send the token", (t) => {
  const {Socket, datasync} = connect(t);
  datasync.acquireSubscription({token: "t1"});
  datasync.cancelSubscription({token: "t1"});
  assert.deepEqual(commands(Socket.last()), [
    ["acquireSubscription", {token: "t1"}],
    ["cancelSubscription", {token: "t1"}]
  ]);
});

test("deltaReceived is dispatched with the delta of each delta notification", (t) => {
  const {Socket, datasync} = connect(t);
  const seen = [];
  datasync.deltaReceived.add((d) => seen.push(d));
  const delta = {type: "insert", model: "Player", data: {id: 1, name: "Alice"}};
  Socket.last().receive({service: "datasync", message: {type: "delta", delta}});
  Socket.last().receive({service: "datasync", message: {type: "strange"}});
  assert.deepEqual(seen, [delta]);
});

test("acquired subscriptions are acquired again, first, after a reconnection", async (t) => {
  const {Socket, datasync} = connect(t);
  datasync.acquireSubscription({token: "t1"});
  datasync.acquireSubscription({token: "t2"});
  answer(Socket.last(), 0);
  answer(Socket.last(), 1);
  await flush();
  assert.deepEqual(datasync.tokens, ["t1", "t2"]);
  Socket.last().drop();
  datasync.acquireSubscription({token: "t3"});
  t.mock.timers.tick(500);
  Socket.last().open();
  assert.deepEqual(commands(Socket.last()), [
    ["acquireSubscription", {token: "t1"}],
    ["acquireSubscription", {token: "t2"}],
    ["acquireSubscription", {token: "t3"}]
  ]);
});

test("a cancelled subscription is not acquired again", async (t) => {
  const {Socket, datasync} = connect(t);
  datasync.acquireSubscription({token: "t1"});
  answer(Socket.last(), 0);
  await flush();
  const cancelled = assert.rejects(datasync.cancelSubscription({token: "t1"}),
                                   Snorky.ConnectionError);
  const socket = await reconnect(t, Socket);
  assert.deepEqual(commands(socket), []);
  await cancelled;
});

test("a subscription the server no longer has signals subscriptionExpired", async (t) => {
  const {Socket, datasync} = connect(t);
  datasync.acquireSubscription({token: "t1"});
  datasync.acquireSubscription({token: "t2"});
  answer(Socket.last(), 0);
  answer(Socket.last(), 1);
  await flush();
  const expired = [];
  datasync.subscriptionExpired.add((token, err) => expired.push([token, err.message]));
  const socket = await reconnect(t, Socket);
  answer(socket, 0, "Subscription expired");
  answer(socket, 1);
  await flush();
  assert.deepEqual(expired, [["t1", "Subscription expired"]]);
  assert.deepEqual(datasync.tokens, ["t2"]);
});

test("a re-acquisition cut by another drop keeps the token for the next connection", async (t) => {
  const {Socket, datasync} = connect(t);
  datasync.acquireSubscription({token: "t1"});
  answer(Socket.last(), 0);
  await flush();
  const expired = [];
  datasync.subscriptionExpired.add((token) => expired.push(token));
  await reconnect(t, Socket);
  const socket = await reconnect(t, Socket);
  assert.deepEqual(commands(socket), [["acquireSubscription", {token: "t1"}]]);
  assert.deepEqual(expired, []);
  assert.deepEqual(datasync.tokens, ["t1"]);
});

test("a failed acquisition is not remembered", async (t) => {
  const {Socket, datasync} = connect(t);
  const result = datasync.acquireSubscription({token: "bad"});
  answer(Socket.last(), 0, "No such subscription");
  await assert.rejects(result, /No such subscription/);
  assert.deepEqual(datasync.tokens, []);
});

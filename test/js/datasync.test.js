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
    ["acquireSubscription", {token: "t1", after: 0}],
    ["acquireSubscription", {token: "t2", after: 0}],
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
  assert.deepEqual(commands(socket), [["acquireSubscription", {token: "t1", after: 0}]]);
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

function delta(seq, id) {
  const message = {type: "delta", delta: {type: "insert", model: "Player", data: {id}}};
  if (seq !== undefined) {
    message.seq = seq;
  }
  return {service: "datasync", message};
}

function dispatched(datasync) {
  const seen = [];
  datasync.deltaReceived.add((d) => seen.push(d.data.id));
  return seen;
}

test("re-acquisition says the last seq seen for each subscription", async (t) => {
  const {Socket, datasync} = connect(t);
  const seen = dispatched(datasync);
  datasync.acquireSubscription({token: "t1"});
  answer(Socket.last(), 0);
  Socket.last().receive(delta(3, 1));
  Socket.last().receive(delta(5, 2));
  Socket.last().receive(delta(undefined, 3));
  const socket = await reconnect(t, Socket);
  assert.deepEqual(commands(socket), [["acquireSubscription", {token: "t1", after: 5}]]);
  answer(socket, 0);
  socket.receive(delta(6, 4));
  socket.receive(delta(8, 5));
  const third = await reconnect(t, Socket);
  assert.deepEqual(commands(third), [["acquireSubscription", {token: "t1", after: 8}]]);
  assert.deepEqual(seen, [1, 2, 3, 4, 5]);
});

test("deltas read before an acquisition's answer do not count for it", async (t) => {
  const {Socket, datasync} = connect(t);
  const seen = dispatched(datasync);
  datasync.acquireSubscription({token: "t1"});
  datasync.acquireSubscription({token: "t2"});
  answer(Socket.last(), 0);
  Socket.last().receive(delta(7, 1));
  // t2's answer and its buffered deltas, older than t1's, read at once.
  answer(Socket.last(), 1);
  Socket.last().receive(delta(4, 2));
  const socket = await reconnect(t, Socket);
  assert.deepEqual(commands(socket), [
    ["acquireSubscription", {token: "t1", after: 7}],
    ["acquireSubscription", {token: "t2", after: 4}]
  ]);
  assert.deepEqual(seen, [1, 2]);
});

test("a subscription not answered yet on a new connection keeps its seq", async (t) => {
  const {Socket, datasync} = connect(t);
  datasync.acquireSubscription({token: "t1"});
  datasync.acquireSubscription({token: "t2"});
  answer(Socket.last(), 0);
  answer(Socket.last(), 1);
  Socket.last().receive(delta(2, 1));
  const socket = await reconnect(t, Socket);
  answer(socket, 0);
  socket.receive(delta(9, 2));
  const third = await reconnect(t, Socket);
  assert.deepEqual(commands(third), [
    ["acquireSubscription", {token: "t1", after: 9}],
    ["acquireSubscription", {token: "t2", after: 2}]
  ]);
});

test("a delta older than what every held subscription saw is not dispatched", (t) => {
  const {Socket, datasync} = connect(t);
  const seen = dispatched(datasync);
  datasync.acquireSubscription({token: "t1"});
  answer(Socket.last(), 0);
  Socket.last().receive(delta(5, 1));
  Socket.last().receive(delta(4, 2));
  // The same delta for a second subscription of this client still counts.
  Socket.last().receive(delta(5, 1));
  Socket.last().receive(delta(6, 3));
  assert.deepEqual(seen, [1, 1, 3]);
});

test("an expired re-acquisition forgets the subscription's seq", async (t) => {
  const {Socket, datasync} = connect(t);
  datasync.acquireSubscription({token: "t1"});
  answer(Socket.last(), 0);
  Socket.last().receive(delta(5, 1));
  const socket = await reconnect(t, Socket);
  answer(socket, 0, "Subscription expired");
  await flush();
  datasync.acquireSubscription({token: "t1"});
  assert.deepEqual(commands(socket)[1], ["acquireSubscription", {token: "t1"}]);
  answer(socket, 1);
  const third = await reconnect(t, Socket);
  assert.deepEqual(commands(third), [["acquireSubscription", {token: "t1", after: 0}]]);
});

"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const Snorky = require("../../snorky/static/snorky.js");
const {fakeSocketClass} = require("./fake-socket.js");

function client(t, options) {
  t.mock.timers.enable({apis: ["setTimeout"]});
  const Socket = fakeSocketClass();
  const snorky = new Snorky(Socket, "ws://x/ws", {}, options);
  const events = [];
  snorky.connected.add(() => events.push("connected"));
  snorky.disconnected.add(() => events.push("disconnected"));
  snorky.reconnecting.add((attempt, delay) => events.push(["reconnecting", attempt, delay]));
  snorky.reconnected.add(() => events.push("reconnected"));
  return {Socket, snorky, events};
}

test("delays grow exponentially up to maxDelay", () => {
  const snorky = new Snorky(fakeSocketClass(), "ws://x/ws", {},
                            {connect: false, random: () => 0});
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => snorky.reconnectDelay(n)),
                   [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
});

test("jitter takes up to its fraction off each delay", () => {
  let random = 1;
  const snorky = new Snorky(fakeSocketClass(), "ws://x/ws", {},
                            {connect: false, random: () => random,
                             reconnect: {initialDelay: 1000, jitter: 0.25}});
  assert.equal(snorky.reconnectDelay(1), 750);
  random = 0.5;
  assert.equal(snorky.reconnectDelay(2), 1750);
  random = 0;
  assert.equal(snorky.reconnectDelay(3), 4000);
});

test("invalid reconnect options are refused", () => {
  assert.throws(() => new Snorky(fakeSocketClass(), "ws://x/ws", {},
                                 {connect: false, reconnect: {jitter: 2}}), RangeError);
});

test("a lost connection is reopened after the backoff delay, announcing each step", (t) => {
  const {Socket, snorky, events} = client(t, {random: () => 0.5});
  Socket.last().open();
  Socket.last().drop();
  // Default: 500 ms less up to half of it for jitter (here a quarter).
  assert.deepEqual(events, ["connected", "disconnected", ["reconnecting", 1, 375]]);
  assert.equal(snorky.isReconnecting, true);
  t.mock.timers.tick(374);
  assert.equal(Socket.instances.length, 1);
  t.mock.timers.tick(1);
  assert.equal(Socket.instances.length, 2);
  assert.equal(snorky.isConnecting, true);
  Socket.last().open();
  assert.deepEqual(events.slice(3), ["connected", "reconnected"]);
  assert.equal(snorky.isReconnecting, false);
  assert.equal(snorky.isConnected, true);
});

test("failed attempts back off further and are not announced as disconnections", (t) => {
  const {Socket, events} = client(t, {random: () => 0, reconnect: {initialDelay: 100}});
  Socket.last().open();
  Socket.last().drop();
  t.mock.timers.tick(100);
  Socket.last().drop();
  t.mock.timers.tick(200);
  Socket.last().drop();
  t.mock.timers.tick(400);
  Socket.last().open();
  assert.deepEqual(events, [
    "connected", "disconnected",
    ["reconnecting", 1, 100], ["reconnecting", 2, 200], ["reconnecting", 3, 400],
    "connected", "reconnected"
  ]);
  assert.equal(Socket.instances.length, 4);
});

test("a successful connection resets the backoff", (t) => {
  const {Socket, events} = client(t, {random: () => 0, reconnect: {initialDelay: 100}});
  Socket.last().drop();
  t.mock.timers.tick(100);
  Socket.last().drop();
  t.mock.timers.tick(200);
  Socket.last().open();
  Socket.last().drop();
  assert.deepEqual(events.pop(), ["reconnecting", 1, 100]);
});

test("a first connection that fails is retried, and its success is not a reconnection", (t) => {
  const {Socket, events} = client(t, {random: () => 0});
  Socket.last().drop();
  t.mock.timers.tick(500);
  Socket.last().open();
  assert.deepEqual(events, [["reconnecting", 1, 500], "connected"]);
});

test("after maxAttempts failures the client gives up and says so", (t) => {
  const {Socket, snorky, events} = client(t, {random: () => 0,
                                               reconnect: {initialDelay: 10, maxAttempts: 2}});
  Socket.last().open();
  Socket.last().drop();
  t.mock.timers.tick(10);
  Socket.last().drop();
  t.mock.timers.tick(20);
  Socket.last().drop();
  t.mock.timers.tick(60000);
  assert.equal(Socket.instances.length, 3);
  assert.equal(snorky.isReconnecting, false);
  assert.deepEqual(events, ["connected", "disconnected",
                            ["reconnecting", 1, 10], ["reconnecting", 2, 20]]);
  snorky.connect();
  assert.equal(Socket.instances.length, 4);
});

test("a client that never connected signals disconnected when it gives up", (t) => {
  const {Socket, events} = client(t, {random: () => 0,
                                      reconnect: {initialDelay: 10, maxAttempts: 1}});
  Socket.last().drop();
  t.mock.timers.tick(10);
  Socket.last().drop();
  assert.deepEqual(events, [["reconnecting", 1, 10], "disconnected"]);
});

test("reconnect: false never reconnects", (t) => {
  const {Socket, snorky, events} = client(t, {reconnect: false});
  Socket.last().open();
  Socket.last().drop();
  t.mock.timers.tick(600000);
  assert.equal(Socket.instances.length, 1);
  assert.equal(snorky.isReconnecting, false);
  assert.deepEqual(events, ["connected", "disconnected"]);
});

test("disconnect() during the backoff cancels the pending attempt", (t) => {
  const {Socket, snorky} = client(t, {random: () => 0});
  Socket.last().open();
  Socket.last().drop();
  snorky.disconnect();
  t.mock.timers.tick(600000);
  assert.equal(Socket.instances.length, 1);
  assert.equal(snorky.isReconnecting, false);
});

test("connect() during the backoff connects at once and drops the pending attempt", (t) => {
  const {Socket, snorky} = client(t, {random: () => 0});
  Socket.last().open();
  Socket.last().drop();
  snorky.connect();
  assert.equal(Socket.instances.length, 2);
  t.mock.timers.tick(600000);
  assert.equal(Socket.instances.length, 2);
});

test("an injected timers object replaces the global setTimeout", () => {
  const scheduled = [];
  const timers = {
    setTimeout: (fn, delay) => scheduled.push({fn, delay}),
    clearTimeout: () => assert.fail("nothing to cancel")
  };
  const Socket = fakeSocketClass();
  new Snorky(Socket, "ws://x/ws", {}, {timers, random: () => 0});
  Socket.last().drop();
  assert.deepEqual(scheduled.map((s) => s.delay), [500]);
  scheduled[0].fn();
  assert.equal(Socket.instances.length, 2);
});

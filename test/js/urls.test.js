"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const Snorky = require("../../snorky/static/snorky.js");
const {fakeSocketClass} = require("./fake-socket.js");

const NODES = ["ws://a/ws", "ws://b/ws", "ws://c/ws"];

function client(t, url, options) {
  t.mock.timers.enable({apis: ["setTimeout"]});
  const Socket = fakeSocketClass();
  const snorky = new Snorky(Socket, url, {}, Object.assign({random: () => 0}, options));
  const states = [];
  snorky.stateChanged.add((state, previous) => states.push(previous + ">" + state));
  return {Socket, snorky, states};
}

test("a list of URLs is tried in turn, one per attempt, with the backoff between", (t) => {
  const {Socket, snorky} = client(t, NODES, {reconnect: {initialDelay: 100}});
  assert.deepEqual(snorky.urls, NODES);
  Socket.last().drop();
  t.mock.timers.tick(100);
  Socket.last().drop();
  t.mock.timers.tick(199);
  assert.equal(Socket.instances.length, 2);
  t.mock.timers.tick(1);
  Socket.last().drop();
  t.mock.timers.tick(400);
  assert.deepEqual(Socket.instances.map((s) => s.url),
                   ["ws://a/ws", "ws://b/ws", "ws://c/ws", "ws://a/ws"]);
  Socket.last().open();
  assert.equal(snorky.url, "ws://a/ws");
});

test("after a lost connection the next attempt goes to the next URL", (t) => {
  const {Socket, snorky} = client(t, NODES);
  Socket.last().drop();
  t.mock.timers.tick(500);
  Socket.last().open();
  assert.equal(snorky.url, "ws://b/ws");
  Socket.last().drop();
  t.mock.timers.tick(500);
  assert.equal(Socket.last().url, "ws://c/ws");
});

test("a single URL is kept as a list of one", (t) => {
  const {Socket, snorky} = client(t, "ws://x/ws");
  assert.deepEqual(snorky.urls, ["ws://x/ws"]);
  Socket.last().drop();
  t.mock.timers.tick(500);
  assert.deepEqual(Socket.instances.map((s) => s.url), ["ws://x/ws", "ws://x/ws"]);
});

test("with one URL, an application may still set url to move to another endpoint", (t) => {
  const {Socket, snorky} = client(t, "ws://x/ws");
  snorky.reconnecting.add(() => {
    snorky.url = "ws://y/ws";
  });
  Socket.last().drop();
  t.mock.timers.tick(500);
  assert.deepEqual(Socket.instances.map((s) => s.url), ["ws://x/ws", "ws://y/ws"]);
});

test("an empty list, or one holding something that is not a URL, is refused", () => {
  for (const bad of [[], [""], ["ws://a/ws", 5], undefined, null]) {
    assert.throws(() => new Snorky(fakeSocketClass(), bad, {}, {connect: false}),
                  /endpoint URL or a non-empty list/, JSON.stringify(bad));
  }
});

test("state goes connecting, online, reconnecting, online, offline", (t) => {
  const {Socket, snorky, states} = client(t, NODES);
  assert.equal(snorky.state, "connecting");
  Socket.last().open();
  assert.equal(snorky.state, "online");
  Socket.last().drop();
  assert.equal(snorky.state, "reconnecting");
  t.mock.timers.tick(500);
  assert.equal(snorky.state, "reconnecting", "still reconnecting while the attempt runs");
  Socket.last().open();
  snorky.disconnect();
  assert.equal(snorky.state, "offline");
  assert.deepEqual(states, ["connecting>online", "online>reconnecting",
                            "reconnecting>online", "online>offline"]);
});

test("a client that gives up is offline; one made with connect false starts offline", (t) => {
  const {Socket, snorky} = client(t, "ws://x/ws", {reconnect: false});
  Socket.last().drop();
  assert.equal(snorky.state, "offline");
  const idle = new Snorky(fakeSocketClass(), "ws://x/ws", {}, {connect: false});
  assert.equal(idle.state, "offline");
});

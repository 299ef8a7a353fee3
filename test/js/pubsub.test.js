"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const Snorky = require("../../snorky/static/snorky.js");
const {fakeSocketClass, recordingLogger, flush} = require("./fake-socket.js");

function connect(t, options) {
  t.mock.timers.enable({apis: ["setTimeout"]});
  const Socket = fakeSocketClass();
  const snorky = new Snorky(Socket, "ws://x/ws", {pubsub: Snorky.PubSub},
                            Object.assign({random: () => 0}, options));
  Socket.last().open();
  return {Socket, snorky, pubsub: snorky.services.pubsub};
}

function commands(socket) {
  return socket.envelopes().map((e) => [e.message.command, e.message.params]);
}

// Answer every call the socket has not had an answer for yet.
function answerAll(socket, answered, error) {
  for (const {message} of socket.envelopes().slice(answered)) {
    socket.receive({service: "pubsub", message: error
      ? {type: "error", callId: message.callId, message: error}
      : {type: "response", callId: message.callId, data: null}});
  }
}

test("subscribe, unsubscribe and publish send their commands", (t) => {
  const {Socket, pubsub} = connect(t);
  pubsub.subscribe({channel: "news"});
  pubsub.publish({channel: "news", message: {text: "hi"}});
  pubsub.unsubscribe({channel: "news"});
  assert.deepEqual(commands(Socket.last()), [
    ["subscribe", {channel: "news"}],
    ["publish", {channel: "news", message: {text: "hi"}}],
    ["unsubscribe", {channel: "news"}]
  ]);
});

test("published messages are dispatched by messagePublished", (t) => {
  const {Socket, pubsub} = connect(t);
  const seen = [];
  pubsub.messagePublished.add((m) => seen.push(m));
  const notification = {type: "message", channel: "news", message: "hello"};
  Socket.last().receive({service: "pubsub", message: notification});
  assert.deepEqual(seen, [notification]);
});

test("channels subscribed are subscribed again, first, after a reconnection", async (t) => {
  const {Socket, pubsub} = connect(t);
  pubsub.subscribe({channel: "news"});
  pubsub.subscribe({channel: {room: 1, kind: "chat"}});
  answerAll(Socket.last(), 0);
  await flush();
  assert.equal(pubsub.channels.length, 2);
  Socket.last().drop();
  pubsub.publish({channel: "news", message: "queued while down"});
  t.mock.timers.tick(500);
  Socket.last().open();
  assert.deepEqual(commands(Socket.last()), [
    ["subscribe", {channel: "news"}],
    ["subscribe", {channel: {room: 1, kind: "chat"}}],
    ["publish", {channel: "news", message: "queued while down"}]
  ]);
});

test("an unsubscribed channel is not subscribed again", async (t) => {
  const {Socket, pubsub} = connect(t);
  pubsub.subscribe({channel: {a: 1, b: 2}});
  answerAll(Socket.last(), 0);
  await flush();
  // Key order does not make a different channel.
  const unsubscribed = pubsub.unsubscribe({channel: {b: 2, a: 1}});
  assert.deepEqual(pubsub.channels, []);
  Socket.last().drop();
  await assert.rejects(unsubscribed, Snorky.ConnectionError);
  t.mock.timers.tick(500);
  Socket.last().open();
  assert.deepEqual(commands(Socket.last()), []);
});

test("a subscription the server refused is not taken back", async (t) => {
  const {Socket, pubsub} = connect(t);
  await assert.rejects(
    (() => { const p = pubsub.subscribe({channel: "x"}); answerAll(Socket.last(), 0, "Too many subscriptions"); return p; })(),
    /Too many subscriptions/);
  assert.deepEqual(pubsub.channels, []);
});

test("a channel the server refuses after reconnecting is logged and forgotten", async (t) => {
  const logger = recordingLogger();
  const {Socket, pubsub} = connect(t, {logger});
  pubsub.subscribe({channel: "news"});
  answerAll(Socket.last(), 0);
  await flush();
  Socket.last().drop();
  t.mock.timers.tick(500);
  Socket.last().open();
  answerAll(Socket.last(), 0, "Not authorized");
  await flush();
  assert.deepEqual(pubsub.channels, []);
  assert.ok(logger.errors.some((l) => /subscribe again to channel "news"/.test(l)), logger.errors);
});

"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const Snorky = require("../../snorky/static/snorky.js");
const {fakeSocketClass, recordingLogger, flush} = require("./fake-socket.js");

class Calculator extends Snorky.RPCService {}
Calculator.addRPCMethods(["add", "divide"]);

function connect(options) {
  const Socket = fakeSocketClass();
  const snorky = new Snorky(Socket, "ws://x/ws", {calc: Calculator},
                            Object.assign({reconnect: false}, options));
  return {Socket, snorky, calc: snorky.services.calc, socket: Socket.last()};
}

test("rpcCall sends command, params and a callId and resolves with the data", async () => {
  const {calc, socket} = connect();
  socket.open();
  const result = calc.rpcCall("add", {a: 1, b: 2});
  const [envelope] = socket.envelopes();
  assert.equal(envelope.service, "calc");
  assert.equal(envelope.message.command, "add");
  assert.deepEqual(envelope.message.params, {a: 1, b: 2});
  assert.equal(typeof envelope.message.callId, "number");
  socket.receive({service: "calc",
                  message: {type: "response", callId: envelope.message.callId, data: 3}});
  assert.equal(await result, 3);
  assert.equal(calc.pendingCalls, 0);
});

test("an error answer rejects the call with an RPCError carrying the server's text", async () => {
  const {calc, socket} = connect();
  socket.open();
  const result = calc.divide({a: 1, b: 0});
  const {callId} = socket.envelopes()[0].message;
  socket.receive({service: "calc", message: {type: "error", callId, message: "Invalid params"}});
  await assert.rejects(result, (err) => {
    assert.ok(err instanceof Snorky.RPCError);
    assert.ok(err instanceof Error);
    assert.equal(err.message, "Invalid params");
    assert.equal(err.service, "calc");
    assert.equal(err.command, "divide");
    return true;
  });
  assert.equal(calc.pendingCalls, 0);
});

test("answers in any order resolve their own calls", async () => {
  const {calc, socket} = connect();
  socket.open();
  const first = calc.add({a: 1, b: 1});
  const second = calc.add({a: 2, b: 2});
  const [one, two] = socket.envelopes().map((e) => e.message.callId);
  assert.notEqual(one, two);
  socket.receive({service: "calc", message: {type: "response", callId: two, data: "second"}});
  socket.receive({service: "calc", message: {type: "response", callId: one, data: "first"}});
  assert.deepEqual(await Promise.all([first, second]), ["first", "second"]);
});

test("addRPCMethods makes methods that send a params object, {} by default", () => {
  const {calc, socket} = connect();
  socket.open();
  calc.add();
  assert.deepEqual(socket.envelopes()[0].message.params, {});
  assert.equal(typeof Calculator.prototype.divide, "function");
});

test("addRPCMethods refuses to overwrite an existing method", () => {
  class Broken extends Snorky.RPCService {}
  assert.throws(() => Broken.addRPCMethods(["rpcCall"]), /already exists/);
});

test("messages that are not answers are dispatched as notifications", () => {
  const {calc, socket} = connect();
  socket.open();
  const seen = [];
  calc.notificationReceived.add((n) => seen.push(n));
  socket.receive({service: "calc", message: {type: "tick", n: 1}});
  assert.deepEqual(seen, [{type: "tick", n: 1}]);
});

test("an answer for no pending call, or a message without a type, is logged and dropped", () => {
  const logger = recordingLogger();
  const {calc, socket} = connect({debug: true, logger});
  socket.open();
  const seen = [];
  calc.notificationReceived.add((n) => seen.push(n));
  socket.receive({service: "calc", message: {type: "response", callId: 999, data: 1}});
  socket.receive({service: "calc", message: {type: "error", message: "Invalid message"}});
  socket.receive({service: "calc", message: "plain"});
  assert.deepEqual(seen, []);
  assert.equal(logger.debugs.filter((l) => /no pending call|without a type/.test(l)).length, 3);
  assert.ok(logger.debugs.some((l) => /Invalid message/.test(l)));
});

test("calls made before the socket opens are sent on open and answered", async () => {
  const {calc, socket} = connect();
  const result = calc.add({a: 2, b: 3});
  assert.deepEqual(socket.sent, []);
  socket.open();
  socket.respond("calc", 5);
  assert.equal(await result, 5);
});

test("calls waiting for an answer are rejected when the connection drops", async () => {
  const {calc, socket} = connect();
  socket.open();
  const result = calc.add({a: 1, b: 2});
  socket.drop();
  await assert.rejects(result, (err) => {
    assert.ok(err instanceof Snorky.ConnectionError);
    assert.match(err.message, /Connection lost before "add" of service "calc"/);
    return true;
  });
  assert.equal(calc.pendingCalls, 0);
});

test("queued calls are rejected too when the client will not reconnect", async () => {
  const {calc, socket} = connect();
  const result = calc.add({a: 1, b: 2});
  socket.drop();
  await assert.rejects(result, Snorky.ConnectionError);
});

test("queued calls survive a failed attempt when the client reconnects, and go out later", async (t) => {
  t.mock.timers.enable({apis: ["setTimeout"]});
  const {Socket, calc, socket} = connect({reconnect: {initialDelay: 100, jitter: 0}});
  let settled = false;
  const result = calc.add({a: 1, b: 2}).finally(() => { settled = true; });
  socket.drop();
  await flush();
  assert.equal(settled, false);
  t.mock.timers.tick(100);
  const next = Socket.last();
  assert.notEqual(next, socket);
  next.open();
  assert.equal(next.envelopes()[0].message.command, "add");
  next.respond("calc", 3);
  assert.equal(await result, 3);
});

test("a call made after disconnect() is rejected at once", async () => {
  const {calc, socket} = connect();
  socket.open();
  calc.snorky.disconnect();
  await assert.rejects(calc.add({a: 1, b: 1}), /Not connected/);
});

test("a full queue rejects the call", async () => {
  const {calc} = connect({maxQueuedMessages: 1});
  calc.add({a: 1, b: 1});
  await assert.rejects(calc.add({a: 2, b: 2}), /Send queue full/);
  assert.equal(calc.pendingCalls, 1);
});

test("Snorky.Promise is the promise class of RPC calls", async (t) => {
  class TaggedPromise extends Promise {}
  Snorky.Promise = TaggedPromise;
  t.after(() => { Snorky.Promise = Promise; });
  const {calc, socket} = connect();
  socket.open();
  const result = calc.add({a: 1, b: 1});
  assert.ok(result instanceof TaggedPromise);
  socket.respond("calc", 2);
  assert.equal(await result, 2);
});

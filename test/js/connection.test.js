"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const Snorky = require("../../snorky/static/snorky.js");
const {fakeSocketClass, recordingLogger} = require("./fake-socket.js");

class Recorder extends Snorky.Service {
  constructor(name, snorky) {
    super(name, snorky);
    this.received = [];
    this.packetReceived.add((message) => this.received.push(message));
  }
}

function connect(options) {
  const Socket = fakeSocketClass();
  const snorky = new Snorky(Socket, "ws://example.test/ws", {echo: Recorder},
                            Object.assign({reconnect: false}, options));
  return {Socket, snorky, socket: Socket.last()};
}

test("the constructor opens a socket to the URL and is connecting", () => {
  const {Socket, snorky, socket} = connect();
  assert.equal(Socket.instances.length, 1);
  assert.equal(socket.url, "ws://example.test/ws");
  assert.equal(snorky.isConnecting, true);
  assert.equal(snorky.isConnected, false);
  assert.ok(snorky.services.echo instanceof Recorder);
  assert.equal(snorky.services.echo.name, "echo");
  assert.equal(snorky.services.echo.snorky, snorky);
});

test("connect: false defers the socket until connect() is called", () => {
  const {Socket, snorky} = connect({connect: false});
  assert.equal(Socket.instances.length, 0);
  snorky.connect();
  assert.equal(Socket.instances.length, 1);
});

test("the connected signal fires when the socket opens", () => {
  const {snorky, socket} = connect();
  let connected = 0;
  snorky.connected.add(() => connected++);
  socket.open();
  assert.equal(connected, 1);
  assert.equal(snorky.isConnected, true);
  assert.equal(snorky.isConnecting, false);
});

test("messages sent before the socket opens are queued and sent in order on open", () => {
  const {snorky, socket} = connect();
  snorky.services.echo.sendMessage("one");
  snorky.services.echo.sendMessage({two: 2});
  assert.deepEqual(socket.sent, []);
  socket.open();
  assert.deepEqual(socket.envelopes(), [
    {service: "echo", message: "one"},
    {service: "echo", message: {two: 2}}
  ]);
});

test("messages sent while connected go out at once as one JSON envelope each", () => {
  const {snorky, socket} = connect();
  socket.open();
  snorky.services.echo.sendMessage([1, "x"]);
  assert.deepEqual(socket.sent, ['{"service":"echo","message":[1,"x"]}']);
});

test("the queue is bounded by maxQueuedMessages", () => {
  const {snorky, socket} = connect({maxQueuedMessages: 2});
  snorky.services.echo.sendMessage(1);
  snorky.services.echo.sendMessage(2);
  assert.throws(() => snorky.services.echo.sendMessage(3),
                (err) => err instanceof Snorky.ConnectionError && /queue full/.test(err.message));
  socket.open();
  assert.deepEqual(socket.envelopes().map((e) => e.message), [1, 2]);
});

test("frames are routed to the packetReceived signal of their service", () => {
  const {snorky, socket} = connect();
  socket.open();
  socket.receive({service: "echo", message: {hello: "world"}});
  assert.deepEqual(snorky.services.echo.received, [{hello: "world"}]);
});

test("frames that are not JSON, not envelopes or for unknown services are dropped", () => {
  const logger = recordingLogger();
  const {snorky, socket} = connect({debug: true, logger});
  socket.open();
  socket.receive("{nope");
  socket.receive("42");
  socket.receive({service: "other", message: {}});
  socket.receive({service: "toString", message: {}});
  assert.deepEqual(snorky.services.echo.received, []);
  assert.equal(logger.debugs.filter((l) => /not JSON|not an envelope|unknown service/.test(l)).length, 4);
});

test("a server error about a bad frame is logged in debug mode", () => {
  const logger = recordingLogger();
  const {socket} = connect({debug: true, logger});
  socket.open();
  socket.receive({service: null, message: {type: "error", message: "Unknown service"}});
  assert.ok(logger.debugs.some((l) => /server error.*Unknown service/.test(l)), logger.debugs.join("\n"));
});

test("nothing is logged when debug is off (the default)", () => {
  const logger = recordingLogger();
  const {socket} = connect({logger});
  socket.open();
  socket.receive({service: null, message: {type: "error", message: "Unknown service"}});
  assert.deepEqual(logger.debugs, []);
});

test("a boolean fourth argument is the debug flag, as in the original client", () => {
  const Socket = fakeSocketClass();
  const snorky = new Snorky(Socket, "ws://x/ws", {}, true);
  assert.equal(snorky.debug, true);
  snorky.disconnect();
});

test("disconnect() closes the socket, signals disconnected and does not reconnect", (t) => {
  t.mock.timers.enable({apis: ["setTimeout"]});
  const Socket = fakeSocketClass();
  const snorky = new Snorky(Socket, "ws://x/ws", {echo: Recorder});
  const socket = Socket.last();
  socket.open();
  let disconnected = 0;
  snorky.disconnected.add(() => disconnected++);
  snorky.disconnect();
  assert.equal(socket.closed, true);
  assert.equal(snorky.isConnected, false);
  assert.equal(snorky.isReconnecting, false);
  assert.equal(disconnected, 1);
  t.mock.timers.tick(120000);
  assert.equal(Socket.instances.length, 1);
});

test("after disconnect() sending fails until connect() is called again", () => {
  const {Socket, snorky, socket} = connect();
  socket.open();
  snorky.disconnect();
  assert.throws(() => snorky.services.echo.sendMessage("x"), Snorky.ConnectionError);
  snorky.connect();
  snorky.services.echo.sendMessage("x");
  Socket.last().open();
  assert.deepEqual(Socket.last().envelopes(), [{service: "echo", message: "x"}]);
});

test("a closing socket's late events are ignored after disconnect()", () => {
  const {snorky, socket} = connect();
  socket.open();
  let disconnected = 0;
  snorky.disconnected.add(() => disconnected++);
  snorky.disconnect();
  socket.receive({service: "echo", message: "late"});
  socket.drop();
  assert.equal(disconnected, 1);
  assert.deepEqual(snorky.services.echo.received, []);
});

test("a socket that closes without opening (reconnect off) signals disconnected once", () => {
  const {snorky, socket} = connect();
  let disconnected = 0;
  snorky.disconnected.add(() => disconnected++);
  socket.drop();
  assert.equal(disconnected, 1);
  assert.equal(snorky.isConnecting, false);
  assert.throws(() => snorky.services.echo.sendMessage("x"), Snorky.ConnectionError);
});

test("a service needs a name and a connection", () => {
  assert.throws(() => new Snorky.Service(undefined, {}), TypeError);
  assert.throws(() => new Snorky.Service("x"), TypeError);
});

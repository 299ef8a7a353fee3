/*
 * An in-memory stand-in for WebSocket, driven by the test: it records what
 * the client sends, and the test opens it, delivers frames and drops it.
 */
"use strict";

/** A new socket class whose instances are listed in `instances`. */
function fakeSocketClass() {
  class FakeSocket {
    constructor(url) {
      this.url = url;
      this.sent = [];
      this.closed = false;
      FakeSocket.instances.push(this);
    }

    send(data) {
      if (this.closed) {
        throw new Error("send() on a closed fake socket");
      }
      this.sent.push(data);
    }

    close() {
      this.closed = true;
    }

    /** The server accepts the connection. */
    open() {
      this.onopen({type: "open"});
    }

    /** The server sends an envelope (an object, or raw text). */
    receive(envelope) {
      const data = typeof envelope === "string" ? envelope : JSON.stringify(envelope);
      this.onmessage({data: data});
    }

    /** The connection ends (or, if never opened, fails). */
    drop(code) {
      this.closed = true;
      this.onclose({code: code || 1006, reason: ""});
    }

    /** What the client sent, decoded. */
    envelopes() {
      return this.sent.map((raw) => JSON.parse(raw));
    }

    /** Answer the last call sent to `service` with `data`. */
    respond(service, data) {
      const call = this.envelopes().filter((e) => e.service === service).pop();
      this.receive({service: service,
                    message: {type: "response", callId: call.message.callId, data: data}});
    }
  }
  FakeSocket.instances = [];
  FakeSocket.last = () => FakeSocket.instances[FakeSocket.instances.length - 1];
  return FakeSocket;
}

/** A logger that keeps what it is given, by level. */
function recordingLogger() {
  const logger = {debugs: [], errors: []};
  logger.debug = (...args) => logger.debugs.push(args.join(" "));
  logger.error = (...args) => logger.errors.push(args.join(" "));
  return logger;
}

/** Let pending promise callbacks run. */
function flush() {
  return new Promise((resolve) => setImmediate(resolve));
}

module.exports = {fakeSocketClass, recordingLogger, flush};

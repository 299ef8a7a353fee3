/*
 * snorky.js: the JavaScript client of Snorky.
 *
 * No dependencies, ES2017. This file is the source: it is the package's
 * ES module, and `js/build.js` makes from it the script that defines the
 * global `Snorky` (served at /snorky.js, shipped in the Python wheel as
 * snorky/static/snorky.js) and the package's CommonJS entry point.
 *
 *   import {Snorky, PubSub, DataSync} from "snorky";
 *
 *   const snorky = new Snorky(WebSocket, "ws://localhost:5001/ws", {
 *     pubsub: PubSub,
 *     datasync: DataSync
 *   });
 *   snorky.services.pubsub.messagePublished.add((msg) => { ... });
 *   snorky.services.pubsub.subscribe({channel: "news"});
 *
 * Every frame is one JSON envelope {"service": name, "message": ...}; RPC
 * services exchange {"command", "params", "callId"} requests for
 * "response"/"error" answers, and any other message type is a notification.
 */
const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

// JSON with sorted keys, so that equal JSON values (channels, documents)
// give equal strings whatever their key order.
function stableStringify(value) {
  if (Array.isArray(value)) {
    return "[" + value.map(stableStringify).join(",") + "]";
  }
  if (value !== null && typeof value === "object") {
    return "{" + Object.keys(value).sort().map(
      (key) => JSON.stringify(key) + ":" + stableStringify(value[key])
    ).join(",") + "}";
  }
  return JSON.stringify(value);
}

/* ------------------------------------------------------------------ */
/* Signals                                                             */
/* ------------------------------------------------------------------ */

/**
 * A list of listeners called, in the order they were added, each time
 * the signal is dispatched. A listener that throws is reported through
 * `Signal.reportError` and does not stop the others.
 */
class Signal {
  constructor() {
    this._bindings = [];
  }

  /** Call `listener` (with `this` = `context`) on every dispatch. */
  add(listener, context) {
    return this._bind(listener, context, false);
  }

  /** Call `listener` on the next dispatch only. */
  addOnce(listener, context) {
    return this._bind(listener, context, true);
  }

  _bind(listener, context, once) {
    if (typeof listener !== "function") {
      throw new TypeError("A signal listener must be a function");
    }
    if (this._indexOf(listener, context) === -1) {
      this._bindings.push({listener: listener, context: context, once: once});
    }
    return this;
  }

  /** Stop calling `listener` (added with the same `context`). */
  remove(listener, context) {
    const index = this._indexOf(listener, context);
    if (index !== -1) {
      this._bindings.splice(index, 1);
    }
    return this;
  }

  /** Whether `listener` (with `context`) is attached. */
  has(listener, context) {
    return this._indexOf(listener, context) !== -1;
  }

  /** Detach every listener. */
  removeAll() {
    this._bindings = [];
  }

  /** How many listeners are attached. */
  getNumListeners() {
    return this._bindings.length;
  }

  /** Call every listener with the given arguments. */
  dispatch() {
    const args = arguments;
    // Listeners added or removed by a listener take effect next time.
    const bindings = this._bindings.slice();
    if (bindings.length === 0) {
      return;
    }
    Signal.wrapDispatch(() => {
      for (const binding of bindings) {
        if (binding.once) {
          this.remove(binding.listener, binding.context);
        }
        try {
          binding.listener.apply(binding.context, args);
        } catch (err) {
          Signal.reportError(err);
        }
      }
    });
  }

  _indexOf(listener, context) {
    return this._bindings.findIndex(
      (b) => b.listener === listener && b.context === context
    );
  }
}

/**
 * Runs every dispatch; frameworks replace it to wrap dispatches (the
 * AngularJS adapter runs them inside `$apply`, so views update).
 */
Signal.wrapDispatch = function (run) {
  run();
};

/** Called with what a listener threw. */
Signal.reportError = function (err) {
  console.error("Snorky: a signal listener threw", err);
};

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/** The server answered an RPC call with an error; `message` is its text. */
class RPCError extends Error {
  constructor(message, service, command) {
    super(message);
    this.name = "RPCError";
    this.service = service;
    this.command = command;
  }
}

/** The connection could not carry a message, or was lost before an answer. */
class ConnectionError extends Error {
  constructor(message) {
    super(message);
    this.name = "ConnectionError";
  }
}

/* ------------------------------------------------------------------ */
/* The connection                                                      */
/* ------------------------------------------------------------------ */

// The endpoints given to the constructor, as a non-empty list.
function endpointList(url) {
  const urls = Array.isArray(url) ? url.slice() : [url];
  if (urls.length === 0 || !urls.every((u) => typeof u === "string" && u !== "")) {
    throw new TypeError("Snorky takes an endpoint URL or a non-empty list of them, not " +
                        JSON.stringify(url));
  }
  return urls;
}

const RECONNECT_DEFAULTS = {
  initialDelay: 500,
  maxDelay: 30000,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Infinity
};

function reconnectOptions(option) {
  if (option === false) {
    return null;
  }
  const options = Object.assign({}, RECONNECT_DEFAULTS,
                                option === true || option === undefined ? {} : option);
  if (!(options.initialDelay >= 0 && options.maxDelay >= 0 && options.factor >= 1 &&
        options.jitter >= 0 && options.jitter <= 1 && options.maxAttempts >= 0)) {
    throw new RangeError("Invalid reconnect options: " + JSON.stringify(option));
  }
  return options;
}

/**
 * One connection to a Snorky server and the services used through it.
 *
 * @param SocketClass `WebSocket`, `SockJS`, or any class with the same
 *   `onopen`/`onmessage`/`onclose`, `send` and `close`.
 * @param url the server's endpoint, e.g. "ws://host:5001/ws", or a list
 *   of endpoints (several nodes of one cluster): each attempt after the
 *   first takes the next one in turn, with the same backoff and jitter.
 * @param services an object from service name to service class.
 * @param options `debug` (false), `reconnect` (true, false or
 *   {initialDelay, maxDelay, factor, jitter, maxAttempts}),
 *   `maxQueuedMessages` (1000), `connect` (true: connect now),
 *   `timers` ({setTimeout, clearTimeout}; the global ones by default),
 *   `random` (Math.random, for the jitter), `logger` (console). A boolean
 *   is taken as `debug`, as the original client did.
 */
class Snorky {
  constructor(SocketClass, url, services, options) {
    if (typeof options === "boolean") {
      options = {debug: options};
    }
    options = options || {};
    this.socketClass = SocketClass;
    this.urls = endpointList(url);
    /**
     * The endpoint of the next or current connection. With several URLs
     * each attempt sets it to the next one; an application may also set
     * it (to move to another endpoint) as before.
     */
    this.url = this.urls[0];
    this._urlIndex = 0;
    this.debug = Boolean(options.debug);
    this.reconnectOptions = reconnectOptions(options.reconnect);
    this.maxQueuedMessages = options.maxQueuedMessages === undefined
      ? 1000 : options.maxQueuedMessages;
    this.logger = options.logger || console;
    this._timers = options.timers || null;
    this._random = options.random || Math.random;

    /** Dispatched each time a connection opens. */
    this.connected = new Signal();
    /** Dispatched when an open connection closes, or when connecting gives up. */
    this.disconnected = new Signal();
    /** Dispatched with (attempt, delayMs) when a reconnection is scheduled. */
    this.reconnecting = new Signal();
    /** Dispatched when a connection opens again after one was lost. */
    this.reconnected = new Signal();
    /** Dispatched with (state, previous) each time `state` changes. */
    this.stateChanged = new Signal();

    this.isConnected = false;
    this.isConnecting = false;
    this.isReconnecting = false;

    this._socket = null;
    this._queue = [];
    this._attempt = 0;
    this._timer = null;
    this._closed = false;
    this._lost = false;
    this._downAnnounced = false;
    this._state = "offline";

    this.services = {};
    for (const name of Object.keys(services || {})) {
      this.services[name] = new services[name](name, this);
    }

    if (options.connect !== false) {
      this.connect();
    }
  }

  /** Open a connection (does nothing if one is open or opening). */
  connect() {
    if (this._socket) {
      return;
    }
    this._cancelTimer();
    this._closed = false;
    this.isConnecting = true;
    this._updateState();
    this.logDebug("Snorky: connecting to", this.url);
    const socket = new this.socketClass(this.url);
    this._socket = socket;
    // Events of a socket we have given up on are ignored.
    socket.onopen = () => {
      if (this._socket === socket) {
        this._onOpen();
      }
    };
    socket.onmessage = (event) => {
      if (this._socket === socket) {
        this._onMessage(event.data);
      }
    };
    socket.onclose = (event) => {
      if (this._socket === socket) {
        this._socket = null;
        this.logDebug("Snorky: connection closed", event && event.code, event && event.reason);
        this._connectionEnded();
      }
    };
    socket.onerror = (event) => {
      if (this._socket === socket) {
        this.logDebug("Snorky: socket error", event && (event.message || event.type));
      }
    };
  }

  /**
   * Close the connection and stop reconnecting. Calls not answered yet
   * and queued messages are rejected; call `connect()` to start again.
   */
  disconnect() {
    this._closed = true;
    this._cancelTimer();
    const socket = this._socket;
    this._socket = null;
    if (socket) {
      socket.close();
    }
    this._connectionEnded();
  }

  /** Log with `logger.debug` when the `debug` option is on. */
  logDebug() {
    if (this.debug) {
      this.logger.debug.apply(this.logger, arguments);
    }
  }

  /** Log a problem the application should hear about, always. */
  logError() {
    this.logger.error.apply(this.logger, arguments);
  }

  /**
   * Send `message` from the service `serviceName`: now if connected,
   * otherwise once a connection opens. `onSent` is called when it is
   * written to a socket.
   *
   * @throws ConnectionError when the client is closed or the queue is full.
   */
  _sendServiceMessage(serviceName, message, onSent) {
    const raw = JSON.stringify({service: serviceName, message: message});
    const entry = {raw: raw, onSent: onSent};
    if (this.isConnected) {
      this._write(entry);
    } else if (this._closed) {
      throw new ConnectionError("Not connected: call connect() first");
    } else if (this._queue.length >= this.maxQueuedMessages) {
      throw new ConnectionError(
        "Send queue full: " + this._queue.length + " messages wait for the connection");
    } else {
      this._queue.push(entry);
    }
  }

  _write(entry) {
    this.logDebug("Snorky: ->", entry.raw);
    this._socket.send(entry.raw);
    if (entry.onSent) {
      entry.onSent();
    }
  }

  _onOpen() {
    const reconnection = this._lost;
    this.isConnected = true;
    this.isConnecting = false;
    this.isReconnecting = false;
    this._attempt = 0;
    this._lost = false;
    this._downAnnounced = false;
    this.logDebug("Snorky: connected to", this.url);
    // Services take back their subscriptions before anything queued
    // goes out, so the server sees them in the order they were made.
    for (const name of Object.keys(this.services)) {
      this.services[name].connectionOpened();
    }
    const queue = this._queue;
    this._queue = [];
    for (const entry of queue) {
      this._write(entry);
    }
    this._updateState();
    this.connected.dispatch();
    if (reconnection) {
      this.reconnected.dispatch();
    }
  }

  _onMessage(raw) {
    let packet;
    try {
      packet = JSON.parse(raw);
    } catch (err) {
      this.logDebug("Snorky: frame is not JSON", raw);
      return;
    }
    if (packet === null || typeof packet !== "object") {
      this.logDebug("Snorky: frame is not an envelope", raw);
      return;
    }
    this.logDebug("Snorky: <-", raw);
    const name = packet.service;
    if (typeof name === "string" && hasOwn(this.services, name)) {
      this.services[name].packetReceived.dispatch(packet.message);
    } else if (packet.message && packet.message.type === "error") {
      this.logDebug("Snorky: server error (service " + JSON.stringify(name) + "):",
                    packet.message.message);
    } else {
      this.logDebug("Snorky: message for unknown service", name);
    }
  }

  _connectionEnded() {
    const wasOpen = this.isConnected;
    this.isConnected = false;
    this.isConnecting = false;
    if (wasOpen && !this._closed) {
      this._lost = true;
    }
    const options = this.reconnectOptions;
    const retry = !this._closed && options !== null && this._attempt < options.maxAttempts;
    if (!retry) {
      this._closed = true;
      this._lost = false;
      this._queue = [];
    }
    this.isReconnecting = retry;
    for (const name of Object.keys(this.services)) {
      this.services[name].connectionLost(retry);
    }
    this._updateState();
    if ((wasOpen || !retry) && !this._downAnnounced) {
      this._downAnnounced = true;
      this.disconnected.dispatch();
    }
    if (retry) {
      this._scheduleReconnect();
    }
  }

  /**
   * "online" (a connection is open), "connecting" (a first attempt),
   * "reconnecting" (after a lost connection or a failed attempt, until one
   * opens) or "offline" (not connected and not trying).
   */
  get state() {
    return this._state;
  }

  _updateState() {
    const state = this.isConnected ? "online"
      : this.isReconnecting ? "reconnecting"
        : this.isConnecting ? "connecting" : "offline";
    const previous = this._state;
    if (state !== previous) {
      this._state = state;
      this.stateChanged.dispatch(state, previous);
    }
  }

  /** The wait before reconnection attempt number `attempt` (from 1), in ms. */
  reconnectDelay(attempt) {
    const options = this.reconnectOptions;
    const base = Math.min(options.maxDelay,
                          options.initialDelay * Math.pow(options.factor, attempt - 1));
    // Jitter spreads the reconnections of many clients after a restart.
    return Math.round(base * (1 - options.jitter * this._random()));
  }

  _scheduleReconnect() {
    this._attempt += 1;
    const attempt = this._attempt;
    const delay = this.reconnectDelay(attempt);
    if (this.urls.length > 1) {
      this._urlIndex = (this._urlIndex + 1) % this.urls.length;
      this.url = this.urls[this._urlIndex];
    }
    this.logDebug("Snorky: reconnection attempt " + attempt + " in " + delay + " ms");
    this._timer = this._setTimeout(() => {
      this._timer = null;
      this.connect();
    }, delay);
    this.reconnecting.dispatch(attempt, delay);
  }

  _setTimeout(fn, delay) {
    return this._timers ? this._timers.setTimeout(fn, delay) : setTimeout(fn, delay);
  }

  _cancelTimer() {
    if (this._timer !== null) {
      if (this._timers) {
        this._timers.clearTimeout(this._timer);
      } else {
        clearTimeout(this._timer);
      }
      this._timer = null;
    }
  }
}

/* ------------------------------------------------------------------ */
/* Services                                                            */
/* ------------------------------------------------------------------ */

/**
 * The client side of one service. `packetReceived` is dispatched with
 * each message the server's service sends.
 */
class Service {
  constructor(name, snorky) {
    if (typeof name !== "string" || !snorky) {
      throw new TypeError("A service takes a name and its Snorky connection");
    }
    this.name = name;
    this.snorky = snorky;
    this.packetReceived = new Signal();
  }

  /** Send `message` to the server's service (queued until connected). */
  sendMessage(message, onSent) {
    this.snorky._sendServiceMessage(this.name, message, onSent);
  }

  /**
   * Called when a connection opens, before queued messages are sent;
   * services take back server-side state here.
   */
  connectionOpened() {}

  /**
   * Called when a connection closes or an attempt fails; `willReconnect`
   * says whether the client will try again.
   */
  connectionLost(willReconnect) {}
}

/**
 * A service spoken to with RPC calls. `notificationReceived` is
 * dispatched with every message that is not an answer.
 */
class RPCService extends Service {
  constructor(name, snorky) {
    super(name, snorky);
    this.notificationReceived = new Signal();
    this._nextCallId = 1;
    this._calls = new Map();
    this.packetReceived.add(this._onPacket, this);
  }

  /**
   * Call `command` with `params` (an object).
   *
   * @returns a promise (of `Snorky.Promise`) resolved with the answer's
   *   data, or rejected with an `RPCError` carrying the server's text, or
   *   a `ConnectionError` if the connection is lost first.
   */
  rpcCall(command, params) {
    return this._rpcCall(command, params, null);
  }

  // rpcCall, also running onResponse(data) as soon as the response is
  // read, before anything that arrives after it: promise callbacks run
  // later, once the frames read with it have been handled.
  _rpcCall(command, params, onResponse) {
    return new Snorky.Promise((resolve, reject) => {
      const callId = this._nextCallId++;
      const call = {resolve: resolve, reject: reject, command: command, sent: false,
                    onResponse: onResponse};
      this._calls.set(callId, call);
      const message = {command: command, params: params === undefined ? {} : params,
                       callId: callId};
      try {
        this.sendMessage(message, () => {
          call.sent = true;
        });
      } catch (err) {
        this._calls.delete(callId);
        reject(err);
      }
    });
  }

  /** How many calls wait for an answer. */
  get pendingCalls() {
    return this._calls.size;
  }

  _onPacket(message) {
    if (message === null || typeof message !== "object" || typeof message.type !== "string") {
      this.snorky.logDebug("Snorky: message without a type from " + this.name, message);
      return;
    }
    if (message.type !== "response" && message.type !== "error") {
      this.notificationReceived.dispatch(message);
      return;
    }
    const call = this._calls.get(message.callId);
    if (call === undefined) {
      this.snorky.logDebug("Snorky: " + message.type + " from " + this.name +
                           " for no pending call:", message.message || message.callId);
      return;
    }
    this._calls.delete(message.callId);
    if (message.type === "response") {
      if (call.onResponse) {
        call.onResponse(message.data);
      }
      call.resolve(message.data);
    } else {
      call.reject(new RPCError(String(message.message), this.name, call.command));
    }
  }

  connectionLost(willReconnect) {
    // Calls still queued go out on the next connection; the others have
    // lost their answer for good.
    for (const entry of this._calls) {
      const callId = entry[0];
      const call = entry[1];
      if (call.sent || !willReconnect) {
        this._calls.delete(callId);
        call.reject(new ConnectionError(
          'Connection lost before "' + call.command + '" of service "' +
          this.name + '" was answered'));
      }
    }
  }

  /**
   * Add to the class one method per command, taking a params object:
   * `addRPCMethods(["send"])` gives `service.send({body: "hi"})`.
   */
  static addRPCMethods(commands) {
    for (const command of commands) {
      if (command in this.prototype) {
        throw new Error('Method "' + command + '" already exists in the class');
      }
      this.prototype[command] = function (params) {
        return this.rpcCall(command, params || {});
      };
    }
  }
}

// Dispatch notifications of the given types to signals of the service:
// {message: "messageReceived"} dispatches messageReceived(notification).
function routeNotifications(service, signalsByType) {
  for (const type of Object.keys(signalsByType)) {
    service[signalsByType[type]] = new Signal();
  }
  service.notificationReceived.add((message) => {
    if (hasOwn(signalsByType, message.type)) {
      service[signalsByType[message.type]].dispatch(message);
    } else {
      service.snorky.logDebug("Snorky: unexpected notification from " + service.name, message);
    }
  });
}

/**
 * Publish/subscribe. `messagePublished` is dispatched with each
 * `{type: "message", channel, message}`. Subscribed channels are
 * subscribed again after a reconnection.
 */
class PubSub extends RPCService {
  constructor(name, snorky) {
    super(name, snorky);
    routeNotifications(this, {message: "messagePublished"});
    this._channels = new Map();
  }

  /** Subscribe to `params.channel`. */
  subscribe(params) {
    const channel = (params || {}).channel;
    return this.rpcCall("subscribe", params || {}).then((data) => {
      this._channels.set(stableStringify(channel), channel);
      return data;
    });
  }

  /** Unsubscribe from `params.channel`. */
  unsubscribe(params) {
    this._channels.delete(stableStringify((params || {}).channel));
    return this.rpcCall("unsubscribe", params || {});
  }

  /** The channels this client is subscribed to. */
  get channels() {
    return Array.from(this._channels.values());
  }

  /** A string equal for equal channels, whatever their key order. */
  static channelKey(channel) {
    return stableStringify(channel);
  }

  connectionOpened() {
    for (const entry of this._channels) {
      const key = entry[0];
      const channel = entry[1];
      this.rpcCall("subscribe", {channel: channel}).then(null, (err) => {
        if (err instanceof RPCError) {
          this._channels.delete(key);
          this.snorky.logError("Snorky: could not subscribe again to channel " + key, err);
        }
      });
    }
  }
}
PubSub.addRPCMethods(["publish"]);

/**
 * Chat: `join`, `leave`, `send`, `read`; signals `messageReceived`,
 * `presenceReceived`, `readReceived`.
 */
class Chat extends RPCService {
  constructor(name, snorky) {
    super(name, snorky);
    routeNotifications(this, {
      message: "messageReceived",
      presence: "presenceReceived",
      read: "readReceived"
    });
  }
}
Chat.addRPCMethods(["join", "leave", "send", "read"]);

/**
 * Messaging between named participants; signal `messageReceived`.
 */
class Messaging extends RPCService {
  constructor(name, snorky) {
    super(name, snorky);
    routeNotifications(this, {message: "messageReceived"});
  }
}
Messaging.addRPCMethods([
  "registerParticipant", "unregisterParticipant", "listParticipants", "send"
]);

/* ------------------------------------------------------------------ */
/* Cursors                                                             */
/* ------------------------------------------------------------------ */

/** Someone else's cursor: `publicHandle`, `document`, `position`, `status`, ... */
class ForeignCursor {
  constructor(data) {
    Object.assign(this, data);
    this.isMine = false;
  }
}

/**
 * A cursor of this client. `created` is a promise of its public handle.
 */
class OwnCursor {
  constructor(document, privateHandle, position, status) {
    this.document = document;
    this.privateHandle = privateHandle;
    this.publicHandle = null;
    this.position = position;
    this.status = status;
    this.isMine = true;
    this.created = null;
  }

  /** Change `position` and/or `status`. */
  update(newData) {
    for (const key of Object.keys(newData)) {
      if (key !== "position" && key !== "status") {
        throw new Error('A cursor has no field "' + key + '" to update');
      }
    }
    Object.assign(this, newData);
    return this.document.service.rpcCall("updateCursor", {
      privateHandle: this.privateHandle,
      newData: newData
    });
  }

  /** Remove this cursor. */
  remove() {
    this.document._forget(this);
    return this.document.service.rpcCall("removeCursor", {
      privateHandle: this.privateHandle
    });
  }
}

/**
 * A joined document: `cursors` (everyone's, own ones included) and the
 * signals `cursorAdded`, `cursorUpdated`, `cursorRemoved`.
 */
class CursorsDocument {
  constructor(service, name, cursors) {
    this.service = service;
    this.name = name;
    this.cursors = (cursors || []).map((data) => new ForeignCursor(data));
    this.cursorAdded = new Signal();
    this.cursorUpdated = new Signal();
    this.cursorRemoved = new Signal();
  }

  /** Create a cursor at `params.position` with `params.status`. */
  createCursor(params) {
    const service = this.service;
    const cursor = new OwnCursor(this, service._freePrivateHandle(),
                                 params.position, params.status);
    service._ownCursors.set(cursor.privateHandle, cursor);
    this.cursors.push(cursor);
    cursor.created = service.rpcCall("createCursor", {
      privateHandle: cursor.privateHandle,
      document: this.name,
      position: params.position,
      status: params.status
    }).then((publicHandle) => {
      cursor.publicHandle = publicHandle;
      return publicHandle;
    });
    return cursor;
  }

  _find(publicHandle) {
    return this.cursors.findIndex((c) => !c.isMine && c.publicHandle === publicHandle);
  }

  _forget(ownCursor) {
    const index = this.cursors.indexOf(ownCursor);
    if (index !== -1) {
      this.cursors.splice(index, 1);
    }
    this.service._ownCursors.delete(ownCursor.privateHandle);
  }

  _notified(type, data) {
    const index = this._find(data.publicHandle);
    if (type === "cursorAdded") {
      const cursor = new ForeignCursor(data);
      this.cursors.push(cursor);
      this.cursorAdded.dispatch(cursor);
    } else if (index === -1) {
      this.service.snorky.logDebug("Snorky: " + type + " for an unknown cursor", data);
    } else if (type === "cursorUpdated") {
      const cursor = new ForeignCursor(data);
      this.cursors[index] = cursor;
      this.cursorUpdated.dispatch(cursor);
    } else {
      const cursor = this.cursors.splice(index, 1)[0];
      this.cursorRemoved.dispatch(cursor);
    }
  }
}

/**
 * Shared cursors in documents: `join({document})` resolves with a
 * `Snorky.Cursors.Document`.
 */
class Cursors extends RPCService {
  constructor(name, snorky) {
    super(name, snorky);
    this.documents = new Map();
    this._ownCursors = new Map();
    this.notificationReceived.add(this._onNotification, this);
  }

  /** Join `params.document`; resolves with its `Document`. */
  join(params) {
    const name = (params || {}).document;
    return this.rpcCall("join", params || {}).then((data) => {
      const document = new CursorsDocument(this, name, data && data.cursors);
      this.documents.set(stableStringify(name), document);
      return document;
    });
  }

  /** Leave `params.document`, removing this client's cursors there. */
  leave(params) {
    const key = stableStringify((params || {}).document);
    const document = this.documents.get(key);
    if (document) {
      for (const cursor of document.cursors.filter((c) => c.isMine)) {
        document._forget(cursor);
      }
      this.documents.delete(key);
    }
    return this.rpcCall("leave", params || {});
  }

  connectionLost(willReconnect) {
    super.connectionLost(willReconnect);
    // The server forgets a connection's documents and cursors with it.
    this.documents.clear();
    this._ownCursors.clear();
  }

  _freePrivateHandle() {
    let handle = 0;
    while (this._ownCursors.has(handle)) {
      handle += 1;
    }
    return handle;
  }

  _onNotification(message) {
    const known = ["cursorAdded", "cursorUpdated", "cursorRemoved"];
    const cursor = message.cursor;
    if (known.indexOf(message.type) === -1 || !cursor || typeof cursor !== "object") {
      this.snorky.logDebug("Snorky: unexpected notification from " + this.name, message);
      return;
    }
    const document = this.documents.get(stableStringify(cursor.document));
    if (!document) {
      this.snorky.logDebug("Snorky: cursor of a document not joined", message);
      return;
    }
    document._notified(message.type, cursor);
  }
}
Cursors.Document = CursorsDocument;
Cursors.OwnCursor = OwnCursor;
Cursors.ForeignCursor = ForeignCursor;

/* ------------------------------------------------------------------ */
/* DataSync                                                            */
/* ------------------------------------------------------------------ */

/**
 * DataSync: `acquireSubscription({token})`, `cancelSubscription({token})`;
 * `deltaReceived` is dispatched with each delta. Acquired subscriptions
 * are acquired again after a reconnection (the server keeps them for a
 * grace period), saying the last delta `seq` seen (`after`), so that the
 * server sends every delta missed meanwhile, including those lost in
 * flight when the connection died; if the server no longer has one, or
 * cannot rule out a gap, `subscriptionExpired` is dispatched with
 * (token, error) and the application should fetch its data again.
 */
class DataSync extends RPCService {
  constructor(name, snorky) {
    super(name, snorky);
    this.deltaReceived = new Signal();
    this.subscriptionExpired = new Signal();
    this.notificationReceived.add(this._onNotification, this);
    this._tokens = new Set();
    // Token -> the seq up to which every delta of that subscription
    // has been received. Deltas do not say which subscription they are
    // for, but the server sends them in seq order except for the ones it
    // sends right after an acquisition's response, which all belong to
    // that subscription; so every delta read while a subscription is
    // held on this connection (after its response) vouches for it.
    this._lastSeq = new Map();
    // The tokens whose acquisition was answered on this connection.
    this._live = new Set();
  }

  /** Acquire the subscription of `params.token`. */
  acquireSubscription(params) {
    const token = (params || {}).token;
    return this._rpcCall("acquireSubscription", params || {}, () => {
      this._tokens.add(token);
      this._live.add(token);
      if (!this._lastSeq.has(token)) {
        // Every delta the server logs for it comes after this response.
        this._lastSeq.set(token, 0);
      }
    });
  }

  /** Cancel the subscription of `params.token`. */
  cancelSubscription(params) {
    this._forget((params || {}).token);
    return this.rpcCall("cancelSubscription", params || {});
  }

  _forget(token) {
    this._tokens.delete(token);
    this._live.delete(token);
    this._lastSeq.delete(token);
  }

  /** The tokens of the subscriptions this client holds. */
  get tokens() {
    return Array.from(this._tokens);
  }

  connectionOpened() {
    for (const token of this._tokens) {
      const params = {token: token};
      if (this._lastSeq.has(token)) {
        params.after = this._lastSeq.get(token);
      }
      this._rpcCall("acquireSubscription", params, () => {
        this._live.add(token);
      }).then(null, (err) => {
        // A lost connection keeps the token for the next one.
        if (err instanceof RPCError) {
          this._forget(token);
          this.subscriptionExpired.dispatch(token, err);
        }
      });
    }
  }

  connectionLost(willReconnect) {
    this._live.clear();
    super.connectionLost(willReconnect);
  }

  // Record that `seq` was read; false if every held subscription had
  // already seen a later delta, which makes this one a repeat. (Equal is
  // no repeat: one delta reaches each of the subscriptions it concerns.)
  _trackSeq(seq) {
    let fresh = this._live.size === 0;
    for (const token of this._live) {
      const last = this._lastSeq.get(token);
      if (last <= seq) {
        fresh = true;
        this._lastSeq.set(token, seq);
      }
    }
    return fresh;
  }

  _onNotification(message) {
    if (message.type === "delta") {
      if (typeof message.seq === "number" && !this._trackSeq(message.seq)) {
        this.snorky.logDebug("Snorky: delta " + message.seq + " received again; dropped");
        return;
      }
      this.deltaReceived.dispatch(message.delta);
    } else {
      this.snorky.logDebug("Snorky: unexpected notification from " + this.name, message);
    }
  }
}

/**
 * A place deltas are applied to. Subclasses implement `insert(data)`,
 * `update(match, newData)` and `remove(match)`, where `match(item)` tells
 * the item a delta is about; each returns whether the collection changed.
 */
class Collection {
  insert(data) {
    throw new Error("insert() is not implemented by " + this.constructor.name);
  }

  update(match, newData) {
    throw new Error("update() is not implemented by " + this.constructor.name);
  }

  remove(match) {
    throw new Error("remove() is not implemented by " + this.constructor.name);
  }
}

/**
 * A collection over an array (anything with `push` and `splice`);
 * `options.transformItem(data)` makes the stored item from a delta's data.
 */
class ArrayCollection extends Collection {
  constructor(array, options) {
    super();
    this.array = array;
    this.transformItem = (options && options.transformItem) || ((data) => data);
  }

  /** The items, as an array. */
  items() {
    return this.array;
  }

  insert(data) {
    this.array.push(this.transformItem(data));
    return true;
  }

  update(match, newData) {
    const index = this.items().findIndex(match);
    if (index === -1) {
      return false;
    }
    this.array.splice(index, 1, this.transformItem(newData));
    return true;
  }

  remove(match) {
    const index = this.items().findIndex(match);
    if (index === -1) {
      return false;
    }
    this.array.splice(index, 1);
    return true;
  }
}

/**
 * A collection of at most one item, reached through functions:
 * `read()` returns it (or null), `update(newData)` replaces it,
 * `remove()` deletes it. Inserts are ignored.
 */
class SingleItemCollection extends Collection {
  constructor(read, update, remove) {
    super();
    this.readHandler = read;
    this.updateHandler = update;
    this.removeHandler = remove || (() => {});
  }

  insert(data) {
    return false;
  }

  update(match, newData) {
    const item = this.readHandler();
    if (item === null || item === undefined || !match(item)) {
      return false;
    }
    this.updateHandler(newData);
    return true;
  }

  remove(match) {
    const item = this.readHandler();
    if (item === null || item === undefined || !match(item)) {
      return false;
    }
    this.removeHandler();
    return true;
  }
}

/**
 * Applies deltas to collections by model name:
 * `new CollectionDeltaProcessor({Player: collection}, {itemsAreEqual})`.
 * Items are matched by `id` unless `itemsAreEqual(item, data, delta)`
 * says otherwise.
 */
class CollectionDeltaProcessor {
  constructor(collections, options) {
    this.collections = collections || {};
    if (options && options.itemsAreEqual) {
      this.itemsAreEqual = options.itemsAreEqual;
    }
  }

  /** Whether the stored `item` is the one `data` (from `delta`) is about. */
  itemsAreEqual(item, data, delta) {
    return item.id === data.id;
  }

  /**
   * Apply one delta. Returns whether a collection changed: false for a
   * model without a collection, an unknown type, or an item not found.
   */
  processDelta(delta) {
    if (!delta || !hasOwn(this.collections, delta.model)) {
      return false;
    }
    const collection = this.collections[delta.model];
    const about = (data) => (item) => this.itemsAreEqual(item, data, delta);
    switch (delta.type) {
      case "insert":
        return Boolean(collection.insert(delta.data));
      case "update":
        return Boolean(collection.update(about(delta.oldData), delta.newData));
      case "delete":
        return Boolean(collection.remove(about(delta.data)));
      default:
        return false;
    }
  }
}

DataSync.Collection = Collection;
DataSync.ArrayCollection = ArrayCollection;
DataSync.SingleItemCollection = SingleItemCollection;
DataSync.CollectionDeltaProcessor = CollectionDeltaProcessor;

Snorky.Signal = Signal;
Snorky.RPCError = RPCError;
Snorky.ConnectionError = ConnectionError;
Snorky.Service = Service;
Snorky.RPCService = RPCService;
Snorky.PubSub = PubSub;
Snorky.Chat = Chat;
Snorky.Messaging = Messaging;
Snorky.Cursors = Cursors;
Snorky.DataSync = DataSync;
/** The promise constructor of RPC calls; adapters replace it (AngularJS: $q). */
Snorky.Promise = Promise;

export {
  Snorky,
  Signal,
  RPCError,
  ConnectionError,
  Service,
  RPCService,
  PubSub,
  Chat,
  Messaging,
  Cursors,
  DataSync,
  Collection,
  ArrayCollection,
  SingleItemCollection,
  CollectionDeltaProcessor,
  Snorky as default
};

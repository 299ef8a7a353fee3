/*
 * live.js: what the React and Vue bindings share, free of either: a
 * connection made for a view, shared holds on server-side state
 * (subscriptions, channels) that outlive an unmount followed at once by a
 * mount, and a DataSync collection kept as an immutable array.
 */
import {Snorky, PubSub, ArrayCollection, CollectionDeltaProcessor} from "./snorky.js";

/**
 * A connection for a view, made without connecting (the view connects it
 * once mounted): `options.socket` is the socket class (the global
 * `WebSocket` by default), the other options are those of `Snorky`.
 */
function createClient(url, services, options) {
  const opts = Object.assign({}, options || {});
  const SocketClass = opts.socket || globalThis.WebSocket;
  delete opts.socket;
  if (typeof SocketClass !== "function") {
    throw new TypeError("No WebSocket here: pass options.socket " +
                        "(the ws package's WebSocket, SockJS, ...)");
  }
  opts.connect = false;
  return new Snorky(SocketClass, url, services, opts);
}

const holdsByOwner = new WeakMap();

function holdsOf(owner) {
  let holds = holdsByOwner.get(owner);
  if (!holds) {
    holds = new Map();
    holdsByOwner.set(owner, holds);
  }
  return holds;
}

function finish(holds, key, entry) {
  if (holds.get(key) === entry && entry.count === 0) {
    holds.delete(key);
    entry.close(entry.resource);
  }
}

/**
 * Hold `key` of `owner` (a service or a connection): `open()` runs for the
 * first holder and its result is kept; `close(result)` runs once the last
 * holder has let go and nobody took it again in the same task. That delay
 * is what lets React's StrictMode (and any unmount followed at once by a
 * mount) keep one subscription instead of dropping and making it again.
 * Returns `{resource, release}`.
 */
function hold(owner, key, open, close) {
  const holds = holdsOf(owner);
  let entry = holds.get(key);
  if (entry) {
    entry.count += 1;
    clearTimeout(entry.timer);
    entry.timer = null;
  } else {
    entry = {count: 1, timer: null, resource: undefined, close: close};
    holds.set(key, entry);
    entry.resource = open();
  }
  let released = false;
  return {
    resource: entry.resource,
    release() {
      if (released) {
        return;
      }
      released = true;
      entry.count -= 1;
      if (entry.count === 0) {
        entry.timer = setTimeout(() => finish(holds, key, entry), 0);
      }
    }
  };
}

/** Close now every hold of `owner` but `except` that is only waiting to be closed. */
function flushReleases(owner, except) {
  const holds = holdsOf(owner);
  for (const [key, entry] of Array.from(holds)) {
    if (entry.count === 0 && key !== except) {
      clearTimeout(entry.timer);
      finish(holds, key, entry);
    }
  }
}

/** Keep `snorky` connected while held. */
function holdConnection(snorky) {
  return hold(snorky, "connection", () => snorky.connect(), () => snorky.disconnect());
}

/** The service `name` of `snorky`, checked to be of `Class`. */
function serviceOf(snorky, name, Class) {
  const service = snorky && snorky.services[name];
  if (!(service instanceof Class)) {
    throw new TypeError("The connection has no " + Class.name + " service named " +
                        JSON.stringify(name));
  }
  return service;
}

// Acquire `token`, again once connected if the connection is lost first.
function acquire(datasync, token, state) {
  return datasync.acquireSubscription({token: token}).then(null, (err) => {
    if (err instanceof datasync.snorky.constructor.ConnectionError && !state.closed) {
      return new Promise((resolve) => datasync.snorky.connected.addOnce(resolve))
        .then(() => acquire(datasync, token, state));
    }
    throw err;
  });
}

/** Hold the DataSync subscription of `token`; `resource` is a promise of its acquisition. */
function holdSubscription(datasync, token) {
  // A subscription being dropped goes first: its cancellation reaches the
  // server before this acquisition, so none of its deltas follows this
  // one's response.
  flushReleases(datasync, token);
  return hold(datasync, token, () => {
    const state = {closed: false, promise: null};
    state.promise = acquire(datasync, token, state);
    return state;
  }, (state) => {
    state.closed = true;
    const cancel = () => {
      if (!holdsOf(datasync).has(token) && datasync.tokens.indexOf(token) !== -1) {
        datasync.cancelSubscription({token: token}).then(null, () => {});
      }
    };
    // Now if acquired (before anything sent after), else once it is.
    if (datasync.tokens.indexOf(token) !== -1) {
      cancel();
    } else {
      state.promise.then(cancel, () => {});
    }
  });
}

/** Hold the PubSub subscription to `channel`; `resource` is a promise. */
function holdChannel(pubsub, channel) {
  return hold(pubsub, PubSub.channelKey(channel), () => {
    const subscribed = pubsub.subscribe({channel: channel});
    subscribed.then(null, () => {});
    return subscribed;
  }, () => {
    pubsub.unsubscribe({channel: channel}).then(null, () => {});
  });
}

/**
 * The items of one DataSync subscription as an immutable array: each delta
 * that changes them makes a new array, in which unchanged items are the
 * same objects as before. `snapshot` is `{items, status, error}`, where
 * status is "idle" (no token), "acquiring", "live", "expired" (the server
 * no longer has the subscription: fetch the data again) or "failed".
 *
 * Options: `service` ("datasync"), `model` (apply only deltas of this
 * model; all by default), `initial` (the items fetched with the token),
 * `transformItem(data)`, `itemsAreEqual(item, data, delta)` (by `id`),
 * `collection` (a Collection of one's own to apply the deltas to instead;
 * `items` then copies its `items()`, if it has that method).
 */
class LiveCollection {
  constructor(snorky, token, options) {
    options = options || {};
    this.token = token === undefined ? null : token;
    this.datasync = serviceOf(snorky, options.service || "datasync", snorky.constructor.DataSync);
    this.model = options.model;
    const transformItem = options.transformItem || ((data) => data);
    this._working = Array.from(options.initial || [], (data) => transformItem(data));
    this._collection = options.collection ||
      new ArrayCollection(this._working, {transformItem: transformItem});
    this._processor = new CollectionDeltaProcessor({}, options.itemsAreEqual
      ? {itemsAreEqual: options.itemsAreEqual} : undefined);
    this.snapshot = {items: this._currentItems(),
                     status: this.token === null ? "idle" : "acquiring", error: null};
    this._listeners = new Set();
    this._hold = null;
  }

  /** Call `listener` after each change of `snapshot`; returns the unsubscriber. */
  subscribe(listener) {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  _set(changes) {
    this.snapshot = Object.assign({}, this.snapshot, changes);
    for (const listener of Array.from(this._listeners)) {
      listener(this.snapshot);
    }
  }

  /** Acquire the subscription and follow its deltas. */
  start() {
    if (this._hold || this.token === null) {
      return;
    }
    const datasync = this.datasync;
    datasync.deltaReceived.add(this._onDelta, this);
    datasync.subscriptionExpired.add(this._onExpired, this);
    const held = holdSubscription(datasync, this.token);
    this._hold = held;
    held.resource.promise.then(() => {
      if (this._hold === held && this.snapshot.status === "acquiring") {
        this._set({status: "live"});
      }
    }, (err) => {
      if (this._hold === held) {
        this._set({status: "failed", error: err});
      }
    });
  }

  /** Stop following deltas and let the subscription go. */
  stop() {
    if (!this._hold) {
      return;
    }
    this.datasync.deltaReceived.remove(this._onDelta, this);
    this.datasync.subscriptionExpired.remove(this._onExpired, this);
    this._hold.release();
    this._hold = null;
  }

  _onDelta(delta) {
    // Deltas do not say which subscription they are for: only those read
    // while this one is held (from its response on) can be.
    if (this.datasync.tokens.indexOf(this.token) === -1 || !delta ||
        (this.model !== undefined && delta.model !== this.model)) {
      return;
    }
    this._processor.collections = {[delta.model]: this._collection};
    if (this._processor.processDelta(delta)) {
      this._set({items: this._currentItems()});
    }
  }

  // A copy of the collection's items: unchanged ones stay the same objects.
  _currentItems() {
    const collection = this._collection;
    return typeof collection.items === "function" ? Array.from(collection.items()) : [];
  }

  _onExpired(token, err) {
    if (token === this.token) {
      this._set({status: "expired", error: err});
    }
  }
}

/**
 * The messages published on one channel while held, the latest `keep`
 * (50) of them; `snapshot` is `{messages, last}`. `onMessage(notification)`
 * is called for each.
 */
class LiveChannel {
  constructor(snorky, channel, options) {
    options = options || {};
    this.pubsub = serviceOf(snorky, options.service || "pubsub", snorky.constructor.PubSub);
    this.channel = channel;
    this.key = PubSub.channelKey(channel);
    this.keep = options.keep === undefined ? 50 : options.keep;
    this.onMessage = options.onMessage || null;
    this.snapshot = {messages: [], last: null};
    this._listeners = new Set();
    this._hold = null;
  }

  subscribe(listener) {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  /** Subscribe to the channel and follow its messages. */
  start() {
    if (this._hold) {
      return;
    }
    this.pubsub.messagePublished.add(this._onMessage, this);
    this._hold = holdChannel(this.pubsub, this.channel);
  }

  /** Stop following and let the channel go. */
  stop() {
    if (!this._hold) {
      return;
    }
    this.pubsub.messagePublished.remove(this._onMessage, this);
    this._hold.release();
    this._hold = null;
  }

  /** Publish `message` on the channel. */
  publish(message) {
    return this.pubsub.publish({channel: this.channel, message: message});
  }

  _onMessage(notification) {
    if (PubSub.channelKey(notification.channel) !== this.key) {
      return;
    }
    const messages = this.snapshot.messages.concat([notification.message]);
    this.snapshot = {messages: messages.slice(Math.max(0, messages.length - this.keep)),
                     last: notification.message};
    if (this.onMessage) {
      this.onMessage(notification.message, notification);
    }
    for (const listener of Array.from(this._listeners)) {
      listener(this.snapshot);
    }
  }
}

export {createClient, hold, flushReleases, holdConnection, LiveCollection, LiveChannel};

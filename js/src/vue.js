/*
 * snorky/vue: Vue 3 composables for snorky.js.
 *
 *   // in the root component's setup():
 *   const snorky = useSnorky("ws://localhost:5001/ws", {datasync: DataSync});
 *   // in any component below it:
 *   const {items, status} = useDataSync(token, {initial});  // refs
 *   const state = useConnectionState();                     // "online", ...
 *
 * Composables hold server-side state (a connection, a DataSync
 * subscription, a PubSub channel) for the life of the component (its
 * effect scope) and let it go a moment after, so a component unmounted
 * and mounted again at once keeps one subscription.
 */
import {getCurrentInstance, getCurrentScope, inject, onScopeDispose, provide, readonly, ref, shallowRef, toValue, watch} from "vue";
import {createClient, holdConnection, LiveCollection, LiveChannel} from "./live.js";

/** The injection key of the connection composables use by default. */
const SnorkyKey = Symbol("snorky");

// Run `cleanup` when the current component or effect scope ends.
function whenDisposed(cleanup) {
  if (getCurrentScope()) {
    onScopeDispose(cleanup);
  }
}

// Component -> the connection it provides: Vue's inject() sees only what
// ancestors provide, and a component's own composables need it too.
const provided = new WeakMap();

/** Make `client` the connection of the composables of this component and those below. */
function provideSnorky(client) {
  provide(SnorkyKey, client);
  provided.set(getCurrentInstance(), client);
  return client;
}

/**
 * A connection to `url` (one endpoint or a list) with `services`, open
 * for the life of the component, and provided to the components below.
 * `options.socket` is the socket class (the global WebSocket by
 * default); the other options are Snorky's.
 */
function useSnorky(url, services, options) {
  const client = createClient(url, services, options);
  whenDisposed(holdConnection(client).release);
  if (getCurrentInstance()) {
    provideSnorky(client);
  }
  return client;
}

/** `client`, or else the provided one. */
function injectSnorky(client) {
  const instance = getCurrentInstance();
  const snorky = client || (instance ? provided.get(instance) || inject(SnorkyKey, null) : null);
  if (!snorky) {
    throw new Error("No Snorky connection: call useSnorky() or provideSnorky() in an " +
                    "ancestor, or pass {client}");
  }
  return snorky;
}

/** A read-only ref of the connection's state: "online", "connecting", "reconnecting", "offline". */
function useConnectionState(client) {
  const snorky = injectSnorky(client);
  const state = ref(snorky.state);
  const changed = (value) => {
    state.value = value;
  };
  snorky.stateChanged.add(changed);
  whenDisposed(() => snorky.stateChanged.remove(changed));
  return readonly(state);
}

/**
 * Hold the DataSync subscription of `token` (a value, ref or getter; a new
 * token replaces the subscription) and return refs `{items, status,
 * error}`: `items` is the live array (a new array on each change, with
 * unchanged items kept), `status` "idle", "acquiring", "live", "expired"
 * (fetch the data again, with a new token) or "failed". Options:
 * `initial` (a value, ref or getter, read when the token changes),
 * `model`, `transformItem`, `itemsAreEqual`, `service` ("datasync"),
 * `client`.
 */
function useDataSync(token, options) {
  options = options || {};
  const snorky = injectSnorky(options.client);
  const items = shallowRef([]);
  const status = ref("idle");
  const error = shallowRef(null);
  let store = null;
  let unsubscribe = null;
  const show = (snapshot) => {
    items.value = snapshot.items;
    status.value = snapshot.status;
    error.value = snapshot.error;
  };
  const stop = () => {
    if (store) {
      unsubscribe();
      store.stop();
      store = null;
    }
  };
  watch(() => toValue(token), (value) => {
    stop();
    store = new LiveCollection(snorky, value,
                               Object.assign({}, options, {initial: toValue(options.initial)}));
    unsubscribe = store.subscribe(show);
    show(store.snapshot);
    store.start();
  }, {immediate: true});
  whenDisposed(stop);
  return {items: items, status: readonly(status), error: error};
}

/** A ref of the live array of the DataSync subscription of `token` (see useDataSync). */
function useCollection(token, options) {
  return useDataSync(token, options).items;
}

/**
 * Subscribe to the PubSub `channel` (a value, ref or getter) for the life
 * of the component; returns `{messages, last, publish}`: refs of the
 * latest `keep` (50) messages and of the last one, and a function
 * publishing on the channel. `onMessage(message, notification)` is called
 * for each; `service` ("pubsub"), `client`.
 */
function useChannel(channel, options) {
  options = options || {};
  const snorky = injectSnorky(options.client);
  const channelKey = snorky.constructor.PubSub.channelKey;
  const messages = shallowRef([]);
  const last = shallowRef(null);
  let live = null;
  let unsubscribe = null;
  const stop = () => {
    if (live) {
      unsubscribe();
      live.stop();
      live = null;
    }
  };
  watch(() => channelKey(toValue(channel)), () => {
    stop();
    live = new LiveChannel(snorky, toValue(channel), options);
    unsubscribe = live.subscribe((snapshot) => {
      messages.value = snapshot.messages;
      last.value = snapshot.last;
    });
    messages.value = [];
    last.value = null;
    live.start();
  }, {immediate: true});
  whenDisposed(stop);
  const publish = (message) => live.publish(message);
  return {messages: messages, last: last, publish: publish};
}

export {
  SnorkyKey,
  provideSnorky,
  useSnorky,
  injectSnorky,
  useConnectionState,
  useDataSync,
  useCollection,
  useChannel
};

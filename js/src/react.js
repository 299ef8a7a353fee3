/*
 * snorky/react: React hooks for snorky.js.
 *
 *   const snorky = useSnorky("ws://localhost:5001/ws", {datasync: DataSync});
 *   <SnorkyProvider client={snorky}><Players /></SnorkyProvider>
 *
 *   function Players({token, initial}) {
 *     const players = useCollection(token, {initial});   // a live array
 *     const state = useConnectionState();                // "online", ...
 *   }
 *
 * Hooks hold server-side state (a connection, a DataSync subscription, a
 * PubSub channel) while mounted and let it go a moment after the last
 * holder unmounts, so StrictMode's unmount-and-mount-again keeps one
 * subscription instead of making a second.
 */
import {createContext, createElement, useCallback, useContext, useEffect, useMemo, useRef, useSyncExternalStore} from "react";
import {createClient, holdConnection, LiveCollection, LiveChannel} from "./live.js";

/** The connection hooks use when they are not given one. */
const SnorkyContext = createContext(null);

/** Share `client` (a Snorky connection) with the hooks of the components inside. */
function SnorkyProvider(props) {
  return createElement(SnorkyContext.Provider, {value: props.client}, props.children);
}

/**
 * A connection to `url` (one endpoint or a list) with `services`, open
 * while the component is mounted. `options.socket` is the socket class
 * (the global WebSocket by default); the other options are Snorky's. A
 * new `url` makes a new connection; services and options are read when
 * it is made.
 */
function useSnorky(url, services, options) {
  const urlKey = JSON.stringify(url);
  const socket = options && options.socket;
  const client = useMemo(() => createClient(url, services, options), [urlKey, socket]);
  useEffect(() => holdConnection(client).release, [client]);
  return client;
}

/** `client`, or else the one of the nearest SnorkyProvider. */
function useSnorkyClient(client) {
  const provided = useContext(SnorkyContext);
  const snorky = client || provided;
  if (!snorky) {
    throw new Error("No Snorky connection: render inside <SnorkyProvider client={...}> " +
                    "or pass {client}");
  }
  return snorky;
}

/** The connection's state: "online", "connecting", "reconnecting" or "offline". */
function useConnectionState(client) {
  const snorky = useSnorkyClient(client);
  const subscribe = useCallback((changed) => {
    snorky.stateChanged.add(changed);
    return () => snorky.stateChanged.remove(changed);
  }, [snorky]);
  const read = () => snorky.state;
  return useSyncExternalStore(subscribe, read, read);
}

/**
 * Hold the DataSync subscription of `token` and return `{items, status,
 * error}`: `items` is the live array (a new array on each change, with
 * unchanged items kept), `status` "idle", "acquiring", "live", "expired"
 * (fetch the data again, with a new token) or "failed". Options:
 * `initial` (the items fetched with the token), `model`, `transformItem`,
 * `itemsAreEqual`, `service` ("datasync"), `client`; all but `client` are
 * read when the token changes.
 */
function useDataSync(token, options) {
  const snorky = useSnorkyClient(options && options.client);
  const store = useMemo(() => new LiveCollection(snorky, token, options), [snorky, token]);
  useEffect(() => {
    store.start();
    return () => store.stop();
  }, [store]);
  const subscribe = useCallback((changed) => store.subscribe(changed), [store]);
  const read = () => store.snapshot;
  return useSyncExternalStore(subscribe, read, read);
}

/** The live array of the DataSync subscription of `token` (see useDataSync). */
function useCollection(token, options) {
  return useDataSync(token, options).items;
}

/**
 * Subscribe to the PubSub `channel` while mounted; returns `{messages,
 * last, publish}`: the latest `keep` (50) messages, the last one, and a
 * function publishing on the channel. `onMessage(message, notification)`
 * is called for each; `service` ("pubsub"), `client`.
 */
function useChannel(channel, options) {
  const snorky = useSnorkyClient(options && options.client);
  const key = snorky.constructor.PubSub.channelKey(channel);
  const onMessage = useRef(null);
  onMessage.current = (options && options.onMessage) || null;
  const live = useMemo(() => new LiveChannel(snorky, channel, {
    service: options && options.service,
    keep: options && options.keep,
    onMessage: (message, notification) => onMessage.current && onMessage.current(message, notification)
  }), [snorky, key]);
  useEffect(() => {
    live.start();
    return () => live.stop();
  }, [live]);
  const subscribe = useCallback((changed) => live.subscribe(changed), [live]);
  const read = () => live.snapshot;
  const snapshot = useSyncExternalStore(subscribe, read, read);
  const publish = useCallback((message) => live.publish(message), [live]);
  return {messages: snapshot.messages, last: snapshot.last, publish: publish};
}

export {
  SnorkyContext,
  SnorkyProvider,
  useSnorky,
  useSnorkyClient,
  useConnectionState,
  useDataSync,
  useCollection,
  useChannel
};

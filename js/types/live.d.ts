/*
 * Types shared by snorky/react and snorky/vue (src/live.js).
 */
import type {
  Collection, ConnectionState, Delta, Json, PubSubMessage, RPCError, SnorkyOptions, SocketClass
} from "./snorky.js";

/** Options of a connection made by useSnorky: Snorky's, and the socket class. */
export interface ClientOptions extends SnorkyOptions {
  /** The socket class; the global WebSocket by default. */
  socket?: SocketClass;
}

/** Where a DataSync subscription held by a view stands. */
export type SubscriptionStatus = "idle" | "acquiring" | "live" | "expired" | "failed";

/** Options of a live DataSync collection; T is the item, D a delta's data. */
export interface LiveCollectionOptions<T, D = T> {
  /** Apply only deltas of this model (all by default). */
  model?: string;
  /** The items fetched with the token. */
  initial?: readonly D[];
  /** Make the stored item from a delta's data. */
  transformItem?: (data: D) => T;
  /** Whether `item` is the one `data` is about (same `id` by default). */
  itemsAreEqual?: (item: T, data: D, delta: Delta<D>) => boolean;
  /** The DataSync service's name ("datasync"). */
  service?: string;
  /**
   * A collection of one's own to apply the deltas to, instead of the
   * hook's array; `items` then copies its `items()`, if it has that method.
   */
  collection?: Collection<T, D> & {items?(): readonly T[]};
}

/** A live collection as a view sees it. */
export interface LiveCollectionState<T> {
  /** A new array on each change; unchanged items are the same objects. */
  items: T[];
  status: SubscriptionStatus;
  /** Why the subscription expired or failed. */
  error: RPCError | Error | null;
}

/** Options of a followed PubSub channel; M is the type of its messages. */
export interface ChannelOptions<M = Json> {
  /** How many of the latest messages to keep (50). */
  keep?: number;
  /** Called with each message. */
  onMessage?: (message: M, notification: PubSubMessage<M>) => void;
  /** The PubSub service's name ("pubsub"). */
  service?: string;
}

export type {ConnectionState};

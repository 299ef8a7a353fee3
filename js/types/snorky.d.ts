/*
 * TypeScript declarations of snorky.js (src/snorky.js): the connection,
 * the services with their commands and signals, and DataSync's
 * collections and delta processor, generic over the item type.
 *
 * test/js/types/usage.ts uses every name here, and `tsc --noEmit` checks
 * it in `make test`: an API change that forgets this file fails there.
 */

/** Any JSON value (channels, documents, message bodies). */
export type Json = string | number | boolean | null | Json[] | {[key: string]: Json};

/** The arguments a signal dispatches, as a tuple. */
export type SignalArgs = unknown[];

/** Listeners called in order on each dispatch. */
export declare class Signal<A extends SignalArgs = []> {
  /** Call `listener` (with `this` = `context`) on every dispatch. */
  add(listener: (...args: A) => unknown, context?: unknown): this;
  /** Call `listener` on the next dispatch only. */
  addOnce(listener: (...args: A) => unknown, context?: unknown): this;
  /** Stop calling `listener` (added with the same `context`). */
  remove(listener: (...args: A) => unknown, context?: unknown): this;
  /** Whether `listener` (with `context`) is attached. */
  has(listener: (...args: A) => unknown, context?: unknown): boolean;
  /** Detach every listener. */
  removeAll(): void;
  /** How many listeners are attached. */
  getNumListeners(): number;
  /** Call every listener with the given arguments. */
  dispatch(...args: A): void;
  /** Runs every dispatch; frameworks replace it to wrap dispatches. */
  static wrapDispatch: (run: () => void) => void;
  /** Called with what a listener threw. */
  static reportError: (err: unknown) => void;
}

/** The server answered an RPC call with an error; `message` is its text. */
export declare class RPCError extends Error {
  constructor(message: string, service: string, command: string);
  readonly service: string;
  readonly command: string;
}

/** The connection could not carry a message, or was lost before an answer. */
export declare class ConnectionError extends Error {
  constructor(message: string);
}

/** What snorky.js needs of a socket: WebSocket, SockJS or the `ws` package's. */
export interface SocketLike {
  send(data: string): void;
  close(): void;
}

/** A socket class: `WebSocket`, `SockJS`, the `ws` package's `WebSocket`. */
export type SocketClass = new (url: string) => SocketLike;

/** The backoff of reconnections; each attempt waits longer, less some jitter. */
export interface ReconnectOptions {
  /** First wait, ms (500). */
  initialDelay?: number;
  /** Longest wait, ms (30000). */
  maxDelay?: number;
  /** Growth of the wait per attempt (2). */
  factor?: number;
  /** Fraction of each wait taken off at random (0.5). */
  jitter?: number;
  /** Attempts before giving up (Infinity). */
  maxAttempts?: number;
}

/** Where snorky.js logs. */
export interface Logger {
  debug(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** Options of a connection. */
export interface SnorkyOptions {
  debug?: boolean;
  reconnect?: boolean | ReconnectOptions;
  maxQueuedMessages?: number;
  /** Connect at once (true). */
  connect?: boolean;
  timers?: {
    setTimeout(fn: () => void, delay: number): unknown;
    clearTimeout(handle: any): void;
  };
  random?: () => number;
  logger?: Logger;
}

/** Where a connection stands. */
export type ConnectionState = "online" | "connecting" | "reconnecting" | "offline";

/** A service class, as given to the connection's constructor. */
export type ServiceClass<S extends Service = Service> = new (name: string, snorky: Snorky<any>) => S;

/** Service name to service class. */
export type ServiceClasses = {[name: string]: ServiceClass};

/** The instances of a map of service classes, by name. */
export type ServiceInstances<M extends ServiceClasses> = {[K in keyof M]: InstanceType<M[K]>};

/** One connection to a Snorky server and the services used through it. */
export declare class Snorky<M extends ServiceClasses = ServiceClasses> {
  /**
   * @param url one endpoint, or several (nodes of a cluster) tried in turn.
   * @param options the options, or a boolean taken as `debug`.
   */
  constructor(SocketClass: SocketClass, url: string | readonly string[], services?: M,
              options?: SnorkyOptions | boolean);
  socketClass: SocketClass;
  /** Every endpoint given. */
  readonly urls: string[];
  /** The endpoint of the next or current connection; may be set to move elsewhere. */
  url: string;
  debug: boolean;
  readonly reconnectOptions: Required<ReconnectOptions> | null;
  maxQueuedMessages: number;
  logger: Logger;
  /** The service instances, by name. */
  readonly services: ServiceInstances<M>;

  /** Dispatched each time a connection opens. */
  readonly connected: Signal<[]>;
  /** Dispatched when an open connection closes, or when connecting gives up. */
  readonly disconnected: Signal<[]>;
  /** Dispatched when a reconnection is scheduled. */
  readonly reconnecting: Signal<[attempt: number, delayMs: number]>;
  /** Dispatched when a connection opens again after one was lost. */
  readonly reconnected: Signal<[]>;
  /** Dispatched each time `state` changes. */
  readonly stateChanged: Signal<[state: ConnectionState, previous: ConnectionState]>;

  readonly isConnected: boolean;
  readonly isConnecting: boolean;
  readonly isReconnecting: boolean;
  readonly state: ConnectionState;

  /** Open a connection (does nothing if one is open or opening). */
  connect(): void;
  /** Close the connection and stop reconnecting. */
  disconnect(): void;
  logDebug(...args: unknown[]): void;
  logError(...args: unknown[]): void;
  /** The wait before reconnection attempt number `attempt` (from 1), in ms. */
  reconnectDelay(attempt: number): number;

  static Snorky: typeof Snorky;
  static Signal: typeof Signal;
  static RPCError: typeof RPCError;
  static ConnectionError: typeof ConnectionError;
  static Service: typeof Service;
  static RPCService: typeof RPCService;
  static PubSub: typeof PubSub;
  static Chat: typeof Chat;
  static Messaging: typeof Messaging;
  static Cursors: typeof Cursors;
  static DataSync: typeof DataSync;
  static Collection: typeof Collection;
  static ArrayCollection: typeof ArrayCollection;
  static SingleItemCollection: typeof SingleItemCollection;
  static CollectionDeltaProcessor: typeof CollectionDeltaProcessor;
  /** The promise constructor of RPC calls; adapters replace it (AngularJS: $q). */
  static Promise: PromiseConstructorLike;
}

/** The client side of one service. */
export declare class Service {
  constructor(name: string, snorky: Snorky<any>);
  readonly name: string;
  readonly snorky: Snorky<any>;
  /** Dispatched with each message the server's service sends. */
  readonly packetReceived: Signal<[message: unknown]>;
  /** Send `message` to the server's service (queued until connected). */
  sendMessage(message: unknown, onSent?: () => void): void;
  /** Called when a connection opens, before queued messages are sent. */
  connectionOpened(): void;
  /** Called when a connection closes or an attempt fails. */
  connectionLost(willReconnect: boolean): void;
}

/** A message of an RPC service that is not an answer. */
export interface Notification {
  type: string;
  [field: string]: unknown;
}

/** A service spoken to with RPC calls. */
export declare class RPCService extends Service {
  /** Dispatched with every message that is not an answer. */
  readonly notificationReceived: Signal<[message: Notification]>;
  /** Call `command`; resolves with the answer's data. */
  rpcCall<T = unknown>(command: string, params?: object): Promise<T>;
  /** How many calls wait for an answer. */
  readonly pendingCalls: number;
  /** Add to the class one method per command, taking a params object. */
  static addRPCMethods(commands: string[]): void;
}

/** A message published on a channel. */
export interface PubSubMessage<T = Json> {
  type: "message";
  channel: Json;
  message: T;
}

/** Publish/subscribe; subscriptions are made again after a reconnection. */
export declare class PubSub extends RPCService {
  readonly messagePublished: Signal<[notification: PubSubMessage]>;
  subscribe(params: {channel: Json}): Promise<null>;
  unsubscribe(params: {channel: Json}): Promise<null>;
  publish(params: {channel: Json; message: Json}): Promise<null>;
  /** The channels this client is subscribed to. */
  readonly channels: Json[];
  /** A string equal for equal channels, whatever their key order. */
  static channelKey(channel: Json): string;
}

/** A chat message. */
export interface ChatMessage {
  type: "message";
  from: Json;
  channel: Json;
  body: Json;
  timestamp: string;
}

/** Someone joined or left a chat channel. */
export interface ChatPresence {
  type: "presence";
  from: Json;
  channel: Json;
  status: "joined" | "left" | string;
  timestamp: string;
}

/** Someone read a chat channel. */
export interface ChatRead {
  type: "read";
  channel: Json;
  timestamp: string;
}

/** Chat rooms with presence and read receipts. */
export declare class Chat extends RPCService {
  readonly messageReceived: Signal<[message: ChatMessage]>;
  readonly presenceReceived: Signal<[presence: ChatPresence]>;
  readonly readReceived: Signal<[read: ChatRead]>;
  join(params: {channel: Json}): Promise<{members: Json[]}>;
  leave(params: {channel: Json}): Promise<null>;
  send(params: {channel: Json; body: Json}): Promise<null>;
  read(params: {channel: Json}): Promise<null>;
}

/** A message between participants. */
export interface MessagingMessage {
  type: "message";
  sender: string;
  dest: string;
  body: Json;
}

/** Messages between named participants. */
export declare class Messaging extends RPCService {
  readonly messageReceived: Signal<[message: MessagingMessage]>;
  registerParticipant(params: {name: string}): Promise<null>;
  unregisterParticipant(params: {name: string}): Promise<null>;
  listParticipants(params?: {}): Promise<string[]>;
  send(params: {sender: string; dest: string; body: Json}): Promise<null>;
}

/** What the server says about a cursor. */
export interface CursorData {
  publicHandle: number;
  document: Json;
  position: Json;
  status: Json;
  owner?: Json;
}

/** Someone else's cursor. */
declare class ForeignCursor implements CursorData {
  constructor(data: CursorData);
  publicHandle: number;
  document: Json;
  position: Json;
  status: Json;
  owner?: Json;
  readonly isMine: false;
}

/** A cursor of this client; `created` resolves with its public handle. */
declare class OwnCursor {
  readonly document: CursorsDocument;
  readonly privateHandle: number;
  publicHandle: number | null;
  position: Json;
  status: Json;
  readonly isMine: true;
  created: Promise<number> | null;
  update(newData: {position?: Json; status?: Json}): Promise<null>;
  remove(): Promise<null>;
}

/** A joined document. */
declare class CursorsDocument {
  readonly service: Cursors;
  readonly name: Json;
  readonly cursors: Array<ForeignCursor | OwnCursor>;
  readonly cursorAdded: Signal<[cursor: ForeignCursor]>;
  readonly cursorUpdated: Signal<[cursor: ForeignCursor]>;
  readonly cursorRemoved: Signal<[cursor: ForeignCursor]>;
  createCursor(params: {position: Json; status?: Json}): OwnCursor;
}

/** Shared cursors in documents. */
export declare class Cursors extends RPCService {
  readonly documents: Map<string, CursorsDocument>;
  join(params: {document: Json}): Promise<CursorsDocument>;
  leave(params: {document: Json}): Promise<null>;
  static Document: typeof CursorsDocument;
  static OwnCursor: typeof OwnCursor;
  static ForeignCursor: typeof ForeignCursor;
}

/** A change to one item of a model, as DataSync delivers it. */
export type Delta<T = any> =
  | {type: "insert"; model: string; data: T}
  | {type: "delete"; model: string; data: T}
  | {type: "update"; model: string; newData: T; oldData: T};

/** DataSync: subscriptions to deltas. */
export declare class DataSync extends RPCService {
  /** Dispatched with each delta. */
  readonly deltaReceived: Signal<[delta: Delta]>;
  /** Dispatched when a held subscription cannot be taken back after a reconnection. */
  readonly subscriptionExpired: Signal<[token: string, error: RPCError]>;
  acquireSubscription(params: {token: string; after?: number}): Promise<null>;
  cancelSubscription(params: {token: string}): Promise<null>;
  /** The tokens of the subscriptions this client holds. */
  readonly tokens: string[];

  static Collection: typeof Collection;
  static ArrayCollection: typeof ArrayCollection;
  static SingleItemCollection: typeof SingleItemCollection;
  static CollectionDeltaProcessor: typeof CollectionDeltaProcessor;
}

/** Tells the item a delta is about. */
export type ItemMatch<T> = (item: T) => boolean;

/** A place deltas are applied to; each method returns whether it changed. */
export declare abstract class Collection<T = any, D = any> {
  insert(data: D): boolean;
  update(match: ItemMatch<T>, newData: D): boolean;
  remove(match: ItemMatch<T>): boolean;
}

/** Anything with `push` and `splice`, like an array. */
export interface ArrayLike<T> {
  push(...items: T[]): unknown;
  splice(start: number, deleteCount: number, ...items: T[]): unknown;
}

/** Options of an ArrayCollection: how a delta's data becomes an item. */
export interface ArrayCollectionOptions<T, D> {
  transformItem?: (data: D) => T;
}

/** A collection over an array; T is the stored item, D a delta's data. */
export declare class ArrayCollection<T = any, D = T> extends Collection<T, D> {
  constructor(array: ArrayLike<T> | T[], options?: ArrayCollectionOptions<T, D>);
  readonly array: ArrayLike<T> | T[];
  transformItem: (data: D) => T;
  /** The items, as an array. */
  items(): T[];
}

/** A collection of at most one item, reached through functions. */
export declare class SingleItemCollection<T = any, D = T> extends Collection<T, D> {
  constructor(read: () => T | null | undefined, update: (newData: D) => void,
              remove?: () => void);
}

/** Options of a delta processor. */
export interface CollectionDeltaProcessorOptions {
  itemsAreEqual?: (item: any, data: any, delta: Delta) => boolean;
}

/** Applies deltas to collections by model name. */
export declare class CollectionDeltaProcessor<
  C extends {[model: string]: Collection} = {[model: string]: Collection}
> {
  constructor(collections?: C, options?: CollectionDeltaProcessorOptions);
  readonly collections: C;
  /** Whether the stored `item` is the one `data` (from `delta`) is about. */
  itemsAreEqual(item: any, data: any, delta: Delta): boolean;
  /** Apply one delta; whether a collection changed. */
  processDelta(delta: Delta): boolean;
}

// Reached as Cursors.Document, Cursors.OwnCursor, Cursors.ForeignCursor.
export type {CursorsDocument, OwnCursor, ForeignCursor};

export default Snorky;

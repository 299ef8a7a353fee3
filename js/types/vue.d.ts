/*
 * TypeScript declarations of snorky/vue (src/vue.js).
 */
import type {InjectionKey, MaybeRefOrGetter, Ref, ShallowRef} from "vue";
import type {ConnectionState, Json, RPCError, ServiceClasses, Snorky} from "./snorky.js";
import type {ChannelOptions, ClientOptions, LiveCollectionOptions, SubscriptionStatus} from "./live.js";

export type {ChannelOptions, ClientOptions, LiveCollectionOptions, SubscriptionStatus} from "./live.js";

/** The injection key of the connection composables use by default. */
export declare const SnorkyKey: InjectionKey<Snorky<any>>;

/** Make `client` the connection of the composables of the components below. */
export declare function provideSnorky<M extends ServiceClasses>(client: Snorky<M>): Snorky<M>;

/** A connection open for the life of the component, provided to those below. */
export declare function useSnorky<M extends ServiceClasses>(
  url: string | readonly string[], services: M, options?: ClientOptions): Snorky<M>;

/** `client`, or else the provided one. */
export declare function injectSnorky<M extends ServiceClasses = ServiceClasses>(
  client?: Snorky<M> | null): Snorky<M>;

/** A read-only ref of the connection's state. */
export declare function useConnectionState(client?: Snorky<any> | null): Readonly<Ref<ConnectionState>>;

/** Options of useDataSync and useCollection. */
export interface DataSyncComposableOptions<T, D = T> extends Omit<LiveCollectionOptions<T, D>, "initial"> {
  /** The items fetched with the token, read when the token changes. */
  initial?: MaybeRefOrGetter<readonly D[] | null | undefined>;
  client?: Snorky<any> | null;
}

/** What useDataSync returns: refs. */
export interface DataSyncRefs<T> {
  /** A new array on each change; unchanged items are the same objects. */
  items: ShallowRef<T[]>;
  status: Readonly<Ref<SubscriptionStatus>>;
  error: ShallowRef<RPCError | Error | null>;
}

/** Hold the DataSync subscription of `token` (a new token replaces it). */
export declare function useDataSync<T, D = T>(
  token: MaybeRefOrGetter<string | null | undefined>,
  options?: DataSyncComposableOptions<T, D>): DataSyncRefs<T>;

/** A ref of the live array of the DataSync subscription of `token`. */
export declare function useCollection<T, D = T>(
  token: MaybeRefOrGetter<string | null | undefined>,
  options?: DataSyncComposableOptions<T, D>): ShallowRef<T[]>;

/** Options of useChannel. */
export interface ChannelComposableOptions<M = Json> extends ChannelOptions<M> {
  client?: Snorky<any> | null;
}

/** What useChannel returns. */
export interface ChannelRefs<M = Json> {
  messages: ShallowRef<M[]>;
  last: ShallowRef<M | null>;
  publish(message: Json): Promise<null>;
}

/** Subscribe to a PubSub channel for the life of the component. */
export declare function useChannel<M = Json>(
  channel: MaybeRefOrGetter<Json>, options?: ChannelComposableOptions<M>): ChannelRefs<M>;

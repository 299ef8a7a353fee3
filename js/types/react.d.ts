/*
 * TypeScript declarations of snorky/react (src/react.js).
 */
import type {Context, ReactElement, ReactNode} from "react";
import type {ConnectionState, Json, ServiceClasses, Snorky} from "./snorky.js";
import type {ChannelOptions, ClientOptions, LiveCollectionOptions, LiveCollectionState} from "./live.js";

export type {ChannelOptions, ClientOptions, LiveCollectionOptions, LiveCollectionState,
             SubscriptionStatus} from "./live.js";

/** The connection hooks use when they are not given one. */
export declare const SnorkyContext: Context<Snorky<any> | null>;

/** Share `client` with the hooks of the components inside. */
export declare function SnorkyProvider(props: {client: Snorky<any>; children?: ReactNode}): ReactElement;

/** A connection open while the component is mounted. */
export declare function useSnorky<M extends ServiceClasses>(
  url: string | readonly string[], services: M, options?: ClientOptions): Snorky<M>;

/** `client`, or else the one of the nearest SnorkyProvider. */
export declare function useSnorkyClient<M extends ServiceClasses = ServiceClasses>(
  client?: Snorky<M> | null): Snorky<M>;

/** The connection's state, as a value. */
export declare function useConnectionState(client?: Snorky<any> | null): ConnectionState;

/** Options of useDataSync and useCollection. */
export interface DataSyncHookOptions<T, D = T> extends LiveCollectionOptions<T, D> {
  client?: Snorky<any> | null;
}

/** Hold the DataSync subscription of `token`: its live items and status. */
export declare function useDataSync<T, D = T>(
  token: string | null | undefined, options?: DataSyncHookOptions<T, D>): LiveCollectionState<T>;

/** The live array of the DataSync subscription of `token`. */
export declare function useCollection<T, D = T>(
  token: string | null | undefined, options?: DataSyncHookOptions<T, D>): T[];

/** Options of useChannel. */
export interface ChannelHookOptions<M = Json> extends ChannelOptions<M> {
  client?: Snorky<any> | null;
}

/** What useChannel returns. */
export interface ChannelState<M = Json> {
  /** The latest messages, oldest first. */
  messages: M[];
  last: M | null;
  publish(message: Json): Promise<null>;
}

/** Subscribe to a PubSub channel while mounted. */
export declare function useChannel<M = Json>(channel: Json, options?: ChannelHookOptions<M>): ChannelState<M>;

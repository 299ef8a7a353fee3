/*
 * Typed use of the whole snorky.js API; `tsc --noEmit -p test/js/types`
 * (run by test/js/types.test.js) checks it against js/types/.
 */
import Snorky, {
  ArrayCollection, Chat, Collection, CollectionDeltaProcessor, ConnectionError, Cursors, DataSync,
  Messaging, PubSub, RPCError, RPCService, Service, Signal, SingleItemCollection
} from "snorky";
import type {ConnectionState, Delta, Json, PubSubMessage, SnorkyOptions} from "snorky";

interface Player {
  id: number;
  name: string;
  color: string;
}

interface Row extends Player {
  draft: string;
}

const options: SnorkyOptions = {reconnect: {initialDelay: 100, jitter: 0.2}, maxQueuedMessages: 10};
const snorky = new Snorky(WebSocket, ["ws://a:5001/ws", "ws://b:5001/ws"], {
  pubsub: PubSub,
  chat: Chat,
  messaging: Messaging,
  cursors: Cursors,
  datasync: DataSync,
  calc: RPCService
}, options);
const debugging = new Snorky(WebSocket, "ws://a:5001/ws", {}, true);
debugging.disconnect();

// The connection.
const state: ConnectionState = snorky.state;
const urls: string[] = snorky.urls;
snorky.stateChanged.add((now: ConnectionState, before: ConnectionState) => console.log(now, before, state));
snorky.reconnecting.add((attempt: number, delay: number) => console.log(attempt, delay, urls));
snorky.connected.addOnce(() => {});
const delay: number = snorky.reconnectDelay(3);
const online: boolean = snorky.isConnected && !snorky.isReconnecting && !snorky.isConnecting;
console.log(delay, online, snorky.url);

// Services are typed by their names.
const pubsub: PubSub = snorky.services.pubsub;
pubsub.messagePublished.add((n: PubSubMessage) => console.log(n.channel, n.message));
const subscribed: Promise<null> = pubsub.subscribe({channel: {room: 1}});
pubsub.publish({channel: "news", message: {text: "hi"}});
const key: string = PubSub.channelKey({b: 1, a: 2});
const channels: Json[] = pubsub.channels;
console.log(subscribed, key, channels);

snorky.services.chat.messageReceived.add((m) => console.log(m.from, m.body, m.timestamp));
snorky.services.chat.presenceReceived.add((p) => console.log(p.status));
snorky.services.chat.join({channel: "lobby"}).then((r) => console.log(r.members));
snorky.services.chat.send({channel: "lobby", body: "hello"});

snorky.services.messaging.registerParticipant({name: "ann"});
snorky.services.messaging.listParticipants().then((names: string[]) => console.log(names));
snorky.services.messaging.messageReceived.add((m) => console.log(m.sender, m.dest, m.body));

snorky.services.cursors.join({document: "doc"}).then((doc) => {
  const mine = doc.createCursor({position: 3, status: "typing"});
  mine.created?.then((handle: number) => console.log(handle));
  mine.update({position: 4});
  doc.cursorAdded.add((c) => console.log(c.publicHandle, c.position, c.isMine));
  const all = doc.cursors.map((c) => c.isMine);
  console.log(all);
  return mine.remove();
});

const answer: Promise<number> = snorky.services.calc.rpcCall<number>("add", {a: 1, b: 2});
answer.then(null, (err: unknown) => {
  if (err instanceof RPCError) {
    console.log(err.service, err.command, err.message);
  } else if (err instanceof ConnectionError) {
    console.log(err.message);
  }
});

// DataSync, collections and the delta processor, generic over the item.
const datasync = snorky.services.datasync;
const players: Player[] = [];
const byId = new ArrayCollection<Player>(players);
const first: Player | undefined = byId.items()[0];
const rows = new ArrayCollection<Row, Player>([], {transformItem: (p) => ({...p, draft: p.name})});
const drafts: string[] = rows.items().map((r) => r.draft);
let current: Player | null = null;
const single = new SingleItemCollection<Player>(() => current, (p) => { current = p; }, () => { current = null; });
const processor = new CollectionDeltaProcessor({Player: byId, Row: rows, Current: single}, {
  itemsAreEqual: (item, data) => item.id === data.id
});
datasync.deltaReceived.add((delta: Delta) => processor.processDelta(delta));
datasync.subscriptionExpired.add((token: string, err: RPCError) => console.log(token, err.message));
datasync.acquireSubscription({token: "t"});
datasync.acquireSubscription({token: "t", after: 12});
datasync.cancelSubscription({token: "t"});
const tokens: string[] = datasync.tokens;
const changed: boolean = processor.processDelta({type: "update", model: "Player",
                                                 oldData: {id: 1}, newData: {id: 1, name: "B"}});
console.log(first, drafts, tokens, changed);

// Extending: a service of one's own, a collection of one's own, signals.
class Echo extends RPCService {
  readonly echoed = new Signal<[text: string]>();
  say(text: string): Promise<string> {
    return this.rpcCall<string>("say", {text});
  }
}
Echo.addRPCMethods(["shout"]);
class Logged extends Service {
  connectionOpened(): void {
    this.sendMessage({hello: true}, () => console.log("sent"));
  }
}
class Counting extends Collection<Player> {
  count = 0;
  insert(data: Player): boolean {
    this.count += data.id;
    return true;
  }
}
const own = new Snorky(WebSocket, "ws://a/ws", {echo: Echo, logged: Logged});
own.services.echo.say("hi").then((s: string) => s.toUpperCase());
own.services.echo.echoed.add((text) => text.length);
own.services.logged.packetReceived.add((m: unknown) => m);
console.log(new Counting().count);

// Configuration hooks and the static names.
Signal.wrapDispatch = (run) => run();
Signal.reportError = (err) => console.error(err);
const statics = [Snorky.PubSub, Snorky.DataSync.ArrayCollection, Snorky.Cursors.Document, Snorky.Signal];
console.log(statics, Snorky.Promise);

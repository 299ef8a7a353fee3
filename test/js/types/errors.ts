/*
 * Misuses the declarations must refuse: each line below is an error, and
 * tsc fails on an unused @ts-expect-error if the types stop catching it.
 */
import Snorky, {ArrayCollection, DataSync, PubSub} from "snorky";

interface Player {
  id: number;
  name: string;
}

const snorky = new Snorky(WebSocket, "ws://a/ws", {datasync: DataSync, pubsub: PubSub});
// @ts-expect-error: no service of that name
snorky.services.chat.join({channel: "x"});
// @ts-expect-error: acquireSubscription takes a token
snorky.services.datasync.acquireSubscription({channel: "x"});
// @ts-expect-error: publish needs a message
snorky.services.pubsub.publish({channel: "x"});
const players = new ArrayCollection<Player>([]);
// @ts-expect-error: the items are Players
const names: string[] = players.items();
// @ts-expect-error: the state is one of four words
const state: "closed" = snorky.state;
// @ts-expect-error: a list of URLs holds strings
new Snorky(WebSocket, [1, 2], {});
console.log(names, state);

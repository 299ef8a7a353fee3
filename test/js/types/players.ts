/*
 * The TypeScript example of doc/javascript.rst: a typed list of players
 * kept in sync by DataSync. tsc checks it with the other usage files.
 */
import {Snorky, DataSync, ArrayCollection, CollectionDeltaProcessor} from "snorky";
import type {ConnectionState, RPCError} from "snorky";

interface Player {
  id: number;
  name: string;
  color: string;
}

const snorky = new Snorky(WebSocket, ["ws://node-a:5001/ws", "ws://node-b:5001/ws"], {
  datasync: DataSync
});
const datasync = snorky.services.datasync;  // typed: DataSync

const players: Player[] = [];
const processor = new CollectionDeltaProcessor({
  Player: new ArrayCollection<Player>(players)
});
datasync.deltaReceived.add((delta) => {
  processor.processDelta(delta);
});
datasync.subscriptionExpired.add((token: string, error: RPCError) => {
  console.warn("fetch the players again:", token, error.message);
});
snorky.stateChanged.add((state: ConnectionState) => {
  document.title = state === "online" ? "Players" : "Players (" + state + ")";
});

export async function follow(token: string): Promise<Player[]> {
  await datasync.acquireSubscription({token});
  return players;
}

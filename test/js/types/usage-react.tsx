/*
 * Typed use of snorky/react, checked by tsc like usage.ts.
 */
import {ArrayCollection, DataSync, PubSub} from "snorky";
import {
  SnorkyContext, SnorkyProvider, useChannel, useCollection, useConnectionState, useDataSync,
  useSnorky, useSnorkyClient
} from "snorky/react";
import type {LiveCollectionState, SubscriptionStatus} from "snorky/react";

interface Player {
  id: number;
  name: string;
}

interface Row extends Player {
  selected: boolean;
}

function Players(props: {token: string | null; initial: Player[]}) {
  const players: Player[] = useCollection<Player>(props.token, {initial: props.initial, model: "Player"});
  const rows: LiveCollectionState<Row> = useDataSync<Row, Player>(props.token, {
    initial: props.initial,
    transformItem: (p) => ({...p, selected: false}),
    itemsAreEqual: (row, data) => row.id === data.id
  });
  const status: SubscriptionStatus = rows.status;
  const own = new ArrayCollection<Player>([]);
  const mine: Player[] = useDataSync(props.token, {collection: own}).items;
  console.log(mine);
  const state = useConnectionState();
  const news = useChannel<{text: string}>("news", {keep: 10, onMessage: (m) => console.log(m.text)});
  const snorky = useSnorkyClient<{datasync: typeof DataSync}>();
  snorky.services.datasync.tokens.slice();
  return (
    <ul data-state={state} data-status={status} onClick={() => news.publish({text: "hi"})}>
      {players.map((p) => <li key={p.id}>{p.name}</li>)}
      {rows.items.filter((r) => r.selected).length}
      {news.last?.text}
      {rows.error?.message}
    </ul>
  );
}

export function App() {
  const snorky = useSnorky(["ws://a/ws", "ws://b/ws"], {datasync: DataSync, pubsub: PubSub},
                           {reconnect: {maxDelay: 5000}});
  snorky.services.pubsub.channels.slice();
  return (
    <SnorkyProvider client={snorky}>
      <Players token="t" initial={[]} />
      <SnorkyContext.Consumer>{(client) => String(client?.state)}</SnorkyContext.Consumer>
    </SnorkyProvider>
  );
}

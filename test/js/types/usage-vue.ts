/*
 * Typed use of snorky/vue, checked by tsc like usage.ts.
 */
import {computed, defineComponent, h, ref} from "vue";
import type {Ref, ShallowRef} from "vue";
import Snorky, {DataSync, PubSub} from "snorky";
import {
  SnorkyKey, injectSnorky, provideSnorky, useChannel, useCollection, useConnectionState, useDataSync,
  useSnorky
} from "snorky/vue";
import type {ConnectionState} from "snorky";
import type {SubscriptionStatus} from "snorky/vue";

interface Player {
  id: number;
  name: string;
}

export const Players = defineComponent({
  setup() {
    const token = ref<string | null>(null);
    const fetched = ref<Player[]>([]);
    const players: ShallowRef<Player[]> = useCollection<Player>(token, {initial: fetched});
    const {items, status, error} = useDataSync<Player>(() => token.value, {initial: () => fetched.value});
    const s: SubscriptionStatus = status.value;
    const state: Readonly<Ref<ConnectionState>> = useConnectionState();
    const news = useChannel<string>(computed(() => "news"), {onMessage: (m) => m.toUpperCase()});
    const names = computed(() => players.value.map((p) => p.name).join(", "));
    return () => h("p", [names.value, items.value.length, s, state.value, error.value?.message,
                         news.messages.value.join(), news.last.value]);
  }
});

export const App = defineComponent({
  setup() {
    const snorky = useSnorky("ws://a/ws", {datasync: DataSync, pubsub: PubSub});
    snorky.services.datasync.tokens.slice();
    const other = new Snorky(WebSocket, "ws://b/ws", {datasync: DataSync});
    provideSnorky(other).services.datasync.acquireSubscription({token: "t"});
    const injected = injectSnorky<{pubsub: typeof PubSub}>();
    injected.services.pubsub.subscribe({channel: 1});
    return () => h(Players, {key: String(SnorkyKey.description)});
  }
});

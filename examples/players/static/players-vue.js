/*
 * The Players example's page in Vue 3, with snorky/vue's composables: the
 * same page as the Knockout one (index.html), loaded as ES modules through
 * the import map of vue.html, with no build step.
 */
import {computed, createApp, reactive, ref, watch} from "vue";
import {DataSync} from "snorky";
import {useConnectionState, useDataSync, useSnorky} from "snorky/vue";
import {
  RETRY_MS, api, config, endpoint, fetchPlayers, initialFilter, otherTransportUrl, showFilter
} from "./players-common.js";

createApp({
  setup() {
    useSnorky(endpoint.url, {datasync: DataSync}, {socket: endpoint.socket});
    const state = useConnectionState();
    // Changes are offered only while connected: made while offline, they
    // would not show on this page until it reconnects.
    const online = computed(() => state.value === "online");
    const filter = ref(initialFilter);
    const fetched = ref({players: [], token: null});
    const loaded = ref(false);
    // Loading's error stays until a load succeeds; a change's error until
    // the next change, or until the input it was about is edited.
    const loadError = ref("");
    const changeError = ref("");
    const edited = () => {
      changeError.value = "";
    };
    const newName = ref("");
    const newColor = ref(config.colors[0]);
    // The rename field of each player, by id.
    const drafts = reactive({});

    // The list, kept up to date by the deltas of the subscription that
    // came with it; a new token (another filter, or after expiry)
    // replaces the subscription.
    const {items: players, status} = useDataSync(() => fetched.value.token, {
      initial: () => fetched.value.players,
      model: "Player"
    });
    watch(players, (list) => {
      for (const player of list) {
        if (!(player.id in drafts)) {
          drafts[player.id] = player.name;
        }
      }
    }, {immediate: true});

    let retry = null;
    let loads = 0;
    async function reload() {
      clearTimeout(retry);
      const load = ++loads;
      loaded.value = false;
      try {
        const answer = await fetchPlayers(filter.value);
        if (load === loads) {
          fetched.value = answer;
          loaded.value = true;
          loadError.value = "";
        }
      } catch (err) {
        if (load === loads) {
          loadError.value = "Could not load the players: " + err.message + " (retrying)";
          retry = setTimeout(reload, RETRY_MS);
        }
      }
    }

    // After a long disconnection or a Snorky restart the subscription is
    // gone: fetch the list again, with a new one.
    watch(status, (value) => {
      if (value === "expired" || value === "failed") {
        reload();
      }
    });
    watch(filter, (color) => {
      showFilter(color);
      reload();
    });
    reload();

    watch([newName, newColor], edited);

    function report(promise) {
      promise.then(edited, (err) => {
        changeError.value = err.message;
      });
    }

    return {
      colors: config.colors,
      endpoint: endpoint,
      otherUrl: computed(() => otherTransportUrl(filter.value)),
      error: computed(() => loadError.value || changeError.value),
      state, online, loaded, edited, filter, players, newName, newColor, drafts,
      add() {
        report(api("POST", "/api/players", {name: newName.value.trim(), color: newColor.value})
          .then(() => {
            newName.value = "";
          }));
      },
      rename(player) {
        report(api("PUT", "/api/players/" + player.id, {name: (drafts[player.id] || "").trim()}));
      },
      recolor(player, color) {
        report(api("PUT", "/api/players/" + player.id, {color: color}));
      },
      remove(player) {
        report(api("DELETE", "/api/players/" + player.id));
      }
    };
  }
}).mount("#app");

/*
 * The Players example's page in React, with snorky/react's hooks: the
 * same page as the Knockout one (index.html). JSX needs a build: `npm ci`
 * runs build.mjs (esbuild), which writes static/build/players-react.js.
 */
import {StrictMode, memo, useCallback, useEffect, useState} from "react";
import {createRoot} from "react-dom/client";
import {DataSync} from "snorky";
import {SnorkyProvider, useConnectionState, useDataSync, useSnorky} from "snorky/react";
import {
  RETRY_MS, api, config, endpoint, fetchPlayers, initialFilter, otherTransportUrl, showFilter
} from "../static/players-common.js";

function App() {
  const snorky = useSnorky(endpoint.url, {datasync: DataSync}, {socket: endpoint.socket});
  return (
    <SnorkyProvider client={snorky}>
      <PlayersPage />
    </SnorkyProvider>
  );
}

// The players of `filter` and a token for their changes, fetched again
// after `generation` changes; failures are retried. `loaded` is false
// while a list is being fetched.
function usePlayersList(filter, generation, setLoadError) {
  const [fetched, setFetched] = useState({players: [], token: null, loaded: false});
  useEffect(() => {
    let current = true;
    let retry = null;
    const load = () => fetchPlayers(filter).then((answer) => {
      if (current) {
        setFetched(Object.assign({loaded: true}, answer));
        setLoadError("");
      }
    }, (err) => {
      if (current) {
        setLoadError("Could not load the players: " + err.message + " (retrying)");
        retry = setTimeout(load, RETRY_MS);
      }
    });
    setFetched((previous) => Object.assign({}, previous, {loaded: false}));
    load();
    return () => {
      current = false;
      clearTimeout(retry);
    };
  }, [filter, generation]);
  return fetched;
}

function PlayersPage() {
  const state = useConnectionState();
  const [filter, setFilter] = useState(initialFilter);
  const [generation, setGeneration] = useState(0);
  // Loading's error stays until a load succeeds; a change's error until
  // the next change, or until the input it was about is edited.
  const [loadError, setLoadError] = useState("");
  const [changeError, setChangeError] = useState("");
  const fetched = usePlayersList(filter, generation, setLoadError);
  // Changes are offered only while connected: made while offline, they
  // would not show on this page until it reconnects.
  const online = state === "online";
  // The list, kept up to date by the deltas of the subscription that came
  // with it; a new token (another filter, or after expiry) replaces it.
  const {items: players, status} = useDataSync(fetched.token, {
    initial: fetched.players,
    model: "Player"
  });

  // After a long disconnection or a Snorky restart the subscription is
  // gone: fetch the list again, with a new one.
  useEffect(() => {
    if (status === "expired" || status === "failed") {
      setGeneration((g) => g + 1);
    }
  }, [status]);

  const report = useCallback(
    (promise) => promise.then(() => setChangeError(""), (err) => setChangeError(err.message)), []);
  const edited = useCallback(() => setChangeError(""), []);
  const changeFilter = (color) => {
    showFilter(color);
    setFilter(color);
  };

  return (
    <>
      <header>
        <h1>Players (React)</h1>
        <span id="status" className={"status" + (state === "online" ? " online" : "")}>{state}</span>
        <span>over <b id="transport">{endpoint.name}</b>
          {" "}(<a href={otherTransportUrl(filter)}>use {endpoint.other}</a>)</span>
      </header>
      <p id="hint" className="hint">Open this page in a second window: a change made in one
        shows in the other at once.</p>
      <AddForm report={report} edited={edited} online={online} />
      <label>Show{" "}
        <select id="filter" value={filter} onChange={(e) => changeFilter(e.target.value)}>
          <option value="">all colours</option>
          {config.colors.map((color) => <option key={color} value={color}>{color}</option>)}
        </select>
      </label>
      <table id="players">
        <tbody>
          {players.map((player) => <PlayerRow key={player.id} player={player} report={report}
                                              edited={edited} online={online} />)}
        </tbody>
      </table>
      <p id="loading" hidden={fetched.loaded}>Loading the players…</p>
      <p id="empty" hidden={!fetched.loaded || players.length !== 0}>No players here yet.</p>
      <p id="error" className="error">{loadError || changeError}</p>
    </>
  );
}

function AddForm({report, edited, online}) {
  const [name, setName] = useState("");
  const [color, setColor] = useState(config.colors[0]);
  const add = (event) => {
    event.preventDefault();
    report(api("POST", "/api/players", {name: name.trim(), color: color}).then(() => setName("")));
  };
  return (
    <form id="add" onSubmit={add}>
      <input id="new-name" placeholder="New player's name" maxLength={40} required
             value={name} onChange={(e) => { setName(e.target.value); edited(); }} />
      <select id="new-color" value={color} onChange={(e) => { setColor(e.target.value); edited(); }}>
        {config.colors.map((c) => <option key={c} value={c}>{c}</option>)}
      </select>
      <button type="submit" disabled={!online}>Add</button>
    </form>
  );
}

// One player. After a delta, unchanged players are the same objects as
// before, so memo skips their rows.
const PlayerRow = memo(function PlayerRow({player, report, edited, online}) {
  const [draft, setDraft] = useState(player.name);
  const path = "/api/players/" + player.id;
  return (
    <tr data-id={player.id}>
      <td><span className="swatch" style={{background: player.color}} /></td>
      <td className="name">{player.name}</td>
      <td className="color">{player.color}</td>
      <td>
        <input className="rename-input" maxLength={40} aria-label="New name"
               value={draft} onChange={(e) => { setDraft(e.target.value); edited(); }} />
        <button className="rename" type="button" disabled={!online}
                onClick={() => report(api("PUT", path, {name: draft.trim()}))}>Rename</button>
        <select className="recolor" aria-label="Colour" value={player.color} disabled={!online}
                onChange={(e) => report(api("PUT", path, {color: e.target.value}))}>
          {config.colors.map((c) => <option key={c} value={c}>{c}</option>)}
        </select>
        <button className="delete" type="button" disabled={!online}
                onClick={() => report(api("DELETE", path))}>Delete</button>
      </td>
    </tr>
  );
});

createRoot(document.getElementById("root")).render(<StrictMode><App /></StrictMode>);

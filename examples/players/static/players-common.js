/*
 * What the Knockout, React and Vue pages of the Players example share (an
 * ES module): the page's configuration, the REST API, and the page URL's
 * query (transport=sockjs, color=...).
 *
 * The list comes from GET /api/players with the header "X-Snorky:
 * Subscribe"; the answer carries a DataSync subscription token, which the
 * page holds (useDataSync). Changes made here go through the REST API
 * only: they show on this page the same way as on every other, through
 * their deltas.
 */

/** {websocketUrl, sockjsUrl, colors}, from the page's #config element. */
export const config = JSON.parse(document.getElementById("config").textContent);

const params = new URLSearchParams(location.search);

/** Whether the page talks to Snorky over SockJS (?transport=sockjs). */
export const useSockJS = params.get("transport") === "sockjs";

/** Where to connect, and with which socket class. */
export const endpoint = useSockJS
  ? {url: config.sockjsUrl, socket: window.SockJS, name: "SockJS", other: "WebSocket"}
  : {url: config.websocketUrl, socket: window.WebSocket, name: "WebSocket", other: "SockJS"};

/** The colour filter in the URL, or "" for all colours. */
export const initialFilter = config.colors.indexOf(params.get("color")) === -1
  ? "" : params.get("color");

/** How long to wait before fetching the list again after a failure, ms. */
export const RETRY_MS = 2000;

/** Call the REST API; resolves with the answer's JSON, rejects with its error. */
export async function api(method, path, body) {
  const response = await fetch(path, {
    method: method,
    headers: body === undefined ? {} : {"Content-Type": "application/json"},
    body: body === undefined ? undefined : JSON.stringify(body)
  });
  const data = await response.json();
  if (!response.ok) {
    throw new Error(data.error || response.statusText);
  }
  return data;
}

/** The players of `color` ("" for all) and a DataSync token for their changes. */
export async function fetchPlayers(color) {
  const response = await fetch(
    "/api/players" + (color ? "?color=" + encodeURIComponent(color) : ""),
    {headers: {"X-Snorky": "Subscribe"}});
  const data = await response.json();
  if (!response.ok) {
    throw new Error(data.error || response.statusText);
  }
  return {players: data, token: response.headers.get("X-Subscription-Token")};
}

/** Put the colour filter in the page's URL (without reloading). */
export function showFilter(color) {
  const url = new URL(location.href);
  if (color) {
    url.searchParams.set("color", color);
  } else {
    url.searchParams.delete("color");
  }
  history.replaceState(null, "", url);
}

/** The query of this page over the other transport, with `color`. */
export function otherTransportUrl(color) {
  const other = new URLSearchParams(location.search);
  if (useSockJS) {
    other.delete("transport");
  } else {
    other.set("transport", "sockjs");
  }
  if (color) {
    other.set("color", color);
  } else {
    other.delete("color");
  }
  return "?" + other.toString();
}

/*
 * The React hooks (snorky/react) rendered by the real react-dom into a
 * happy-dom document, over the in-memory socket of fake-socket.js.
 */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const {GlobalRegistrator} = require("@happy-dom/global-registrator");
const {fakeSocketClass} = require("./fake-socket.js");

const SRC = path.join(__dirname, "..", "..", "js", "src");

let React, createRoot, hooks, snorkyjs;

test.before(async () => {
  GlobalRegistrator.register({url: "http://localhost/"});
  globalThis.IS_REACT_ACT_ENVIRONMENT = true;
  React = await import("react");
  ({createRoot} = await import("react-dom/client"));
  hooks = await import(path.join(SRC, "react.js"));
  snorkyjs = await import(path.join(SRC, "snorky.js"));
});

test.after(async () => {
  await GlobalRegistrator.unregister();
});

const h = (...args) => React.createElement(...args);

/** Let the hooks' deferred releases (a zero-delay timeout) run. */
function releases() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Render `element` (in StrictMode unless told) into a new root; returns the root. */
async function render(element, strict = true) {
  const root = createRoot(document.createElement("div"));
  await React.act(() => root.render(strict ? h(React.StrictMode, null, element) : element));
  return root;
}

/** What `socket` sent for `service`, as [command, params] pairs. */
function calls(socket, service) {
  return socket.envelopes().filter((e) => e.service === service)
    .map((e) => [e.message.command, e.message.params]);
}

/** A component that connects with useSnorky and renders its children inside the provider. */
function app(Socket) {
  return function App(props) {
    const client = hooks.useSnorky("ws://x/ws",
                                   {datasync: snorkyjs.DataSync, pubsub: snorkyjs.PubSub},
                                   {socket: Socket, reconnect: {initialDelay: 1}});
    return h(hooks.SnorkyProvider, {client}, props.children);
  };
}

test("useSnorky opens one connection under StrictMode and closes it after unmount", async () => {
  const Socket = fakeSocketClass();
  const root = await render(h(app(Socket), null, null));
  assert.equal(Socket.instances.length, 1);
  assert.equal(Socket.last().closed, false);
  await React.act(() => root.unmount());
  await releases();
  assert.equal(Socket.last().closed, true);
});

test("useCollection shows the initial items, then each delta, keeping unchanged items", async () => {
  const Socket = fakeSocketClass();
  const renders = [];
  function Players() {
    const players = hooks.useCollection("tok", {
      initial: [{id: 1, name: "Alice"}, {id: 2, name: "Bob"}], model: "Player"
    });
    renders.push(players);
    return h("ul", null, players.map((p) => h("li", {key: p.id}, p.name)));
  }
  const root = await render(h(app(Socket), null, h(Players)));
  const socket = Socket.last();
  await React.act(() => socket.open());
  assert.deepEqual(calls(socket, "datasync"), [["acquireSubscription", {token: "tok"}]]);
  await React.act(() => socket.respond("datasync", null));
  const before = renders[renders.length - 1];
  await React.act(() => {
    socket.receive({service: "datasync", message: {type: "delta", delta: {
      type: "update", model: "Player", oldData: {id: 2, name: "Bob"}, newData: {id: 2, name: "Bo"}}}});
    socket.receive({service: "datasync", message: {type: "delta", delta: {
      type: "insert", model: "Player", data: {id: 3, name: "Carol"}}}});
    socket.receive({service: "datasync", message: {type: "delta", delta: {
      type: "insert", model: "Team", data: {id: 9, name: "Reds"}}}});
  });
  const after = renders[renders.length - 1];
  assert.deepEqual(after.map((p) => p.name), ["Alice", "Bo", "Carol"]);
  assert.equal(after[0], before[0], "an unchanged item is the same object");
  assert.notEqual(after, before);
  await React.act(() => socket.receive({service: "datasync", message: {type: "delta", delta: {
    type: "delete", model: "Player", data: {id: 1, name: "Alice"}}}}));
  assert.deepEqual(Array.from(document.querySelectorAll("li"), (li) => li.textContent), []);
  assert.deepEqual(renders[renders.length - 1].map((p) => p.name), ["Bo", "Carol"]);
  await React.act(() => root.unmount());
});

test("with a collection of one's own, deltas go to it and items copy its items", async () => {
  const Socket = fakeSocketClass();
  const own = new snorkyjs.ArrayCollection([{id: 1, name: "Alice"}]);
  let seen;
  function Players() {
    seen = hooks.useDataSync("tok", {collection: own});
    return null;
  }
  const root = await render(h(app(Socket), null, h(Players)));
  const socket = Socket.last();
  await React.act(() => socket.open());
  await React.act(() => socket.respond("datasync", null));
  await React.act(() => socket.receive({service: "datasync", message: {type: "delta", delta: {
    type: "insert", model: "Player", data: {id: 2, name: "Bob"}}}}));
  assert.deepEqual(own.items().map((p) => p.name), ["Alice", "Bob"]);
  assert.deepEqual(seen.items.map((p) => p.name), ["Alice", "Bob"]);
  assert.notEqual(seen.items, own.items(), "a copy, so that React sees a change");
  await React.act(() => root.unmount());
});

test("StrictMode's double mount acquires a subscription once; unmount cancels it", async () => {
  const Socket = fakeSocketClass();
  function Players() {
    const {status} = hooks.useDataSync("tok", {initial: []});
    return h("p", {id: "status"}, status);
  }
  const App = app(Socket);
  const root = await render(h(App, null, h(Players)));
  const socket = Socket.last();
  await React.act(() => socket.open());
  await React.act(() => socket.respond("datasync", null));
  await releases();
  assert.deepEqual(calls(socket, "datasync"), [["acquireSubscription", {token: "tok"}]]);
  await React.act(() => root.render(h(React.StrictMode, null, h(App))));
  await releases();
  assert.deepEqual(calls(socket, "datasync"), [
    ["acquireSubscription", {token: "tok"}], ["cancelSubscription", {token: "tok"}]
  ]);
  await React.act(() => root.unmount());
});

test("a new token cancels the old subscription before acquiring the new one", async () => {
  const Socket = fakeSocketClass();
  let setToken;
  function Players() {
    const [token, set] = React.useState("a");
    setToken = set;
    const players = hooks.useCollection(token, {initial: [{id: token}]});
    return h("p", {id: "ids"}, players.map((p) => p.id).join(","));
  }
  const root = await render(h(app(Socket), null, h(Players)));
  const socket = Socket.last();
  await React.act(() => socket.open());
  await React.act(() => socket.respond("datasync", null));
  await React.act(() => setToken("b"));
  assert.equal(document.querySelector("#ids"), null, "rendered into a detached node");
  assert.deepEqual(calls(socket, "datasync"), [
    ["acquireSubscription", {token: "a"}],
    ["cancelSubscription", {token: "a"}],
    ["acquireSubscription", {token: "b"}]
  ]);
  await React.act(() => root.unmount());
});

test("status says live, then expired when the server no longer has the subscription", async (t) => {
  const Socket = fakeSocketClass();
  const seen = [];
  function Players() {
    const {status, error} = hooks.useDataSync("tok");
    seen.push(status + (error ? ": " + error.message : ""));
    return null;
  }
  const root = await render(h(app(Socket), null, h(Players)), false);
  await React.act(() => Socket.last().open());
  await React.act(() => Socket.last().respond("datasync", null));
  assert.equal(seen[seen.length - 1], "live");
  await React.act(async () => {
    Socket.last().drop();
    await new Promise((resolve) => setTimeout(resolve, 5));
  });
  await React.act(() => Socket.last().open());
  const retry = Socket.last().envelopes().filter((e) => e.service === "datasync").pop();
  await React.act(() => Socket.last().receive({service: "datasync", message: {
    type: "error", callId: retry.message.callId, message: "Unknown token"}}));
  assert.equal(seen[seen.length - 1], "expired: Unknown token");
  await React.act(() => root.unmount());
});

test("useConnectionState follows the connection as a value", async () => {
  const Socket = fakeSocketClass();
  function Badge() {
    return h("span", {id: "badge"}, hooks.useConnectionState());
  }
  const container = document.createElement("div");
  document.body.appendChild(container);
  const root = createRoot(container);
  await React.act(() => root.render(h(app(Socket), null, h(Badge))));
  const badge = () => document.getElementById("badge").textContent;
  assert.equal(badge(), "connecting");
  await React.act(() => Socket.last().open());
  assert.equal(badge(), "online");
  await React.act(() => Socket.last().drop());
  assert.equal(badge(), "reconnecting");
  await React.act(() => root.unmount());
  container.remove();
});

test("useChannel subscribes once, shows messages, publishes, and unsubscribes on unmount", async () => {
  const Socket = fakeSocketClass();
  const heard = [];
  let channel;
  function News() {
    channel = hooks.useChannel({topic: "news"}, {onMessage: (m) => heard.push(m), keep: 2});
    return null;
  }
  const App = app(Socket);
  const root = await render(h(App, null, h(News)));
  const socket = Socket.last();
  await React.act(() => socket.open());
  await React.act(() => socket.respond("pubsub", null));
  for (const message of ["one", "two", "three"]) {
    await React.act(() => socket.receive({service: "pubsub", message: {
      type: "message", channel: {topic: "news"}, message: message}}));
  }
  await React.act(() => socket.receive({service: "pubsub", message: {
    type: "message", channel: "other", message: "not ours"}}));
  assert.deepEqual(channel.messages, ["two", "three"]);
  assert.equal(channel.last, "three");
  assert.deepEqual(heard, ["one", "two", "three"]);
  channel.publish("four").then(null, () => {});
  await React.act(() => root.render(h(React.StrictMode, null, h(App))));
  await releases();
  assert.deepEqual(calls(socket, "pubsub"), [
    ["subscribe", {channel: {topic: "news"}}],
    ["publish", {channel: {topic: "news"}, message: "four"}],
    ["unsubscribe", {channel: {topic: "news"}}]
  ]);
  await React.act(() => root.unmount());
});

test("a hook without a connection says how to give it one", async () => {
  function Orphan() {
    hooks.useCollection("tok");
    return null;
  }
  class Boundary extends React.Component {
    constructor(props) {
      super(props);
      this.state = {error: null};
    }

    static getDerivedStateFromError(error) {
      return {error: error.message};
    }

    render() {
      return this.state.error ? h("p", {id: "caught"}, this.state.error) : this.props.children;
    }
  }
  const container = document.createElement("div");
  const root = createRoot(container, {onCaughtError: () => {}});
  await React.act(() => root.render(h(Boundary, null, h(Orphan))));
  assert.match(container.textContent, /No Snorky connection: render inside <SnorkyProvider/);
  await React.act(() => root.unmount());
});

/*
 * The Vue composables (snorky/vue) in components mounted by the real Vue
 * with @vue/test-utils into a happy-dom document, over the in-memory
 * socket of fake-socket.js.
 */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const {GlobalRegistrator} = require("@happy-dom/global-registrator");
const {fakeSocketClass, flush} = require("./fake-socket.js");

const SRC = path.join(__dirname, "..", "..", "js", "src");

let Vue, mount, composables, snorkyjs;

test.before(async () => {
  GlobalRegistrator.register({url: "http://localhost/"});
  Vue = await import("vue");
  ({mount} = await import("@vue/test-utils"));
  composables = await import(path.join(SRC, "vue.js"));
  snorkyjs = await import(path.join(SRC, "snorky.js"));
});

test.after(async () => {
  await GlobalRegistrator.unregister();
});

const h = (...args) => Vue.h(...args);

/** Let the composables' deferred releases (a zero-delay timeout) run. */
function releases() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** What `socket` sent for `service`, as [command, params] pairs. */
function calls(socket, service) {
  return socket.envelopes().filter((e) => e.service === service)
    .map((e) => [e.message.command, e.message.params]);
}

/** A root component that connects with useSnorky and shows `child` while `show` is true. */
function app(Socket, child) {
  return Vue.defineComponent({
    props: {show: {type: Boolean, default: true}},
    setup(props) {
      composables.useSnorky("ws://x/ws", {datasync: snorkyjs.DataSync, pubsub: snorkyjs.PubSub},
                            {socket: Socket, reconnect: {initialDelay: 1}});
      return () => (props.show && child ? h(child) : null);
    }
  });
}

test("useDataSync gives refs of the live array and its status, keeping unchanged items", async () => {
  const Socket = fakeSocketClass();
  let live;
  const Players = Vue.defineComponent({
    setup() {
      live = composables.useDataSync("tok", {initial: [{id: 1, name: "Alice"}, {id: 2, name: "Bob"}]});
      return () => h("ul", live.items.value.map((p) => h("li", {key: p.id}, p.name)));
    }
  });
  const wrapper = mount(app(Socket, Players));
  assert.equal(live.status.value, "acquiring");
  const socket = Socket.last();
  socket.open();
  assert.deepEqual(calls(socket, "datasync"), [["acquireSubscription", {token: "tok"}]]);
  socket.respond("datasync", null);
  await flush();
  assert.equal(live.status.value, "live");
  const alice = live.items.value[0];
  socket.receive({service: "datasync", message: {type: "delta", delta: {
    type: "update", model: "Player", oldData: {id: 2, name: "Bob"}, newData: {id: 2, name: "Bo"}}}});
  await Vue.nextTick();
  assert.deepEqual(wrapper.findAll("li").map((li) => li.text()), ["Alice", "Bo"]);
  assert.equal(live.items.value[0], alice, "an unchanged item is the same object");
  wrapper.unmount();
});

test("unmounting a component cancels its subscription; a new token replaces it", async () => {
  const Socket = fakeSocketClass();
  const token = Vue.ref("a");
  const Players = Vue.defineComponent({
    setup() {
      const items = composables.useCollection(token, {initial: () => [{id: token.value}]});
      return () => h("p", items.value.map((p) => p.id).join(","));
    }
  });
  const wrapper = mount(app(Socket, Players));
  const socket = Socket.last();
  socket.open();
  socket.respond("datasync", null);
  token.value = "b";
  await Vue.nextTick();
  assert.equal(wrapper.text(), "b");
  await wrapper.setProps({show: false});
  await releases();
  assert.equal(calls(socket, "datasync").length, 3, "b is cancelled once acquired");
  socket.respond("datasync", null);
  await flush();
  assert.deepEqual(calls(socket, "datasync"), [
    ["acquireSubscription", {token: "a"}],
    ["cancelSubscription", {token: "a"}],
    ["acquireSubscription", {token: "b"}],
    ["cancelSubscription", {token: "b"}]
  ]);
  wrapper.unmount();
  await releases();
  assert.equal(socket.closed, true, "the connection closes with the root component");
});

test("a component unmounted and mounted again at once keeps its one subscription", async () => {
  const Socket = fakeSocketClass();
  const Players = Vue.defineComponent({
    setup() {
      composables.useDataSync("tok");
      return () => null;
    }
  });
  const wrapper = mount(app(Socket, Players));
  const socket = Socket.last();
  socket.open();
  socket.respond("datasync", null);
  await wrapper.setProps({show: false});
  await wrapper.setProps({show: true});
  await releases();
  assert.deepEqual(calls(socket, "datasync"), [["acquireSubscription", {token: "tok"}]]);
  wrapper.unmount();
});

test("useConnectionState is a ref of the state; expiry shows in status", async () => {
  const Socket = fakeSocketClass();
  let state, live;
  const Badge = Vue.defineComponent({
    setup() {
      state = composables.useConnectionState();
      live = composables.useDataSync("tok");
      return () => h("span", state.value);
    }
  });
  const wrapper = mount(app(Socket, Badge));
  assert.equal(wrapper.text(), "connecting");
  Socket.last().open();
  Socket.last().respond("datasync", null);
  await Vue.nextTick();
  assert.equal(wrapper.text(), "online");
  Socket.last().drop();
  await Vue.nextTick();
  assert.equal(state.value, "reconnecting");
  await new Promise((resolve) => setTimeout(resolve, 5));
  Socket.last().open();
  const retry = Socket.last().envelopes().filter((e) => e.service === "datasync").pop();
  Socket.last().receive({service: "datasync", message: {
    type: "error", callId: retry.message.callId, message: "Unknown token"}});
  await flush();
  assert.equal(live.status.value, "expired");
  assert.equal(live.error.value.message, "Unknown token");
  wrapper.unmount();
});

test("useChannel gives refs of the channel's messages and publishes on it", async () => {
  const Socket = fakeSocketClass();
  let channel;
  const News = Vue.defineComponent({
    setup() {
      channel = composables.useChannel("news");
      return () => h("p", channel.messages.value.join(","));
    }
  });
  const wrapper = mount(app(Socket, News));
  const socket = Socket.last();
  socket.open();
  socket.respond("pubsub", null);
  socket.receive({service: "pubsub", message: {type: "message", channel: "news", message: "hi"}});
  await Vue.nextTick();
  assert.equal(wrapper.text(), "hi");
  assert.equal(channel.last.value, "hi");
  channel.publish("yo").then(null, () => {});
  await wrapper.setProps({show: false});
  await releases();
  assert.deepEqual(calls(socket, "pubsub"), [
    ["subscribe", {channel: "news"}],
    ["publish", {channel: "news", message: "yo"}],
    ["unsubscribe", {channel: "news"}]
  ]);
  wrapper.unmount();
});

test("a composable without a connection says how to give it one", () => {
  const Orphan = Vue.defineComponent({
    setup() {
      composables.useCollection("tok");
      return () => null;
    }
  });
  assert.throws(() => mount(Orphan),
                /No Snorky connection: call useSnorky\(\) or provideSnorky\(\)/);
});

test("the component that calls useSnorky can use the other composables itself", async () => {
  const Socket = fakeSocketClass();
  let state;
  const App = Vue.defineComponent({
    setup() {
      composables.useSnorky("ws://x/ws", {datasync: snorkyjs.DataSync}, {socket: Socket});
      state = composables.useConnectionState();
      return () => null;
    }
  });
  const wrapper = mount(App);
  Socket.last().open();
  assert.equal(state.value, "online");
  wrapper.unmount();
});

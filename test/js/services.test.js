"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const Snorky = require("../../snorky/static/snorky.js");
const {fakeSocketClass, flush} = require("./fake-socket.js");

function connect(services) {
  const Socket = fakeSocketClass();
  const snorky = new Snorky(Socket, "ws://x/ws", services, {reconnect: false});
  Socket.last().open();
  return {snorky, socket: Socket.last()};
}

function lastCall(socket) {
  const message = socket.envelopes().pop().message;
  return [message.command, message.params];
}

test("Chat sends join, leave, send and read", () => {
  const {snorky, socket} = connect({chat: Snorky.Chat});
  const chat = snorky.services.chat;
  chat.join({channel: "lobby"});
  assert.deepEqual(lastCall(socket), ["join", {channel: "lobby"}]);
  chat.send({channel: "lobby", body: "hi"});
  assert.deepEqual(lastCall(socket), ["send", {channel: "lobby", body: "hi"}]);
  chat.read({channel: "lobby"});
  assert.deepEqual(lastCall(socket), ["read", {channel: "lobby"}]);
  chat.leave({channel: "lobby"});
  assert.deepEqual(lastCall(socket), ["leave", {channel: "lobby"}]);
});

test("Chat dispatches messages, presence and read notices to their signals", () => {
  const {snorky, socket} = connect({chat: Snorky.Chat});
  const chat = snorky.services.chat;
  const seen = [];
  chat.messageReceived.add((m) => seen.push(["message", m.body]));
  chat.presenceReceived.add((m) => seen.push(["presence", m.status]));
  chat.readReceived.add((m) => seen.push(["read", m.channel]));
  socket.receive({service: "chat", message: {type: "message", channel: "c", body: "hey", from: {}}});
  socket.receive({service: "chat", message: {type: "presence", channel: "c", status: "joined"}});
  socket.receive({service: "chat", message: {type: "read", channel: "c"}});
  assert.deepEqual(seen, [["message", "hey"], ["presence", "joined"], ["read", "c"]]);
});

test("Messaging sends its commands and dispatches messageReceived", () => {
  const {snorky, socket} = connect({messaging: Snorky.Messaging});
  const messaging = snorky.services.messaging;
  messaging.registerParticipant({name: "alice"});
  assert.deepEqual(lastCall(socket), ["registerParticipant", {name: "alice"}]);
  messaging.send({sender: "alice", dest: "bob", body: "hi"});
  assert.deepEqual(lastCall(socket), ["send", {sender: "alice", dest: "bob", body: "hi"}]);
  messaging.listParticipants();
  assert.deepEqual(lastCall(socket), ["listParticipants", {}]);
  messaging.unregisterParticipant({name: "alice"});
  assert.deepEqual(lastCall(socket), ["unregisterParticipant", {name: "alice"}]);
  const seen = [];
  messaging.messageReceived.add((m) => seen.push(m.body));
  socket.receive({service: "messaging",
                  message: {type: "message", sender: "bob", dest: "alice", body: "yo"}});
  assert.deepEqual(seen, ["yo"]);
});

async function joinedDocument(cursors) {
  const {snorky, socket} = connect({cursors: Snorky.Cursors});
  const service = snorky.services.cursors;
  const joining = service.join({document: "doc1"});
  assert.deepEqual(lastCall(socket), ["join", {document: "doc1"}]);
  socket.respond("cursors", {cursors: cursors || []});
  return {socket, service, document: await joining};
}

test("joining a document gives its cursors, each someone else's", async () => {
  const {document} = await joinedDocument([
    {publicHandle: 4, document: "doc1", position: 10, status: "typing", owner: {name: "bob"}}]);
  assert.ok(document instanceof Snorky.Cursors.Document);
  assert.equal(document.name, "doc1");
  assert.equal(document.cursors.length, 1);
  assert.equal(document.cursors[0].isMine, false);
  assert.equal(document.cursors[0].position, 10);
  assert.deepEqual(document.cursors[0].owner, {name: "bob"});
});

test("createCursor sends a fresh private handle and learns the public one", async () => {
  const {socket, document} = await joinedDocument();
  const first = document.createCursor({position: 1, status: "idle"});
  assert.deepEqual(lastCall(socket), ["createCursor",
    {privateHandle: 0, document: "doc1", position: 1, status: "idle"}]);
  socket.respond("cursors", 77);
  assert.equal(await first.created, 77);
  assert.equal(first.publicHandle, 77);
  assert.equal(first.isMine, true);
  const second = document.createCursor({position: 2, status: "idle"});
  assert.equal(second.privateHandle, 1);
  assert.deepEqual(document.cursors, [first, second]);
});

test("own cursors update and remove through their private handle", async () => {
  const {socket, document} = await joinedDocument();
  const cursor = document.createCursor({position: 1, status: "idle"});
  cursor.update({position: 5});
  assert.deepEqual(lastCall(socket), ["updateCursor", {privateHandle: 0, newData: {position: 5}}]);
  assert.equal(cursor.position, 5);
  assert.throws(() => cursor.update({owner: "me"}), /no field "owner"/);
  cursor.remove();
  assert.deepEqual(lastCall(socket), ["removeCursor", {privateHandle: 0}]);
  assert.deepEqual(document.cursors, []);
  // The handle is free again.
  assert.equal(document.createCursor({position: 0, status: "idle"}).privateHandle, 0);
});

test("cursor notifications add, update and remove others' cursors", async () => {
  const {socket, document} = await joinedDocument();
  const seen = [];
  document.cursorAdded.add((c) => seen.push(["added", c.position]));
  document.cursorUpdated.add((c) => seen.push(["updated", c.position]));
  document.cursorRemoved.add((c) => seen.push(["removed", c.publicHandle]));
  const notify = (type, cursor) => socket.receive({service: "cursors", message: {type, cursor}});
  notify("cursorAdded", {publicHandle: 3, document: "doc1", position: 1, status: "s"});
  notify("cursorUpdated", {publicHandle: 3, document: "doc1", position: 2, status: "s"});
  assert.equal(document.cursors[0].position, 2);
  notify("cursorUpdated", {publicHandle: 99, document: "doc1", position: 2});
  notify("cursorAdded", {publicHandle: 5, document: "other", position: 1});
  notify("cursorRemoved", {publicHandle: 3, document: "doc1"});
  assert.deepEqual(seen, [["added", 1], ["updated", 2], ["removed", 3]]);
  assert.deepEqual(document.cursors, []);
});

test("leaving a document forgets it and its own cursors", async () => {
  const {socket, service, document} = await joinedDocument();
  document.createCursor({position: 1, status: "idle"});
  service.leave({document: "doc1"});
  assert.deepEqual(lastCall(socket), ["leave", {document: "doc1"}]);
  assert.equal(service.documents.size, 0);
  assert.equal(document.cursors.length, 0);
});

test("a lost connection forgets documents, as the server does", async () => {
  const {socket, service} = await joinedDocument();
  socket.drop();
  await flush();
  assert.equal(service.documents.size, 0);
});

"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const Snorky = require("../../snorky/static/snorky.js");

const {ArrayCollection, SingleItemCollection, CollectionDeltaProcessor, Collection} =
  Snorky.DataSync;

function players() {
  return [{id: 1, name: "Alice", color: "red"}, {id: 2, name: "Bob", color: "blue"}];
}

test("an insert delta appends the data to the model's collection", () => {
  const array = players();
  const processor = new CollectionDeltaProcessor({Player: new ArrayCollection(array)});
  const changed = processor.processDelta(
    {type: "insert", model: "Player", data: {id: 3, name: "Ted", color: "black"}});
  assert.equal(changed, true);
  assert.deepEqual(array.map((p) => p.name), ["Alice", "Bob", "Ted"]);
});

test("an update delta replaces the item with the same id, in place", () => {
  const array = players();
  const processor = new CollectionDeltaProcessor({Player: new ArrayCollection(array)});
  const changed = processor.processDelta({
    type: "update", model: "Player",
    oldData: {id: 1, name: "Alice", color: "red"},
    newData: {id: 1, name: "Alice", color: "green"}
  });
  assert.equal(changed, true);
  assert.deepEqual(array, [{id: 1, name: "Alice", color: "green"},
                           {id: 2, name: "Bob", color: "blue"}]);
});

test("a delete delta removes the item with the same id", () => {
  const array = players();
  const processor = new CollectionDeltaProcessor({Player: new ArrayCollection(array)});
  assert.equal(processor.processDelta({type: "delete", model: "Player", data: {id: 2}}), true);
  assert.deepEqual(array.map((p) => p.id), [1]);
});

test("deltas about items not in the collection change nothing", () => {
  const array = players();
  const processor = new CollectionDeltaProcessor({Player: new ArrayCollection(array)});
  assert.equal(processor.processDelta(
    {type: "update", model: "Player", oldData: {id: 9}, newData: {id: 9, name: "X"}}), false);
  assert.equal(processor.processDelta({type: "delete", model: "Player", data: {id: 9}}), false);
  assert.deepEqual(array, players());
});

test("deltas for other models, of unknown types, or not objects change nothing", () => {
  const array = players();
  const processor = new CollectionDeltaProcessor({Player: new ArrayCollection(array)});
  assert.equal(processor.processDelta({type: "insert", model: "Team", data: {id: 5}}), false);
  assert.equal(processor.processDelta({type: "upsert", model: "Player", data: {id: 5}}), false);
  assert.equal(processor.processDelta({type: "insert", model: "toString", data: {}}), false);
  assert.equal(processor.processDelta(null), false);
  assert.deepEqual(array, players());
});

test("each model's deltas go to its own collection", () => {
  const people = [];
  const teams = [];
  const processor = new CollectionDeltaProcessor({
    Player: new ArrayCollection(people), Team: new ArrayCollection(teams)});
  processor.processDelta({type: "insert", model: "Team", data: {id: 1, name: "Reds"}});
  processor.processDelta({type: "insert", model: "Player", data: {id: 1, name: "Alice"}});
  assert.deepEqual(teams, [{id: 1, name: "Reds"}]);
  assert.deepEqual(people, [{id: 1, name: "Alice"}]);
});

test("itemsAreEqual decides which item a delta is about", () => {
  const array = [{code: "a", n: 1}, {code: "b", n: 2}];
  const calls = [];
  const processor = new CollectionDeltaProcessor({Thing: new ArrayCollection(array)}, {
    itemsAreEqual: (item, data, delta) => {
      calls.push(delta.type);
      return item.code === data.code;
    }
  });
  processor.processDelta({type: "update", model: "Thing",
                          oldData: {code: "b", n: 2}, newData: {code: "b", n: 3}});
  processor.processDelta({type: "delete", model: "Thing", data: {code: "a", n: 1}});
  assert.deepEqual(array, [{code: "b", n: 3}]);
  assert.deepEqual(calls, ["update", "update", "delete"]);
});

test("transformItem makes the stored item on inserts and updates", () => {
  class Player {
    constructor(data) { Object.assign(this, data); }
    get label() { return this.name + " (" + this.color + ")"; }
  }
  const array = [];
  const processor = new CollectionDeltaProcessor({
    Player: new ArrayCollection(array, {transformItem: (data) => new Player(data)})});
  processor.processDelta({type: "insert", model: "Player", data: {id: 1, name: "A", color: "red"}});
  processor.processDelta({type: "update", model: "Player",
                          oldData: {id: 1, name: "A", color: "red"},
                          newData: {id: 1, name: "A", color: "blue"}});
  assert.ok(array[0] instanceof Player);
  assert.equal(array[0].label, "A (blue)");
});

test("a SingleItemCollection updates and removes its item through the handlers", () => {
  let item = {id: 7, title: "Draft"};
  let removed = 0;
  const collection = new SingleItemCollection(() => item, (data) => { item = data; },
                                              () => { removed++; item = null; });
  assert.ok(collection instanceof Collection);
  const processor = new CollectionDeltaProcessor({Post: collection});
  assert.equal(processor.processDelta({type: "update", model: "Post",
                                       oldData: {id: 8}, newData: {id: 8, title: "No"}}), false);
  assert.equal(processor.processDelta({type: "update", model: "Post",
                                       oldData: {id: 7}, newData: {id: 7, title: "Final"}}), true);
  assert.deepEqual(item, {id: 7, title: "Final"});
  assert.equal(processor.processDelta({type: "insert", model: "Post", data: {id: 9}}), false);
  assert.equal(processor.processDelta({type: "delete", model: "Post", data: {id: 7}}), true);
  assert.equal(removed, 1);
  assert.equal(processor.processDelta({type: "delete", model: "Post", data: {id: 7}}), false);
});

test("a SingleItemCollection without a remove handler ignores deletes quietly", () => {
  const collection = new SingleItemCollection(() => ({id: 1}), () => assert.fail("no update"));
  const processor = new CollectionDeltaProcessor({Post: collection});
  assert.equal(processor.processDelta({type: "delete", model: "Post", data: {id: 1}}), true);
});

test("a custom collection that does not implement a method says so", () => {
  class Partial extends Collection {}
  const processor = new CollectionDeltaProcessor({X: new Partial()});
  assert.throws(() => processor.processDelta({type: "insert", model: "X", data: {}}),
                /insert\(\) is not implemented by Partial/);
});

test("deltaReceived feeds a processor end to end", () => {
  const FakeSocket = require("./fake-socket.js").fakeSocketClass();
  const snorky = new Snorky(FakeSocket, "ws://x/ws", {datasync: Snorky.DataSync},
                            {reconnect: false});
  FakeSocket.last().open();
  const array = [];
  const processor = new CollectionDeltaProcessor({Player: new ArrayCollection(array)});
  snorky.services.datasync.deltaReceived.add(processor.processDelta, processor);
  FakeSocket.last().receive({service: "datasync", message: {
    type: "delta", delta: {type: "insert", model: "Player", data: {id: 1, name: "Alice"}}}});
  assert.deepEqual(array, [{id: 1, name: "Alice"}]);
});

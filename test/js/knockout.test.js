"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const ko = require("knockout");
const Snorky = require("../../snorky/static/snorky.js");
const KnockoutCollection = require("../../snorky/static/snorky-knockout.js")(Snorky, ko);

test("the adapter adds Snorky.DataSync.KnockoutCollection", () => {
  assert.equal(Snorky.DataSync.KnockoutCollection, KnockoutCollection);
  assert.ok(new KnockoutCollection(ko.observableArray()) instanceof Snorky.DataSync.Collection);
});

test("deltas change the observable array and notify its subscribers once each", () => {
  const players = ko.observableArray([{id: 1, name: "Alice", color: "red"}]);
  const reds = ko.pureComputed(() => players().filter((p) => p.color === "red").map((p) => p.name));
  const seen = [];
  reds.subscribe((names) => seen.push(names.join(",")));
  const processor = new Snorky.DataSync.CollectionDeltaProcessor({
    Player: new KnockoutCollection(players)});
  processor.processDelta({type: "insert", model: "Player", data: {id: 2, name: "Bob", color: "red"}});
  processor.processDelta({type: "update", model: "Player",
                          oldData: {id: 1, name: "Alice", color: "red"},
                          newData: {id: 1, name: "Alice", color: "blue"}});
  processor.processDelta({type: "delete", model: "Player", data: {id: 2, name: "Bob", color: "red"}});
  assert.deepEqual(seen, ["Alice,Bob", "Bob", ""]);
  assert.deepEqual(players(), [{id: 1, name: "Alice", color: "blue"}]);
});

test("transformItem can make items with observables, matched by itemsAreEqual", () => {
  const players = ko.observableArray();
  const toItem = (data) => ({id: data.id, name: ko.observable(data.name)});
  const processor = new Snorky.DataSync.CollectionDeltaProcessor(
    {Player: new KnockoutCollection(players, {transformItem: toItem})},
    {itemsAreEqual: (item, data) => item.id === data.id});
  processor.processDelta({type: "insert", model: "Player", data: {id: 1, name: "Alice"}});
  processor.processDelta({type: "update", model: "Player",
                          oldData: {id: 1, name: "Alice"}, newData: {id: 1, name: "Alicia"}});
  assert.equal(players().length, 1);
  assert.equal(ko.isObservable(players()[0].name), true);
  assert.equal(players()[0].name(), "Alicia");
});

test("a KnockoutCollection needs an observableArray", () => {
  assert.throws(() => new KnockoutCollection([]), TypeError);
  assert.throws(() => new KnockoutCollection(ko.observable([])), TypeError);
});

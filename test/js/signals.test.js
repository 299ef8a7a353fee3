"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const Snorky = require("../../snorky/static/snorky.js");

const {Signal} = Snorky;

test("dispatch calls every listener in order with the arguments and context", () => {
  const signal = new Signal();
  const calls = [];
  const context = {name: "ctx"};
  signal.add(function (a, b) { calls.push(["first", this, a, b]); }, context);
  signal.add((a, b) => calls.push(["second", a, b]));
  signal.dispatch(1, "two");
  assert.deepEqual(calls, [["first", context, 1, "two"], ["second", 1, "two"]]);
});

test("remove detaches only the listener added with the same context", () => {
  const signal = new Signal();
  const calls = [];
  const listener = function () { calls.push(this.id); };
  const a = {id: "a"};
  const b = {id: "b"};
  signal.add(listener, a).add(listener, b);
  signal.remove(listener, a);
  signal.dispatch();
  assert.deepEqual(calls, ["b"]);
  assert.equal(signal.has(listener, a), false);
  assert.equal(signal.has(listener, b), true);
});

test("adding the same listener twice attaches it once", () => {
  const signal = new Signal();
  let count = 0;
  const listener = () => count++;
  signal.add(listener).add(listener);
  signal.dispatch();
  assert.equal(count, 1);
  assert.equal(signal.getNumListeners(), 1);
});

test("addOnce listeners run on the next dispatch only", () => {
  const signal = new Signal();
  const calls = [];
  signal.addOnce((x) => calls.push(x));
  signal.dispatch("a");
  signal.dispatch("b");
  assert.deepEqual(calls, ["a"]);
  assert.equal(signal.getNumListeners(), 0);
});

test("removeAll detaches every listener", () => {
  const signal = new Signal();
  signal.add(() => assert.fail("must not run"));
  signal.add(() => assert.fail("must not run either"));
  signal.removeAll();
  signal.dispatch();
  assert.equal(signal.getNumListeners(), 0);
});

test("a listener added during a dispatch runs from the next dispatch on", () => {
  const signal = new Signal();
  const calls = [];
  signal.addOnce(() => {
    calls.push("outer");
    signal.add(() => calls.push("inner"));
  });
  signal.dispatch();
  assert.deepEqual(calls, ["outer"]);
  signal.dispatch();
  assert.deepEqual(calls, ["outer", "inner"]);
});

test("a throwing listener is reported and the others still run", (t) => {
  const reported = [];
  t.mock.method(Signal, "reportError", (err) => reported.push(err.message));
  const signal = new Signal();
  const calls = [];
  signal.add(() => { throw new Error("boom"); });
  signal.add(() => calls.push("after"));
  signal.dispatch();
  assert.deepEqual(reported, ["boom"]);
  assert.deepEqual(calls, ["after"]);
});

test("wrapDispatch runs around the listeners of every dispatch", (t) => {
  const order = [];
  t.mock.method(Signal, "wrapDispatch", (run) => {
    order.push("before");
    run();
    order.push("after");
  });
  const signal = new Signal();
  signal.add(() => order.push("listener"));
  signal.dispatch();
  assert.deepEqual(order, ["before", "listener", "after"]);
});

test("a listener that is not a function is refused", () => {
  assert.throws(() => new Signal().add("nope"), TypeError);
});

test("a dispatch without listeners does not run wrapDispatch (no digest for nothing)", (t) => {
  const wrap = t.mock.method(Signal, "wrapDispatch", (run) => run());
  new Signal().dispatch("ignored");
  assert.equal(wrap.mock.callCount(), 0);
});

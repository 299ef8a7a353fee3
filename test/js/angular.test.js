"use strict";
/*
 * The AngularJS adapter in headless Chromium with the real AngularJS: a
 * page whose controller lists players from DataSync deltas and shows an
 * RPC answer, fed by an in-page fake socket.
 */
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const {launchChromium} = require("./chromium.js");

const root = path.join(__dirname, "..", "..");

const PAGE = `<!doctype html>
<div id="app" ng-controller="Players as vm">
  <ul><li ng-repeat="p in vm.players track by p.id">{{p.name}}</li></ul>
  <p id="answer">{{vm.answer}}</p>
</div>`;

const APP = `
  window.sockets = [];
  class PageSocket {
    constructor(url) { this.sent = []; window.sockets.push(this); }
    send(data) { this.sent.push(JSON.parse(data)); }
    close() {}
  }
  angular.module("app", ["Snorky"]).controller("Players", function (Snorky) {
    const vm = this;
    vm.players = [];
    const snorky = new Snorky(PageSocket, "ws://page/ws",
                              {datasync: Snorky.DataSync, echo: Snorky.RPCService});
    const processor = new Snorky.DataSync.CollectionDeltaProcessor({
      Player: new Snorky.DataSync.ArrayCollection(vm.players)});
    snorky.services.datasync.deltaReceived.add(processor.processDelta, processor);
    window.rpcResult = snorky.services.echo.rpcCall("echo", {text: "hi"});
    window.rpcResult.then((data) => { vm.answer = data.text; });
  });
  angular.bootstrap(document.getElementById("app"), ["app"]);
`;

test("deltas and RPC answers reach an AngularJS view without $apply", async (t) => {
  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await page.setContent(PAGE);
  await page.addScriptTag({path: path.join(root, "node_modules/angular/angular.js")});
  await page.addScriptTag({path: path.join(root, "snorky/static/snorky.js")});
  await page.addScriptTag({path: path.join(root, "snorky/static/snorky-angular.js")});
  await page.addScriptTag({content: APP});

  // RPC calls answer with $q promises, which settle inside a digest.
  assert.equal(await page.evaluate(() => typeof window.rpcResult.$$state), "object");

  await page.evaluate(() => {
    const socket = window.sockets[0];
    socket.onopen();
    const call = socket.sent.find((e) => e.service === "echo").message;
    socket.onmessage({data: JSON.stringify({service: "echo", message:
      {type: "response", callId: call.callId, data: {text: "hello back"}}})});
    socket.onmessage({data: JSON.stringify({service: "datasync", message: {type: "delta",
      delta: {type: "insert", model: "Player", data: {id: 1, name: "Alice"}}}})});
  });
  // The delta's digest ran synchronously, inside the dispatch.
  assert.deepEqual(await page.locator("li").allTextContents(), ["Alice"]);
  await page.waitForFunction(() => document.getElementById("answer").textContent === "hello back",
                             null, {timeout: 2000});

  await page.evaluate(() => {
    window.sockets[0].onmessage({data: JSON.stringify({service: "datasync", message: {
      type: "delta", delta: {type: "update", model: "Player",
                             oldData: {id: 1, name: "Alice"}, newData: {id: 1, name: "Alicia"}}}})});
  });
  assert.deepEqual(await page.locator("li").allTextContents(), ["Alicia"]);
  assert.deepEqual(errors, []);
});

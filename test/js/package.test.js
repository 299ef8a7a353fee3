/*
 * The npm package as a project gets it: `npm pack` in js/, the tarball
 * installed (offline: it has no dependencies) into a scratch project, and
 * its ES module, CommonJS and TypeScript entry points used from there.
 * The scratch project sits under node_modules/.cache so that react and
 * vue, the package's peer dependencies, resolve to the repository's.
 */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const {execFileSync} = require("node:child_process");

const ROOT = path.join(__dirname, "..", "..");
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

function run(command, args, cwd) {
  return execFileSync(command, args, {cwd, encoding: "utf-8", timeout: 120000, stdio: "pipe",
                                      env: Object.assign({}, process.env, {npm_config_loglevel: "error"})});
}

let scratch;

test.before(() => {
  const cache = path.join(ROOT, "node_modules", ".cache");
  fs.mkdirSync(cache, {recursive: true});
  scratch = fs.mkdtempSync(path.join(cache, "snorky-pack-"));
  const packed = JSON.parse(run(NPM, ["pack", "--json", "--pack-destination", scratch],
                                path.join(ROOT, "js")));
  fs.writeFileSync(path.join(scratch, "package.json"),
                   JSON.stringify({name: "scratch", private: true, type: "commonjs"}));
  run(NPM, ["install", "--offline", "--no-audit", "--no-fund", "--no-save",
            path.join(scratch, packed[0].filename)], scratch);
});

test.after(() => {
  fs.rmSync(scratch, {recursive: true, force: true});
});

test("the tarball holds the sources, the builds and the types, and nothing else", () => {
  const installed = path.join(scratch, "node_modules", "snorky");
  const files = run("find", [".", "-type", "f"], installed).trim().split("\n").sort();
  assert.deepEqual(files, [
    "./README.md",
    "./dist/live.cjs", "./dist/react.cjs", "./dist/snorky-angular.cjs",
    "./dist/snorky-knockout.cjs", "./dist/snorky.cjs", "./dist/vue.cjs",
    "./package.json",
    "./src/live.js", "./src/react.js", "./src/snorky.js", "./src/vue.js",
    "./types/live.d.ts", "./types/react.d.cts", "./types/react.d.ts",
    "./types/snorky.d.cts", "./types/snorky.d.ts", "./types/vue.d.cts", "./types/vue.d.ts"
  ]);
  assert.equal(fs.readFileSync(path.join(installed, "dist", "snorky.cjs"), "utf-8"),
               fs.readFileSync(path.join(ROOT, "snorky", "static", "snorky.js"), "utf-8"));
});

test("import and require both reach every entry point from a project", () => {
  fs.writeFileSync(path.join(scratch, "esm.mjs"), `
    import Snorky, {PubSub, DataSync, ArrayCollection} from "snorky";
    import {useCollection, SnorkyProvider} from "snorky/react";
    import {useCollection as useVueCollection} from "snorky/vue";
    const s = new Snorky(class { send() {} close() {} }, "ws://x/ws", {p: PubSub}, {connect: false});
    console.log(JSON.stringify([typeof useCollection, typeof SnorkyProvider, typeof useVueCollection,
      s.services.p instanceof PubSub, DataSync.ArrayCollection === ArrayCollection]));
  `);
  fs.writeFileSync(path.join(scratch, "cjs.cjs"), `
    const Snorky = require("snorky");
    const {PubSub, ArrayCollection} = require("snorky");
    const {useCollection} = require("snorky/react");
    const {useChannel} = require("snorky/vue");
    const install = require("snorky/knockout");
    const s = new Snorky(class { send() {} close() {} }, "ws://x/ws", {p: PubSub}, {connect: false});
    console.log(JSON.stringify([typeof useCollection, typeof useChannel, typeof install,
      s.services.p instanceof PubSub, Snorky.DataSync.ArrayCollection === ArrayCollection]));
  `);
  for (const file of ["esm.mjs", "cjs.cjs"]) {
    assert.deepEqual(JSON.parse(run(process.execPath, [file], scratch)),
                     ["function", "function", "function", true, true], file);
  }
});

test("TypeScript finds the types of import and of require through the exports map", () => {
  fs.writeFileSync(path.join(scratch, "typed.mts"), `
    import Snorky, {ArrayCollection, DataSync} from "snorky";
    import {useCollection} from "snorky/react";
    import {useDataSync} from "snorky/vue";
    const snorky = new Snorky(WebSocket, "ws://x/ws", {datasync: DataSync});
    const players = new ArrayCollection<{id: number}>([]);
    const ids: number[] = players.items().map((p) => p.id);
    snorky.services.datasync.acquireSubscription({token: "t"});
    export {ids, useCollection, useDataSync};
  `);
  fs.writeFileSync(path.join(scratch, "typed.cts"), `
    import Snorky = require("snorky");
    import react = require("snorky/react");
    const snorky = new Snorky(WebSocket, "ws://x/ws", {datasync: Snorky.DataSync});
    snorky.services.datasync.cancelSubscription({token: "t"});
    export const hook = react.useCollection;
  `);
  fs.writeFileSync(path.join(scratch, "bad.mts"), `
    import {DataSync} from "snorky";
    export const wrong: string = DataSync;
  `);
  const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
  const args = [tsc, "--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext",
                "--target", "es2020", "--lib", "es2020,dom"];
  let output = "";
  try {
    run(process.execPath, args.concat(["typed.mts", "typed.cts"]), scratch);
  } catch (err) {
    output = err.stdout;
  }
  assert.equal(output, "");
  assert.throws(() => run(process.execPath, args.concat(["bad.mts"]), scratch),
                (err) => /bad\.mts.*TS2322/.test(err.stdout));
});

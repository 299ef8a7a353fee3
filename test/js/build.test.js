"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..", "..");
const STATIC = path.join(ROOT, "snorky", "static", "snorky.js");

function build() {
  return import(path.join(ROOT, "js", "build.js"));
}

test("snorky/static/snorky.js is the build of js/src/snorky.js (run npm run build)", async () => {
  const {outputs} = await build();
  assert.equal(fs.readFileSync(STATIC, "utf-8"), outputs()[STATIC]);
});

test("the global build offers every name the ES module exports, as the same kind of thing", async () => {
  const esm = await import(path.join(ROOT, "js", "src", "snorky.js"));
  const global = require(STATIC);
  const names = Object.keys(esm).filter((n) => n !== "default").sort();
  for (const name of names) {
    assert.equal(typeof global[name], typeof esm[name], name);
    assert.equal(global[name].name, esm[name].name, name);
  }
  assert.equal(esm.default, esm.Snorky);
  assert.equal(global.Snorky, global);
});

test("the CommonJS bindings export what their ES modules export", async () => {
  const {outputs} = await build();
  const files = outputs();
  for (const binding of ["live", "react", "vue"]) {
    const esm = await import(path.join(ROOT, "js", "src", binding + ".js"));
    const cjs = files[path.join(ROOT, "js", "dist", binding + ".cjs")];
    const exported = /module\.exports = \{([^}]*)\};\n$/.exec(cjs)[1].split(", ");
    assert.deepEqual(exported.sort(), Object.keys(esm).sort(), binding);
  }
});

test("a source the build cannot read is refused with the reason", async () => {
  const {globalBuild, commonJSBuild} = await build();
  assert.throws(() => globalBuild("const a = 1;\n"), /leading \/\* \*\/ comment/);
  assert.throws(() => globalBuild("/*\n */\nimport {a} from \"b\";\n\nexport {a};\n"),
                /must not import/);
  assert.throws(() => commonJSBuild("/*\n */\nexport const a = 1;\n\nexport {a};\n", "x.js"),
                /import or export the build cannot read/);
});

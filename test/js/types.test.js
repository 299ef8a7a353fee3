"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const {execFileSync} = require("node:child_process");

const ROOT = path.join(__dirname, "..", "..");

test("tsc --noEmit accepts the typed usage files and the misuses they expect to be refused", () => {
  const tsc = path.join(ROOT, "node_modules", "typescript", "bin", "tsc");
  let output = "";
  try {
    output = execFileSync(process.execPath, [tsc, "--noEmit", "-p", path.join(__dirname, "types")],
                          {encoding: "utf-8", timeout: 120000});
  } catch (err) {
    output = err.stdout + err.stderr;
  }
  assert.equal(output, "");
});

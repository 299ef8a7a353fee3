/*
 * Drives the quick start in headless Chromium (playwright-core):
 *
 *   node browser.js PAGE_URL PYTHON ROOT
 *
 * Adds a task with the quick start's script (PYTHON -m
 * examples.quickstart.tasks, run in ROOT), opens the page in two windows,
 * and checks that both show it; then adds, finishes and removes another
 * task with the script, and checks that both windows follow each change
 * within WITHIN_MS, without reloading.
 *
 * It prints "ok {latencies}" and exits 0, or what went wrong and exits 1.
 * CHROMIUM names the browser (default /usr/bin/chromium).
 */
"use strict";

const {execFileSync} = require("node:child_process");
const {chromium} = require("playwright-core");

const [url, python, root] = process.argv.slice(2);
const web = new URL(url).origin;
const WITHIN_MS = 2000;
const LOAD_MS = 10000;
const latencies = [];

function tasks(...args) {
  const out = execFileSync(python, ["-m", "examples.quickstart.tasks", "--web", web, ...args],
                           {cwd: root, encoding: "utf-8"});
  return JSON.parse(out);
}

async function open(browser, errors) {
  const page = await browser.newPage();
  page.on("pageerror", (err) => errors.push(err.message));
  page.on("console", (msg) => {
    if (msg.type() === "error") {
      errors.push("console: " + msg.text());
    }
  });
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("status").textContent === "Live",
                             null, {timeout: LOAD_MS});
  return page;
}

async function items(page) {
  return page.$$eval("#tasks li", (lis) => lis.map((li) => li.textContent));
}

// Wait until every page lists exactly `wanted`; records how long it took.
async function shows(pages, wanted, what) {
  const started = Date.now();
  for (const page of pages) {
    try {
      await page.waitForFunction(
        (w) => JSON.stringify(Array.from(document.querySelectorAll("#tasks li"),
                                         (li) => li.textContent)) === w,
        JSON.stringify(wanted), {timeout: WITHIN_MS});
    } catch (err) {
      throw new Error(what + ": wanted " + JSON.stringify(wanted) + ", the page shows " +
                      JSON.stringify(await items(page)));
    }
  }
  latencies.push(Date.now() - started);
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run"]
  });
  const errors = [];
  try {
    tasks("add", "Read the quick start");
    const pages = [await open(browser, errors), await open(browser, errors)];
    await shows(pages, ["Read the quick start"], "the list as loaded");
    const milk = tasks("add", "Buy milk");
    await shows(pages, ["Read the quick start", "Buy milk"], "added");
    tasks("done", String(milk.id));
    await shows(pages, ["Read the quick start", "Buy milk (done)"], "done");
    tasks("remove", String(milk.id));
    await shows(pages, ["Read the quick start"], "removed");
  } finally {
    await browser.close();
  }
  if (errors.length) {
    throw new Error("errors in the pages: " + errors.join("; "));
  }
  console.log("ok " + JSON.stringify({changes: latencies.length, maxMs: Math.max(...latencies)}));
}

main().then(() => process.exit(0), (err) => {
  console.log("FAILED " + err.message);
  process.exit(1);
});

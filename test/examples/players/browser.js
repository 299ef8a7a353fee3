/*
 * Drives the Players example in headless Chromium (playwright-core):
 *
 *   node browser.js PAGE_URL [PAGE]
 *
 * PAGE is "knockout" (the default: the page `make run` opens), "react" or
 * "vue"; the three pages behave alike and pass the same checks. First a
 * page whose list is slow to come must say it is loading, not that there
 * are no players, and must tell the user to open a second window. Then,
 * for WebSocket and then SockJS, page A (all colours) adds, renames,
 * recolours and deletes a player while page B watches a colour filter;
 * each change must show in B within WITHIN_MS, and an error about a bad
 * name must go once the name is edited. Then it asks for a server restart
 * by printing "RESTART" and waits for "RESTARTED" on stdin (the test adds
 * a player to the database while the server is down): while
 * reconnecting, B's buttons must be disabled; B must catch up, and show
 * live changes again.
 *
 * It prints "ok {latencies}" and exits 0, or what went wrong and exits 1.
 * CHROMIUM names the browser (default /usr/bin/chromium).
 */
"use strict";

const readline = require("node:readline");
const {chromium} = require("playwright-core");

const url = process.argv[2];
const PAGE = process.argv[3] || "knockout";
const WITHIN_MS = 1000;
// Generous: under load a restarted server and a reconnecting page, with
// its back-off, take seconds.
const LOAD_MS = 20000;
// What Chromium logs while a server is down is expected noise.
const EXPECTED_CONSOLE = /WebSocket connection|ERR_CONNECTION_REFUSED|Failed to load resource/;

const latencies = [];
const lines = readline.createInterface({input: process.stdin})[Symbol.asyncIterator]();

async function open(browser, query, errors) {
  const page = await browser.newPage();
  page.on("pageerror", (err) => errors.push(query + ": " + err.message));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !EXPECTED_CONSOLE.test(msg.text())) {
      errors.push(query + ": console: " + msg.text());
    }
  });
  await page.goto(url + query);
  await online(page);
  return page;
}

async function online(page) {
  await page.waitForFunction(
    () => document.getElementById("status").textContent === "online" &&
          document.getElementById("error").textContent === "",
    null, {timeout: LOAD_MS});
}

function row(page, name) {
  return page.locator("#players tr", {has: page.locator("td.name", {hasText: name})});
}

// Wait until `page` lists (or, with present false, no longer lists) the
// player `name`; checks and records how long it took.
async function shows(page, name, present, what, timeout) {
  const started = Date.now();
  try {
    await page.waitForFunction(
      ([wanted, yes]) => Array.from(document.querySelectorAll("#players td.name"))
        .some((n) => n.textContent === wanted) === yes,
      [name, present], {timeout: timeout || WITHIN_MS});
  } catch (err) {
    const names = await page.$$eval("#players td.name", (ns) => ns.map((n) => n.textContent));
    const status = await page.textContent("#status");
    const error = await page.textContent("#error");
    throw new Error(what + ": wanted " + name + (present ? "" : " gone") +
                    ", the list is " + JSON.stringify(names) + " (status " + status +
                    (error ? ", error " + error : "") + ")");
  }
  if (!timeout) {
    latencies.push(Date.now() - started);
  }
}

async function loading(browser, errors) {
  const page = await browser.newPage();
  page.on("pageerror", (err) => errors.push("loading: " + err.message));
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  await page.route("**/api/players*", async (route) => {
    await released;
    await route.continue();
  });
  await page.goto(url);
  await page.waitForSelector("#loading", {state: "visible", timeout: LOAD_MS});
  if (await page.isVisible("#empty")) {
    throw new Error("the page says there are no players while loading them");
  }
  const title = await page.title();
  if (!/^Players \(\w+\)$/.test(title) || title !== await page.textContent("h1")) {
    throw new Error("the page's title is " + JSON.stringify(title));
  }
  if (!/second window/.test(await page.textContent("#hint"))) {
    throw new Error("the page does not suggest a second window");
  }
  release();
  await online(page);
  await page.waitForSelector("#loading", {state: "hidden", timeout: WITHIN_MS});
  await page.close();
}

// Wait until #error is empty (or, with present true, is not).
async function error(page, present, what) {
  try {
    await page.waitForFunction(
      (yes) => (document.getElementById("error").textContent !== "") === yes,
      present, {timeout: WITHIN_MS});
  } catch (err) {
    throw new Error(what + ": the error is " + JSON.stringify(await page.textContent("#error")));
  }
}

async function filter(page, color) {
  await page.selectOption("#filter", color);
  await online(page);
}

async function scenario(browser, transport, errors) {
  const query = "?transport=" + transport;
  const a = await open(browser, query, errors);
  const b = await open(browser, query + "&color=red", errors);
  const name = "Zed " + transport;
  const renamed = "Zoe " + transport;

  await a.fill("#new-name", name);
  await a.selectOption("#new-color", "red");
  await a.click("#add button[type=submit]");
  await shows(a, name, true, "added, on the page that added it");
  await shows(b, name, true, "added red, on the page showing red");

  await row(a, name).locator("select.recolor").selectOption("blue");
  await shows(b, name, false, "recoloured blue, out of the red list");
  await filter(b, "blue");
  await shows(b, name, true, "in the blue list", LOAD_MS);
  await row(a, name).locator("select.recolor").selectOption("green");
  await shows(b, name, false, "recoloured green, out of the blue list");
  await row(a, name).locator("select.recolor").selectOption("blue");
  await shows(b, name, true, "recoloured blue, into the blue list");

  await row(a, name).locator(".rename-input").fill("");
  await row(a, name).locator("button.rename").click();
  await error(a, true, "an empty name refused");
  await row(a, name).locator(".rename-input").fill(renamed);
  await error(a, false, "the name edited");
  await row(a, name).locator("button.rename").click();
  await shows(b, renamed, true, "renamed");
  await shows(b, name, false, "old name gone");

  await filter(b, "");
  await row(a, renamed).locator("button.delete").click();
  await shows(b, renamed, false, "deleted, on the other page");
  await shows(a, renamed, false, "deleted, on the page that deleted it");

  // A restart: Snorky forgets the subscriptions; the pages reconnect,
  // find theirs expired and fetch the list again.
  process.stdout.write("RESTART\n");
  try {
    await b.waitForFunction(
      () => document.getElementById("status").textContent !== "online" &&
            Array.from(document.querySelectorAll("#add button, #players button, #players select"))
              .every((control) => control.disabled),
      null, {timeout: LOAD_MS});
  } catch (err) {
    throw new Error("while reconnecting, the buttons stayed enabled");
  }
  const answer = await lines.next();
  if (answer.value !== "RESTARTED") {
    throw new Error("the test did not restart the server: " + JSON.stringify(answer));
  }
  await shows(b, "Dave " + transport, true, "added while the server was down", LOAD_MS);
  await online(a);
  await online(b);
  await a.fill("#new-name", "Erin " + transport);
  await a.click("#add button[type=submit]");
  await shows(b, "Erin " + transport, true, "added after the restart");

  await a.close();
  await b.close();
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run"]
  });
  const errors = [];
  try {
    await loading(browser, errors);
    for (const transport of ["websocket", "sockjs"]) {
      await scenario(browser, transport, errors);
    }
  } finally {
    await browser.close();
  }
  if (errors.length) {
    throw new Error("errors in the pages: " + errors.join("; "));
  }
  latencies.sort((x, y) => x - y);
  console.log("ok " + JSON.stringify({
    page: PAGE,
    changes: latencies.length,
    medianMs: latencies[Math.floor(latencies.length / 2)],
    maxMs: latencies[latencies.length - 1]
  }));
}

main().then(() => process.exit(0), (err) => {
  console.log("FAILED (" + PAGE + " page) " + err.message);
  process.exit(1);
});

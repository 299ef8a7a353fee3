/*
 * Drives the chat example in headless Chromium (playwright-core):
 *
 *   node browser.js PAGE_URL [BOB_PAGE_URL]
 *
 * Alice in two tabs (one session, so one identity) and Bob in a third
 * chat (on BOB_PAGE_URL if given: another web side, for another Snorky
 * node); the script checks presence, messages, read marks and Bob leaving
 * by closing his tab. It prints "ok" and exits 0, or prints what went
 * wrong and exits 1. CHROMIUM names the browser (default
 * /usr/bin/chromium).
 */
"use strict";

const {chromium} = require("playwright-core");

const url = process.argv[2];
const bobUrl = process.argv[3] || url;
const TIMEOUT = 10000;
// Tabs in the background get few animation frames: poll on a timer.
const POLL = 20;

function check(condition, what) {
  if (!condition) {
    throw new Error("check failed: " + what);
  }
}

async function texts(page, selector) {
  return page.$$eval(selector, (nodes) => nodes.map((n) => n.textContent));
}

async function waitForTexts(page, selector, expected, what) {
  try {
    await page.waitForFunction(
      ([sel, want]) => JSON.stringify(
        Array.from(document.querySelectorAll(sel), (n) => n.textContent)) === want,
      [selector, JSON.stringify(expected)], {timeout: TIMEOUT, polling: POLL});
  } catch (err) {
    throw new Error(what + ": wanted " + JSON.stringify(expected) + ", got " +
                    JSON.stringify(await texts(page, selector)));
  }
}

async function open(context, name, errors, pageUrl = url) {
  const page = await context.newPage();
  page.on("pageerror", (err) => errors.push(name + ": " + err.message));
  page.on("console", (msg) => {
    if (msg.type() === "error") {
      errors.push(name + ": console: " + msg.text());
    }
  });
  await page.goto(pageUrl);
  return page;
}

async function login(page, name) {
  await page.fill("#login-name", name);
  await click(page, "#login button[type=submit]");
}

async function waitFor(page, selector, present) {
  await page.waitForFunction(
    ([sel, want]) => (document.querySelector(sel) !== null) === want,
    [selector, present], {timeout: TIMEOUT, polling: POLL});
}

async function online(page) {
  await waitFor(page, "#status.online", true);
}

async function click(page, selector) {
  await page.bringToFront();
  await page.click(selector);
}

async function joinRoom(page, name) {
  await page.fill("#join-name", name);
  await click(page, "#join button");
  await waitFor(page, "#rooms li.active[data-room='" + name + "']", true);
}

async function say(page, text) {
  await page.fill("#body", text);
  await click(page, "#send button");
}

function unread(room) {
  return "#rooms li[data-room='" + room + "'] .unread";
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"]
  });
  const errors = [];
  try {
    const alice = await browser.newContext();
    const bob = await browser.newContext();

    const a1 = await open(alice, "alice1", errors);
    await login(a1, "alice");
    await online(a1);
    await waitForTexts(a1, "#members li", ["alice (you)"], "alice alone");

    // The second tab shares the session cookie: same identity.
    const a2 = await open(alice, "alice2", errors);
    await online(a2);
    const b = await open(bob, "bob", errors, bobUrl);
    await login(b, "bob");
    await online(b);

    for (const page of [a1, a2]) {
      await waitForTexts(page, "#members li", ["alice (you)", "bob"], "members");
    }
    await waitForTexts(b, "#members li", ["alice", "bob (you)"], "bob's members");
    // Alice's second tab was no news: the only presence is Bob's arrival.
    await waitForTexts(a1, "#log li.presence .from", ["bob"], "presence once");

    await say(b, "hello");
    for (const page of [a1, a2, b]) {
      await waitForTexts(page, "#log li.message .text", ["hello"], "message");
    }
    check((await texts(a1, "#log li.message .from")).join() === "bob", "sender");

    // Both of Alice's tabs look elsewhere: a message makes lobby unread in
    // both; reading it in one clears the mark in the other.
    await joinRoom(a1, "random");
    await joinRoom(a2, "random");
    await say(b, "ping");
    await waitFor(a1, unread("lobby"), true);
    await waitFor(a2, unread("lobby"), true);
    await click(a1, "#rooms li[data-room='lobby']");
    await waitFor(a2, unread("lobby"), false);
    check(await a1.$(unread("lobby")) === null, "read clears the reader's mark");

    // Bob closes his tab in the middle of it all.
    await b.close();
    await waitForTexts(a1, "#members li", ["alice (you)"], "bob gone");
    await waitForTexts(a1, "#log li.presence .text", ["joined", "left"], "bob left");
    await click(a2, "#rooms li[data-room='lobby']");
    await waitForTexts(a2, "#members li", ["alice (you)"], "bob gone, tab 2");

    // Closing one of Alice's tabs leaves her present in the other.
    await a2.close();
    await say(a1, "still here");
    await waitForTexts(a1, "#log li.message .text", ["hello", "ping", "still here"],
                       "alice's own message");
    check((await texts(a1, "#log li.presence .text")).length === 2,
          "no presence for a closed second tab");

    check(errors.length === 0, "no page errors: " + errors.join("; "));
  } finally {
    await browser.close();
  }
}

main().then(() => {
  console.log("ok");
}, (err) => {
  console.log(err.stack || String(err));
  process.exitCode = 1;
});

/*
 * Drives Snorky's status page in headless Chromium (playwright-core):
 *
 *   node browser.js STATUS_PAGE_URL SCREENSHOT_PATH
 *
 * While the test publishes deltas to subscribed clients, the page must
 * load, poll, and its charts must move: the deliveries chart gains points
 * and its lines change between two looks, the deliveries/s tile shows
 * more than zero. A screenshot of the page must hold far more than one of
 * an empty page of the same size (a blank or broken page compresses to
 * almost nothing).
 *
 * It prints "ok ..." and exits 0, or what went wrong and exits 1.
 */
"use strict";

const path = require("node:path");
const {launchChromium} = require(path.join(__dirname, "..", "js", "chromium.js"));

const url = process.argv[2];
const screenshotPath = process.argv[3];
const TIMEOUT_MS = 20000;

async function polls(page) {
  return Number(await page.evaluate(() => document.body.dataset.polls || 0));
}

async function lines(page, chart) {
  return page.evaluate((id) => Array.from(
    document.querySelectorAll("#chart-" + id + " polyline"),
    (line) => line.getAttribute("data-series") + ":" + line.getAttribute("points")), chart);
}

async function tile(page, label) {
  return page.evaluate((wanted) => {
    for (const box of document.querySelectorAll(".tile")) {
      if (box.querySelector(".label").textContent === wanted) {
        return box.querySelector(".value").textContent;
      }
    }
    return null;
  }, label);
}

async function main() {
  const browser = await launchChromium();
  const errors = [];
  try {
    const page = await browser.newPage({viewport: {width: 1280, height: 900}});
    page.on("pageerror", (err) => errors.push("page error: " + err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error") errors.push("console: " + msg.text());
    });
    await page.goto(url + "?every=250&window=30");
    await page.waitForFunction(() => Number(document.body.dataset.polls || 0) >= 3,
                               null, {timeout: TIMEOUT_MS});
    const state = await page.textContent("#state");
    if (state !== "live") throw new Error("state is " + state);
    const first = await lines(page, "deliveries");
    const seen = await polls(page);
    await page.waitForFunction((n) => Number(document.body.dataset.polls) >= n + 6,
                               seen, {timeout: TIMEOUT_MS});
    const second = await lines(page, "deliveries");
    if (!second.length) throw new Error("the deliveries chart has no line");
    if (JSON.stringify(first) === JSON.stringify(second)) {
      throw new Error("the deliveries chart did not move: " + JSON.stringify(second));
    }
    const points = Number(await page.getAttribute("#chart-deliveries svg", "data-points"));
    const rate = await tile(page, "deliveries/s");
    if (!(Number(String(rate).replace("k", "")) > 0)) {
      throw new Error("deliveries/s shows " + rate);
    }
    const connections = await tile(page, "connections");
    const shot = await page.screenshot({path: screenshotPath, fullPage: false});
    const blankPage = await browser.newPage({viewport: {width: 1280, height: 900}});
    await blankPage.setContent("<html><body></body></html>");
    const blank = await blankPage.screenshot();
    if (shot.length < 4 * blank.length) {
      throw new Error("the screenshot looks empty: " + shot.length + " bytes, an empty page " +
                      blank.length);
    }
    if (errors.length) throw new Error(errors.join("; "));
    console.log("ok points=" + points + " deliveries/s=" + rate + " connections=" +
                connections + " screenshot=" + shot.length + "B blank=" + blank.length + "B");
  } finally {
    await browser.close();
  }
}

main().then(() => process.exit(0), (err) => {
  console.log("FAILED: " + (err && err.stack || err));
  process.exit(1);
});

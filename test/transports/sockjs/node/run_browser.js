/*
 * Run the SockJS scenario with the real sockjs-client in headless
 * Chromium. The page comes from PAGE_URL (another origin than BASE_URL,
 * so cross-origin transports and the iframe are exercised).
 * Usage: node run_browser.js PAGE_URL BASE_URL TRANSPORT...
 * Prints one line "RESULT <json>" per transport.
 */
"use strict";
const path = require("path");
const {launchChromium} = require(path.join(__dirname, "..", "..", "..", "js", "chromium.js"));

const PAGE_TIMEOUT_MS = 60000;
const TOTAL_TIMEOUT_MS = 240000;

async function runOne(browser, pageUrl, baseUrl, transport) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (err) => errors.push(String(err)));
    const url = pageUrl + "?transport=" + encodeURIComponent(transport) +
      "&base=" + encodeURIComponent(baseUrl);
    await page.goto(url, {timeout: PAGE_TIMEOUT_MS});
    await page.waitForFunction(() => window.scenarioResult !== null, null,
                               {timeout: PAGE_TIMEOUT_MS});
    const result = await page.evaluate(() => window.scenarioResult);
    if (errors.length) {
      result.pageErrors = errors;
    }
    return result;
  } catch (err) {
    return {transport: transport, error: String(err)};
  } finally {
    await context.close();
  }
}

async function main() {
  const [pageUrl, baseUrl, ...transports] = process.argv.slice(2);
  const browser = await launchChromium();
  const guard = setTimeout(() => {
    console.log("RESULT " + JSON.stringify({error: "total timeout"}));
    browser.close().finally(() => process.exit(2));
  }, TOTAL_TIMEOUT_MS);
  try {
    for (const transport of transports) {
      const result = await runOne(browser, pageUrl, baseUrl, transport);
      console.log("RESULT " + JSON.stringify(result));
    }
  } finally {
    clearTimeout(guard);
    await browser.close();
  }
}

main().catch((err) => {
  console.log("RESULT " + JSON.stringify({error: String(err)}));
  process.exit(1);
});

/*
 * Headless Debian Chromium through playwright-core, for browser tests.
 */
"use strict";
const {chromium} = require("playwright-core");

const ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run"
];

/** Launch the browser; close it with `browser.close()`. */
function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ARGS
  });
}

module.exports = {launchChromium};

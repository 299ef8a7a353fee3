/*
 * Run the SockJS scenario with the real sockjs-client in Node.
 * Usage: node run_node.js BASE_URL TRANSPORT...
 * Prints one line "RESULT <json>" per transport.
 */
"use strict";
const SockJS = require("sockjs-client");
const scenario = require("./scenario.js");

const TOTAL_TIMEOUT_MS = 120000;

async function main() {
  const [baseUrl, ...transports] = process.argv.slice(2);
  const guard = setTimeout(() => {
    console.log("RESULT " + JSON.stringify({error: "total timeout"}));
    process.exit(2);
  }, TOTAL_TIMEOUT_MS);
  for (const transport of transports) {
    const result = await scenario.run(SockJS, baseUrl, transport);
    console.log("RESULT " + JSON.stringify(result));
  }
  clearTimeout(guard);
  // Node's sockjs-client may keep keep-alive sockets; the test is over.
  process.exit(0);
}

main().catch((err) => {
  console.log("RESULT " + JSON.stringify({error: String(err)}));
  process.exit(1);
});

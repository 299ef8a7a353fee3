// The CommonJS entry point: require("snorky") is the Snorky class, with
// every name of the ES module (snorky.d.ts) as a property.
import type * as S from "./snorky.js" with {"resolution-mode": "import"};

declare const Snorky: typeof S.Snorky & Omit<typeof S, "default">;
export = Snorky;

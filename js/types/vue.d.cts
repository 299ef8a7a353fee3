// The CommonJS entry point of snorky/vue: the names of vue.d.ts.
import type * as V from "./vue.js" with {"resolution-mode": "import"};

declare const vue: typeof V;
export = vue;

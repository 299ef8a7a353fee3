// The CommonJS entry point of snorky/react: the names of react.d.ts.
import type * as R from "./react.js" with {"resolution-mode": "import"};

declare const react: typeof R;
export = react;

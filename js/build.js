/*
 * Builds what the ES module sources in src/ cannot be by themselves:
 *
 *   ../snorky/static/snorky.js   the script defining the global `Snorky`
 *                                (served at /snorky.js, shipped in the
 *                                Python wheel; checked in, and a test fails
 *                                when it differs from a fresh build)
 *   dist/snorky.cjs              the same script, the package's CommonJS entry
 *   dist/live.cjs, react.cjs,    CommonJS versions of the bindings
 *   dist/vue.cjs
 *   dist/snorky-angular.cjs,     the AngularJS and Knockout adapters, whose
 *   dist/snorky-knockout.cjs     source is snorky/static/
 *
 *   node js/build.js             all of them (npm run build)
 *   node js/build.js --dist      only dist/ (npm pack runs this)
 *   node js/build.js --check     exits 1 if snorky/static/snorky.js is stale
 *
 * No dependencies: the sources keep to a form these few rules can read
 * (one-line `import {...} from "..."` statements, one `export {...}` list
 * at the end).
 */
import {readFileSync, writeFileSync, mkdirSync} from "node:fs";
import {dirname, join} from "node:path";
import {fileURLToPath} from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const SRC = join(HERE, "src");
const STATIC = join(HERE, "..", "snorky", "static");

const GLOBAL_HEADER = `/*
 * snorky.js: the JavaScript client of Snorky, as one script.
 *
 * BUILT from js/src/snorky.js by js/build.js: edit that file and run
 * \`npm run build\` (a test fails while this file is out of date).
 *
 * No dependencies, ES2017. In a page, <script src="/snorky.js"> defines
 * the global \`Snorky\`; in Node, \`require()\` returns it (pass a WebSocket
 * class, Node's own or the one of the \`ws\` package). \`Snorky.PubSub\`,
 * \`Snorky.DataSync\` and the other names the ES module exports are
 * properties of it.
 */`;

/** Split a module into its leading comment, its body and its exported names. */
function parseModule(source, name) {
  const header = /^\/\*[\s\S]*?\*\/\n/.exec(source);
  const exported = /\nexport \{([^}]*)\};\n$/.exec(source);
  if (!header || !exported) {
    throw new Error(name + ": expected a leading /* */ comment and a final export {...} list");
  }
  const body = source.slice(header[0].length, exported.index + 1);
  const imports = [];
  const code = body.replace(/^import \{([^}]*)\} from "([^"]+)";\n/gm, (line, names, from) => {
    imports.push({names: names.trim(), from: from});
    return "";
  });
  if (/^\s*(import|export)\b/m.test(code)) {
    throw new Error(name + ": an import or export the build cannot read");
  }
  const names = exported[1].split(",").map((s) => s.trim()).filter(Boolean);
  return {header: header[0], code: code, imports: imports, names: names};
}

/** The script form of the core: a global in pages, module.exports in CommonJS. */
export function globalBuild(source) {
  const {code, imports, names} = parseModule(source, "snorky.js");
  if (imports.length) {
    throw new Error("snorky.js: the core must not import anything");
  }
  const named = names.filter((n) => !/ as default$/.test(n));
  const indented = code.replace(/^(?=.)/gm, "  ").replace(/^\n+/, "");
  return GLOBAL_HEADER + `
(function (root, factory) {
  "use strict";
  var Snorky = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = Snorky;
  } else {
    root.Snorky = Snorky;
  }
})(typeof globalThis !== "undefined" ? globalThis : this, function () {
  "use strict";

${indented}
  // What the ES module exports by name, as properties of the class.
  Object.assign(Snorky, {${named.join(", ")}});

  return Snorky;
});
`;
}

/** A binding module (react.js, vue.js) as CommonJS. */
export function commonJSBuild(source, name) {
  const {header, code, imports, names} = parseModule(source, name);
  const requires = imports.map(({names: list, from}) => {
    const target = from.startsWith("./") ? from.replace(/\.js$/, ".cjs") : from;
    return "const {" + list.replace(/\s+as\s+/g, ": ") + "} = require(" +
      JSON.stringify(target) + ");";
  });
  return header + '"use strict";\n' + requires.join("\n") + "\n" + code +
    "\nmodule.exports = {" + names.join(", ") + "};\n";
}

function read(path) {
  return readFileSync(path, "utf-8");
}

/** Every output file: path -> text. */
export function outputs() {
  const core = globalBuild(read(join(SRC, "snorky.js")));
  const files = {};
  files[join(STATIC, "snorky.js")] = core;
  files[join(HERE, "dist", "snorky.cjs")] = core;
  for (const binding of ["live", "react", "vue"]) {
    files[join(HERE, "dist", binding + ".cjs")] =
      commonJSBuild(read(join(SRC, binding + ".js")), binding + ".js");
  }
  for (const adapter of ["snorky-angular", "snorky-knockout"]) {
    files[join(HERE, "dist", adapter + ".cjs")] = read(join(STATIC, adapter + ".js"));
  }
  return files;
}

function main(args) {
  const files = outputs();
  if (args.includes("--check")) {
    const path = join(STATIC, "snorky.js");
    if (read(path) !== files[path]) {
      console.error("snorky/static/snorky.js is out of date: run `npm run build`");
      process.exit(1);
    }
    return;
  }
  const distOnly = args.includes("--dist");
  for (const [path, text] of Object.entries(files)) {
    if (distOnly && !path.startsWith(join(HERE, "dist"))) {
      continue;
    }
    mkdirSync(dirname(path), {recursive: true});
    writeFileSync(path, text);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2));
}

/*
 * Builds the React page's script: players.jsx with React, react-dom and
 * snorky.js (from js/src, the package's source) into one ES module,
 * static/build/players-react.js. `npm ci` runs it (the "prepare" script of
 * the repository's package.json), so `make run` and `make test` do too;
 * by hand: `npm run build:examples`.
 */
import {build} from "esbuild";
import {dirname, join} from "node:path";
import {fileURLToPath} from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..", "..");

// "snorky" and "snorky/react" are the package in js/, not installed.
const snorkyPackage = {
  name: "snorky-package",
  setup(b) {
    b.onResolve({filter: /^snorky(\/react|\/vue)?$/}, (args) => ({
      path: join(ROOT, "js", "src", args.path === "snorky" ? "snorky.js" : args.path.slice(7) + ".js")
    }));
  }
};

await build({
  entryPoints: [join(HERE, "players.jsx")],
  outfile: join(HERE, "..", "static", "build", "players-react.js"),
  bundle: true,
  format: "esm",
  jsx: "automatic",
  minify: true,
  sourcemap: true,
  target: "es2020",
  define: {"process.env.NODE_ENV": '"production"'},
  plugins: [snorkyPackage],
  logLevel: "warning"
});

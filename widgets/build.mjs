// Bundle the board's and the experiment matrix's front ends into static/ (board.js,
// board.css, matrix.js, matrix.css).
//   node build.mjs           a minified build (what the package ships)
//   node build.mjs --watch   rebuild on change (with ANYWIDGET_HMR=1 the board reloads)
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import * as esbuild from "esbuild";

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url)));
const watch = process.argv.includes("--watch");

/**
 * KaTeX's stylesheet without its @font-face rules, which would load fonts from URLs: the
 * fonts come as bytes in the script instead (src/render/math-fonts.js).
 */
const katexCssWithoutFontFaces = {
  name: "katex-css-without-font-faces",
  setup(build) {
    build.onLoad({ filter: /[\\/]katex[\\/]dist[\\/]katex\.css$/ }, async ({ path }) => ({
      contents: (await readFile(path, "utf8")).replace(/@font-face\s*\{[^}]*\}/g, ""),
      loader: "css",
    }));
  },
};

const options = {
  absWorkingDir: new URL(".", import.meta.url).pathname,
  entryPoints: [
    { in: "src/index.js", out: "board" },
    { in: "src/styles/board.css", out: "board" },
    { in: "src/matrix/index.js", out: "matrix" },
    { in: "src/styles/matrix.css", out: "matrix" },
  ],
  outdir: "static",
  bundle: true,
  format: "esm",
  target: ["es2020"],
  minify: !watch,
  legalComments: "eof",
  logLevel: "info",
  // Everything is bundled: the board never loads code, fonts or styles from a URL.
  external: [],
  loader: { ".woff2": "binary" },
  plugins: [katexCssWithoutFontFaces],
  define: { __CHATMORE_VERSION__: JSON.stringify(version), "define.amd": "false" },
  banner: { js: `/* chatmore-widget ${version} */` },
};

if (watch) {
  const context = await esbuild.context(options);
  await context.watch();
} else {
  await esbuild.build(options);
}

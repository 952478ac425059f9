// KaTeX's fonts, bundled as bytes (build.mjs loads .woff2 files as binary) and added to
// the page with the FontFace API: nothing is fetched from a URL, and the board's CSS has
// no @font-face. Only the faces that ordinary formulas use are bundled, to keep the
// widget small; \mathcal, \mathfrak, \mathsf, \mathtt and bold italics fall back to the
// system's serif.
//
// Loaded by math.js the first time a formula is shown (never in Node's unit tests).

import amsRegular from "katex/dist/fonts/KaTeX_AMS-Regular.woff2";
import mainBold from "katex/dist/fonts/KaTeX_Main-Bold.woff2";
import mainItalic from "katex/dist/fonts/KaTeX_Main-Italic.woff2";
import mainRegular from "katex/dist/fonts/KaTeX_Main-Regular.woff2";
import mathItalic from "katex/dist/fonts/KaTeX_Math-Italic.woff2";
import size1 from "katex/dist/fonts/KaTeX_Size1-Regular.woff2";
import size2 from "katex/dist/fonts/KaTeX_Size2-Regular.woff2";
import size3 from "katex/dist/fonts/KaTeX_Size3-Regular.woff2";
import size4 from "katex/dist/fonts/KaTeX_Size4-Regular.woff2";

/** [family, bytes, descriptors], as KaTeX's stylesheet names them. */
const FACES = [
  ["KaTeX_AMS", amsRegular, {}],
  ["KaTeX_Main", mainRegular, {}],
  ["KaTeX_Main", mainBold, { weight: "bold" }],
  ["KaTeX_Main", mainItalic, { style: "italic" }],
  ["KaTeX_Math", mathItalic, { style: "italic" }],
  ["KaTeX_Size1", size1, {}],
  ["KaTeX_Size2", size2, {}],
  ["KaTeX_Size3", size3, {}],
  ["KaTeX_Size4", size4, {}],
];

/** @param {FontFaceSet} fonts the page's `document.fonts` */
export function addMathFonts(fonts) {
  for (const [family, bytes, descriptors] of FACES) {
    const face = new FontFace(family, bytes, { display: "swap", ...descriptors });
    fonts.add(face);
    face.load().catch(() => {}); // a face the browser refuses leaves the fallback font
  }
}

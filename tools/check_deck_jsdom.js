// Smoke test of a built deck in a headless DOM (optional; not part of pytest):
//   cd /tmp && npm install jsdom@24 && NODE_PATH=/tmp/node_modules node tools/check_deck_jsdom.js slides/01_x.slides.html
// Prints whether reveal.js initialised, the notes plugin loaded and MathJax typeset the formulas,
// and any script errors. Run it on a deck inside slides/ so the vendored assets resolve.
const { JSDOM, VirtualConsole } = require("jsdom");
const file = process.argv[2];
const vc = new VirtualConsole();
const errors = [];
vc.on("jsdomError", e => errors.push(String(e.message || e)));
vc.on("error", e => errors.push(String(e)));
JSDOM.fromFile(file, { runScripts: "dangerously", resources: "usable", virtualConsole: vc, pretendToBeVisual: true }).then(dom => {
  setTimeout(() => {
    const w = dom.window;
    console.log(JSON.stringify({
      reveal: typeof w.Reveal, ready: w.Reveal && w.Reveal.isReady && w.Reveal.isReady(),
      notes: typeof w.RevealNotes, mathjax: typeof w.MathJax, mjx: w.document.querySelectorAll("mjx-container").length,
      mathErrors: w.document.querySelectorAll("mjx-merror").length,
      slides: w.Reveal && w.Reveal.getTotalSlides && w.Reveal.getTotalSlides(), errors: errors.slice(0, 5)}));
    process.exit(0);
  }, 8000);
});

#!/usr/bin/env bash
# Re-create the vendored slide assets under slides/ from the npm registry (needs npm; run from
# anywhere). Keeps only what the decks load: reveal.js (dist/reveal.js, reveal.css, the white
# theme and its Source Sans Pro woff fonts, the notes plugin) and MathJax 3 (es5/tex-chtml.js,
# its CHTML woff fonts and the TeX extensions it autoloads), each with its LICENSE.
set -euo pipefail
REVEAL_VERSION="${REVEAL_VERSION:-5.2.1}"
MATHJAX_VERSION="${MATHJAX_VERSION:-3.2.2}"
S="$(cd "$(dirname "$0")/.." && pwd)/slides"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
npm pack --silent "reveal.js@${REVEAL_VERSION}" "mathjax@${MATHJAX_VERSION}" >/dev/null
mkdir r m
tar xzf "reveal.js-${REVEAL_VERSION}.tgz" -C r
tar xzf "mathjax-${MATHJAX_VERSION}.tgz" -C m
R=r/package M=m/package
rm -rf "$S/reveal.js" "$S/mathjax"
mkdir -p "$S/reveal.js/dist/theme/fonts/source-sans-pro" "$S/reveal.js/plugin/notes" \
         "$S/mathjax/es5/output/chtml/fonts" "$S/mathjax/es5/input/tex"
cp "$R/LICENSE" "$R/package.json" "$S/reveal.js/"
cp "$R/dist/reveal.js" "$R/dist/reveal.css" "$R/dist/reset.css" "$S/reveal.js/dist/"
cp "$R/dist/theme/white.css" "$S/reveal.js/dist/theme/"
cp "$R"/dist/theme/fonts/source-sans-pro/{LICENSE,source-sans-pro.css,*.woff} \
   "$S/reveal.js/dist/theme/fonts/source-sans-pro/"
cp "$R/plugin/notes/notes.js" "$S/reveal.js/plugin/notes/"
cp "$M/LICENSE" "$M/package.json" "$S/mathjax/"
cp "$M/es5/tex-chtml.js" "$S/mathjax/es5/"
cp -r "$M/es5/output/chtml/fonts/woff-v2" "$S/mathjax/es5/output/chtml/fonts/"
cp -r "$M/es5/input/tex/extensions" "$S/mathjax/es5/input/tex/"
du -sh "$S/reveal.js" "$S/mathjax"

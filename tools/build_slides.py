"""Build one reveal.js deck per lesson notebook, from the notebook's own cells.

Usage::

    python tools/build_slides.py                 # build slides/NN_*.slides.html for every lesson
    python tools/build_slides.py notebooks/03_feature_conditions.ipynb
    python tools/build_slides.py --check         # exit 1 if a committed deck is missing or stale

The slides are the notebook: nbconvert's SlidesExporter reads each cell's
``slideshow.slide_type`` ("slide", "subslide", "fragment", "skip", "notes"), so text and slides
cannot drift. Cells of type "notes" become speaker notes (``<aside class="notes">``, press "s").

Offline by design: reveal.js (``slides/reveal.js/``) and MathJax 3 (``slides/mathjax/``) are
vendored and referenced by relative paths, through the course's template
(``tools/slides_template/course_reveal``), which drops nbconvert's CDN scripts (jQuery,
require.js, mermaid, the widget manager). After the export, :func:`external_urls` lists any
``http(s)`` script or stylesheet left; the build fails if there is one.

What goes on a slide: markdown and code cells with their outputs, except
- "skip" cells (plumbing, the badges and the Colab set-up cell),
- stderr streams (warnings) and widget outputs (they cannot work in a static deck),
- cells tagged ``remove-cell``; inputs of cells tagged ``hide-input``; outputs of cells tagged
  ``hide-output``.

Shared styles: nbconvert inlines about 260 KB of notebook CSS into every deck. The build moves
each large ``<style>`` block into ``slides/css/<hash>.css`` (named by its content, so all decks
share one copy) and links it in place, which keeps the cascade order and each deck small.

Stored outputs come from ``python tools/run_notebooks.py``; rebuild the decks after it.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import re
import sys
import time
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

import nbformat
from nbconvert import SlidesExporter
from nbconvert.preprocessors import TagRemovePreprocessor

ROOT = Path(__file__).resolve().parents[1]
SLIDES = ROOT / "slides"
TEMPLATE_DIR = Path(__file__).resolve().parent / "slides_template"
TEMPLATE_NAME = "course_reveal"
REVEAL_PREFIX = "reveal.js"  # relative to the deck, i.e. slides/reveal.js/
MATHJAX_URL = "mathjax/es5/tex-chtml.js"  # relative to the deck
LESSON_GLOB = "[0-9][0-9]_*.ipynb"
SKIP_TAGS = {"badges", "colab-setup"}
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
CSS_DIR = "css"  # relative to the deck
INLINE_STYLE_LIMIT = 2000  # characters; larger <style> blocks go to a shared file
STYLE_BLOCK = re.compile(r"<style([^>]*)>(.*?)</style>", flags=re.S)


def lessons(root: Path = ROOT) -> list[Path]:
    """The lesson notebooks ``notebooks/NN_*.ipynb`` (not the solutions), sorted."""
    return sorted((root / "notebooks").glob(LESSON_GLOB))


def deck_name(notebook: Path) -> str:
    """``notebooks/03_x.ipynb`` -> ``03_x.slides.html``."""
    return notebook.stem + ".slides.html"


def _title(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, flags=re.MULTILINE)
            if match:
                return match.group(1).strip()
    return fallback


def prepare(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """A copy of ``nb`` ready for the slides: deck title, plumbing cells skipped, stderr and
    widget outputs dropped, widget state removed."""
    nb = copy.deepcopy(nb)
    nb.metadata["title"] = _title(nb, name)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if SKIP_TAGS & set(cell.metadata.get("tags", [])):
            cell.metadata.setdefault("slideshow", {})["slide_type"] = "skip"
        if cell.cell_type == "code":
            cell.outputs = [
                out for out in cell.get("outputs", [])
                if not (out.get("output_type") == "stream" and out.get("name") == "stderr")
                and WIDGET_MIME not in out.get("data", {})
            ]
    return nb


def exporter() -> SlidesExporter:
    """nbconvert's SlidesExporter on the course template, pointed at the vendored assets."""
    exp = SlidesExporter(
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        template_name=TEMPLATE_NAME,
        reveal_url_prefix=REVEAL_PREFIX,
        reveal_theme="white",
        reveal_transition="none",
        reveal_number="c/t",
        mathjax_url=MATHJAX_URL,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    tags = TagRemovePreprocessor(
        remove_cell_tags={"remove-cell"},
        remove_input_tags={"hide-input"},
        remove_all_outputs_tags={"hide-output"},
    )
    exp.register_preprocessor(tags, enabled=True)
    return exp


class _Refs(HTMLParser):
    """Collects script sources and stylesheet links, and counts sections and notes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[str] = []
        self.sections = 0
        self.notes = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.refs.append(a["src"] or "")
        if tag == "link" and a.get("href"):
            self.refs.append(a["href"] or "")
        if tag == "section":
            self.sections += 1
        if tag == "aside" and "notes" in (a.get("class") or "").split():
            self.notes += 1


def scan(html: str) -> _Refs:
    """Parse a deck; return its script/stylesheet references and section/notes counts."""
    parser = _Refs()
    parser.feed(html)
    parser.close()
    return parser


def external_urls(html: str) -> list[str]:
    """Scripts, stylesheets and CSS imports that would be fetched from the network."""
    refs = [r for r in scan(html).refs if re.match(r"^(https?:)?//", r)]
    refs += re.findall(r"@import\s+(?:url\()?['\"]?((?:https?:)?//[^'\")\s]+)", html)
    refs += re.findall(r"\bimport\s*\(?\s*['\"]((?:https?:)?//[^'\"]+)['\"]", html)
    return refs


def externalise_styles(html: str, out_dir: Path) -> str:
    """Move every ``<style>`` block longer than ``INLINE_STYLE_LIMIT`` into
    ``out_dir/css/<sha1 of its text>.css`` and link it where the block stood."""

    def replace(match: re.Match[str]) -> str:
        css = match.group(2)
        if len(css) <= INLINE_STYLE_LIMIT:
            return match.group(0)
        name = f"{CSS_DIR}/{hashlib.sha1(css.encode()).hexdigest()[:12]}.css"
        target = out_dir / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(css, encoding="utf-8")
        return f'<link rel="stylesheet" href="{name}">'

    return STYLE_BLOCK.sub(replace, html)


def linked_css(html: str) -> list[str]:
    """The deck's links to shared style sheets (``css/<hash>.css``)."""
    return [r for r in scan(html).refs if r.startswith(CSS_DIR + "/")]


def remove_unused_css(out_dir: Path) -> list[Path]:
    """Delete shared style sheets that no deck in ``out_dir`` links any more."""
    used = {name for deck in out_dir.glob("*.slides.html")
            for name in linked_css(deck.read_text(encoding="utf-8"))}
    stale = [css for css in (out_dir / CSS_DIR).glob("*.css")
             if f"{CSS_DIR}/{css.name}" not in used]
    for css in stale:
        css.unlink()
    return stale


def build(notebook: Path, out_dir: Path = SLIDES) -> Path:
    """Export ``notebook`` to ``out_dir/NN_name.slides.html``; raise ``ValueError`` if the deck
    would load anything from the network."""
    nb = nbformat.read(notebook, as_version=4)
    body, _ = exporter().from_notebook_node(
        prepare(nb, notebook.stem),
        resources={"metadata": {"name": notebook.stem, "path": str(notebook.parent)}},
    )
    body = body.rstrip() + "\n"
    leaks = external_urls(body)
    if leaks:
        raise ValueError(f"{notebook.name}: the deck would load from the network: {leaks}")
    out_dir.mkdir(parents=True, exist_ok=True)
    body = externalise_styles(body, out_dir)
    target = out_dir / deck_name(notebook)
    target.write_text(body, encoding="utf-8")
    return target


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every lesson")
    parser.add_argument("--out", type=Path, default=SLIDES, help="output folder (default slides/)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a deck in --out is missing or differs from a fresh build")
    args = parser.parse_args(list(argv) if argv is not None else None)
    notebooks = args.notebooks or lessons()
    if not notebooks:
        print("no lesson notebooks found")
        return 0
    if args.check:
        import tempfile

        stale = []
        with tempfile.TemporaryDirectory() as tmp:
            for nb in notebooks:
                fresh = build(nb, Path(tmp)).read_text(encoding="utf-8")
                deck = args.out / deck_name(nb)
                if not deck.exists() or deck.read_text(encoding="utf-8") != fresh:
                    stale.append(deck.name)
                stale += [css for css in linked_css(fresh) if not (args.out / css).exists()]
        for name in stale:
            print(f"stale or missing: {name}")
        if stale:
            print("run `python tools/build_slides.py` to rebuild the decks", file=sys.stderr)
        return 1 if stale else 0
    for nb in notebooks:
        start = time.perf_counter()
        deck = build(nb, args.out)
        info = scan(deck.read_text(encoding="utf-8"))
        print(f"{deck.name}: {info.sections} sections, {info.notes} speaker notes, "
              f"{deck.stat().st_size / 1024:.0f} KiB, {time.perf_counter() - start:.1f} s")
    if not args.notebooks:
        for css in remove_unused_css(args.out):
            print(f"removed unused {css.relative_to(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Measure how the lecture decks look when projected: every slide of every deck in a real browser.

Usage::

    python tools/deck_audit.py                       # every deck in slides/, a table per deck
    python tools/deck_audit.py slides/03_*.slides.html --slides   # one line per slide too
    python tools/deck_audit.py --json audit.json     # the figures as JSON

Each deck is opened from ``file://`` in headless Chromium (driven by Playwright for Python, with
the system's browser: ``/usr/bin/chromium`` or ``$DECK_BROWSER``) in a window of
:data:`VIEWPORT`. Every slide is shown with all its fragments, and measured in the slide's own
coordinates (reveal.js's ``width`` x ``height``):

- **too many words**: more than :data:`MAX_SLIDE_WORDS` words of prose (paragraphs, lists,
  headings; not code or printed output, tables, display maths or the build's labels; an inline
  formula counts as one word);
- **text too small**: body text under :data:`MIN_TEXT_PX` or table text under
  :data:`MIN_TABLE_TEXT_PX` (slide pixels, the fitting's zoom included);
- **printed tables**: a table left as monospace printout (``build_slides.text_tables`` finds one
  in a ``pre`` of a cell's output) instead of an HTML table;
- **too tall**: some content ends below the bottom of the frame (or the slide scrolls);
- **code cut**: a code or text block (``pre``) is wider than its box or runs past the right edge;
- **maths cut**: a display formula is wider than its line or runs past the right edge;
- **small figures**: an image narrower than :data:`MIN_FIGURE_FRACTION` of the slide width;
- **shrunk**: the deck's fitting had to scale the slide below :data:`MIN_FIT_SCALE` (text would
  be too small to read from the back of a room);
- **markers**: test markers (``NBVAL_...``) in the deck's text;
- **notes**: slides that carry speaker notes (target: :data:`MIN_NOTES_COVERAGE`).

Per slide it also records its HTML tables and text printouts; per deck the figures (at least
:data:`MIN_DECK_FIGURES`), the HTML tables, the most words of prose on one slide and the smallest
text.

Per deck also: the text of the speaker view's notes pane right after pressing ``s``, code and
maths cut and slides longer than one page in the ``?print-pdf`` layout, and relative links that
do not resolve (or that point at a lesson notebook instead of its deck).

The limits come from ``tools/build_slides.py`` (one place); ``tests/test_decks_browser.py``
asserts them on every committed deck.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
SLIDES = ROOT / "slides"


def _load_build_slides() -> Any:
    """tools/build_slides.py, which holds every limit of the decks (one place)."""
    import importlib.util

    name = "tools_build_slides"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("build_slides.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


build_slides = _load_build_slides()
# ---- the thresholds: read from tools/build_slides.py ----------------------------------------
#: Browser window of the audit: the decks' frame, a common projector resolution.
VIEWPORT: tuple[int, int] = build_slides.FRAME
#: A figure must be at least this fraction of the slide's width.
MIN_FIGURE_FRACTION: float = build_slides.MIN_FIGURE_FRACTION
#: Images narrower than this (natural pixels) are icons, not figures.
FIGURE_MIN_NATURAL_PX: int = build_slides.FIGURE_MIN_NATURAL_PX
#: Lowest zoom the decks' fitting may apply to a slide (below it, text gets too small).
MIN_FIT_SCALE: float = build_slides.MIN_FIT_SCALE
#: Share of slides that must carry speaker notes.
MIN_NOTES_COVERAGE: float = build_slides.MIN_NOTES_COVERAGE
#: Words of prose a slide may carry (paragraphs, lists, headings; not code, tables, maths).
MAX_SLIDE_WORDS: int = build_slides.MAX_SLIDE_WORDS
#: Smallest body text and table text (slide pixels, the fitting's zoom included).
MIN_TEXT_PX: float = build_slides.MIN_TEXT_PX
MIN_TABLE_TEXT_PX: float = build_slides.MIN_TABLE_TEXT_PX
#: Figures a deck shows at least.
MIN_DECK_FIGURES: int = build_slides.MIN_DECK_FIGURES
#: Seconds after pressing "s" by which the speaker view's notes pane must show the notes.
SPEAKER_PANE_WAIT_S: float = 0.3
#: Pixels of slack before a box counts as overflowing (sub-pixel rounding).
SLACK_PX: float = 2.0
#: Browser candidates, in order (``$DECK_BROWSER`` first when set).
BROWSERS: tuple[str, ...] = ("/usr/bin/chromium", "/usr/bin/chromium-browser",
                             "/usr/bin/google-chrome")
LAUNCH_ARGS: tuple[str, ...] = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
)
LESSON_NOTEBOOK = re.compile(r"(^|/)\d\d_[\w-]+\.ipynb$")

# One pass over the deck in the page: show each slide with all fragments, measure it.
_MEASURE_JS = r"""
async ({minFigure, minNatural, slack}) => {
  const frames = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  if (window.courseDeck && window.courseDeck.ready) { await window.courseDeck.ready; }
  await document.fonts.ready;
  const cfg = Reveal.getConfig();
  const W = cfg.width, H = cfg.height;
  const result = [];
  for (const slide of Reveal.getSlides()) {
    const idx = Reveal.getIndices(slide);
    const nf = slide.querySelectorAll('.fragment').length;
    Reveal.slide(idx.h, idx.v || 0, nf ? nf - 1 : undefined);
    await frames();
    const scale = Reveal.getScale();
    const frame = Reveal.getSlidesElement().getBoundingClientRect();
    const X = x => (x - frame.left) / scale, Y = y => (y - frame.top) / scale;
    let bottom = 0;
    for (const el of slide.querySelectorAll('*')) {
      if (el.closest('aside.notes, mjx-assistive-mml')) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      bottom = Math.max(bottom, Y(r.bottom));
    }
    const scrolls = slide.scrollHeight > slide.clientHeight + slack
      && getComputedStyle(slide).overflowY !== 'visible';
    let codeCut = 0, codeBlocks = 0;
    for (const pre of slide.querySelectorAll('pre')) {
      if (pre.closest('aside.notes')) continue;
      codeBlocks += 1;
      const r = pre.getBoundingClientRect();
      if (pre.scrollWidth > pre.clientWidth + slack || X(r.right) > W + slack) codeCut += 1;
    }
    let mathCut = 0, maths = 0;
    for (const mc of slide.querySelectorAll('mjx-container[display="true"]')) {
      if (mc.closest('aside.notes')) continue;
      maths += 1;
      const m = mc.querySelector('mjx-math') || mc;
      const r = mc.getBoundingClientRect(), q = m.getBoundingClientRect();
      if (q.right > r.right + slack * scale || q.left < r.left - slack * scale
          || X(q.right) > W + slack || X(q.left) < -slack) mathCut += 1;
    }
    let tableCut = 0;
    for (const t of slide.querySelectorAll('table')) {
      if (t.closest('aside.notes')) continue;
      if (X(t.getBoundingClientRect().right) > W + slack) tableCut += 1;
    }
    const figures = [];
    for (const img of slide.querySelectorAll('img')) {
      if (img.closest('aside.notes') || img.naturalWidth < minNatural) continue;
      figures.push(Math.round(img.getBoundingClientRect().width / scale));
    }
    const notes = (Reveal.getSlideNotes(slide) || '').replace(/<[^>]*>/g, ' ').trim();
    const clone = slide.cloneNode(true);
    clone.querySelectorAll('aside.notes, mjx-assistive-mml').forEach(e => e.remove());
    const text = clone.textContent;
    // words of prose: not code or printed output, tables, display maths, or the labels the
    // build adds; an inline formula is one word (tools/build_slides.py, prose_words)
    const prose = clone.cloneNode(true);
    prose.querySelectorAll('pre, table, mjx-container[display="true"], .deck-continued, '
      + '.deck-licence, .deck-more, .jp-InputPrompt, .jp-OutputPrompt, style, script')
      .forEach(e => e.remove());
    prose.querySelectorAll('mjx-container').forEach(e => e.replaceWith(' x '));
    const proseWords = (prose.textContent.match(/\S+/g) || [])
      .filter(w => /[\p{L}\p{N}]/u.test(w)).length;
    // text size in slide pixels, the fitting's zoom included: body text and table text
    const zoomOf = el => {
      let z = 1;
      for (let e = el; e && e !== slide; e = e.parentElement) {
        z *= parseFloat(getComputedStyle(e).zoom || '1') || 1;
      }
      return z;
    };
    let textPx = 0, tablePx = 0, tables = 0;
    for (const el of slide.querySelectorAll('p, li, dd, dt, blockquote, td, th')) {
      if (el.closest('aside.notes, pre, .deck-licence, .deck-more, .deck-continued')) continue;
      const own = Array.prototype.some.call(el.childNodes,
        n => n.nodeType === 3 && /[\p{L}\p{N}]/u.test(n.textContent));
      if (!own || el.getBoundingClientRect().width === 0) continue;
      const px = parseFloat(getComputedStyle(el).fontSize) * zoomOf(el);
      if (el.closest('table')) tablePx = tablePx ? Math.min(tablePx, px) : px;
      else textPx = textPx ? Math.min(textPx, px) : px;
    }
    for (const t of slide.querySelectorAll('table')) {
      if (!t.closest('aside.notes')) tables += 1;
    }
    const printouts = [];
    for (const pre of slide.querySelectorAll('.jp-OutputArea-output pre')) {
      if (!pre.closest('aside.notes')) printouts.push(pre.textContent);
    }
    const heading = slide.querySelector('h1, h2, h3, h4');
    result.push({
      h: idx.h, v: idx.v || 0,
      title: heading ? heading.textContent.replace('¶', '').trim().slice(0, 60) : '',
      height: Math.round(bottom), scrolls,
      fit_scale: parseFloat(slide.dataset.fitScale || '1'),
      code_blocks: codeBlocks, code_cut: codeCut, maths, maths_cut: mathCut,
      tables_cut: tableCut, figures,
      markers: (text.match(/NBVAL_/g) || []).length + (notes.match(/NBVAL_/g) || []).length,
      notes_chars: notes.length,
      words: (text.match(/\S+/g) || []).length,
      prose_words: proseWords,
      text_px: Math.round(textPx * 10) / 10,
      table_px: Math.round(tablePx * 10) / 10,
      tables, printouts,
    });
  }
  return {width: W, height: H, slides: result};
}
"""

# Code and maths in the ?print-pdf layout (every page at once).
_PRINT_JS = r"""
async ({slack}) => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  if (window.courseDeck && window.courseDeck.ready) { await window.courseDeck.ready; }
  for (let i = 0; i < 100 && !document.querySelector('.pdf-page'); i++) {
    await new Promise(r => setTimeout(r, 50));
  }
  await new Promise(r => setTimeout(r, 200));
  let codeCut = 0, mathCut = 0, pages = 0, tall = 0;
  const H = Reveal.getConfig().height;
  for (const page of document.querySelectorAll('.pdf-page')) {
    pages += 1;
    const pr = page.getBoundingClientRect();
    if (pr.height > 1.5 * H) tall += 1;
    for (const pre of page.querySelectorAll('pre')) {
      if (pre.closest('aside.notes')) continue;
      const r = pre.getBoundingClientRect();
      if (pre.scrollWidth > pre.clientWidth + slack || r.right > pr.right + slack) codeCut += 1;
    }
    for (const mc of page.querySelectorAll('mjx-container[display="true"]')) {
      const m = mc.querySelector('mjx-math') || mc;
      const r = mc.getBoundingClientRect(), q = m.getBoundingClientRect();
      if (q.right > r.right + slack || q.right > pr.right + slack) mathCut += 1;
    }
  }
  return {pages, code_cut: codeCut, maths_cut: mathCut, tall};
}
"""


@dataclass
class SlideAudit:
    """The measurements of one slide (reveal.js indices ``h``/``v``), in slide pixels."""

    h: int
    v: int
    title: str
    height: int
    scrolls: bool
    fit_scale: float
    code_blocks: int
    code_cut: int
    maths: int
    maths_cut: int
    tables_cut: int
    figures: list[int]
    markers: int
    notes_chars: int
    words: int
    prose_words: int = 0
    text_px: float = 0.0
    table_px: float = 0.0
    tables: int = 0
    printouts: int = 0
    printout_tables: int = 0

    def too_tall(self, frame_height: int) -> bool:
        return self.height > frame_height + SLACK_PX or self.scrolls

    def small_figures(self, frame_width: int) -> int:
        return sum(w < MIN_FIGURE_FRACTION * frame_width for w in self.figures)


@dataclass
class DeckAudit:
    """One deck's slides, and its deck-wide checks."""

    deck: str
    width: int
    height: int
    slides: list[SlideAudit]
    speaker_pane: str = ""
    print_pages: int = 0
    print_code_cut: int = 0
    print_maths_cut: int = 0
    print_tall: int = 0
    bad_links: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Counts per deck: slides too tall, with code cut, maths cut, tables cut, small
        figures, over-shrunk slides, markers, slides with notes, and the deck-wide checks."""
        s = self.slides
        return {
            "deck": self.deck,
            "frame": f"{self.width}x{self.height}",
            "slides": len(s),
            "too_tall": sum(x.too_tall(self.height) for x in s),
            "code_cut": sum(x.code_cut > 0 for x in s),
            "maths_cut": sum(x.maths_cut > 0 for x in s),
            "tables_cut": sum(x.tables_cut > 0 for x in s),
            "small_figures": sum(x.small_figures(self.width) for x in s),
            "figures": sum(len(x.figures) for x in s),
            "html_tables": sum(x.tables for x in s),
            "printouts": sum(x.printouts for x in s),
            "printout_tables": sum(x.printout_tables for x in s),
            "max_prose_words": max((x.prose_words for x in s), default=0),
            "over_words": sum(x.prose_words > MAX_SLIDE_WORDS for x in s),
            "min_text_px": min((x.text_px for x in s if x.text_px), default=0),
            "min_table_px": min((x.table_px for x in s if x.table_px), default=0),
            "over_shrunk": sum(x.fit_scale < MIN_FIT_SCALE - 1e-3 for x in s),
            "markers": sum(x.markers for x in s),
            "notes": sum(x.notes_chars > 0 for x in s),
            "notes_coverage": round(sum(x.notes_chars > 0 for x in s) / max(len(s), 1), 3),
            "speaker_pane_on_open": bool(self.speaker_pane.strip()),
            "print_code_cut": self.print_code_cut,
            "print_maths_cut": self.print_maths_cut,
            "print_tall": self.print_tall,
            "bad_links": len(self.bad_links),
        }

    def problems(self) -> dict[str, list[str]]:
        """Each failed check with the slides (``h.v title``) that fail it."""
        def where(pred: Any) -> list[str]:
            return [f"{x.h}.{x.v} {x.title}".strip() for x in self.slides if pred(x)]

        found = {
            "too tall": where(lambda x: x.too_tall(self.height)),
            "code cut": where(lambda x: x.code_cut > 0),
            "maths cut": where(lambda x: x.maths_cut > 0),
            "table cut": where(lambda x: x.tables_cut > 0),
            "small figure": where(lambda x: x.small_figures(self.width) > 0),
            "shrunk below the minimum": where(lambda x: x.fit_scale < MIN_FIT_SCALE - 1e-3),
            "test markers": where(lambda x: x.markers > 0),
            "bad links": list(self.bad_links),
            "too many words": [f"{x.h}.{x.v} {x.title} ({x.prose_words} words)"
                               for x in self.slides if x.prose_words > MAX_SLIDE_WORDS],
            "text too small": where(lambda x: 0 < x.text_px < MIN_TEXT_PX - 0.05),
            "table text too small": where(lambda x: 0 < x.table_px < MIN_TABLE_TEXT_PX - 0.05),
            "printed tables": where(lambda x: x.printout_tables > 0),
        }
        if self.slides and sum(len(x.figures) for x in self.slides) < MIN_DECK_FIGURES:
            found["figures"] = [f"the deck shows {sum(len(x.figures) for x in self.slides)} "
                                f"figures (need {MIN_DECK_FIGURES})"]
        n = len(self.slides)
        with_notes = sum(x.notes_chars > 0 for x in self.slides)
        if n and with_notes / n < MIN_NOTES_COVERAGE:
            found["notes coverage"] = [f"{with_notes}/{n} slides have speaker notes "
                                       f"(need {MIN_NOTES_COVERAGE:.0%})"]
        if not self.speaker_pane.strip():
            found["speaker view"] = ["the notes pane is empty when the speaker view opens"]
        if self.print_code_cut or self.print_maths_cut or self.print_tall:
            found["print-pdf"] = [f"{self.print_code_cut} code blocks and "
                                  f"{self.print_maths_cut} formulas cut, {self.print_tall} "
                                  "slides longer than one page"]
        return {k: v for k, v in found.items() if v}


# ---- links (static) -------------------------------------------------------------------------

class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def bad_links(deck: Path) -> list[str]:
    """Relative links of ``deck`` that do not resolve to a file, or that point at a lesson
    notebook (``NN_name.ipynb``) where the deck ``NN_name.slides.html`` is meant."""
    parser = _Links()
    parser.feed(deck.read_text(encoding="utf-8"))
    bad = []
    for href in parser.hrefs:
        parts = urlsplit(href)
        if parts.scheme or href.startswith(("#", "//")) or not parts.path:
            continue
        path = unquote(parts.path)
        if LESSON_NOTEBOOK.search(path) and "/solutions/" not in path:
            bad.append(f"{href} (a notebook, not a deck)")
        elif not (deck.parent / path).exists():
            bad.append(f"{href} (no such file)")
    return bad


# ---- the browser ----------------------------------------------------------------------------

def find_browser() -> str | None:
    """The Chromium executable to use (``$DECK_BROWSER`` or a system install), or None."""
    env = os.environ.get("DECK_BROWSER")
    for candidate in ([env] if env else []) + list(BROWSERS):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found


def unavailable_reason() -> str | None:
    """Why the browser audit cannot run here (None when it can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright)"
    if find_browser() is None:
        return ("no Chromium found (apt-get install chromium, or set DECK_BROWSER to a "
                "Chromium/Chrome executable)")
    return None


@contextmanager
def browser_context() -> Iterator[Any]:
    """A headless Chromium context (persistent, empty profile) with a :data:`VIEWPORT` window."""
    from playwright.sync_api import sync_playwright

    executable = find_browser()
    if executable is None:
        raise RuntimeError(unavailable_reason() or "no browser")
    profile = tempfile.mkdtemp(prefix="deck-audit-")
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                profile, executable_path=executable, headless=True, args=list(LAUNCH_ARGS),
                viewport={"width": VIEWPORT[0], "height": VIEWPORT[1]})
            try:
                yield ctx
            finally:
                ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


#: Milliseconds a deck may take to load and start (generous: the audit shares busy machines).
LOAD_TIMEOUT_MS: int = 180_000


def _open(ctx: Any, url: str) -> Any:
    page = ctx.new_page()
    page.set_default_timeout(LOAD_TIMEOUT_MS)
    page.goto(url, timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function("window.Reveal && Reveal.isReady && Reveal.isReady()",
                           timeout=LOAD_TIMEOUT_MS)
    return page


def speaker_pane_text(ctx: Any, deck: Path, wait_s: float = SPEAKER_PANE_WAIT_S) -> str:
    """The text of the speaker view's notes pane, ``wait_s`` after pressing ``s`` on a freshly
    opened deck (first slide)."""
    page = _open(ctx, deck.resolve().as_uri())
    try:
        with page.expect_popup(timeout=60000) as info:
            page.keyboard.press("s")
        popup = info.value
        popup.wait_for_load_state()
        popup.wait_for_timeout(int(wait_s * 1000))
        text = popup.evaluate(
            "(() => { const e = document.querySelector('.speaker-controls-notes .value');"
            " return e ? e.innerText : ''; })()")
        popup.close()
        return text or ""
    finally:
        page.close()


def audit_deck(ctx: Any, deck: Path) -> DeckAudit:
    """Measure every slide of ``deck`` (see the module docstring) in the browser ``ctx``."""
    page = _open(ctx, deck.resolve().as_uri())
    try:
        data = page.evaluate(_MEASURE_JS, {"minFigure": MIN_FIGURE_FRACTION,
                                           "minNatural": FIGURE_MIN_NATURAL_PX,
                                           "slack": SLACK_PX})
    finally:
        page.close()
    slides = []
    for raw in data["slides"]:
        printed = raw.pop("printouts", [])
        raw["printouts"] = len(printed)
        raw["printout_tables"] = sum(bool(build_slides.text_tables(t)) for t in printed)
        slides.append(SlideAudit(**raw))
    audit = DeckAudit(deck.name, int(data["width"]), int(data["height"]), slides)
    page = _open(ctx, deck.resolve().as_uri() + "?print-pdf")
    try:
        printed = page.evaluate(_PRINT_JS, {"slack": SLACK_PX})
    finally:
        page.close()
    audit.print_pages = printed["pages"]
    audit.print_code_cut = printed["code_cut"]
    audit.print_maths_cut = printed["maths_cut"]
    audit.print_tall = printed["tall"]
    audit.speaker_pane = speaker_pane_text(ctx, deck)
    audit.bad_links = bad_links(deck)
    return audit


def decks(folder: Path = SLIDES) -> list[Path]:
    """The decks ``NN_name.slides.html`` in ``folder``, sorted."""
    return sorted(folder.glob("[0-9][0-9]_*.slides.html"))


@contextmanager
def fresh_builds(build: bool, commit: str | None = None) -> Iterator[Path]:
    """slides/; or (``build``) a temporary folder beside it holding fresh builds of every lesson
    and links to the vendored assets; or (``commit``) the slides and notebooks folders as
    committed at that revision, in a temporary folder. Removed afterwards."""
    if commit:
        import subprocess

        folder = Path(tempfile.mkdtemp(prefix=".deck-commit-", dir=ROOT))
        try:
            archive = subprocess.run(["git", "archive", commit, "slides", "notebooks"], cwd=ROOT,
                                     capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
            yield folder / "slides"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    if not build:
        yield SLIDES
        return
    folder = Path(tempfile.mkdtemp(prefix=".deck-build-", dir=ROOT))
    try:
        for asset in ("reveal.js", "mathjax"):
            (folder / asset).symlink_to(SLIDES / asset, target_is_directory=True)
        for notebook in build_slides.lessons(ROOT):
            build_slides.build(notebook, folder)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


COLUMNS = ("slides", "max_prose_words", "over_words", "min_text_px", "min_table_px", "figures",
           "html_tables", "printout_tables", "too_tall", "code_cut", "maths_cut", "tables_cut",
           "small_figures", "over_shrunk", "markers", "notes", "speaker_pane_on_open",
           "print_code_cut", "print_maths_cut", "print_tall", "bad_links")


def markdown_table(summaries: list[dict[str, Any]]) -> str:
    """The per-deck counts as a markdown table with a total row."""
    head = "| deck | frame | " + " | ".join(COLUMNS) + " |"
    rows = [head, "|" + "---|" * (len(COLUMNS) + 2)]
    for s in summaries:
        rows.append(f"| {s['deck'].split('.')[0]} | {s['frame']} | "
                    + " | ".join(str(s[c]) for c in COLUMNS) + " |")
    def total(c: str) -> str:
        values = [s[c] for s in summaries]
        if c == "max_prose_words":
            return str(max(values, default=0))
        if c.startswith("min_"):
            return str(min((v for v in values if v), default=0))
        return str(sum(int(v) for v in values))

    rows.append("| **all** | | " + " | ".join(total(c) for c in COLUMNS) + " |")
    return "\n".join(rows)


def provenance(argv: list[str]) -> dict[str, Any]:
    """What produced a record: the command, the repository commit (and whether decks differ
    from it), the browser and the date."""
    import datetime
    import subprocess

    def git(*cmd: str) -> str:
        try:
            return subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True,
                                  check=False).stdout.strip()
        except OSError:
            return ""

    browser = find_browser() or ""
    try:
        version = subprocess.run([browser, "--version"], capture_output=True, text=True,
                                 check=False).stdout.strip() if browser else ""
    except OSError:
        version = ""
    return {
        "command": "python tools/deck_audit.py " + " ".join(argv),
        "commit": git("rev-parse", "HEAD"),
        "decks_audited": (f"as committed at {git('rev-parse', argv[argv.index('--at-commit') + 1])}"
                          if "--at-commit" in argv else
                          "fresh builds of the notebooks in the working tree"
                          if "--build-first" in argv else "slides/ in the working tree"),
        "decks_modified_since_commit": bool(git("status", "--porcelain", "--", "slides/")),
        "notebooks_modified_since_commit": bool(git("status", "--porcelain", "--", "notebooks/")),
        "browser": version,
        "viewport": list(VIEWPORT),
        "date": datetime.date.today().isoformat(),
    }


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("decks", nargs="*", type=Path, help="default: every deck in slides/")
    parser.add_argument("--json", type=Path, help="write the per-slide figures here")
    parser.add_argument("--slides", action="store_true", help="also list every failing slide")
    parser.add_argument("--build-first", action="store_true",
                        help="audit fresh builds of the lesson notebooks (in a temporary folder "
                             "beside slides/) instead of the committed decks")
    parser.add_argument("--at-commit", metavar="REV",
                        help="audit the decks as committed at REV (git), e.g. the figures "
                             "before a change")
    parser.add_argument("--record", type=Path,
                        help="write the per-deck counts with their provenance (command, commit, "
                             "browser, date) to this JSON file, e.g. slides/audit/after.json")
    argv_list = list(argv) if argv is not None else sys.argv[1:]
    args = parser.parse_args(argv_list)
    reason = unavailable_reason()
    if reason:
        print(f"cannot audit the decks: {reason}", file=sys.stderr)
        return 2
    audits = []
    with fresh_builds(args.build_first, args.at_commit) as folder:
        paths = args.decks or decks(folder)
        with browser_context() as ctx:
            for deck in paths:
                audits.append(audit_deck(ctx, deck))
    summaries = [a.summary() for a in audits]
    print(f"viewport {VIEWPORT[0]}x{VIEWPORT[1]}; figures must be >= {MIN_FIGURE_FRACTION:.0%} "
          f"of the slide width; notes on >= {MIN_NOTES_COVERAGE:.0%} of slides")
    print(markdown_table(summaries))
    if args.slides:
        for a in audits:
            for check, where in a.problems().items():
                print(f"{a.deck}: {check}: {'; '.join(where)}")
    if args.record:
        args.record.parent.mkdir(parents=True, exist_ok=True)
        args.record.write_text(json.dumps(
            {"provenance": provenance(argv_list), "summaries": summaries,
             "problems": {a.deck: a.problems() for a in audits}}, indent=1) + "\n",
            encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps({"viewport": VIEWPORT, "decks": [
            {"summary": a.summary(), "slides": [asdict(s) for s in a.slides],
             "bad_links": a.bad_links} for a in audits]}, indent=1) + "\n", encoding="utf-8")
    return 0 if not any(a.problems() for a in audits) else 1


if __name__ == "__main__":
    sys.exit(main())

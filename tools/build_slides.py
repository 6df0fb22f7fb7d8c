"""Build one reveal.js deck per lesson notebook, from the notebook's own cells.

Usage::

    python tools/build_slides.py                 # build slides/NN_*.slides.html for every lesson
    python tools/build_slides.py notebooks/03_feature_conditions.ipynb
    python tools/build_slides.py --check         # exit 1 if a committed deck is missing or stale
    python tools/build_slides.py --lint          # what a lesson still needs for its deck

The slides are the notebook: nbconvert's SlidesExporter reads each cell's
``slideshow.slide_type`` ("slide", "subslide", "fragment", "skip", "notes"), so text and slides
cannot drift. The notebook keeps the full text; the deck shows what a lecture needs.

What a notebook author controls (cell metadata; see ``slides/README.md``):

- ``slideshow.slide_type``: "slide" for a section, "subslide" for a slide below it, "fragment"
  for a step that appears on a key press, "skip" for plumbing (imports, helpers), "notes" for
  the lecturer's notes of the slide the cell sits on.
- A notes cell is a markdown cell that starts with :data:`NOTE_LABEL`, written as a quote
  (``> **Lecturer's note.** ...``), so a student reading the notebook sees at once that it is
  not lesson text. The deck shows it only in the speaker view, without the label.
- Tags: ``deck-skip`` (leave the cell out of the deck, like "skip"), ``hide-input`` (show only
  the output, e.g. the figure of a plotting cell), ``hide-output`` (show only the code),
  ``remove-cell`` (leave out), plus ``badges``/``colab-setup`` (always left out).
- The lesson's shape (CONTRIBUTING.md, "A lesson tells its story first"): the cells of a "How
  sure are we?" section (tag ``rigour``) become ONE slide, its heading and what it checks (its
  sub-headings and bold lead-ins), with "Details in the notebook" and a lecturer's note that says
  what the notebook holds there (:func:`rigour_sections`); the ``**Takeaway.**`` cell and the
  printed sentences of the ``what-we-found`` code cell each get a slide of their own
  (:func:`own_slides`, :func:`found_cells`).
- ``deck`` (a dict): ``{"summary": "markdown"}`` shows this text on the slide instead of the
  cell (a long table or a long computation summarised in a sentence); ``max_lines`` (code
  lines shown), ``max_output_lines`` (text output lines), ``max_rows`` (table rows) override the
  limits below for that cell.

What the build does by itself:

- keeps every slide at most :data:`SPLIT_WORDS` words of prose (:func:`prose_words`; the audit
  allows :data:`MAX_SLIDE_WORDS`) and, by its estimate, within :data:`SLIDE_BODY_PX`: a longer
  slide is continued on slides below it, "<section title> (continued)", cut between cells,
  paragraphs, list items or sentences into as few and as even parts as it can
  (:func:`words_per_slide`);
- shows a table a cell prints (a markdown table, or ``maxent_lib.tables.format_table``'s plain
  output) as an HTML table, like a displayed markdown table, not as a monospace printout
  (:func:`tables_from_printouts`);
- removes test markers (``# NBVAL_...``) from code, stderr streams (warnings) and widgets;
- shortens long code, text output and tables to :data:`MAX_CODE_LINES`,
  :data:`MAX_OUTPUT_LINES` and :data:`MAX_TABLE_ROWS`, with a line saying how much more the
  notebook holds;
- shows every figure as large as fits in :data:`FIGURE_MAX_WIDTH` x :data:`FIGURE_MAX_HEIGHT`
  slide pixels and never narrower than :data:`FIGURE_MIN_FRACTION` of the slide (figures drawn
  in the course style, 16:9 at 110 dpi, are shown at about their natural size);
- rewrites links: a lesson notebook ``NN_name.ipynb`` becomes its deck ``NN_name.slides.html``,
  any other relative link is made relative to the deck's folder;
- adds an outline of the lesson (its ``##`` sections) and its measured run time to the speaker
  notes of the title slide, so the speaker view has notes from the first slide on;
- puts a licence line at the foot of the title slide (:data:`LICENCE_LINE`: the text, figures
  and slides under CC BY 4.0, ``LICENSE-CONTENT.md``; the code under MIT);
- sizes the deck for a 1280x720 frame (:data:`FRAME`) with text a back row can read
  (:data:`BODY_TEXT_PX`, :data:`TABLE_TEXT_PX`, :data:`CODE_TEXT_PX`); a script in the deck
  (``tools/slides_template/course_reveal/deck_fit.js``) fits each slide when the deck opens:
  scales display formulas and tables that are too wide, zooms out a slide that is too tall
  (down to :data:`SPLIT_BELOW`), splits it into continuation slides when that is not enough, and
  zooms each part down to :data:`MIN_FIT_SCALE` at most. Code wraps rather than being cut.

Offline by design: reveal.js (``slides/reveal.js/``) and MathJax 3 (``slides/mathjax/``) are
vendored and referenced by relative paths, through the course's template
(``tools/slides_template/course_reveal``), which drops nbconvert's CDN scripts. After the export,
:func:`external_urls` lists any ``http(s)`` script or stylesheet left; the build fails if there is
one. Large ``<style>`` and ``<script>`` blocks go to ``slides/css/<hash>.css`` and
``slides/js/<hash>.js``, shared by all decks.

Stored outputs come from ``python tools/run_notebooks.py``; rebuild the decks after it
(``--rev HEAD`` builds from the notebooks as committed, leaving edits in progress out).
``tools/deck_audit.py`` measures the decks in a real browser against the limits below.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import json
import os
import re
import struct
import sys
import time
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
from nbconvert import SlidesExporter
from nbconvert.preprocessors import TagRemovePreprocessor

ROOT = Path(__file__).resolve().parents[1]
SLIDES = ROOT / "slides"
NOTEBOOKS = ROOT / "notebooks"
TIMINGS = ROOT / "results" / "timings.json"
TEMPLATE_DIR = Path(__file__).resolve().parent / "slides_template"
TEMPLATE_NAME = "course_reveal"
REVEAL_PREFIX = "reveal.js"  # relative to the deck, i.e. slides/reveal.js/
MATHJAX_URL = "mathjax/es5/tex-chtml.js"  # relative to the deck
LESSON_GLOB = "[0-9][0-9]_*.ipynb"
LESSON_FILE = re.compile(r"^(?:\./)?(\d\d_[\w-]+)\.ipynb$")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
CSS_DIR = "css"  # relative to the deck
JS_DIR = "js"  # relative to the deck
INLINE_LIMIT = 2000  # characters; larger <style> and <script> blocks go to a shared file
STYLE_BLOCK = re.compile(r"<style([^>]*)>(.*?)</style>", flags=re.S)
#: a plain inline script (no ``src``, no ``type``: JavaScript, not data such as widget state)
SCRIPT_BLOCK = re.compile(r"<script>(.*?)</script>", flags=re.S)

# ---- the deck's limits (one place: tools/deck_audit.py and the tests read them from here) ----
#: The slide frame (reveal.js width x height), a common projector resolution.
FRAME: tuple[int, int] = (1280, 720)
#: Body text (paragraphs, lists) in slide pixels; headings are larger (``deck.css``).
BODY_TEXT_PX: int = 30
#: Tables (results tables included) and code in slide pixels.
TABLE_TEXT_PX: int = 26
CODE_TEXT_PX: int = 20
#: The fitting never zooms a slide out further than this (body text stays >= MIN_TEXT_PX).
MIN_FIT_SCALE: float = 0.94
#: A slide that needs more zoom-out than this is split into continuation slides instead.
SPLIT_BELOW: float = 0.97
#: A table that is too wide is scaled down to at most this.
MIN_TABLE_SCALE: float = 0.8
#: Smallest body text and table text a slide may show, zoom included (checked by the audit).
MIN_TEXT_PX: float = 28.0
MIN_TABLE_TEXT_PX: float = 20.0
#: Words of prose on one slide (paragraphs, lists, headings; not code, tables or display maths):
#: the audit's limit, and the build's target when it continues a slide on the next one.
MAX_SLIDE_WORDS: int = 100
SPLIT_WORDS: int = 90
#: What the summary slide of a "How sure are we?" section lists at most.
RIGOUR_ITEMS: int = 6
RIGOUR_ITEM_WORDS: int = 12
#: The height (slide pixels) the build fills on one slide before it continues on the next (an
#: estimate made from the cells; the deck's fitting measures the slide in the browser).
SLIDE_BODY_PX: int = 680
#: A figure must be shown at least this wide (fraction of the slide; checked by the audit).
MIN_FIGURE_FRACTION: float = 0.5
#: Figures are built at least this wide (fraction of the slide width), so that they stay above
#: MIN_FIGURE_FRACTION even on a slide zoomed out to MIN_FIT_SCALE...
FIGURE_MIN_FRACTION: float = round(MIN_FIGURE_FRACTION / MIN_FIT_SCALE + 0.01, 2)
#: ... at most as wide as the slide's text column (pixels)...
FIGURE_MAX_WIDTH: int = 1200
#: ... and at most this tall (pixels), unless that would make them narrower than the minimum.
FIGURE_MAX_HEIGHT: int = 560
#: Images narrower than this (natural pixels) are icons, left as they are.
FIGURE_MIN_NATURAL_PX: int = 200
#: Share of slides that must carry speaker notes (checked by the audit).
MIN_NOTES_COVERAGE: float = 0.75
#: Figures a deck shows at least (checked by the audit): every lesson has a figure.
MIN_DECK_FIGURES: int = 1
#: Default limits of what one cell shows on a slide (the ``deck`` metadata overrides them).
MAX_CODE_LINES: int = 16
MAX_OUTPUT_LINES: int = 16
MAX_TABLE_ROWS: int = 12
#: Columns of a code line before it wraps (the deck's monospace size fits this many).
CODE_COLUMNS: int = 96

#: Lessons whose notebooks have not yet had the deck pass (notes on 3 of 4 slides, lecturer's
#: note labels, deck metadata, the generated Time line) and whose committed decks were built by
#: an older version of this tool. ``--check`` reports their decks as pending instead of failing,
#: and the tests mark their deck checks as expected failures (strict: a lesson that passes must
#: leave this list). Remove a lesson once its notebook is done, re-run and its deck rebuilt.
PENDING_LESSONS: frozenset[str] = frozenset()

#: Cells with these tags are never on a slide.
SKIP_TAGS = {"badges", "colab-setup", "deck-skip"}
#: The label that opens a lecturer's note (a markdown cell of slide type "notes").
NOTE_LABEL = "**Lecturer's note.**"
#: Labels that older notes used; stripped in the deck like NOTE_LABEL.
_NOTE_LABELS = re.compile(
    r"^\s*(?:\*\*)?(?:lecturer'?s note|speaker notes?|note for the lecturer)[.:]?(?:\*\*)?"
    r"[.:]?\s*", flags=re.IGNORECASE)
_NBVAL = re.compile(r"^[ \t]*#[ \t]*NBVAL_\w+[^\n]*(?:\n|$)", flags=re.MULTILINE)
_NBVAL_INLINE = re.compile(r"[ \t]*#[ \t]*NBVAL_\w+")
_TIME_LINE = re.compile(r"^[\s\-*_>]*time[\s*_]*:", flags=re.IGNORECASE)


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


def slide_type(cell: nbformat.NotebookNode) -> str:
    """The cell's ``slideshow.slide_type`` ("-" when unset)."""
    return cell.metadata.get("slideshow", {}).get("slide_type", "-") or "-"


def _deck_meta(cell: nbformat.NotebookNode) -> dict[str, Any]:
    meta = cell.metadata.get("deck", {})
    return meta if isinstance(meta, dict) else {}


# ---- lecturer's notes -----------------------------------------------------------------------

def is_note(cell: nbformat.NotebookNode) -> bool:
    """True for a lecturer's note: a markdown cell of slide type "notes"."""
    return cell.cell_type == "markdown" and slide_type(cell) == "notes"


def note_text(source: str) -> str:
    """The text of a lecturer's note as the speaker view shows it: without the quote marks and
    without the label (:data:`NOTE_LABEL`, or an older "Speaker notes:")."""
    lines = source.strip("\n").splitlines()
    if lines and all(line.startswith(">") or not line.strip() for line in lines):
        lines = [re.sub(r"^>\s?", "", line) for line in lines]
    return _NOTE_LABELS.sub("", "\n".join(lines).strip(), count=1).strip()


def format_note(text: str) -> str:
    """A lecturer's note as it is written in the notebook: a quote that opens with the label."""
    body = note_text(text)
    return "\n".join("> " + line if line.strip() else ">"
                     for line in f"{NOTE_LABEL} {body}".splitlines())


def note_problems(nb: nbformat.NotebookNode) -> list[str]:
    """Notes cells that a student could take for lesson text (no label, not a quote), and
    notes on code cells (they would show their code in the notebook)."""
    found = []
    for i, cell in enumerate(nb.cells):
        if slide_type(cell) != "notes":
            continue
        if cell.cell_type != "markdown":
            found.append(f"cell {i}: a notes cell must be markdown")
        elif not cell.source.lstrip().startswith("> " + NOTE_LABEL):
            found.append(f"cell {i}: a lecturer's note must start with '> {NOTE_LABEL}' "
                         f"(found {cell.source.strip()[:40]!r})")
    return found


# ---- shortening what a slide shows ----------------------------------------------------------

def strip_markers(source: str) -> str:
    """Code without test markers (``# NBVAL_CHECK_OUTPUT`` lines and trailing markers)."""
    return _NBVAL_INLINE.sub("", _NBVAL.sub("", source))


def visual_lines(text: str, columns: int = CODE_COLUMNS) -> int:
    """Lines ``text`` takes once lines longer than ``columns`` wrap."""
    return sum(max(1, -(-len(line) // columns)) for line in text.splitlines())


def shorten_code(source: str, limit: int) -> str:
    """At most ``limit`` lines of code; the rest replaced by a comment that says how many."""
    lines = source.rstrip("\n").splitlines()
    if len(lines) <= limit:
        return source
    keep = max(limit - 1, 1)
    return "\n".join(lines[:keep] + [f"# ... {len(lines) - keep} more lines in the notebook"])


def shorten_text(text: str, limit: int) -> str:
    """At most ``limit`` (wrapped) lines of text output, then a line that says how many more."""
    lines = text.rstrip("\n").splitlines()
    if visual_lines(text) <= limit:
        return text
    kept: list[str] = []
    used = 0
    for line in lines:
        cost = visual_lines(line) if line else 1
        if used + cost > limit - 1:
            break
        kept.append(line)
        used += cost
    kept = kept or lines[:1]
    return "\n".join(kept + [f"... {len(lines) - len(kept)} more lines in the notebook"]) + "\n"


def shorten_markdown_tables(text: str, limit: int) -> str:
    """Markdown tables cut to ``limit`` body rows, with a last row saying how many more."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        if (lines[i].lstrip().startswith("|") and i + 1 < len(lines)
                and re.match(r"^\s*\|?[\s:|-]+\|[\s:|-]*$", lines[i + 1])):
            j = i + 2
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                j += 1
            body = lines[i + 2:j]
            out += lines[i:i + 2]
            if len(body) > limit:
                cols = max(lines[i].strip().strip("|").count("|") + 1, 1)
                more = len(body) - (limit - 1)
                out += body[:limit - 1]
                out.append("| *... " + f"{more} more rows in the notebook*" + " |" * cols)
            else:
                out += body
            i = j
        else:
            out.append(lines[i])
            i += 1
    return "\n".join(out)


_TR = re.compile(r"<tr\b.*?</tr>", flags=re.S | re.I)


def shorten_html_tables(html: str, limit: int) -> str:
    """HTML tables (e.g. pandas) cut to ``limit`` body rows, with a row saying how many more."""

    def body(match: re.Match[str]) -> str:
        rows = _TR.findall(match.group(2))
        if len(rows) <= limit:
            return match.group(0)
        cols = max(rows[0].lower().count("<td") + rows[0].lower().count("<th"), 1)
        more = len(rows) - (limit - 1)
        note = (f'<tr><td colspan="{cols}" class="deck-more">... {more} more rows in the '
                "notebook</td></tr>")
        return match.group(1) + "".join(rows[:limit - 1]) + note + match.group(3)

    return re.sub(r"(<tbody[^>]*>)(.*?)(</tbody>)", body, html, flags=re.S | re.I)


# ---- figures --------------------------------------------------------------------------------

def png_size(data: str) -> tuple[int, int] | None:
    """Width and height (pixels) of a base64 PNG, read from its header; None if not a PNG."""
    try:
        head = base64.b64decode(data[:64] if isinstance(data, str) else "", validate=False)
    except (ValueError, TypeError):
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def figure_size(width: float, height: float) -> tuple[int, int]:
    """The size (slide pixels) at which a figure of natural ``width`` x ``height`` is shown: as
    large as fits in :data:`FIGURE_MAX_WIDTH` x :data:`FIGURE_MAX_HEIGHT` (a figure is read from
    the back of the room), but never narrower than :data:`FIGURE_MIN_FRACTION` of the slide."""
    lo = FIGURE_MIN_FRACTION * FRAME[0]
    w = max(min(float(FIGURE_MAX_WIDTH), FIGURE_MAX_HEIGHT * width / height), lo)
    return round(w), round(w * height / width)


def size_figures(outputs: list[Any]) -> None:
    """Set the display width and height of every PNG figure in ``outputs`` (in place)."""
    for out in outputs:
        data = out.get("data", {})
        if "image/png" not in data:
            continue
        natural = png_size(data["image/png"])
        if natural is None:
            continue
        meta = out.setdefault("metadata", {}).setdefault("image/png", {})
        width = float(meta.get("width") or natural[0])  # retina PNGs state their CSS width
        height = float(meta.get("height") or natural[1] * width / natural[0])
        if natural[0] < FIGURE_MIN_NATURAL_PX:
            continue
        meta["width"], meta["height"] = figure_size(width, height)


# ---- timings and the title slide's notes ----------------------------------------------------

def read_timings(path: Path = TIMINGS) -> dict[str, Any]:
    """The timing table written by ``tools/run_notebooks.py`` ({} when there is none)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def outline_note(nb: nbformat.NotebookNode, name: str, timings: dict[str, Any]) -> str:
    """Notes for the title slide: the lesson's sections (its ``##`` headings) and, when
    measured, its run time in the quick profile."""
    heads = [m.group(1).strip() for c in nb.cells if c.cell_type == "markdown"
             and slide_type(c) not in ("skip", "notes")
             for m in re.finditer(r"^##\s+(.+)$", c.source, flags=re.MULTILINE)]
    parts = ["**Outline:** " + " · ".join(heads) + "." if heads else ""]
    entry = timings.get("runs", {}).get(f"{name}.ipynb", {}).get("quick")
    if entry:
        parts.append(f"**Quick-profile run:** {entry['seconds']:.0f} s on {entry['machine']} "
                     "(tools/run_notebooks.py).")
    return "\n\n".join(p for p in parts if p)


# ---- printed tables become real tables ------------------------------------------------------

_PIPE_SEP = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
#: A table cell that holds a number (or a number with its interval): right-aligned.
_NUMERIC_CELL = re.compile(r"^(?:[-+\u2212]?\d[\d.,]*(?:e[-+]?\d+)?%?)?(?:\s*\[[-+\d., e]+\])?"
                           r"(?:\s*\([-+\d., e]+\))?$", flags=re.I)


def _aligned_columns(block: list[str]) -> list[tuple[int, int]]:
    """The column spans of a block of lines (its first line a header or a row): runs of
    positions blank in every line (inside the text, not at its edges) separate columns. A run of
    one blank separates two columns only where both have a header and the right one holds
    numbers (``%7.4f``-style columns); elsewhere it is a space inside a cell."""
    width = max(len(line) for line in block)
    blank = [all(p >= len(line) or line[p] == " " for line in block) for p in range(width)]
    gaps, p = [], 0
    while p < width:
        if not blank[p]:
            p += 1
            continue
        q = p
        while q < width and blank[q]:
            q += 1
        if p > 0 and q < width:
            gaps.append((p, q))
        p = q
    bounds = [0] + [x for gap in gaps for x in gap] + [width]
    spans = list(zip(bounds[::2], bounds[1::2], strict=True))

    def keeps(k: int) -> bool:  # the gap between spans k - 1 and k separates columns
        (a, b), (c, d) = spans[k - 1], spans[k]
        if c - b >= 2:
            return True
        left, right = block[0][a:b].strip(), block[0][c:d].strip()
        return bool(left and right and not re.match(r"^[-+(\[]?\d", right)) and all(
            _NUMERIC_CELL.match(line[c:d].strip()) for line in block[1:] if line[c:d].strip())

    merged = [spans[0]]
    for k in range(1, len(spans)):
        if keeps(k):
            merged.append(spans[k])
        else:
            merged[-1] = (merged[-1][0], spans[k][1])
    return merged


def _aligned_rows(block: list[str]) -> list[list[str]] | None:
    """The cells of ``block`` when it is an aligned table (at least three columns, at least two
    filled cells in every line), else None."""
    spans = _aligned_columns(block)
    if len(spans) < 3:
        return None
    rows = [[line[a:b].strip() for a, b in spans] for line in block]
    return rows if all(sum(bool(c) for c in row) >= 2 for row in rows) else None


def _has_header(rows: list[list[str]]) -> bool:
    """A first row of labels: at least two, each of at most four words, fewer than half of
    them with a digit, above rows where most cells hold one (``setting  seeds  effect  95%
    interval``)."""
    def digits(row: list[str]) -> float:
        return sum(bool(re.search(r"\d", c)) for c in row) / max(len(row), 1)
    head = [c for c in rows[0] if c]
    return (len(rows) > 1 and len(head) >= 2 and all(len(c.split()) <= 4 for c in head)
            and digits(rows[0]) < 0.5 and max(digits(r) for r in rows[1:]) >= 0.5)


def text_tables(text: str) -> list[tuple[int, int, list[list[str]], bool]]:
    """The tables printed in ``text``: markdown pipe tables, and blocks of at least three lines
    aligned in at least three columns under a row of labels (``maxent_lib.tables.format_table``'s
    plain output). Each as (first line, line after the last, rows of cells, whether the first
    row is a header)."""
    lines = text.expandtabs().split("\n")
    found: list[tuple[int, int, list[list[str]], bool]] = []
    i = 0
    while i < len(lines):
        if (lines[i].lstrip().startswith("|") and i + 1 < len(lines)
                and _PIPE_SEP.match(lines[i + 1])):
            j = i + 2
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                j += 1
            rows = [[c.strip().replace("\\|", "|") for c in
                     re.split(r"(?<!\\)\|", line.strip().strip("|"))]
                    for k, line in enumerate(lines[i:j]) if k != 1]
            found.append((i, j, rows, True))
            i = j
            continue
        block = lines[i:i + 3]
        rows = (_aligned_rows(block) if len(block) == 3 and all(s.strip() for s in block)
                else None)
        if rows is None:
            i += 1
            continue
        j = i + 3
        while j < len(lines) and lines[j].strip():
            longer = _aligned_rows(lines[i:j + 1])
            if longer is None or len(longer[0]) != len(rows[0]):
                break
            rows, j = longer, j + 1
        if not _has_header(rows):  # columns without labels: a report, not a table
            i += 1
            continue
        found.append((i, j, rows, True))
        i = j
    return found


def table_html(rows: list[list[str]], header: bool) -> str:
    """Rows of cells as an HTML table of the deck (numbers right-aligned; no MathJax)."""
    import html as _html

    def cell(tag: str, value: str) -> str:
        cls = ' class="num"' if tag == "td" and value and _NUMERIC_CELL.match(value) else ""
        return f"<{tag}{cls}>{_html.escape(value)}</{tag}>"

    head = ("<thead><tr>" + "".join(cell("th", v) for v in rows[0]) + "</tr></thead>"
            if header else "")
    body = "".join("<tr>" + "".join(cell("td", v) for v in r) + "</tr>"
                   for r in (rows[1:] if header else rows))
    return f'<table class="deck-table deck-plain">{head}<tbody>{body}</tbody></table>'


def _printed_output(lines: list[str]) -> list[Any]:
    """Lines printed around a table, as a short text in the slide's font (no output if blank)."""
    import html as _html

    kept = [line.strip() for line in lines if line.strip()]
    if not kept:
        return []
    body = "".join(f"<p>{_html.escape(line)}</p>" for line in kept)
    return [nbformat.v4.new_output("display_data", data={
        "text/html": f'<div class="deck-printed deck-plain">{body}</div>',
        "text/plain": "\n".join(kept)})]


def _plain_text(out: Any) -> str | None:
    """The text of a printed output (stdout, or a result with only a text/plain form)."""
    if out.get("output_type") == "stream":
        return out.get("text", "") if out.get("name") == "stdout" else None
    data = out.get("data", {})
    if out.get("output_type") in ("display_data", "execute_result") and set(data) == {
            "text/plain"}:
        text = data["text/plain"]
        return "".join(text) if isinstance(text, list) else text
    return None


def tables_from_printouts(outputs: list[Any]) -> list[Any]:
    """``outputs`` with every table printed as text (see :func:`text_tables`) shown as an HTML
    table; the lines printed around it stay with it, in the slide's font."""
    new: list[Any] = []
    for out in outputs:
        text = _plain_text(out)
        found = text_tables(text) if text else []
        if not found:
            new.append(out)
            continue
        lines = text.expandtabs().split("\n")
        pos = 0
        for start, end, rows, header in found:
            new += _printed_output(lines[pos:start])
            new.append(nbformat.v4.new_output("display_data", data={
                "text/html": table_html(rows, header),
                "text/plain": "\n".join(lines[start:end])}))
            pos = end
        new += _printed_output(lines[pos:])
    return new


# ---- words of prose -------------------------------------------------------------------------

_FENCE = re.compile(r"^[ \t]*(```|~~~).*?^[ \t]*\1[^\n]*$", flags=re.S | re.M)
_DISPLAY_MATH = re.compile(r"\$\$.*?\$\$|\\\[.*?\\\]|\\begin\{(\w+\*?)\}.*?\\end\{\1\}",
                           flags=re.S)
_DISPLAY_MATH_SPLIT = re.compile(r"(\$\$.*?\$\$)", flags=re.S)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)(?:\\.|[^$\\\n])+\$|\\\(.*?\\\)")
_WORD = re.compile(r"[^\W_]")


def prose_words(text: str) -> int:
    """Words of prose in markdown (or HTML): paragraphs, lists and headings; not code, tables or
    display maths; an inline formula counts as one word. The deck audit counts the same way on
    the rendered slide."""
    text = _FENCE.sub(" ", text)
    text = re.sub(r"<(table|style|script|pre)\b.*?</\1>", " ", text, flags=re.S | re.I)
    text = _DISPLAY_MATH.sub(" ", text)
    text = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("|"))
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = _INLINE_MATH.sub(" x ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return sum(1 for token in text.split() if _WORD.search(token))


def _tags(cell: nbformat.NotebookNode) -> set[str]:
    return set(cell.metadata.get("tags", []))


def cell_words(cell: nbformat.NotebookNode) -> int:
    """Words of prose ``cell`` puts on a slide (:func:`prose_words`): a markdown cell's text,
    a code cell's markdown and HTML outputs (not its code or printed text)."""
    if is_note(cell) or "deck-continued" in _tags(cell):
        return 0
    if cell.cell_type == "markdown":
        return prose_words(cell.source)
    if cell.cell_type != "code" or "hide-output" in _tags(cell):
        return 0
    return sum(output_words(out) for out in cell.get("outputs", []))


def output_words(out: Any) -> int:
    """Words of prose of one output: its HTML or markdown text (printed text is not prose)."""
    data = out.get("data", {})
    if "text/html" in data:
        return prose_words(_text(data["text/html"]))
    if "text/markdown" in data:
        return prose_words(_text(data["text/markdown"]))
    return 0


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


# ---- "How sure are we?" sections, the Takeaway, "What we found" ----------------------------

RIGOUR_TAG = "rigour"
FOUND_TAG = "what-we-found"
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_BOLD_LEAD = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?\*\*(.+?)\*\*")


def _new_md(source: str, like: nbformat.NotebookNode | None, cid: str, kind: str,
            tags: Iterable[str] = ()) -> nbformat.NotebookNode:
    """A markdown cell the build adds (id: ``cid`` and the id of the cell it stands for)."""
    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata["slideshow"] = {"slide_type": kind}
    cell.metadata["tags"] = list(tags)
    cell["id"] = cid + ("-" + str(like.get("id", "")) if like is not None else "")
    return cell


def _plain_words(text: str, limit: int) -> str:
    """``text`` without markdown emphasis, cut to ``limit`` words."""
    text = re.sub(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)", "", text).strip()
    words = text.split()
    return " ".join(words[:limit]) + (" ..." if len(words) > limit else "")


def rigour_items(section: list[nbformat.NotebookNode]) -> list[str]:
    """What a "How sure are we?" section checks: its sub-headings and the bold lead-ins of its
    paragraphs and list items, in order; without them, the first sentence of each paragraph."""
    items: list[str] = []
    firsts: list[str] = []
    for n, cell in enumerate(section):
        if cell.cell_type != "markdown" or is_note(cell):
            continue
        blocks = markdown_blocks(cell.source)
        if n == 0 and blocks and _HEADING.match(blocks[0].split("\n")[0]):
            blocks[0] = "\n".join(blocks[0].split("\n")[1:])
        for block in blocks:
            for k, line in enumerate(block.split("\n")):
                head = _HEADING.match(line)
                starts = k == 0 or _ITEM.match(line.lstrip())  # a paragraph's or an item's start
                lead = _BOLD_LEAD.match(line) if starts else None
                if head:
                    items.append(head.group(2))
                elif lead:
                    items.append(lead.group(1).rstrip(" .:"))
            text = _DISPLAY_MATH.sub(" ", block).strip()
            if text and not _HEADING.match(text) and not text.startswith("|"):
                firsts.append(_sentences(" ".join(text.split()))[0])
    chosen = items or firsts
    seen: list[str] = []
    for item in chosen:
        item = _plain_words(item, RIGOUR_ITEM_WORDS)
        if item and item not in seen:
            seen.append(item)
    return seen


def rigour_summary(section: list[nbformat.NotebookNode]) -> list[nbformat.NotebookNode]:
    """A "How sure are we?" section (cells tagged ``rigour``) as ONE slide: its heading, a short
    list of what it checks (:func:`rigour_items`) and where the details are; the lecturer's
    note says what the notebook holds, followed by the section's own notes."""
    head = section[0]
    first = head.source.lstrip().split("\n")[0] if head.cell_type == "markdown" else ""
    heading = first if _HEADING.match(first) else "### How sure are we?"
    items = rigour_items(section)
    shown = items[:RIGOUR_ITEMS]
    more = len(items) - len(shown)
    lines = [heading, "", "What this section of the notebook checks:", ""]
    lines += [f"- {item}" for item in shown]
    if more:
        lines.append(f"- ... and {more} more")
    lines += ["", "*Details in the notebook: these cells are collapsed there; a click opens "
              "them.*"]
    kind = slide_type(head) if slide_type(head) in ("slide", "subslide") else "subslide"
    summary = _new_md("\n".join(lines), head, "rigour", kind, ["deck-rigour"])
    title = _HEADING.match(heading).group(2)
    code = sum(c.cell_type == "code" for c in section)
    figures = sum("image/png" in o.get("data", {}) for c in section if c.cell_type == "code"
                  for o in c.get("outputs", []))
    what = f"{len(section)} cells: {code} code cells" + (
        f", {figures} figure{'s' if figures > 1 else ''}" if figures else "")
    note_lines = [f"This slide summarises the notebook's section \"{title}\" ({what}), collapsed "
                  "there under its heading: the checks, their output and the details are in "
                  "the notebook, not on the slides."]
    note_lines += [note_text(c.source) for c in section if is_note(c)]
    note = _new_md("\n\n".join(note_lines), head, "rigour-note", "notes")
    return [summary, note]


def rigour_sections(cells: list[nbformat.NotebookNode]) -> list[nbformat.NotebookNode]:
    """``cells`` with every run of cells tagged ``rigour`` replaced by its summary slide
    (:func:`rigour_summary`); the cell after a section starts a new slide."""
    out: list[nbformat.NotebookNode] = []
    i = 0
    after = False
    while i < len(cells):
        if RIGOUR_TAG not in _tags(cells[i]):
            cell = cells[i]
            if after and not is_note(cell) and not _left_out(cell):
                if slide_type(cell) in ("-", "fragment"):
                    cell.metadata.setdefault("slideshow", {})["slide_type"] = "subslide"
                    cell.metadata["deck_continued"] = True
                after = False
            out.append(cell)
            i += 1
            continue
        j = i
        while j < len(cells) and RIGOUR_TAG in _tags(cells[j]):
            j += 1
        out += rigour_summary(cells[i:j])
        after = True
        i = j
    return out


def _left_out(cell: nbformat.NotebookNode) -> bool:
    return bool(_tags(cell) & (SKIP_TAGS | {"remove-cell"})) or slide_type(cell) == "skip"


def _escape_printed(text: str) -> str:
    import html as _html

    return _html.escape(text.strip())


def found_cells(cell: nbformat.NotebookNode, heading: bool) -> list[nbformat.NotebookNode]:
    """The ``what-we-found`` code cell as the deck shows it: its printed sentences as text (one
    list item per printed ``- `` line, a paragraph per other line) under "What we found" (unless
    the lesson's own heading stands just before it); its other outputs (figures, tables) after
    them, without the code."""
    text = "".join(_text(o.get("text", "")) for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")
    items: list[list[str]] = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        bullet = re.match(r"^\s*[-*\u2022]\s+(.*)$", line)
        if bullet:
            items.append(["li", bullet.group(1)])
        elif items and line[:1] in (" ", "\t"):
            items[-1][1] += " " + line.strip()
        else:
            items.append(["p", line])
    blocks = [f'<ul class="deck-found deck-plain"><li>{_escape_printed(t)}</li></ul>'
              if kind == "li" else f'<p class="deck-found deck-plain">{_escape_printed(t)}</p>'
              for kind, t in items]
    source = "\n\n".join((["### What we found"] if heading else []) + blocks)
    out = [_new_md(source, cell, "found", slide_type(cell), ["deck-found"])]
    rest = [o for o in cell.get("outputs", []) if o.get("output_type") != "stream"]
    if rest:
        code = copy.deepcopy(cell)
        code.outputs = rest
        code.metadata["tags"] = sorted((_tags(cell) - {FOUND_TAG}) | {"hide-input"})
        code.metadata["slideshow"] = {"slide_type": "-"}
        out.append(code)
    return out


def is_takeaway(cell: nbformat.NotebookNode) -> bool:
    """A markdown cell that opens with ``**Takeaway.**`` (the lesson's point, CONTRIBUTING.md)."""
    return cell.cell_type == "markdown" and cell.source.lstrip().startswith("**Takeaway.**")


def _heading_only(cell: nbformat.NotebookNode) -> bool:
    return (cell.cell_type == "markdown" and bool(cell.source.strip())
            and all(_HEADING.match(line) for line in cell.source.strip().split("\n")
                    if line.strip()))


def own_slides(cells: list[nbformat.NotebookNode]) -> None:
    """The Takeaway and "What we found" each get a slide of their own (in place): each starts a
    slide unless only a heading precedes it on its slide, and the next cell starts another."""
    for i, cell in enumerate(cells):
        if not (is_takeaway(cell) or "deck-found" in _tags(cell)):
            continue
        j, alone = i - 1, True
        while i > 0 and j >= 0 and slide_type(cell) not in ("slide", "subslide"):
            if not is_note(cells[j]):
                alone = _heading_only(cells[j])
                if not alone or slide_type(cells[j]) in ("slide", "subslide"):
                    break
            j -= 1
        if not alone:
            cell.metadata.setdefault("slideshow", {})["slide_type"] = "subslide"
            cell.metadata["deck_continued"] = True
        nxt = next((c for c in cells[i + 1:] if not is_note(c)), None)
        if nxt is not None and slide_type(nxt) in ("-", "fragment"):
            nxt.metadata.setdefault("slideshow", {})["slide_type"] = "subslide"
            nxt.metadata["deck_continued"] = True


# ---- at most MAX_SLIDE_WORDS words of prose on a slide --------------------------------------

def markdown_blocks(source: str) -> list[str]:
    """The blocks of a markdown text, split at blank lines (never inside a code fence or a
    display formula); indented blocks (a list item's second paragraph) stay with the block
    before them."""
    blocks: list[str] = []
    cur: list[str] = []
    fence = maths = False
    for line in source.split("\n"):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            fence = not fence
        elif not fence and (stripped.count("$$") % 2 or re.search(r"\\begin\{", stripped)
                            or re.search(r"\\end\{", stripped)):
            maths = not maths if stripped.count("$$") % 2 else bool(
                re.search(r"\\begin\{", stripped) and not re.search(r"\\end\{", stripped))
        if not stripped and not fence and not maths:
            if cur:
                blocks.append("\n".join(cur))
                cur = []
            continue
        cur.append(line)
    if cur:
        blocks.append("\n".join(cur))
    merged: list[str] = []
    for block in blocks:
        if merged and block.startswith(("  ", "\t")):
            merged[-1] += "\n\n" + block
        else:
            merged.append(block)
    return merged


_MASK = re.compile(r"\$\$.*?\$\$|(?<!\\)\$(?:\\.|[^$\\])+?\$|`[^`]*`|\([^()]*\)", flags=re.S)


def _sentences(paragraph: str) -> list[str]:
    """A paragraph's sentences (never split inside maths, code or brackets; a piece of fewer
    than five words stays with the next one, so ``**Takeaway.**`` keeps its sentence)."""
    masked = _MASK.sub(lambda m: "x" * len(m.group(0)), paragraph)
    cuts = [m.end() for m in re.finditer(r"[.!?](?:\*\*|\*|[\"')\]])?\s+(?=[A-Z*(\"'$\\])",
                                         masked)]
    parts = [paragraph[a:b].strip() for a, b in zip([0] + cuts, cuts + [len(paragraph)],
                                                    strict=True)]
    out: list[str] = []
    carry = ""
    for part in parts:
        text = (carry + " " + part).strip() if carry else part
        if len(text.split()) < 5 or text.count("**") % 2 or text.count("`") % 2:
            carry = text
            continue
        out.append(text)
        carry = ""
    if carry:
        if out and (carry.count("**") % 2 == 0 and carry.count("`") % 2 == 0):
            out[-1] += " " + carry
        else:
            out.append(carry)
    return out or [paragraph]


_ITEM = re.compile(r"^(?:[-*+]|\d+[.)])\s")


def _prose_pieces(text: str, limit: int) -> list[tuple[str, str, bool]]:
    """A paragraph or list (no display maths) cut into list items, and an item longer than
    ``limit`` into sentences (``limit`` 0: every item)."""
    lines = text.split("\n")
    starts = [k for k, line in enumerate(lines) if _ITEM.match(line)]
    if not starts and prose_words(text) <= limit:
        return [(text, "\n", text.rstrip().endswith(":"))]
    if starts and (starts[0] == 0 or len(starts) > 1):
        bounds = ([0] if starts[0] else []) + starts + [len(lines)]
        items = ["\n".join(lines[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    else:
        items = [text]
    pieces: list[tuple[str, str, bool]] = []
    for item in items:
        if prose_words(item) <= limit:
            pieces.append((item, "\n", item.rstrip().endswith(":")))
            continue
        bullet = re.match(r"^(\s*(?:[-*+]|\d+[.)])\s+)", item)
        lead = bullet.group(1) if bullet else ""
        sentences = _sentences(" ".join(item[len(lead):].split()))
        pieces.append((lead + sentences[0], "\n", False))
        pieces += [(sentence, " ", False) for sentence in sentences[1:]]
    return pieces


def _block_pieces(block: str, limit: int) -> list[tuple[str, str, bool]]:
    """A block cut into pieces that may go to different slides: a heading line, a display
    formula, the items of a list, the sentences of a paragraph (or list item) longer than
    ``limit``. Each piece comes with how it joins the piece before it in the same block
    (``"\\n"`` or ``" "``) and whether it must stay with the next piece (a heading, a text
    that ends with a colon, a formula that the sentence after it continues)."""
    lines = block.split("\n")
    pieces: list[tuple[str, str, bool]] = []
    if _HEADING.match(lines[0]):
        pieces.append((lines[0], "\n", True))
        block = "\n".join(lines[1:])
        if not block.strip():
            return pieces
    if "```" in block or block.lstrip().startswith("|"):
        return pieces + [(block, "\n", False)]
    segments = [seg for seg in _DISPLAY_MATH_SPLIT.split(block) if seg and seg.strip()]
    if len(segments) > 1 and prose_words(block) > limit:
        limit = 0  # text around a formula is cut into sentences, the formula kept with them
    for k, seg in enumerate(segments):
        if _DISPLAY_MATH.fullmatch(seg.strip()):
            after = segments[k + 1].lstrip() if k + 1 < len(segments) else ""
            pieces.append((seg.strip("\n"), "\n", bool(re.match(r"[a-z,.;:)]", after))))
        else:
            pieces += _prose_pieces(seg.strip("\n"), limit)
    return pieces


# Heights (slide pixels) the build expects a piece to take, to cut a slide before the deck's
# fitting has to (an estimate: deck_fit.js measures every slide in the browser and continues one
# that is still too tall).
_TEXT_CHARS_PER_LINE = 80
_LINE_PX = BODY_TEXT_PX * 1.3
_CODE_LINE_PX = CODE_TEXT_PX * 1.3
_TABLE_ROW_PX = TABLE_TEXT_PX * 1.25 + 10
_HEADING_PX = {1: 52, 2: 42, 3: 36}


def _text_height(text: str, indent: int = 0) -> float:
    text = _INLINE_MATH.sub("xxxx", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>|\*\*|`", "", text)
    per = _TEXT_CHARS_PER_LINE - indent
    return sum(max(1, -(-len(line) // per)) for line in text.split("\n") if line.strip()) \
        * _LINE_PX


def markdown_height(text: str) -> float:
    """About how tall (slide pixels) markdown ``text`` is on a slide."""
    height = 0.0
    for block in markdown_blocks(_FENCE.sub(lambda m: m.group(0).replace("\n\n", "\n"), text)):
        lines = block.split("\n")
        head = _HEADING.match(lines[0])
        if head:
            size = _HEADING_PX.get(len(head.group(1)), 32)
            per = 1200 / (size * 0.5)
            height += max(1, -(-len(head.group(2)) // per)) * size * 1.2 + size * 0.85
            lines = lines[1:]
            if not lines:
                continue
            block = "\n".join(lines)
        if _DISPLAY_MATH.fullmatch(block.strip()):
            height += 60 * (1 + block.count("\\\\")) + 24
        elif block.lstrip().startswith("|"):
            height += sum(line.lstrip().startswith("|") for line in lines) * _TABLE_ROW_PX + 16
        elif block.lstrip().startswith(("```", "~~~")):
            height += (len(lines) - 2) * _CODE_LINE_PX + 22
        elif any(_ITEM.match(line.lstrip()) for line in lines):
            items = re.split(r"\n(?=\s*(?:[-*+]|\d+[.)])\s)", block)
            height += sum(_text_height(" ".join(i.split()), 6) + 6 for i in items) + 14
        else:
            height += _text_height(" ".join(block.split())) + 14
    return height


def _html_height(html: str) -> float:
    height = 0.0
    for table in re.findall(r"<table\b.*?</table>", html, flags=re.S | re.I):
        rows = re.findall(r"<tr\b.*?</tr>", table, flags=re.S | re.I)
        height += sum(max(1, -(-len(re.sub(r"<[^>]+>", "", r)) // 90)) for r in rows) \
            * _TABLE_ROW_PX + 20
    rest = re.sub(r"<table\b.*?</table>", "", html, flags=re.S | re.I)
    paragraphs = re.findall(r"<(?:p|li)\b[^>]*>(.*?)</(?:p|li)>", rest, flags=re.S | re.I)
    return height + sum(_text_height(" ".join(p.split())) + 8 for p in paragraphs)


def output_height(out: Any) -> float:
    """About how tall (slide pixels) one output is on a slide."""
    if out.get("output_type") == "stream":
        return visual_lines(_text(out.get("text", ""))) * _CODE_LINE_PX + 14
    data = out.get("data", {})
    if "image/png" in data:
        meta = out.get("metadata", {}).get("image/png", {})
        size = png_size(data["image/png"]) or (800, 450)
        return float(meta.get("height") or size[1]) + 10
    if "text/html" in data:
        return _html_height(_text(data["text/html"]))
    if "text/markdown" in data:
        return markdown_height(_text(data["text/markdown"]))
    if "text/plain" in data:
        return visual_lines(_text(data["text/plain"])) * _CODE_LINE_PX + 14
    return 0.0


def code_input_height(cell: nbformat.NotebookNode) -> float:
    if _tags(cell) & {"hide-input", "remove-input"} or not cell.source.strip():
        return 0.0
    return visual_lines(cell.source) * _CODE_LINE_PX + 24


def cell_height(cell: nbformat.NotebookNode) -> float:
    """About how tall (slide pixels) ``cell`` is on a slide, all its outputs shown."""
    if is_note(cell):
        return 0.0
    if cell.cell_type == "markdown":
        return 50.0 if "deck-continued" in _tags(cell) else markdown_height(cell.source)
    if cell.cell_type != "code":
        return 0.0
    outputs = [] if "hide-output" in _tags(cell) else cell.get("outputs", [])
    return code_input_height(cell) + sum(output_height(o) for o in outputs) + 4


def _pieces(group: list[nbformat.NotebookNode], limit: int) -> tuple[list[dict], list[tuple]]:
    """A slide's cells cut into pieces (see :func:`_block_pieces`), each with its words, its
    height, the cell and block it comes from, and whether it must stay with the next piece (a
    heading, a text that ends with a colon, a line printed above a table) or with the one
    before (a display formula)."""
    pieces: list[dict] = []
    notes: list[tuple[int, nbformat.NotebookNode]] = []
    first = -1  # the first piece of the last cell: a note after a cell goes with its start
    for n, cell in enumerate(group):
        if is_note(cell):
            notes.append((first, cell))
            continue
        first = len(pieces)
        outputs = cell.get("outputs", []) if cell.cell_type == "code" else []
        if cell.cell_type == "code" and len(outputs) > 1 and (
                cell_words(cell) > limit or cell_height(cell) > SLIDE_BODY_PX):
            for k, out in enumerate(outputs):  # a code cell's outputs may go to different slides
                printed = "deck-printed" in _text(out.get("data", {}).get("text/html", ""))
                pieces.append({"cell": n, "block": 0, "text": None, "join": "", "outputs": [k],
                               "words": output_words(out), "glue": printed,
                               "height": output_height(out)
                               + (code_input_height(cell) if k == 0 else 0)})
            continue
        if cell.cell_type != "markdown" or "deck-continued" in _tags(cell):
            pieces.append({"cell": n, "block": 0, "text": None, "join": "", "glue": False,
                           "words": cell_words(cell), "height": cell_height(cell)})
            continue
        for b, block in enumerate(markdown_blocks(cell.source)):
            for text, join, glue in _block_pieces(block, limit):
                pieces.append({"cell": n, "block": b, "text": text, "join": join,
                               "words": prose_words(text), "height": markdown_height(text),
                               "glue": glue or text.rstrip().endswith(":")
                               or bool(re.fullmatch(r"\*\*[^*]+\*\*", text.strip()))})
                if _DISPLAY_MATH.fullmatch(text.strip()) and len(pieces) > 1:
                    pieces[-2]["glue"] = True
    if pieces:
        pieces[-1]["glue"] = False
    return pieces, notes


def _partition(units: list[tuple[int, float]], limit: int, height: float) -> list[int]:
    """Where to cut a row of units (words, height) so that each part holds at most ``limit``
    words and ``height`` pixels (a unit over either alone; a continuation's label counted), in
    the fewest parts, then with the words as even as possible; ties put the cut late."""
    n = len(units)
    best: list[tuple[int, float] | None] = [(0, 0)] + [None] * n
    prev = [0] * (n + 1)
    for i in range(1, n + 1):
        words, tall = 0, 0.0
        for j in range(i - 1, -1, -1):
            words += units[j][0]
            tall += units[j][1]
            if j < i - 1 and (words > limit or tall + (50 if j else 0) > height):
                break
            cand = (best[j][0] + 1, best[j][1] + words * words)
            if best[i] is None or cand < best[i]:
                best[i], prev[i] = cand, j
    cuts, i = [], n
    while i > 0:
        cuts.append(prev[i])
        i = prev[i]
    return sorted(cuts)[1:]


def _title_text(group: list[nbformat.NotebookNode]) -> tuple[int, str]:
    """The heading that opens a slide's first markdown cell, with its level ((0, "") if none)."""
    for cell in group:
        if cell.cell_type == "markdown" and not is_note(cell) and "deck-continued" not in _tags(
                cell):
            for line in cell.source.split("\n"):
                head = _HEADING.match(line)
                if head:
                    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", head.group(2))
                    return len(head.group(1)), re.sub(r"\*\*|`", "", text).strip()
            return 0, ""
    return 0, ""


def _continued_label(title: str, like: nbformat.NotebookNode,
                     part: int = 0) -> nbformat.NotebookNode:
    import html as _html

    text = f"{title} (continued)" if title else "(continued)"
    return _new_md(f'<div class="deck-continued">{_html.escape(text, quote=False)}</div>',
                   like, f"continued{part}", "subslide", ["deck-continued"])


def _emit_part(group: list[nbformat.NotebookNode], part: list[dict], number: int,
               started: set[int]) -> list[nbformat.NotebookNode]:
    """The cells of one part of a split slide: whole cells as they are, the pieces of a markdown
    cell joined back into one cell per run. A run that continues a cell, and the first cell of a
    continuation, show at once (slide type "-"); the others keep their slide type."""
    out: list[nbformat.NotebookNode] = []
    last: dict | None = None
    for piece in part:
        cell = group[piece["cell"]]
        if piece.get("outputs") is not None:
            chosen = [cell.outputs[k] for k in piece["outputs"]]
            if last is not None and last["cell"] == piece["cell"] and last.get("outputs"):
                out[-1].outputs += copy.deepcopy(chosen)
                last = piece
                continue
            new = copy.deepcopy(cell)
            new.outputs = copy.deepcopy(chosen)
            new["id"] = f"{cell.get('id', 'cell')}-o{piece['outputs'][0]}"
            if piece["cell"] in started:  # the code shows with the first of its outputs
                new.metadata["tags"] = sorted(_tags(cell) | {"hide-input"})
        elif piece["text"] is None:
            new = copy.deepcopy(cell)
        elif last is not None and last["cell"] == piece["cell"] and last["text"] is not None:
            out[-1].source += (piece["join"] if last["block"] == piece["block"] else "\n\n") \
                + piece["text"]
            last = piece
            continue
        else:
            new = copy.deepcopy(cell)
            new.source = piece["text"]
            new["id"] = f"{cell.get('id', 'cell')}-p{number}-{len(out)}"
        if piece["cell"] in started or (not out and number):
            new.metadata.setdefault("slideshow", {})["slide_type"] = "-"
        started.add(piece["cell"])
        out.append(new)
        last = piece
    return out


def _continued_note(notes: list[nbformat.NotebookNode],
                    part: int) -> list[nbformat.NotebookNode]:
    text = "\n\n".join(c.source for c in notes)
    return [_new_md("*(continued)* " + text, notes[0], f"continued-note{part}", "notes")] \
        if text else []


def split_group(group: list[nbformat.NotebookNode], title: str,
                limit: int = SPLIT_WORDS) -> list[nbformat.NotebookNode]:
    """One slide's cells, continued on slides below it when they hold more than ``limit``
    words of prose: cut between cells, blocks, list items or sentences (see :func:`_pieces`),
    into the fewest parts, as even as possible. Each continuation opens with "<title>
    (continued)"; the lecturer's notes stay where they were, and a part without any gets the
    notes of the part before it, marked "(continued)"."""
    if (sum(cell_words(c) for c in group) <= limit
            and sum(cell_height(c) for c in group) <= SLIDE_BODY_PX):
        return group
    pieces, notes = _pieces(group, limit)
    units: list[list[int]] = []
    for k, piece in enumerate(pieces):  # glued pieces stay together while they fit a slide
        if units and pieces[units[-1][-1]]["glue"] and (
                sum(pieces[j]["words"] for j in units[-1]) + piece["words"] <= limit
                and sum(pieces[j]["height"] for j in units[-1]) + piece["height"]
                <= SLIDE_BODY_PX):
            units[-1].append(k)
        else:
            units.append([k])
    cuts = _partition([(sum(pieces[k]["words"] for k in u), sum(pieces[k]["height"] for k in u))
                       for u in units], limit, SLIDE_BODY_PX)
    bounds = [0] + [units[c][0] for c in cuts] + [len(pieces)]
    parts = [pieces[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    part_of = {id(p): n for n, part in enumerate(parts) for p in part}
    part_notes: list[list[nbformat.NotebookNode]] = [[] for _ in parts]
    for before, note in notes:
        before = min(before, len(pieces) - 1)
        part_notes[part_of[id(pieces[before])] if before >= 0 else 0].append(note)
    out: list[nbformat.NotebookNode] = []
    started: set[int] = set()
    for n, part in enumerate(parts):
        if n:
            out.append(_continued_label(title, group[part[0]["cell"]], n))
        out += _emit_part(group, part, n, started)
        mine = part_notes[n]
        if not mine:
            near = next((part_notes[m] for m in list(range(n - 1, -1, -1))
                         + list(range(n + 1, len(parts))) if part_notes[m]), [])
            mine = _continued_note(near, n)
        out += mine
    return out


def slide_groups(cells: list[nbformat.NotebookNode]) -> list[list[nbformat.NotebookNode]]:
    """``cells`` cut into slides: a cell of type "slide" or "subslide" starts one."""
    groups: list[list[nbformat.NotebookNode]] = []
    for cell in cells:
        if not groups or (not is_note(cell) and slide_type(cell) in ("slide", "subslide")):
            groups.append([])
        groups[-1].append(cell)
    return groups


def _opens_with_heading(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "markdown" and bool(
        _HEADING.match(cell.source.lstrip().split("\n")[0]))


def words_per_slide(cells: list[nbformat.NotebookNode],
                    limit: int = SPLIT_WORDS) -> list[nbformat.NotebookNode]:
    """Every slide of ``cells`` with at most ``limit`` words of prose (:func:`split_group`). A
    slide the build started (after a Takeaway or a rigour summary) without a heading of its
    own opens with "<the section's title> (continued)" (the last ``#`` or ``##`` heading)."""
    out: list[nbformat.NotebookNode] = []
    title = ""
    for group in slide_groups(cells):
        first = next((c for c in group if not is_note(c)), group[0])
        if first.metadata.pop("deck_continued", False) and not _opens_with_heading(first):
            first.metadata.setdefault("slideshow", {})["slide_type"] = "-"
            group = [_continued_label(title, first, 0)] + group
        level, own = _title_text(group)
        out += split_group(group, own or title, limit)
        if own and level <= 2:  # a section's title; a slide's own heading labels its parts only
            title = own
    return out


# ---- the notebook as the deck shows it ------------------------------------------------------

def _summary_cell(cell: nbformat.NotebookNode, text: str) -> nbformat.NotebookNode:
    new = nbformat.v4.new_markdown_cell(text)
    new.metadata["slideshow"] = copy.deepcopy(cell.metadata.get("slideshow", {}))
    new.metadata["tags"] = ["deck-summary"]
    new["id"] = "summary-" + str(cell.get("id", "cell"))
    return new


def prepare(nb: nbformat.NotebookNode, name: str,
            timings: dict[str, Any] | None = None) -> nbformat.NotebookNode:
    """A copy of ``nb`` as the deck shows it (see the module docstring): skipped and summarised
    cells, each rigour section as one slide, notes without their label, markers removed, long
    cells shortened, printed tables as tables, figures sized, the Takeaway and "What we found"
    on slides of their own, long slides continued below, the outline note on the title slide,
    stderr and widget outputs dropped."""
    nb = copy.deepcopy(nb)
    nb.metadata["title"] = _title(nb, name)
    nb.metadata.pop("widgets", None)
    cells: list[nbformat.NotebookNode] = []
    pending = ""  # a slide break carried by a cell that was left out
    for cell in rigour_sections(nb.cells):
        tags = set(cell.metadata.get("tags", []))
        meta = _deck_meta(cell)
        if _left_out(cell):
            if slide_type(cell) in ("slide", "subslide") and not pending:
                pending = slide_type(cell)
            continue  # never on a slide; dropping it keeps the deck small
        if pending and slide_type(cell) != "notes":
            if slide_type(cell) in ("-", "fragment"):
                cell.metadata.setdefault("slideshow", {})["slide_type"] = pending
            pending = ""
        if isinstance(meta.get("summary"), str):
            cells.append(_summary_cell(cell, meta["summary"]))
            continue
        if is_note(cell):
            cell.source = note_text(cell.source)
        elif cell.cell_type == "markdown":
            cell.source = shorten_markdown_tables(cell.source,
                                                  int(meta.get("max_rows", MAX_TABLE_ROWS)))
        elif cell.cell_type == "code":
            cell.source = shorten_code(strip_markers(cell.source),
                                       int(meta.get("max_lines", MAX_CODE_LINES)))
            cell.outputs = [
                out for out in cell.get("outputs", [])
                if not (out.get("output_type") == "stream" and out.get("name") == "stderr")
                and WIDGET_MIME not in out.get("data", {})
            ]
            if FOUND_TAG in tags:
                cells += found_cells(cell, heading=not _found_heading_before(cells))
                continue
            cell.outputs = tables_from_printouts(cell.outputs)
            _shorten_outputs(cell.outputs, meta)
            size_figures(cell.outputs)
        cells.append(cell)
    own_slides(cells)
    nb.cells = words_per_slide(cells)
    note = outline_note(nb, name, read_timings() if timings is None else timings)
    if note and nb.cells:
        notes = nbformat.v4.new_markdown_cell(note)
        notes.metadata["slideshow"] = {"slide_type": "notes"}
        notes["id"] = "deck-outline"
        nb.cells.insert(1, notes)  # on the title slide, after the title
    return nb


def _found_heading_before(cells: list[nbformat.NotebookNode]) -> bool:
    """True when the last cell on the slide so far is the lesson's own "What we found" heading."""
    last = next((c for c in reversed(cells) if not is_note(c)), None)
    return last is not None and _heading_only(last) and "what we found" in last.source.lower()


def _shorten_outputs(outputs: list[Any], meta: dict[str, Any]) -> None:
    lines = int(meta.get("max_output_lines", MAX_OUTPUT_LINES))
    rows = int(meta.get("max_rows", MAX_TABLE_ROWS))
    for out in outputs:
        if out.get("output_type") == "stream":
            out["text"] = shorten_text(out.get("text", ""), lines)
            continue
        data = out.get("data", {})
        if "text/html" in data:
            data["text/html"] = shorten_html_tables(data["text/html"], rows)
        if "text/markdown" in data:
            data["text/markdown"] = shorten_markdown_tables(data["text/markdown"], rows)
        if "text/plain" in data and not ({"text/html", "text/markdown", "image/png"} & set(data)):
            data["text/plain"] = shorten_text(data["text/plain"], lines)


def exporter() -> SlidesExporter:
    """nbconvert's SlidesExporter on the course template, pointed at the vendored assets."""
    exp = SlidesExporter(
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        template_name=TEMPLATE_NAME,
        reveal_url_prefix=REVEAL_PREFIX,
        reveal_theme="white",
        reveal_transition="none",
        reveal_number="c/t",
        reveal_width=str(FRAME[0]),
        reveal_height=str(FRAME[1]),
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


# ---- links ----------------------------------------------------------------------------------

_HREF = re.compile(r'(<a\b[^>]*?\bhref=")([^"]*)(")', flags=re.I)


def rewrite_links(html: str, notebook_dir: Path, deck_dir: Path) -> str:
    """Point links at what exists next to the deck: ``NN_name.ipynb`` (a lesson with a
    notebook) -> ``NN_name.slides.html``; other relative links -> relative to ``deck_dir``."""

    def fix(match: re.Match[str]) -> str:
        href = match.group(2)
        if not href or href.startswith("#") or re.match(r"^[a-z][a-z0-9+.-]*:|^//", href, re.I):
            return match.group(0)
        path, _, anchor = href.partition("#")
        lesson = LESSON_FILE.match(path)
        if lesson and (notebook_dir / path).is_file():
            new = lesson.group(1) + ".slides.html"
        else:
            target = (notebook_dir / path).resolve()
            new = Path(os.path.relpath(target, deck_dir.resolve())).as_posix()
        return match.group(1) + new + match.group(3)

    return _HREF.sub(fix, html)


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


def _shared_file(text: str, folder: str, suffix: str, out_dir: Path) -> str:
    """Write ``text`` to ``out_dir/folder/<sha1 of it>.suffix`` (once) and return that name,
    relative to the deck."""
    name = f"{folder}/{hashlib.sha1(text.encode()).hexdigest()[:12]}.{suffix}"
    target = out_dir / name
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return name


def externalise_blocks(html: str, out_dir: Path) -> str:
    """Move every ``<style>`` block and plain ``<script>`` block longer than ``INLINE_LIMIT``
    into a file shared by the decks (``out_dir/css/<sha1>.css``, ``out_dir/js/<sha1>.js``) and
    link it where the block stood (a ``<script src>`` runs in the same order as the inline
    block did)."""

    def style(match: re.Match[str]) -> str:
        css = match.group(2)
        if len(css) <= INLINE_LIMIT:
            return match.group(0)
        return f'<link rel="stylesheet" href="{_shared_file(css, CSS_DIR, "css", out_dir)}">'

    def script(match: re.Match[str]) -> str:
        js = match.group(1)
        if len(js) <= INLINE_LIMIT:
            return match.group(0)
        return f'<script src="{_shared_file(js, JS_DIR, "js", out_dir)}"></script>'

    return SCRIPT_BLOCK.sub(script, STYLE_BLOCK.sub(style, html))


def linked_shared(html: str) -> list[str]:
    """The deck's links to shared files (``css/<hash>.css``, ``js/<hash>.js``)."""
    return [r for r in scan(html).refs if r.startswith((CSS_DIR + "/", JS_DIR + "/"))]


def remove_unused_shared(out_dir: Path) -> list[Path]:
    """Delete shared style sheets and scripts that no deck in ``out_dir`` links any more."""
    used = {name for deck in out_dir.glob("*.slides.html")
            for name in linked_shared(deck.read_text(encoding="utf-8"))}
    stale = [f for folder, suffix in ((CSS_DIR, "css"), (JS_DIR, "js"))
             for f in (out_dir / folder).glob(f"*.{suffix}") if f"{folder}/{f.name}" not in used]
    for f in stale:
        f.unlink()
    return stale


#: The licence line at the foot of the title slide (LICENSE-CONTENT.md, LICENSE).
LICENCE_LINE = ('<p class="deck-licence">Text, figures and slides: CC BY 4.0 '
                '(LICENSE-CONTENT.md) · code: MIT (LICENSE)</p>')


def add_licence_line(html: str) -> str:
    """The deck with :data:`LICENCE_LINE` at the end of its title slide (the first slide)."""
    if "</section>" not in html or LICENCE_LINE in html:
        return html
    return html.replace("</section>", LICENCE_LINE + "\n</section>", 1)


def _git_show(rev: str, path: Path) -> str:
    """The text of ``path`` (in this repository) as committed at ``rev``."""
    import subprocess

    name = path.resolve().relative_to(ROOT).as_posix()
    return subprocess.run(["git", "show", f"{rev}:{name}"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout


def render(notebook: Path, deck_dir: Path = SLIDES, timings: dict[str, Any] | None = None,
           rev: str | None = None) -> str:
    """The deck of ``notebook`` as HTML (links relative to ``deck_dir``); raise ``ValueError``
    if it would load anything from the network. With ``rev``, the notebook (and the timings)
    as committed at that git revision, not as in the working tree."""
    if rev:
        nb = nbformat.reads(_git_show(rev, notebook), as_version=4)
        if timings is None:
            try:
                timings = json.loads(_git_show(rev, TIMINGS))
            except (OSError, ValueError):
                timings = {}
    else:
        nb = nbformat.read(notebook, as_version=4)
    resources = {
        "metadata": {"name": notebook.stem, "path": str(notebook.parent)},
        "deck": {"min_scale": MIN_FIT_SCALE, "split_below": SPLIT_BELOW,
                 "min_table_scale": MIN_TABLE_SCALE},
    }
    body, _ = exporter().from_notebook_node(prepare(nb, notebook.stem, timings),
                                            resources=resources)
    body = add_licence_line(rewrite_links(body.rstrip() + "\n", notebook.parent, deck_dir))
    leaks = external_urls(body)
    if leaks:
        raise ValueError(f"{notebook.name}: the deck would load from the network: {leaks}")
    return body


def build(notebook: Path, out_dir: Path = SLIDES, link_dir: Path | None = None,
          timings: dict[str, Any] | None = None, rev: str | None = None) -> Path:
    """Export ``notebook`` to ``out_dir/NN_name.slides.html`` (links resolved as if the deck
    lived in ``link_dir``, default ``out_dir``; ``rev``: the notebook as committed at that git
    revision); raise ``ValueError`` if the deck would load anything from the network."""
    body = render(notebook, link_dir or out_dir, timings, rev)
    out_dir.mkdir(parents=True, exist_ok=True)
    body = externalise_blocks(body, out_dir)
    target = out_dir / deck_name(notebook)
    target.write_text(body, encoding="utf-8")
    return target


def lint(notebook: Path) -> list[str]:
    """What a lesson still needs for a good deck, found without a browser: notes written so
    students can tell them apart, and notes on the title slide."""
    nb = nbformat.read(notebook, as_version=4)
    found = note_problems(nb)
    first_break = next((i for i, c in enumerate(nb.cells[1:], 1)
                        if slide_type(c) in ("slide", "subslide")), len(nb.cells))
    if not any(is_note(c) for c in nb.cells[:first_break]):
        found.append("the title slide has no lecturer's note")
    return found


def stale_decks(notebooks: Iterable[Path], out: Path, rev: str | None = None) -> list[str]:
    """Decks in ``out`` that are missing or differ from a fresh build (of the notebooks as
    committed at ``rev``, if given), and shared style sheets and scripts a fresh build links
    that are missing."""
    import tempfile

    stale = []
    with tempfile.TemporaryDirectory() as tmp:
        for nb in notebooks:
            fresh = build(nb, Path(tmp), link_dir=out, rev=rev).read_text(encoding="utf-8")
            deck = out / deck_name(nb)
            if not deck.exists() or deck.read_text(encoding="utf-8") != fresh:
                stale.append(deck.name)
            else:  # a current deck needs the shared style sheets and scripts it links
                stale += [name for name in linked_shared(fresh)
                          if not (out / name).exists() and name not in stale]
    return stale


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every lesson")
    parser.add_argument("--out", type=Path, default=SLIDES, help="output folder (default slides/)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a deck in --out is missing or differs from a fresh build")
    parser.add_argument("--lint", action="store_true",
                        help="list what each lesson's cells still need for the deck (exit 1)")
    parser.add_argument("--rev", metavar="REV",
                        help="build from the notebooks (and timings) as committed at this git "
                             "revision, e.g. HEAD, leaving edits in the working tree out")
    args = parser.parse_args(list(argv) if argv is not None else None)
    notebooks = args.notebooks or lessons()
    if not notebooks:
        print("no lesson notebooks found")
        return 0
    if args.lint:
        bad = 0
        for nb in notebooks:
            for problem in lint(nb):
                print(f"{nb.name}: {problem}")
                bad += 1
        return 1 if bad else 0
    if args.check:
        stale = stale_decks(notebooks, args.out, args.rev)
        pending = [n for n in stale if n.split(".")[0] in PENDING_LESSONS]
        for name in pending:
            print(f"pending (lesson not yet through the deck pass): {name}")
        stale = [n for n in stale if n not in pending]
        for name in stale:
            print(f"stale or missing: {name}")
        if stale:
            print("run `python tools/build_slides.py` to rebuild the decks", file=sys.stderr)
        return 1 if stale else 0
    for nb in notebooks:
        start = time.perf_counter()
        deck = build(nb, args.out, rev=args.rev)
        info = scan(deck.read_text(encoding="utf-8"))
        print(f"{deck.name}: {info.sections} sections, {info.notes} speaker notes, "
              f"{deck.stat().st_size / 1024:.0f} KiB, {time.perf_counter() - start:.1f} s")
    if not args.notebooks:
        for shared in remove_unused_shared(args.out):
            print(f"removed unused {shared.relative_to(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
- ``deck`` (a dict): ``{"summary": "markdown"}`` shows this text on the slide instead of the
  cell (a long table or a long computation summarised in a sentence); ``max_lines`` (code
  lines shown), ``max_output_lines`` (text output lines), ``max_rows`` (table rows) override the
  limits below for that cell.

What the build does by itself:

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
- sizes the deck for a 1280x720 frame (:data:`FRAME`); a script in the deck
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

Stored outputs come from ``python tools/run_notebooks.py``; rebuild the decks after it.
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
#: The fitting never zooms a slide out further than this (text stays readable).
MIN_FIT_SCALE: float = 0.75
#: A slide that needs more zoom-out than this is split into continuation slides instead.
SPLIT_BELOW: float = 0.85
#: A table that is too wide is scaled down to at most this.
MIN_TABLE_SCALE: float = 0.7
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
#: Default limits of what one cell shows on a slide (the ``deck`` metadata overrides them).
MAX_CODE_LINES: int = 16
MAX_OUTPUT_LINES: int = 16
MAX_TABLE_ROWS: int = 12
#: Columns of a code line before it wraps (the deck's monospace size fits this many).
CODE_COLUMNS: int = 100

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
    cells, notes without their label, markers removed, long cells shortened, figures sized,
    the outline note on the title slide, stderr and widget outputs dropped."""
    nb = copy.deepcopy(nb)
    nb.metadata["title"] = _title(nb, name)
    nb.metadata.pop("widgets", None)
    cells = []
    pending = ""  # a slide break carried by a cell that was left out
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        meta = _deck_meta(cell)
        if tags & SKIP_TAGS or slide_type(cell) == "skip":
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
            _shorten_outputs(cell.outputs, meta)
            size_figures(cell.outputs)
        cells.append(cell)
    nb.cells = cells
    note = outline_note(nb, name, read_timings() if timings is None else timings)
    if note and nb.cells:
        notes = nbformat.v4.new_markdown_cell(note)
        notes.metadata["slideshow"] = {"slide_type": "notes"}
        notes["id"] = "deck-outline"
        nb.cells.insert(1, notes)  # on the title slide, after the title
    return nb


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


def render(notebook: Path, deck_dir: Path = SLIDES,
           timings: dict[str, Any] | None = None) -> str:
    """The deck of ``notebook`` as HTML (links relative to ``deck_dir``); raise ``ValueError``
    if it would load anything from the network."""
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
          timings: dict[str, Any] | None = None) -> Path:
    """Export ``notebook`` to ``out_dir/NN_name.slides.html`` (links resolved as if the deck
    lived in ``link_dir``, default ``out_dir``); raise ``ValueError`` if the deck would load
    anything from the network."""
    body = render(notebook, link_dir or out_dir, timings)
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


def stale_decks(notebooks: Iterable[Path], out: Path) -> list[str]:
    """Decks in ``out`` that are missing or differ from a fresh build, and shared style sheets
    and scripts a fresh build links that are missing."""
    import tempfile

    stale = []
    with tempfile.TemporaryDirectory() as tmp:
        for nb in notebooks:
            fresh = build(nb, Path(tmp), link_dir=out).read_text(encoding="utf-8")
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
        stale = stale_decks(notebooks, args.out)
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
        deck = build(nb, args.out)
        info = scan(deck.read_text(encoding="utf-8"))
        print(f"{deck.name}: {info.sections} sections, {info.notes} speaker notes, "
              f"{deck.stat().st_size / 1024:.0f} KiB, {time.perf_counter() - start:.1f} s")
    if not args.notebooks:
        for shared in remove_unused_shared(args.out):
            print(f"removed unused {shared.relative_to(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Build the course website: every lesson and solution from its STORED outputs, offline.

Usage::

    pip install -e ".[site]"                    # Sphinx, myst-nb, sphinx-book-theme (pinned)
    python tools/build_site.py --out _site      # then open _site/index.html

The site is a Sphinx project (myst-nb renders the notebooks, sphinx-book-theme lays them out).
Nothing is executed: the notebooks are shown with the outputs stored in them (the quick profile's
run of ``tools/run_notebooks.py``). Nothing is fetched from the network either, neither at build
time nor when a page is read: MathJax is the course's own copy (``slides/mathjax``), the theme's
fonts and icons come with its package, and the decks come with their own reveal.js and MathJax.

What the build does, in a temporary source folder laid out like the repository (so that every
page's path is its file's path in the repository, which the theme's launch buttons use):

* ``index.md``, the landing page, GENERATED from the README (title, introduction, who the course
  is for, how to study) and from the lessons themselves (each lesson's opening paragraph makes the
  one-page argument; its header gives the prerequisites and run time, its first lecturer's note
  the lecture length; lesson 00 gives the path through the course);
* a pre-processed copy of every notebook (``notebooks/NN_*.ipynb``, ``notebooks/solutions/``):
  the ``badges`` cell becomes a launch bar (Binder, Colab, download the stored notebook, its
  source in the repository, the lesson's slides), the ``colab-setup`` cell is dropped, cells
  tagged ``rigour`` ("How sure are we?") are collapsed behind one click (a markdown cell becomes a
  dropdown; a code cell is hidden with its output), ``# NBVAL_...`` test markers are dropped from
  code, stored widget views (sliders, progress bars) are replaced by a line saying so, and links
  to repository files that are not pages point to the file in the repository;
* ``notebooks/glossary.md`` when the course has one, ``results/README.md``, and a licence page
  (``LICENSE-CONTENT.md`` and ``LICENSE``).

Afterwards the decks (``slides/*.slides.html`` with ``reveal.js/``, ``mathjax/``, ``css/``,
``js/``) and the stored notebooks (for the "download notebook" links) are copied into the site.
``notebooks/`` itself is never modified. The repository address comes from the one setting in
``pyproject.toml`` ([project.urls] Repository), as for ``tools/badges.py``.

Prints the time the build took and the number of pages. ``--strict`` fails on any Sphinx warning.
"""

from __future__ import annotations

import argparse
import copy
import json
import posixpath
import re
import shutil
import sys
import tempfile
import time
import warnings as warnings_module
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
TOOLS = Path(__file__).resolve().parent
CONF_DIR = TOOLS / "site"
sys.path.insert(0, str(TOOLS))
import badges  # noqa: E402 - tools/badges.py: the one repository address and its links

#: The distributions the build needs (the ``site`` extra of pyproject.toml).
REQUIRED_MODULES = ("sphinx", "myst_nb", "sphinx_book_theme", "sphinx_togglebutton")
RIGOUR_TAG = "rigour"
RIGOUR_TITLE = "How sure are we? The details"
RIGOUR_CODE_PROMPT = "How sure are we? Show the check and its output"
DECK_ASSETS = ("reveal.js", "mathjax", "css", "js")
CONTENT_LICENCE = "CC BY 4.0"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
TEST_MARKER = re.compile(r"^[ \t]*#[ \t]*NBVAL_[A-Z_]+[ \t]*\n?", flags=re.M)
#: A markdown link or image; inline code spans are matched first so that they are left alone.
LINK = re.compile(r"(?P<code>`+[^`]*`+)|(?P<bang>!?)\[(?P<text>[^\]\n]*)\]"
                  r"\((?P<target>[^)\s]+)(?P<title>\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^[ \t]*(```|~~~)")


def missing_modules() -> list[str]:
    """The modules of the ``site`` extra that are not installed."""
    import importlib.util

    return [m for m in REQUIRED_MODULES if importlib.util.find_spec(m) is None]


# ---- what the course has ------------------------------------------------------------------------

def lessons(root: Path) -> list[Path]:
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def solutions(root: Path) -> list[Path]:
    return sorted((root / "notebooks" / "solutions").glob("[0-9][0-9]_*.ipynb"))


def glossary(root: Path) -> Path | None:
    path = root / "notebooks" / "glossary.md"
    return path if path.is_file() else None


def deck_for(root: Path, notebook: Path) -> Path | None:
    """The lesson's deck, ``slides/NAME.slides.html``, if it exists."""
    deck = root / "slides" / f"{notebook.stem}.slides.html"
    return deck if deck.is_file() else None


def expected_pages(root: Path) -> list[str]:
    """The HTML pages a build of the course at ``root`` must have (site paths)."""
    pages = ["index.html", "search.html", "licence.html"]
    pages += [p.relative_to(root).with_suffix(".html").as_posix()
              for p in lessons(root) + solutions(root)]
    if glossary(root) is not None:
        pages.append("notebooks/glossary.html")
    if (root / "results" / "README.md").is_file():
        pages.append("results/README.html")
    return sorted(pages)


INLINE_MATHS = re.compile(r"(?<![\\$])\$[^$\s][^$\n]*\$")


def has_maths(path: Path) -> bool:
    """True if a notebook's (or markdown file's) text has maths (``$...$`` outside code)."""
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        texts = [c.source for c in nb.cells if c.cell_type == "markdown"]
    else:
        texts = [path.read_text(encoding="utf-8")]
    for text in texts:
        text = re.sub(r"```.*?```", "", text, flags=re.S)
        text = re.sub(r"`[^`]*`", "", text)
        if "$$" in text or INLINE_MATHS.search(text):
            return True
    return False


@dataclass
class Context:
    """What the pre-processing needs to know about the site being built."""

    root: Path
    repo: badges.Repo
    pages: set[str] = field(default_factory=set)  # repository paths that are pages of the site
    copied: set[str] = field(default_factory=set)  # repository paths copied as plain files
    images: set[str] = field(default_factory=set)  # images the pages show, copied into the source
    aliases: dict[str, str] = field(default_factory=dict)  # repository file -> the page showing it

    def source_url(self, path: str) -> str:
        kind = "tree" if (self.root / path).is_dir() else "blob"
        return f"{self.repo.url}/{kind}/{badges.BRANCH}/{path}"


# ---- links ----------------------------------------------------------------------------------

def _relative(path: str, from_dir: str) -> str:
    return posixpath.relpath(path, from_dir or ".")


def rewrite_links(text: str, src_dir: str, dest_dir: str, ctx: Context) -> str:
    """Rewrite the relative links of markdown ``text``, written in the repository folder
    ``src_dir``, for a page placed in the site folder ``dest_dir``: a link to a page stays a page
    link, a link to a file copied into the site (a deck) becomes an HTML link to it, an image is
    copied with the page, and any other repository file is linked to in the repository. Code
    (fenced blocks and inline spans) is left alone."""
    out, in_fence = [], False
    for line in text.splitlines(keepends=True):
        if FENCE.match(line):
            in_fence = not in_fence
            out.append(line)
            continue
        out.append(line if in_fence else LINK.sub(lambda m: _link(m, src_dir, dest_dir, ctx),
                                                    line))
    return "".join(out)


def _link(match: re.Match, src_dir: str, dest_dir: str, ctx: Context) -> str:
    if match.group("code"):
        return match.group(0)
    target = match.group("target").strip("<>")
    if re.match(r"^[a-zA-Z][\w+.-]*:", target) or target.startswith(("#", "/", "{")):
        return match.group(0)
    base, _, fragment = target.partition("#")
    base = base.split("?")[0]
    path = posixpath.normpath(posixpath.join(src_dir, base)) if base else ""
    if not path or path.startswith(".."):
        return match.group(0)
    path = ctx.aliases.get(path, path)
    anchor = f"#{fragment}" if fragment else ""
    text, title = match.group("text"), match.group("title") or ""
    if match.group("bang"):
        if (ctx.root / path).is_file():
            ctx.images.add(path)
            return f"![{text}]({_relative(path, dest_dir)}{title})"
        return f"![{text}]({ctx.source_url(path)}?raw=true{title})"
    if path in ctx.pages:
        return f"[{text}]({_relative(path, dest_dir)}{anchor}{title})"
    if path in ctx.copied:
        return f'<a href="{_relative(path, dest_dir)}{anchor}">{text}</a>'
    return f"[{text}]({ctx.source_url(path)}{anchor}{title})"


# ---- notebooks ------------------------------------------------------------------------------

def _tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def launch_bar(ctx: Context, repo_path: str) -> str:
    """The links at the top of a notebook's page, as one HTML paragraph."""
    name = posixpath.basename(repo_path)
    folder = posixpath.dirname(repo_path)
    links = [
        (badges.binder_url(ctx.repo, repo_path), "Launch on Binder"),
        (badges.colab_url(ctx.repo, repo_path), "Open in Colab"),
        (name, "Download notebook"),
        (f"{ctx.repo.url}/blob/{badges.BRANCH}/{repo_path}", "Source on GitHub"),
    ]
    deck = deck_for(ctx.root, ctx.root / repo_path)
    if deck is not None and "solutions" not in repo_path:
        links.append((_relative(f"slides/{deck.name}", folder), "Slides"))
    parts = []
    for href, label in links:
        extra = ' download=""' if label.startswith("Download") else ""
        parts.append(f'<a class="launch-link" href="{href}"{extra}>{label}</a>')
    return '<p class="launch-bar">' + "\n".join(parts) + "</p>\n"


DISPLAY_MATH = re.compile(r"(?<![\\$])\$\$(?!\$)(?P<body>.+?)(?<!\\)\$\$", flags=re.S)


def isolate_display_math(text: str) -> str:
    """Put every ``$$...$$`` of a markdown cell in a block of its own, as Jupyter shows it.

    Jupyter takes the maths out before it parses the markdown; MyST parses the markdown first, so
    display maths inside a paragraph whose lines start with ``+ `` or ``- `` (a sum over lines)
    would become a list. Maths inside block quotes or indented blocks is left as it is."""
    out, in_fence, chunk = [], False, []

    def flush() -> None:
        block = "".join(chunk)
        chunk.clear()
        out.append(DISPLAY_MATH.sub(_isolate, block))

    for line in text.splitlines(keepends=True):
        if FENCE.match(line):
            if not in_fence:
                flush()
            in_fence = not in_fence
            out.append(line)
        elif in_fence:
            out.append(line)
        else:
            chunk.append(line)
    flush()
    return "".join(out)


def _isolate(match: re.Match) -> str:
    text = match.string
    line_start = text.rfind("\n", 0, match.start()) + 1
    prefix = text[line_start:match.start()]
    lines = match.group(0).split("\n")
    nested = re.match(r"^(?:[ \t]|>|[-*+](?:\s|$)|\d+[.)](?:\s|$))", prefix)
    if nested or any(line[:1] == ">" for line in lines[1:]):
        return match.group(0)
    return "\n\n" + match.group(0).strip() + "\n\n"


def _rigour_markdown(source: str) -> str:
    """A markdown cell tagged ``rigour`` as a collapsed dropdown; its leading heading (if any)
    stays visible above it, later headings become bold lines (no sections inside a dropdown)."""
    lines = source.strip("\n").split("\n")
    head = []
    while lines and lines[0].lstrip().startswith("#"):
        head.append(lines.pop(0))
    body = "\n".join(re.sub(r"^\s*#{1,6}\s+(.*)$", r"**\1**", line) for line in lines).strip()
    if not body:
        return source
    fence = ":" * max(3, 1 + max((len(m) for m in re.findall(r"^:{3,}", body, re.M)), default=0))
    block = (f"{fence}{{admonition}} {RIGOUR_TITLE}\n:class: dropdown rigour\n\n"
             f"{body}\n{fence}\n")
    return ("\n".join(head) + "\n\n" + block) if head else block


def _widget_free(outputs: list) -> list:
    """Outputs without stored widget views, which need the live kernel: a slider becomes a line
    saying so, a progress bar is dropped."""
    kept = []
    for out in outputs:
        data = out.get("data", {})
        if WIDGET_MIME not in data:
            kept.append(out)
            continue
        plain = data.get("text/plain", "")
        if plain.startswith(("interactive(", "VBox(", "HBox(")):
            kept.append(nbformat.v4.new_output(
                "stream", name="stdout",
                text="[An interactive widget: run the notebook to use it.]\n"))
    return kept


def prepare_notebook(nb: nbformat.NotebookNode, repo_path: str,
                     ctx: Context) -> nbformat.NotebookNode:
    """The copy of a notebook that the site shows (see the module docstring)."""
    nb = copy.deepcopy(nb)
    folder = posixpath.dirname(repo_path)
    cells, bar_done = [], False
    for cell in nb.cells:
        tags = _tags(cell)
        if badges.BADGES_TAG in tags:
            if not bar_done:
                cells.append(nbformat.v4.new_markdown_cell(
                    launch_bar(ctx, repo_path), metadata={"tags": ["launch-bar"]}))
                bar_done = True
            continue
        if badges.SETUP_TAG in tags:
            continue
        if cell.cell_type == "markdown":
            cell.source = isolate_display_math(rewrite_links(cell.source, folder, folder, ctx))
            if RIGOUR_TAG in tags:
                cell.source = _rigour_markdown(cell.source)
        elif cell.cell_type == "code":
            cell.source = TEST_MARKER.sub("", cell.source)
            cell.outputs = _widget_free(cell.get("outputs", []))
            for out in cell.outputs:
                md = out.get("data", {}).get("text/markdown")
                if isinstance(md, str):
                    out["data"]["text/markdown"] = rewrite_links(md, folder, folder, ctx)
            if RIGOUR_TAG in tags:
                cell.metadata["tags"] = [t for t in tags if t not in ("hide-input", "hide-output")
                                         ] + ["hide-cell"]
                cell.metadata.setdefault("mystnb", {})["code_prompt_show"] = RIGOUR_CODE_PROMPT
        cells.append(cell)
    if not bar_done:
        bar = nbformat.v4.new_markdown_cell(launch_bar(ctx, repo_path),
                                            metadata={"tags": ["launch-bar"]})
        cells.insert(1 if cells else 0, bar)
    for cell in cells:  # ids must stay unique and valid after the cells were replaced
        cell.pop("id", None)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    nb.metadata.setdefault("kernelspec", {"display_name": "Python 3", "language": "python",
                                          "name": "python3"})
    nb.metadata.setdefault("language_info", {"name": "python"})
    nb.nbformat_minor = 4  # no cell ids needed
    return nb


# ---- facts read from the lessons and the README -----------------------------------------------

def _markdown_cells(nb: nbformat.NotebookNode, skip_tags: Iterable[str] = ("badges",)) -> list:
    return [c for c in nb.cells if c.cell_type == "markdown"
            and not set(_tags(c)) & set(skip_tags)]


def title_of(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in _markdown_cells(nb):
        match = re.search(r"^#\s+(.+)$", cell.source, flags=re.M)
        if match:
            return match.group(1).strip()
    return fallback


def _header_field(text: str, name: str) -> str | None:
    """``**Name:** value`` (a list item or a paragraph), with its continuation lines."""
    match = re.search(rf"^[ \t]*(?:[-*+][ \t]+)?\*\*{name}:?\*\*:?[ \t]*(.*)$", text,
                      flags=re.M | re.I)
    if match is None:
        return None
    parts = [match.group(1)]
    for line in text[match.end():].split("\n")[1:]:
        if not line.strip() or re.match(r"^\s*([-*+]\s|\*\*|#|>)", line):
            break
        parts.append(line.strip())
    return " ".join(" ".join(parts).split())


@dataclass
class LessonFacts:
    number: str
    path: str  # repository path
    title: str
    about: str  # the opening paragraph (markdown)
    prerequisites: str
    run_time: str
    lecture: str


def lesson_facts(path: Path, root: Path) -> LessonFacts:
    nb = nbformat.read(path, as_version=4)
    cells = _markdown_cells(nb)
    header = "\n\n".join(c.source for c in cells[:6])
    first = cells[0].source if cells else ""
    after_title = re.sub(r"^#\s+.+$", "", first, count=1, flags=re.M).strip()
    if after_title:
        about = after_title.split("\n\n")[0]
    else:
        about = next((c.source.strip().split("\n\n")[0] for c in cells[1:4]
                      if not c.source.lstrip().startswith((">", "#"))), "")
    about = re.sub(r"^\*\*What this (lesson|notebook) is (about|for)\.\*\*\s*", "", about)
    prereq = _header_field(header, "Prerequisites") or "see the lesson"
    time_line = _header_field(header, "Time") or ""
    quick = re.search(r"quick profile:\s*([^;]+)", time_line)
    run_time = quick.group(1).strip().rstrip(".") if quick else "not measured yet"
    notes = [c.source for c in cells[:6] if "Lecturer's note" in c.source]
    lecture = ""
    for note in notes:
        found = re.search(r"\b((?:about|around)\s+\d+\s+minutes|\w+\s+minutes)\b", note, re.I)
        if found:
            lecture = found.group(1)
            lecture = lecture[0].upper() + lecture[1:]
            break
    return LessonFacts(path.stem[:2], path.relative_to(root).as_posix(), title_of(nb, path.stem),
                       about, prereq, run_time, lecture or "not stated")


def readme_parts(readme: Path) -> dict[str, str]:
    """The README split into its title, introduction (before the badges), the text between the
    badges and the first section, and each ``## `` section by its heading."""
    if not readme.is_file():
        return {}
    text = readme.read_text(encoding="utf-8")
    parts: dict[str, str] = {}
    title = re.search(r"^#\s+(.+)$", text, flags=re.M)
    parts["title"] = title.group(1).strip() if title else "The course"
    body = text[title.end():] if title else text
    first_section = re.search(r"^##\s", body, flags=re.M)
    head = body[: first_section.start()] if first_section else body
    if badges.README_START in head and badges.README_END in head:
        parts["intro"] = head.split(badges.README_START)[0].strip()
        parts["audience"] = head.split(badges.README_END)[1].strip()
    else:
        parts["intro"] = head.strip()
    if first_section:
        for block in re.split(r"^(?=##\s)", body[first_section.start():], flags=re.M):
            heading, _, content = block.partition("\n")
            parts["## " + heading.lstrip("#").strip()] = content.strip()
    return parts


def _cell_after_heading(nb: nbformat.NotebookNode, pattern: str) -> str:
    for cell in _markdown_cells(nb):
        if re.search(pattern, cell.source, flags=re.M | re.I):
            return re.sub(r"^#+\s.*$", "", cell.source, count=1, flags=re.M).strip()
    return ""


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def landing_page(ctx: Context, lesson_paths: list[Path], solution_paths: list[Path],
                 extra_pages: list[str]) -> str:
    """index.md: generated from the README and the lessons (nothing typed twice)."""
    root = ctx.root
    readme = readme_parts(root / "README.md")
    facts = [lesson_facts(p, root) for p in lesson_paths]
    start = next((f for f in facts if f.number == "00"), None)
    start_nb = nbformat.read(root / start.path, as_version=4) if start else None
    lines = [f"# {readme.get('title', 'The course')}", ""]
    for key in ("intro", "audience"):
        if readme.get(key):
            lines += [rewrite_links(readme[key], "", "", ctx), ""]
    if start:
        lines += [f"**Start here:** [{start.title}]({start.path}) checks your set-up and "
                  "shows the course map; every page has links to run it on Binder or Colab, to "
                  "download the notebook and to its slides.", ""]

    lines += ["## The argument in one page", "",
              "Each lesson opens by saying what it adds to the argument; read in order, their "
              "opening paragraphs are the course in one page.", ""]
    for f in facts:
        if f.number == "00" or not f.about:
            continue
        about = rewrite_links(f.about, posixpath.dirname(f.path), "", ctx)
        lines += [f"**[{f.title}]({f.path}).** {about}", ""]

    lines += ["## The path through the lessons", ""]
    if start_nb is not None:
        route = _cell_after_heading(start_nb, r"^##+\s.*course map")
        route = route.split("\n\n")[0] if route else ""
        works = _cell_after_heading(start_nb, r"^##+\s.*how the course works")
        for text in (route, works):
            if text:
                lines += [rewrite_links(text, "notebooks", "", ctx), ""]
    lines += ["| Lesson | Prerequisites | Lecture length | Run time (quick profile) | "
              "Material |", "|---|---|---|---|---|"]
    sol_by_number = {p.stem[:2]: p.relative_to(root).as_posix() for p in solution_paths}
    for f in facts:
        deck = deck_for(root, root / f.path)
        material = [f'<a href="slides/{deck.name}">slides</a>'] if deck else []
        sol = sol_by_number.get(f.number)
        material += [f"[solutions]({sol})"] if sol else []
        prereq = rewrite_links(f.prerequisites, posixpath.dirname(f.path), "", ctx)
        run_time = re.sub(r",\s*\d+ MiB peak$", "", f.run_time)
        lines.append(f"| [{_cell(f.title)}]({f.path}) | {_cell(prereq)} | {_cell(f.lecture)} | "
                     f"{_cell(run_time)} | {' · '.join(material) or '-'} |")
    lines += ["", "*Lecture length* is the lecturer's estimate in each lesson's notes; the *run "
              "time* is measured (`results/timings.json`), top to bottom from a fresh kernel.", ""]

    lines += ["## Prerequisites and set-up", ""]
    if start and start.prerequisites:
        lines += [f"**What you need to know:** {start.prerequisites}", ""]
    quick = readme.get("## Quick start", "").split("\n\n")[0]
    quick = re.sub(r"\s*[^.:]*:\s*$", "", quick)  # "From a terminal:" leads to the steps
    if quick:
        lines += [f"**What you need to run it:** {quick} The "
                  f"[README]({ctx.repo.url}#quick-start) has the installation, step by step; "
                  "or run any lesson on Binder or Colab with nothing to install (the links at the "
                  "top of each page).", ""]
    study = readme.get("## For self-study", "")
    if study:
        lines += ["## How to study", "", rewrite_links(study, "", "", ctx), ""]

    lines += ["## More", ""]
    more = {"notebooks/glossary.md": "Glossary: the course's terms and where they are defined.",
            "results/README.md": "Stored results: what the ablation files hold and how they "
                                 "were made.",
            "licence.md": f"Licence: text, figures and slides under {CONTENT_LICENCE}, code "
                          "under MIT."}
    for page in extra_pages:
        if page in more:
            lines.append(f"- [{more[page].split(':')[0]}]({page}):{more[page].split(':', 1)[1]}")
    lines.append(f"- [The course's repository]({ctx.repo.url}): the notebooks, the library "
                 "`maxent_lib`, the tests.")
    lines.append("")

    def toctree(caption: str, entries: list[str]) -> list[str]:
        return ["```{toctree}", ":hidden:", f":caption: {caption}", "",
                *[e.removesuffix(".ipynb").removesuffix(".md") for e in entries], "```", ""]

    lines += toctree("Lessons", [f.path for f in facts])
    lines += toctree("Solutions", [p.relative_to(root).as_posix() for p in solution_paths])
    lines += toctree("Reference", extra_pages)
    return "\n".join(lines)


def licence_page(root: Path) -> str:
    content = root / "LICENSE-CONTENT.md"
    text = content.read_text(encoding="utf-8") if content.is_file() else (
        f"# Licence\n\nThe lessons' text, figures and slides: {CONTENT_LICENCE}.\n")
    if not re.match(r"^#\s", text):
        text = "# Licence\n\n" + text
    title_end = text.find("\n") + 1
    text = text[:title_end] + "\n(content-cc-by)=\n" + text[title_end:]
    code = (root / "LICENSE").read_text(encoding="utf-8") if (root / "LICENSE").is_file() else ""
    return (text.rstrip() + "\n\n(code-mit)=\n## The code: MIT licence\n\n"
            "The code (`maxent_lib/`, `tools/`, `tests/`, `benchmarks/` and the code cells of "
            "the notebooks) is under the MIT licence:\n\n"
            + "\n".join("> " + line if line.strip() else ">" for line in code.strip().split("\n"))
            + "\n")


# ---- the build --------------------------------------------------------------------------------

@dataclass
class BuildResult:
    out: Path
    seconds: float
    pages: list[str]  # site paths of the HTML pages (decks excluded; search and index included)
    documents: list[str]  # the pages made from the course's files (landing page included)
    decks: list[str]
    warnings: list[str]


def layout(root: Path, src: Path) -> tuple[Context, list[str]]:
    """Write the Sphinx source tree into ``src``; return the context and the documents."""
    repo = badges.repository(root / "pyproject.toml")
    ctx = Context(root=root, repo=repo)
    lesson_paths, solution_paths = lessons(root), solutions(root)
    gloss = glossary(root)
    notebooks = lesson_paths + solution_paths
    ctx.pages = {p.relative_to(root).as_posix() for p in notebooks}
    extra = []
    if gloss is not None:
        extra.append("notebooks/glossary.md")
    if (root / "results" / "README.md").is_file():
        extra.append("results/README.md")
    extra.append("licence.md")
    ctx.pages.update(extra)
    ctx.aliases = {"LICENSE-CONTENT.md": "licence.md", "LICENSE": "licence.md"}
    ctx.copied = {f"slides/{p.name}" for p in (root / "slides").glob("*.slides.html")}

    src.mkdir(parents=True, exist_ok=True)
    for path in notebooks:
        rel = path.relative_to(root).as_posix()
        nb = prepare_notebook(nbformat.read(path, as_version=4), rel, ctx)
        target = src / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(nbformat.writes(nb, version=4), encoding="utf-8")
    for rel in extra:
        if rel == "licence.md":
            text = licence_page(root)
        else:
            text = rewrite_links((root / rel).read_text(encoding="utf-8"),
                                 posixpath.dirname(rel), posixpath.dirname(rel), ctx)
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text, encoding="utf-8")
    index = landing_page(ctx, lesson_paths, solution_paths, extra)
    (src / "index.md").write_text(index, encoding="utf-8")
    for rel in ctx.images:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, src / rel)

    for item in CONF_DIR.iterdir():
        if item.name == "__pycache__":
            continue
        if item.is_dir():
            shutil.copytree(item, src / item.name, dirs_exist_ok=True)
        else:
            shutil.copy2(item, src / item.name)
    mathjax = root / "slides" / "mathjax"
    if mathjax.is_dir():
        shutil.copytree(mathjax, src / "_static" / "mathjax", dirs_exist_ok=True)
    settings = {
        "title": readme_parts(root / "README.md").get("title", "The course"),
        "repository": repo.url,
        "branch": badges.BRANCH,
        "content_licence": CONTENT_LICENCE,
    }
    (src / "_site_settings.json").write_text(json.dumps(settings, indent=1), encoding="utf-8")
    docs = ["index", *(p.relative_to(root).with_suffix("").as_posix() for p in notebooks),
            *(e.removesuffix(".md") for e in extra)]
    return ctx, docs


def copy_assets(root: Path, out: Path) -> list[str]:
    """The decks with their assets, and the stored notebooks for the download links."""
    decks = []
    slides = root / "slides"
    if slides.is_dir():
        (out / "slides").mkdir(parents=True, exist_ok=True)
        for deck in sorted(slides.glob("*.slides.html")):
            shutil.copy2(deck, out / "slides" / deck.name)
            decks.append(f"slides/{deck.name}")
        for asset in DECK_ASSETS:
            if (slides / asset).is_dir():
                shutil.copytree(slides / asset, out / "slides" / asset, dirs_exist_ok=True)
    for path in lessons(root) + solutions(root):
        target = out / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    (out / ".nojekyll").write_text("", encoding="utf-8")  # GitHub Pages: serve _static as is
    (out / ".gitignore").write_text("# built by tools/build_site.py\n*\n", encoding="utf-8")
    return decks


def build(out: Path, root: Path = ROOT, jobs: int = 1, keep_source: Path | None = None,
          strict: bool = False, verbose: bool = False) -> BuildResult:
    """Build the site into ``out`` (replaced if it exists). Raises ``RuntimeError`` on a failed
    build (or, with ``strict``, on any warning)."""
    missing = missing_modules()
    if missing:
        raise RuntimeError(f"the site needs {', '.join(missing)}: pip install -e \".[site]\"")
    from sphinx.cmd.build import build_main

    start = time.perf_counter()
    out = out.resolve()
    root = root.resolve()
    with tempfile.TemporaryDirectory(prefix="maxent-site-") as tmp:
        src = keep_source.resolve() if keep_source else Path(tmp) / "src"
        if src.exists():
            shutil.rmtree(src)
        _, documents = layout(root, src)
        if out.exists():
            shutil.rmtree(out)
        warnings_file = Path(tmp) / "warnings.txt"
        args = ["-b", "html", "-d", str(Path(tmp) / "doctrees"), "-w", str(warnings_file),
                "-j", str(jobs), "-E"]
        if not verbose:
            args.append("-q")
        with warnings_module.catch_warnings():  # the packages' own deprecation notices
            warnings_module.simplefilter("ignore", DeprecationWarning)
            warnings_module.simplefilter("ignore", PendingDeprecationWarning)
            status = build_main([*args, str(src), str(out)])
        warnings = [w for w in warnings_file.read_text(encoding="utf-8").splitlines()
                    if "WARNING" in w or "ERROR" in w] if warnings_file.exists() else []
        if status != 0:
            raise RuntimeError(f"sphinx-build failed (status {status}):\n" + "\n".join(warnings))
    decks = copy_assets(root, out)
    for leftover in (out / ".buildinfo", out / ".doctrees", out / "_sources"):
        if leftover.is_file():
            leftover.unlink()
        elif leftover.is_dir() and (leftover.name != "_sources" or not any(leftover.iterdir())):
            shutil.rmtree(leftover)
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html")
                   if p.relative_to(out).parts[0] not in ("slides", "_static"))
    result = BuildResult(out, time.perf_counter() - start, pages, documents, decks, warnings)
    if strict and warnings:
        raise RuntimeError("warnings (--strict):\n" + "\n".join(warnings))
    return result


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True,
                        help="folder to build into (replaced); index.html lies at its root")
    parser.add_argument("--root", type=Path, default=ROOT, help="the course (default: here)")
    parser.add_argument("-j", "--jobs", default="1",
                        help="Sphinx processes reading pages (default 1; 'auto' = one per core)")
    parser.add_argument("--keep-source", type=Path,
                        help="also keep the generated Sphinx source tree in this folder")
    parser.add_argument("--strict", action="store_true", help="fail on any Sphinx warning")
    parser.add_argument("--verbose", action="store_true", help="show Sphinx's progress")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        result = build(args.out, args.root, jobs=args.jobs, keep_source=args.keep_source,
                       strict=args.strict, verbose=args.verbose)
    except RuntimeError as exc:
        print(f"site build failed: {exc}", file=sys.stderr)
        return 1
    for warning in result.warnings:
        print(warning, file=sys.stderr)
    print(f"built {len(result.documents)} pages ({len(result.pages)} HTML files with the search "
          f"and index pages; {len(result.decks)} slide decks copied) into {result.out} in "
          f"{result.seconds:.1f} s"
          + (f"; {len(result.warnings)} Sphinx warnings" if result.warnings else ""))
    print(f"open {result.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

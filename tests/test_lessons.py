"""The lessons tell their story first (CONTRIBUTING.md, "A lesson tells its story first"):

(a) every term of ``notebooks/glossary.md`` is defined, in **bold** where it first appears, in
    the lesson the glossary names, and no earlier lesson's student text uses it (lesson 00, the
    front door, previews the whole argument on one page and links the glossary: it is left out
    of the "first use");
(b) KL divergence and mutual information are defined in lesson 01;
(c) every cell tagged ``rigour`` is collapsed (``tools/rigour.py``), every rigour section starts
    with a ``## How sure are we?`` or ``### How sure are we?`` heading, and lessons 01-07 have
    at least one such section;
(d) lessons 01-07 open their ``## Summary`` with a ``**Takeaway.**`` cell; lessons 04-07 have a
    code cell tagged ``what-we-found``;
(e) at most 450 student words per figure and at most 5% hedged sentences, lessons 01-07
    (measured by ``tools/lesson_stats.py``);
(f) no code cell of a lesson or a solution holds more than 15 logic lines
    (``tools/lesson_stats.logic_lines``: imports, prints, asserts and plot calls aside).

Every lesson is checked; a lesson that does not meet a rule yet fails its own test case.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("0[0-7]_*.ipynb"))
SOLUTIONS = sorted((NOTEBOOKS / "solutions").glob("0[0-7]_*.ipynb"))
GLOSSARY = NOTEBOOKS / "glossary.md"
MAX_WORDS_PER_FIGURE = 450
MAX_HEDGE_SHARE = 0.05
MAX_LOGIC_LINES = 15
RIGOUR_HEADING = re.compile(r"^#{2,3} How sure are we\?")
#: A header's Time and Study time lines, written by tools/run_notebooks.py (not definitions).
GENERATED_LINE = re.compile(r"^[ \t]*(?:[-*+][ \t]+)?\*\*(?:Study time|Time):?\*\*", re.I)


def _tool(name: str):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


stats = _tool("lesson_stats")
rigour = _tool("rigour")


@cache
def notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def number(path: Path) -> str:
    return path.name[:2]


def lesson(num: str) -> Path:
    return next(p for p in LESSONS if number(p) == num)


def source(cell: dict) -> str:
    return "".join(cell["source"])


def tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def is_note(cell: dict) -> bool:
    return source(cell).lstrip().startswith("> **Lecturer's note")


# ------------------------------------------------------------------------------- the glossary

@cache
def glossary() -> dict[str, str]:
    """term -> the number of the lesson that defines it, from the glossary's table rows
    ``| **term** | one-line meaning | [NN](file) |``."""
    out: dict[str, str] = {}
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\|\s*\*\*(?P<term>[^*|]+)\*\*\s*\|(?P<meaning>(?:[^|\\]|\\.)+)\|\s*"
                     r"\[(?P<num>0[0-7])\]\((?P<file>[^)]+)\)\s*\|\s*$", line)
        if m:
            term = m.group("term").strip()
            assert term not in out, f"the glossary lists {term!r} twice"
            assert m.group("file").startswith(m.group("num") + "_"), line
            out[term] = m.group("num")
    return out


def term_pattern(term: str) -> re.Pattern[str]:
    """The term as a word (or words, across line breaks), plural allowed, not part of a longer
    hyphenated or alphanumeric word; case-insensitive."""
    words = r"\s+".join(re.escape(w) for w in term.split())
    return re.compile(rf"(?<![\w-]){words}(?:s|es)?(?![\w-])", re.IGNORECASE)


def _unmath(text: str) -> str:
    """Markdown with code and maths blanked out (same length, so positions keep), bold kept."""
    def blank(m: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", m.group(0))
    text = re.sub(r"```.*?```", blank, text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", blank, text, flags=re.S)
    text = re.sub(r"\$[^$\n]*\$", blank, text)
    text = re.sub(r"`[^`\n]*`", blank, text)
    return re.sub(r"\]\([^)]*\)", blank, text)


def definition_text(nb: dict) -> str:
    """The lesson's text in which a term's first appearance must be its bold definition: its
    markdown cells in order, without lecturer's notes, the badges, the opening cell that lists
    what the student will be able to do (a preview), headings, the generated Time and Study
    time lines, and maths."""
    parts = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown" or is_note(cell) or "badges" in tags(cell):
            continue
        text = source(cell)
        if "What you will be able to do" in text:
            continue
        parts.append("\n".join(line for line in text.splitlines()
                               if not line.lstrip().startswith("#")
                               and not GENERATED_LINE.match(line)))
    return _unmath("\n\n".join(parts))


def student_text(nb: dict) -> str:
    """The student text as tools/lesson_stats.py defines it, with code and maths blanked."""
    return _unmath("\n\n".join(source(c) for c in nb["cells"] if stats._is_student_text(c)))


def test_the_glossary_is_there_and_names_real_lessons():
    terms = glossary()
    assert len(terms) >= 80, f"the glossary lists only {len(terms)} terms"
    assert set(terms.values()) <= {number(p) for p in LESSONS}
    for term in ("KL divergence", "mutual information", "FC1", "FC2", "supported", "Holm"):
        assert term in terms


@pytest.mark.parametrize("term", sorted(glossary(), key=str.lower) if GLOSSARY.exists() else [])
def test_a_term_is_defined_in_bold_where_the_glossary_says_and_not_used_before(term):
    num = glossary()[term]
    pattern = term_pattern(term)
    text = definition_text(notebook(lesson(num)))
    first = pattern.search(text)
    problems = []
    if first is None:
        problems.append(f"lesson {num} never uses it, yet the glossary says it defines it")
    else:
        bold = [m.span(1) for m in re.finditer(r"\*\*(.+?)\*\*", text, flags=re.S)]
        if not any(a <= first.start() and first.end() <= b for a, b in bold):
            problems.append(f"its first appearance in lesson {num} is not in bold: "
                            f"...{text[max(first.start() - 60, 0):first.end() + 30]!r}...")
    earlier = [number(p) for p in LESSONS if "01" <= number(p) < num
               and pattern.search(student_text(notebook(p)))]
    if earlier:
        problems.append(f"used in lesson(s) {earlier} before lesson {num} defines it")
    assert not problems, f"{term!r}: " + "; ".join(problems)


def test_information_terms_are_defined_in_lesson_01():
    terms = glossary()
    for term in ("entropy", "cross-entropy", "KL divergence", "Gibbs' inequality",
                 "mutual information", "conditional entropy"):
        assert terms.get(term) == "01", f"{term!r} must be defined in lesson 01"


def test_lesson_00_and_the_readme_link_the_glossary():
    text = "".join(source(c) for c in notebook(lesson("00"))["cells"])
    assert "(glossary.md)" in text
    assert "(notebooks/glossary.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


# ------------------------------------------------------------------------- rigour sections

@pytest.mark.parametrize("path", LESSONS, ids=number)
def test_rigour_cells_are_collapsed_and_start_with_how_sure_are_we(path):
    cells = notebook(path)["cells"]
    loose = [i for i, c in enumerate(cells) if not rigour.is_collapsed(c)]
    assert not loose, f"rigour cells {loose} are not collapsed: python tools/rigour.py {path}"
    headed = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
              and RIGOUR_HEADING.match(source(c).lstrip())]
    untagged = [i for i in headed if "rigour" not in tags(cells[i])]
    assert not untagged, f"'How sure are we?' headings without the rigour tag: cells {untagged}"
    starts = [i for i, c in enumerate(cells) if "rigour" in tags(c)
              and (i == 0 or "rigour" not in tags(cells[i - 1]))]
    unheaded = [i for i in starts if i not in headed]
    assert not unheaded, f"rigour sections that do not open with a 'How sure are we?' " \
                         f"heading: cells {unheaded}"
    if number(path) != "00":
        assert starts, "no 'How sure are we?' section (cells tagged rigour)"


def test_the_rigour_tool_collapses_idempotently(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## How sure are we?"),
                nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("y = 2"),
                nbformat.v4.new_markdown_cell("plain")]
    for cell in nb.cells[:2]:
        cell.metadata["tags"] = ["rigour"]
    path = tmp_path / "01_x.ipynb"
    nbformat.write(nb, path)
    assert rigour.main(["--check", str(path)]) == 1
    assert rigour.main([str(path)]) == 0
    first = path.read_text()
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].metadata.jupyter == {"source_hidden": True}
    assert cells[1].metadata.jupyter == {"source_hidden": True, "outputs_hidden": True}
    assert "jupyter" not in cells[2].metadata and "jupyter" not in cells[3].metadata
    assert rigour.main([str(path)]) == 0 and path.read_text() == first  # idempotent
    assert rigour.main(["--check", str(path)]) == 0


# ------------------------------------------------------------------ takeaway, what we found

@pytest.mark.parametrize("path", [p for p in LESSONS if number(p) != "00"], ids=number)
def test_summary_opens_with_a_takeaway(path):
    cells = notebook(path)["cells"]
    heads = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
             and re.match(r"^## Summary", source(c).lstrip())]
    assert heads, "no '## Summary' section"
    after = source(cells[heads[0]]).lstrip().split("\n", 1)[1:]
    body = after[0].strip() if after else ""
    if not body:
        body = next(source(c).lstrip() for c in cells[heads[0] + 1:]
                    if c["cell_type"] == "markdown" and not is_note(c))
    assert body.startswith("**Takeaway.**"), f"the Summary opens with {body[:60]!r}"
    if number(path) >= "04":
        assert any("what-we-found" in tags(c) for c in cells if c["cell_type"] == "code"), \
            "no code cell tagged 'what-we-found'"


# ------------------------------------------------------------------ words per figure, hedges

@pytest.mark.parametrize("path", [p for p in LESSONS if number(p) != "00"], ids=number)
def test_words_per_figure_and_hedges(path):
    s = stats.lesson_stats(notebook(path))
    assert s["figures"] > 0 and s["words per figure"] <= MAX_WORDS_PER_FIGURE, \
        f"{s['student words']} student words for {s['figures']} figures"
    assert s["hedge share"] <= MAX_HEDGE_SHARE, \
        f"{s['hedge share']:.0%} of sentences hedge: {s['hedged sentences']}"


# ----------------------------------------------------------------------------- cell logic

@pytest.mark.parametrize("path", LESSONS + SOLUTIONS,
                         ids=lambda p: ("solutions/" if p.parent.name == "solutions" else "")
                         + number(p))
def test_no_cell_holds_more_than_15_logic_lines(path):
    long = {i: n for i, c in enumerate(notebook(path)["cells"]) if c["cell_type"] == "code"
            for n in [stats.logic_lines(source(c))] if n > MAX_LOGIC_LINES}
    assert not long, f"cells with more than {MAX_LOGIC_LINES} logic lines (cell: lines): {long}"


def test_logic_lines_leave_aside_imports_prints_asserts_and_plots():
    src = """import numpy as np
from x import y
# a comment
def f(a):
    \"\"\"Docstring.\"\"\"
    b = a + 1
    return b

fig, ax = plt.subplots()
ax.plot([1, 2], [3, 4])
assert f(1) == 2
np.testing.assert_allclose(1, 1)
print(f"{f(2)}",
      "more")
for i in range(3):
    total = (i +
             1)
%matplotlib inline
"""
    # def f(a): / b = / return / for / total = (2 lines)
    assert stats.logic_lines(src) == 6

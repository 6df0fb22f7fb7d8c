"""Measure how each lesson teaches: student words, figures, words per figure, hedges, exercises.

    python tools/lesson_stats.py                 # the table for notebooks/00-07
    python tools/lesson_stats.py --json out.json # also as JSON
    python tools/lesson_stats.py --ref REV       # the same table for a git revision (before/after)

Definitions (the same for every lesson):

- **student words**: words of the markdown cells a student reads, i.e. every markdown cell except
  lecturer's notes (cells that open with ``> **Lecturer's note.**``), the badges cell and cells
  tagged ``rigour`` (the "How sure are we?" sections, one click away). Code, LaTeX commands and
  link targets are not words.
- **figures**: stored image outputs (PNG, SVG, JPEG) of code cells not tagged ``rigour``.
- **words per figure**: student words / figures.
- **hedge share**: the share of the student text's sentences that contain a hedge (may, might,
  could, perhaps, possibly, probably, likely, unlikely, seems, appears, suggests, arguably,
  roughly, somewhat, not necessarily, to some extent, could not / cannot tell, unclear,
  inconclusive, no evidence, not evidence, caveat, stale, approximately, at best, be careful,
  beware).
- **rigour cells**: cells tagged ``rigour``; **exercises**: markdown cells that open with
  ``**Exercise``; **on the idea**: those tagged ``idea``.
- **takeaway**: the lesson has a markdown cell that opens with ``**Takeaway``;
  **what we found**: a code cell tagged ``what-we-found``.
- **logic lines** of a code cell (:func:`logic_lines`): the lines of its statements, leaving
  aside imports, ``print``/``display`` calls, asserts (and ``np.testing`` checks), plot calls
  (on ``plt``, ``ax...``, ``axes``, ``fig...``, ``plots``, ``widgets``), docstrings, comments and
  blank lines; a compound statement (``for``, ``if``, ``def``, ``with``...) counts its header
  line(s) and whatever its body counts. **max logic lines** is the largest over the lesson's
  code cells; the course's limit is 15 (CONTRIBUTING: longer logic belongs in ``maxent_lib``).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEDGES = ("may", "might", "could", "perhaps", "possibly", "probably", "likely", "unlikely",
          "seems", "seem", "appears", "appear", "suggests", "suggest", "arguably", "roughly",
          "somewhat", "not necessarily", "to some extent", "could not tell", "cannot tell",
          "unclear", "inconclusive", "no evidence", "not evidence", "caveat", "stale",
          "approximately", "at best", "be careful", "beware")
_HEDGE = re.compile(r"\b(" + "|".join(re.escape(h) for h in HEDGES) + r")\b", re.IGNORECASE)
IMAGES = ("image/png", "image/svg+xml", "image/jpeg")


#: Calls on these names are plotting (or display), not logic.
_PLOT_ROOTS = re.compile(r"^(plt|ax\w*|axes|fig\w*|plots|widgets|display|Markdown|print)$")


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _aside(stmt: ast.stmt) -> bool:
    """Statements that are not logic: imports, asserts, docstrings, prints and plot calls."""
    if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.Assert, ast.Pass)):
        return True
    value = getattr(stmt, "value", None)
    if isinstance(stmt, ast.Expr) and isinstance(value, ast.Constant):
        return True
    if isinstance(stmt, (ast.Expr, ast.Assign)) and isinstance(value, ast.Call):
        root = _root_name(value.func)
        return bool(root and _PLOT_ROOTS.match(root)) or ast.unparse(value.func).startswith(
            ("np.testing.", "numpy.testing."))
    return False


def logic_lines(source: str) -> int:
    """The logic lines of one code cell's source (defined in the module docstring). IPython
    magics and shell lines (``%...``, ``!...``) count as nothing."""
    lines = source.splitlines()
    code = [line[: len(line) - len(line.lstrip())] + "pass"
            if line.lstrip().startswith(("%", "!")) else line for line in lines]
    counted: set[int] = set()
    for node in ast.walk(ast.parse("\n".join(code))):
        if not isinstance(node, ast.stmt) or _aside(node):
            continue
        body = getattr(node, "body", None)
        last = body[0].lineno - 1 if isinstance(body, list) and body else node.end_lineno
        counted.update(range(node.lineno, (last or node.lineno) + 1))
    return sum(1 for n in counted if lines[n - 1].strip()
               and not lines[n - 1].lstrip().startswith("#"))


def _tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _is_student_text(cell: dict) -> bool:
    src = "".join(cell["source"]).lstrip()
    return (cell["cell_type"] == "markdown" and "rigour" not in _tags(cell)
            and "badges" not in _tags(cell) and not src.startswith("> **Lecturer's note"))


def _plain(text: str) -> str:
    """Markdown without code, maths, link targets and markup."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$]*\$", " x ", text)
    text = re.sub(r"`[^`]*`", " x ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"[#*_>|\[\]]", " ", text)


def _sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+|\n\s*[-*]\s+|\n\n", text)
    return [p for p in (s.strip() for s in parts) if len(p.split()) >= 3]


def lesson_stats(nb: dict) -> dict:
    """The measures of the module docstring for one notebook (as a dict of JSON values)."""
    cells = nb["cells"]
    text = "\n\n".join(_plain("".join(c["source"])) for c in cells if _is_student_text(c))
    words = len(re.findall(r"[A-Za-z][A-Za-z'-]*", text))
    figures = sum(1 for c in cells if c["cell_type"] == "code" and "rigour" not in _tags(c)
                  for o in c.get("outputs", []) if any(k in o.get("data", {}) for k in IMAGES))
    sentences = _sentences(text)
    hedged = [s for s in sentences if _HEDGE.search(s)]
    exercises = [c for c in cells if c["cell_type"] == "markdown"
                 and "".join(c["source"]).lstrip().startswith("**Exercise")]
    return {"student words": words, "figures": figures,
            "words per figure": round(words / figures) if figures else None,
            "sentences": len(sentences), "hedge share": round(len(hedged) / max(len(sentences), 1),
                                                              3),
            "rigour cells": sum("rigour" in _tags(c) for c in cells),
            "exercises": len(exercises),
            "on the idea": sum("idea" in _tags(c) for c in exercises),
            "takeaway": any(c["cell_type"] == "markdown" and "".join(c["source"]).lstrip()
                            .startswith("**Takeaway") for c in cells),
            "what we found": any("what-we-found" in _tags(c) for c in cells),
            "max logic lines": max((logic_lines("".join(c["source"])) for c in cells
                                    if c["cell_type"] == "code"), default=0),
            "hedged sentences": hedged}


def _notebooks(ref: str | None) -> dict[str, dict]:
    names = sorted(p.name for p in (ROOT / "notebooks").glob("0*.ipynb"))
    if ref is None:
        return {n: json.loads((ROOT / "notebooks" / n).read_text()) for n in names}
    out = {}
    listed = subprocess.run(["git", "ls-tree", "--name-only", ref, "notebooks/"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    for path in listed:
        if Path(path).name.startswith("0") and path.endswith(".ipynb"):
            blob = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=ROOT,
                                  capture_output=True, text=True, check=True).stdout
            out[Path(path).name] = json.loads(blob)
    return out


def table(stats: dict[str, dict]) -> str:
    cols = ["student words", "figures", "words per figure", "hedge share", "rigour cells",
            "exercises", "on the idea", "takeaway", "what we found", "max logic lines"]
    lines = ["| lesson | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, s in stats.items():
        cells = [str(s.get(c, "-")) if not isinstance(s.get(c), float) else f"{s[c]:.0%}"
                 for c in cols]
        lines.append(f"| {name[:2]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", default=None, help="a git revision to measure instead")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("--hedges", action="store_true", help="list the hedged sentences")
    args = parser.parse_args(argv)
    stats = {n: lesson_stats(nb) for n, nb in _notebooks(args.ref).items()}
    print(table(stats), flush=True)
    if args.hedges:
        for n, s in stats.items():
            for h in s["hedged sentences"]:
                print(f"{n[:2]}: {h}")
    if args.json:
        Path(args.json).write_text(json.dumps(stats, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

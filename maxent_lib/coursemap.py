"""The course map of lesson 00, read from the lesson notebooks themselves, so it cannot drift:
each lesson's title (its first ``# `` heading), its stated time (the ``Time`` line of its
header, which the lesson's author measured) and its estimated study time (reading and running,
:func:`study_minutes`: a stated rule applied to the lesson's own text).

Introduced in lesson 00.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from .validation import Dict, Instance, Integer, Items, PathArg, Real, Text, validate

#: One line per lesson: what it is for (the notebooks say the rest).
LESSONS: dict[str, str] = {
    "00": "The argument on one page; prerequisites, study times, an environment check.",
    "01": "The maximum-entropy principle: Gibbs form, the convex dual, Jaynes' die.",
    "02": "Softmax regression is the conditional max-ent model; L2 relaxes the constraints.",
    "03": "The two feature conditions (sufficiency, log-linearity), proved and measured.",
    "04": "A DNN as a recursive max-ent solution: growing a net layer by layer.",
    "05": "Ablation: shortcuts (plain vs residual nets) across depths.",
    "06": "Ablation: weight decay, dropout, label smoothing, confidence penalty, data size.",
    "07": "What holds up: the paper's claims against the course's measurements.",
}
_TIME = re.compile(r"^[\s\-*_#>]*time[\s*_]*:[\s*_]*(.+)$", flags=re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class LessonEntry:
    """One lesson on the map: number, file name (or None), title, stated time, what it is for,
    and the estimated study time in minutes (``None`` where there is no notebook).
    Introduced in lesson 00."""

    number: str
    file: str | None
    title: str
    time: str
    about: str
    study: int | None = None


def _header(path: Path, n_cells: int = 6) -> list[str]:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read the notebook {path.name}: {exc}") from exc
    cells = nb.get("cells", []) if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise ValueError(f"{path.name} is not a Jupyter notebook (no list of cells)")
    texts = []
    for c in cells:
        if not isinstance(c, dict) or c.get("cell_type") != "markdown":
            continue
        src = c.get("source", "")
        texts.append("".join(map(str, src)) if isinstance(src, list) else str(src))
    return texts[:n_cells]


def _stated_time(text: str) -> str:
    """The ``Time:`` line of a header with the rest of its paragraph or list item, on one line."""
    match = _TIME.search(text)
    if match is None:
        return "not stated"
    parts = [match.group(1)]
    for line in text[match.end():].splitlines()[1:]:
        if not line.strip() or line.lstrip().startswith(("- ", "* ", "+ ", "**", "#")):
            break
        parts.append(line.strip())
    return " ".join(" ".join(parts).split()).strip(" *_")


@validate(path=PathArg(file=True), number=Text())
def read_entry(path: Path, number: str) -> LessonEntry:
    """Title and stated time of one lesson notebook (``"not stated"`` if its header has no
    ``Time`` line). Raises ``ValueError`` if the file is not a readable notebook.
    Introduced in lesson 00."""
    texts = _header(path)
    title = next((m.group(1).strip() for t in texts
                  for m in [re.search(r"^#\s+(.+)$", t, flags=re.MULTILINE)] if m), path.stem)
    times = [_stated_time(t) for t in texts if _TIME.search(t)]
    time = times[0] if times else "not stated"
    study = study_minutes(study_counts(path), _run_seconds(time))
    return LessonEntry(number, path.name, title, time, LESSONS.get(number, ""), study)


@validate(notebooks=PathArg())
def course_map(notebooks: str | Path = ".") -> list[LessonEntry]:
    """Every lesson of :data:`LESSONS`, read from ``notebooks/NN_*.ipynb``; a lesson whose notebook
    is not there is listed as "not written yet". Raises ``ValueError`` if the folder is missing.
    Introduced in lesson 00."""
    folder = notebooks
    if not folder.is_dir():
        raise ValueError(f"notebooks folder not found: {folder}")
    entries = []
    for number, about in LESSONS.items():
        found = sorted(folder.glob(f"{number}_*.ipynb"))
        if found:
            entries.append(read_entry(found[0], number))
        else:
            entries.append(LessonEntry(number, None, "(not written yet)", "-", about))
    return entries


@validate(entries=Items(Instance((LessonEntry,))))
def format_map(entries: list[LessonEntry]) -> str:
    """The map as markdown: one row per lesson with its title, stated time, estimated study
    time and what it is for. Introduced in lesson 00."""
    rows = ["| # | Lesson | Time (as its header states) | Study time (estimated) | "
            "What it is for |", "|---|---|---|---|---|"]
    for e in entries:
        link = f"[{e.title}]({e.file})" if e.file else e.title
        study = f"about {e.study} min" if e.study is not None else "-"
        rows.append(f"| {e.number} | {link} | {e.time} | {study} | {e.about} |")
    return "\n".join(rows)


# ---------------------------------------------------------------- study time

#: The study-time rule of :func:`study_minutes` (minutes per unit); lesson 00 prints it.
STUDY_RULE: dict[str, float] = {
    "words per minute": 150.0,       # careful reading of technical prose (about half of the
                                     # 250-300 words a minute of light reading)
    "minutes per equation": 1.5,     # a displayed equation ($$ ... $$): read, follow, place
    "minutes per code cell": 0.5,    # read a code cell, run it, read its output
    "minutes per exercise": 5.0,     # the lecturer's notes budget about five minutes each
}
_TAGS_SKIPPED = ("rigour", "badges", "colab-setup")
_HEADER_LINES = re.compile(r"^[ \t]*(?:[-*+][ \t]+)?\*\*(?:Study time|Time):?\*\*.*$",
                           flags=re.I | re.M)


def _cells(path: Path) -> list[dict[str, object]]:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read the notebook {path.name}: {exc}") from exc
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise ValueError(f"{path.name} is not a Jupyter notebook (no list of cells)")
    return [c for c in cells if isinstance(c, dict)]


def _source(cell: dict[str, object]) -> str:
    src = cell.get("source", "")
    return "".join(map(str, src)) if isinstance(src, list) else str(src)


def _tags(cell: dict[str, object]) -> list[str]:
    meta = cell.get("metadata")
    tags = meta.get("tags", []) if isinstance(meta, dict) else []
    return [str(t) for t in tags] if isinstance(tags, list) else []


@validate(path=PathArg(file=True))
def study_counts(path: str | Path) -> dict[str, int]:
    """What a student reads and runs in one lesson notebook, on its main path (the cells tagged
    ``rigour`` or ``badges``, the lecturer's notes and the Colab set-up are left out: they are
    one click away or not for students):

    - ``words``: words of the markdown cells, without code, maths and link targets;
    - ``equations``: displayed equations (``$$ ... $$`` blocks) in those cells;
    - ``code cells``: code cells;
    - ``exercises``: lines that open with ``**Exercise`` in those cells.

    A header's ``**Time:**`` and ``**Study time:**`` lines are not counted.

    Raises ``ValueError`` if the file is not a readable notebook. Introduced in lesson 00."""
    words = equations = code = exercises = 0
    for cell in _cells(path):
        if any(t in _TAGS_SKIPPED for t in _tags(cell)):
            continue
        text = _source(cell)
        if cell.get("cell_type") == "code":
            code += 1
            continue
        if cell.get("cell_type") != "markdown" or text.lstrip().startswith(
                "> **Lecturer's note"):
            continue
        text = _HEADER_LINES.sub("", text)  # the Time and Study time lines are not reading
        equations += len(re.findall(r"\$\$.*?\$\$", text, flags=re.S))
        exercises += len(re.findall(r"^\*\*Exercise", text, flags=re.M))
        plain = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|\]\([^)]*\)|<[^>]+>", " ", text,
                       flags=re.S)
        words += len(re.findall(r"[A-Za-z][A-Za-z'-]*", plain))
    return {"words": words, "equations": equations, "code cells": code, "exercises": exercises}



@validate(counts=Dict(fields={k: Integer(low=0) for k in ("words", "equations", "code cells",
                                                          "exercises")},
                      required=("words", "equations", "code cells", "exercises")),
          seconds=Real(low=0.0))
def study_minutes(counts: dict[str, int], seconds: float = 0.0) -> int:
    """The estimated study time of a lesson (reading and running), in minutes, from
    :func:`study_counts` and the lesson's measured run time ``seconds``:

        minutes = words / 150 + 1.5 * equations + 0.5 * code cells + 5 * exercises
                  + seconds / 60,

    rounded up to a multiple of 5 (the rule is :data:`STUDY_RULE`). It is an estimate of the
    main path: the "How sure are we?" sections and any extra reading are on top of it.
    Introduced in lesson 00."""
    rule = STUDY_RULE
    minutes = (counts["words"] / rule["words per minute"]
               + rule["minutes per equation"] * counts["equations"]
               + rule["minutes per code cell"] * counts["code cells"]
               + rule["minutes per exercise"] * counts["exercises"] + seconds / 60.0)
    return max(5, 5 * math.ceil(minutes / 5 - 1e-9))


def _run_seconds(stated: str) -> float:
    """The quick-profile run time in seconds read from a header's stated time ("quick profile:
    33 s on ...", or minutes: "2 min"); 0 when none is stated."""
    match = re.search(r"(\d+(?:\.\d+)?)\s*(s|sec|seconds?|min|minutes?)\b", str(stated))
    if match is None:
        return 0.0
    value = float(match.group(1))
    return value * 60.0 if match.group(2).startswith("min") else value

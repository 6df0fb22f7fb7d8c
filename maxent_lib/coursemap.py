"""The course map of lesson 00, read from the lesson notebooks themselves, so it cannot drift:
each lesson's title (its first ``# `` heading) and its stated time (the ``Time`` line of its
header, which the lesson's author measured).

Introduced in lesson 00.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ._checks import InputTypeError, check_path

#: One line per lesson: what it is for (the notebooks say the rest).
LESSONS: dict[str, str] = {
    "00": "How to use the course; an environment check; this map.",
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
    """One lesson on the map: number, file name (or None), title, stated time, what it is for."""

    number: str
    file: str | None
    title: str
    time: str
    about: str


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


def read_entry(path: Path, number: str) -> LessonEntry:
    """Title and stated time of one lesson notebook (``"not stated"`` if its header has no
    ``Time`` line). Raises ``ValueError`` if the file is not a readable notebook."""
    path = check_path(path, "path")
    if not isinstance(number, str):
        raise InputTypeError(f"number must be a lesson number such as '01', got {number!r}")
    texts = _header(path)
    title = next((m.group(1).strip() for t in texts
                  for m in [re.search(r"^#\s+(.+)$", t, flags=re.MULTILINE)] if m), path.stem)
    times = [_stated_time(t) for t in texts if _TIME.search(t)]
    time = times[0] if times else "not stated"
    return LessonEntry(number, path.name, title, time, LESSONS.get(number, ""))


def course_map(notebooks: str | Path = ".") -> list[LessonEntry]:
    """Every lesson of :data:`LESSONS`, read from ``notebooks/NN_*.ipynb``; a lesson whose notebook
    is not there is listed as "not written yet". Raises ``ValueError`` if the folder is missing."""
    folder = check_path(notebooks, "notebooks")
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


def format_map(entries: list[LessonEntry]) -> str:
    """The map as markdown: one row per lesson with its title, time and what it is for."""
    if isinstance(entries, (str, bytes)) or not isinstance(entries, (list, tuple)) or not all(
            isinstance(e, LessonEntry) for e in entries):
        raise InputTypeError("entries must be a list of LessonEntry (from course_map)")
    rows = ["| # | Lesson | Time (as its header states) | What it is for |",
            "|---|---|---|---|"]
    for e in entries:
        link = f"[{e.title}]({e.file})" if e.file else e.title
        rows.append(f"| {e.number} | {link} | {e.time} | {e.about} |")
    return "\n".join(rows)

"""Collapse the "How sure are we?" cells of lesson notebooks in JupyterLab.

    python tools/rigour.py notebooks/03_feature_conditions.ipynb [...]
    python tools/rigour.py --check notebooks/0*.ipynb   # exit 1 if a cell is not collapsed

Every cell tagged ``rigour`` (a "How sure are we?" section: the heading and every cell after
it, see CONTRIBUTING.md) gets ``metadata.jupyter.source_hidden = true``; a rigour code cell also
gets ``metadata.jupyter.outputs_hidden = true``. JupyterLab then shows each such cell as one
collapsed line that a click opens; nothing is deleted and every cell still runs. Running it
again changes nothing (idempotent); cells without the tag are left as they are. The notebook is
rewritten only when something changed, as nbformat writes it (outputs kept).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

TAG = "rigour"


def _wanted(cell: dict) -> dict[str, bool]:
    want = {"source_hidden": True}
    if cell.get("cell_type") == "code":
        want["outputs_hidden"] = True
    return want


def is_collapsed(cell: dict) -> bool:
    """True if the cell carries the collapsed metadata its kind needs (or is not a rigour cell)."""
    if TAG not in cell.get("metadata", {}).get("tags", []):
        return True
    jup = cell.get("metadata", {}).get("jupyter", {})
    return all(jup.get(k) is v for k, v in _wanted(cell).items())


def collapse(nb: nbformat.NotebookNode) -> int:
    """Set the collapsed metadata on every rigour cell of ``nb``; the number of cells changed."""
    changed = 0
    for cell in nb.cells:
        if is_collapsed(cell):
            continue
        cell.metadata.setdefault("jupyter", {}).update(_wanted(cell))
        changed += 1
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if some rigour cell is not collapsed")
    args = parser.parse_args(argv)
    bad = 0
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        if args.check:
            missing = sum(not is_collapsed(c) for c in nb.cells)
            bad += missing
            print(f"{path.name}: " + (f"{missing} rigour cell(s) not collapsed" if missing
                                      else "every rigour cell collapsed"))
            continue
        n = collapse(nb)
        if n:
            out = nbformat.writes(nb, version=4)
            path.write_text(out if out.endswith("\n") else out + "\n", encoding="utf-8")
        tagged = sum(TAG in c.get("metadata", {}).get("tags", []) for c in nb.cells)
        print(f"{path.name}: {tagged} rigour cell(s), {n} collapsed now")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

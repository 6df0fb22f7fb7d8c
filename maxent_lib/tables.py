"""The course's one table formatter: rows of dicts as plain text (right-aligned columns) or as
a markdown table (for notebook output with ``display(Markdown(...))``). Floats get ``digits``
decimals; missing cells are empty. No torch. Introduced in lesson 03."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .validation import Dict, Flag, Integer, Items, Text, validate

__all__ = ["format_table"]


@validate(rows=Items(Dict()), columns=Items(Text(), min_len=1), markdown=Flag(),
          digits=Integer(low=0, high=15))
def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], *,
                 markdown: bool = False, digits: int = 3) -> str:
    """``rows`` (dicts) as a table of ``columns``: plain text with right-aligned columns, or a
    markdown table (``|`` in a cell escaped) with ``markdown=True``. Floats are printed with
    ``digits`` decimals. Raises ``TypeError`` unless ``rows`` is a list of dicts and
    ``columns`` a list of strings, ``ValueError`` when ``columns`` is empty.
    Introduced in lesson 03."""

    def cell(v: Any) -> str:
        text = f"{v:.{digits}f}" if isinstance(v, float) else ("" if v is None else str(v))
        return text.replace("|", "\\|") if markdown else text

    cells = [[cell(r.get(c)) for c in columns] for r in rows]
    if markdown:
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)

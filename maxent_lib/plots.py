"""The course's one figure style (every lesson calls :func:`use_course_style` once).

Figures are drawn at a size and font that read on a laptop screen and, scaled up in the lecture
decks, from the back of a room: 8 x 4.5 inches (16:9), 110 dpi in the notebook, 13-point text,
thick lines, a colour cycle that stays distinguishable in black and white (markers and line
styles differ too). Log axes print major labels only, so minor ticks never collide.

Introduced in lesson 00.
"""

from __future__ import annotations

from typing import Any

#: Width and height (inches) of a one-panel figure; two panels use (11, 4.5).
FIGSIZE: tuple[float, float] = (8.0, 4.5)
#: Resolution of figures stored in the notebooks (the decks scale them up).
DPI: int = 110

COURSE_STYLE: dict[str, Any] = {
    "figure.figsize": FIGSIZE,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.constrained_layout.use": True,
    "font.size": 13,
    "axes.titlesize": 14,
    "axes.labelsize": 13,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 12,
    "legend.frameon": False,
    "lines.linewidth": 2.2,
    "lines.markersize": 7,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def use_course_style() -> None:
    """Apply :data:`COURSE_STYLE` to matplotlib's global settings (idempotent).
    Introduced in lesson 00."""
    import matplotlib as mpl

    mpl.rcParams.update(COURSE_STYLE)


def plain_log_axis(ax: Any, axis: str = "x", ticks: Any = None) -> None:
    """Make a log axis print plain numbers at ``ticks`` (default: the data's own values are
    left to matplotlib) and no minor labels, so "16" and "32" never collide with "3x10^0".
    Introduced in lesson 05."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    target = ax.xaxis if axis == "x" else ax.yaxis
    if ticks is not None:
        (ax.set_xticks if axis == "x" else ax.set_yticks)(list(ticks))
    fmt = ScalarFormatter()
    fmt.set_scientific(False)
    target.set_major_formatter(fmt)
    target.set_minor_formatter(NullFormatter())

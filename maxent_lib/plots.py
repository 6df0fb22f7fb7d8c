"""The course's one figure style; every lesson calls :func:`use_course_style` once, in its imports
cell, and sets no ``figsize`` or ``dpi`` of its own.

Figures are drawn to read on a laptop screen and, in the lecture decks, from the back of a room:

- one panel is :data:`FIGSIZE` = 8 x 4.5 inches (16:9, the shape of a slide), two or three panels
  side by side :data:`FIGSIZE_WIDE` = 10 x 4.5 inches;
- :data:`DPI` = 110 dots per inch in the stored notebooks (880 x 495 pixels for one panel): the
  decks show a figure as large as fits 1200 x 560 slide pixels (``tools/build_slides.py``), so
  its tick labels (14 pt, 21 pixels in the notebook) are about 24 pixels on a 1280 x 720 slide,
  and at least :data:`MIN_DECK_TEXT_PX` even on a slide zoomed out as far as the decks go;
- 14-16 pt text, thick lines, a colour-blind-safe colour cycle in which each colour has its
  own line style (and :data:`MARKERS` to match), so figures read in black and white;
- log axes print plain major labels only (:func:`plain_log_axis`), category labels wrap instead of
  rotating (:func:`category_axis`), and a bar of height zero is drawn as a visible mark with its
  value (:func:`annotate_bars`), so it does not look like missing data.

Introduced in lesson 00 (every lesson from 01 on uses it).
"""

from __future__ import annotations

import numbers
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ._checks import InputTypeError, as_finite_array
from .validation import (
    Array,
    Choice,
    Constraint,
    Dict,
    Instance,
    Integer,
    Items,
    Real,
    Text,
    validate,
)

#: Width and height (inches) of a one-panel figure (16:9).
FIGSIZE: tuple[float, float] = (8.0, 4.5)
#: Width and height (inches) of a figure with two or three panels side by side.
FIGSIZE_WIDE: tuple[float, float] = (10.0, 4.5)
#: Resolution of figures stored in the notebooks (the decks scale them up).
DPI: int = 110
#: Smallest text (tick labels) in points.
MIN_FONT_PT: float = 14.0
#: Tick labels must be at least this many pixels tall on a 1280 x 720 slide, even on a slide the
#: deck zooms out to its minimum (checked by tests).
MIN_DECK_TEXT_PX: float = 16.0
#: The Okabe-Ito colours (safe for colour-blind readers); the first three also stay apart in grey
#: (black, light, mid), and every colour comes with its own line style (the default cycle) and
#: a marker (pass ``marker=MARKERS[i]`` where points matter), so figures read in black and white.
COLORS: tuple[str, ...] = ("#000000", "#E69F00", "#0072B2", "#CC79A7", "#009E73", "#D55E00")
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P")
LINESTYLES: tuple[str, ...] = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)))


def _cycler() -> Any:
    from cycler import cycler

    return cycler(color=list(COLORS)) + cycler(linestyle=list(LINESTYLES))


COURSE_STYLE: dict[str, Any] = {
    "figure.figsize": FIGSIZE,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.constrained_layout.use": True,
    "font.size": 15,
    "axes.titlesize": 16,
    "axes.labelsize": 15,
    "xtick.labelsize": MIN_FONT_PT,
    "ytick.labelsize": MIN_FONT_PT,
    "legend.fontsize": MIN_FONT_PT,
    "legend.frameon": False,
    "figure.titlesize": 17,
    "lines.linewidth": 2.2,
    "lines.markersize": 7,
    "errorbar.capsize": 3,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.formatter.useoffset": False,
}


def _check_axes(ax: object) -> Any:
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise InputTypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    return ax


def _check_labels(labels: object) -> list[str]:
    if isinstance(labels, (str, bytes)) or not isinstance(labels, (list, tuple)):
        raise InputTypeError(f"labels must be a list of labels, got {type(labels).__name__}")
    for label in labels:
        if isinstance(label, bool) or not isinstance(label, (str, numbers.Real)):
            raise InputTypeError(f"labels must hold text or numbers, got {label!r}")
    return [str(label) for label in labels]


class _Labels(Constraint):
    """Category labels: a list or tuple of text or numbers (not booleans); passed on as a list
    of strings."""

    def check(self, value: Any, name: str, args: dict[str, Any]) -> list[str]:
        return _check_labels(value)

    def bad_values(self, example: Any) -> list[tuple[str, Any, str]]:
        return [*super().bad_values(example), ("one_string", "abc", "type"),
                ("with_None", [*example, None], "type"), ("with_bool", [True], "type")]


class _Bars(Constraint):
    """The bars of ``ax.bar`` or ``ax.barh``: an iterable (not text) of rectangles; passed on
    unchanged."""

    def check(self, value: Any, name: str, args: dict[str, Any]) -> Any:
        from matplotlib.patches import Rectangle

        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise InputTypeError(f"{name} must be the bars of ax.bar or ax.barh, got "
                                 f"{type(value).__name__}")
        if not all(isinstance(bar, Rectangle) for bar in value):
            raise InputTypeError(f"{name} must hold the rectangles of ax.bar or ax.barh")
        return value

    def bad_values(self, example: Any) -> list[tuple[str, Any, str]]:
        return [*super().bad_values(example), ("numbers", [1.0, 2.0], "type"),
                ("text", "bars", "type")]


class _Format(Text):
    """A format string that formats a number (``"{:.2g}"``); passed on unchanged."""

    def check(self, value: Any, name: str, args: dict[str, Any]) -> str:
        fmt = super().check(value, name, args)
        try:
            fmt.format(0.5)
        except (ValueError, IndexError, KeyError) as exc:
            raise ValueError(f"{name} {fmt!r} cannot format a number: {exc}") from exc
        return fmt

    def bad_values(self, example: Any) -> list[tuple[str, Any, str]]:
        return [*super().bad_values(example), ("bad_spec", "{:.q}", "value"),
                ("named_field", "{value}", "value")]


_AXES = Instance(("matplotlib.axes.Axes",))
_AXIS = Choice(("x", "y"))
_WIDTH = Integer(low=1, high=1000)


@validate()
def use_course_style() -> None:
    """Apply :data:`COURSE_STYLE` (and the grey-safe colour, marker and line-style cycle) to
    matplotlib's global settings; calling it again changes nothing. Introduced in lesson 00."""
    import matplotlib as mpl

    mpl.rcParams.update(COURSE_STYLE)
    mpl.rcParams["axes.prop_cycle"] = _cycler()


@validate(ax=_AXES, axis=_AXIS, ticks=Array(ndim=1, low=0.0, low_open=True, optional=True))
def plain_log_axis(ax: Any, axis: str = "x", ticks: Iterable[float] | None = None) -> None:
    """Make a log axis print plain numbers ("16", "32", "0.01") at its major ticks, or at
    ``ticks`` when given (e.g. the depths of an ablation), and nothing at the minor ticks, so
    labels such as "3x10^0" never collide with "16" and "32". Introduced in lesson 02."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    target = ax.xaxis if axis == "x" else ax.yaxis
    if ticks is not None:
        values = [float(t) for t in ticks]
        (ax.set_xticks if axis == "x" else ax.set_yticks)(values)
    target.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    target.set_minor_formatter(NullFormatter())


@validate(labels=_Labels(), width=_WIDTH)
def wrap_labels(labels: Sequence[str], width: int = 12) -> list[str]:
    """Category labels broken into lines of at most ``width`` characters (at spaces), so they
    fit side by side without rotation. Introduced in lesson 06."""
    return ["\n".join(textwrap.wrap(label, width)) or label for label in labels]


@validate(ax=_AXES, labels=_Labels(), axis=_AXIS, width=_WIDTH)
def category_axis(ax: Any, labels: Sequence[str], axis: str = "x", width: int = 12) -> None:
    """Put ``labels`` at positions 0, 1, ... of ``axis``, wrapped (:func:`wrap_labels`) and
    horizontal, instead of crowded or rotated. Introduced in lesson 06."""
    positions = list(range(len(labels)))
    text = wrap_labels(labels, width)
    if axis == "x":
        ax.set_xticks(positions, text, rotation=0, ha="center")
    else:
        ax.set_yticks(positions, text, rotation=0)


@validate(ax=_AXES, bars=_Bars(), fmt=_Format(), zero_tol=Real(low=0.0))
def annotate_bars(ax: Any, bars: Any, fmt: str = "{:.2g}", zero_tol: float = 0.0) -> list[Any]:
    """Write each bar's value next to it; a bar of height (or width, for ``barh``) within
    ``zero_tol`` of zero also gets a short thick mark on the axis line, so it reads as "zero",
    not as missing. Returns the text objects. Introduced in lesson 05."""
    texts = []
    horizontal = getattr(bars, "orientation", "vertical") == "horizontal"
    for bar in bars:
        value = bar.get_width() if horizontal else bar.get_height()
        x = bar.get_x() + bar.get_width() / 2
        y = bar.get_y() + bar.get_height() / 2
        if abs(value) <= zero_tol:
            if horizontal:
                ax.plot([0, 0], [bar.get_y(), bar.get_y() + bar.get_height()],
                        color=bar.get_facecolor(), lw=4, solid_capstyle="butt", marker="")
            else:
                ax.plot([bar.get_x(), bar.get_x() + bar.get_width()], [0, 0],
                        color=bar.get_facecolor(), lw=4, solid_capstyle="butt", marker="")
        if horizontal:
            texts.append(ax.annotate(fmt.format(value), (max(value, 0), y), xytext=(4, 0),
                                     textcoords="offset points", va="center", ha="left"))
        else:
            texts.append(ax.annotate(fmt.format(value), (x, max(value, 0)), xytext=(0, 3),
                                     textcoords="offset points", ha="center", va="bottom"))
    return texts


@validate(fig=Instance(("matplotlib.figure.Figure",)), shown_width_px=Real(low=0.0, low_open=True))
def deck_text_px(fig: Any, shown_width_px: float) -> float:
    """Height in pixels of the figure's smallest text (its tick labels, or the smallest font
    in the style) when the figure is shown ``shown_width_px`` wide, e.g. on a slide.
    Introduced in lesson 00."""
    import matplotlib as mpl

    sizes = [t.get_fontsize() for ax in fig.axes
             for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]
    smallest = min(sizes) if sizes else mpl.rcParams["font.size"]
    natural_width = fig.get_figwidth() * fig.dpi
    return smallest * fig.dpi / 72.0 * shown_width_px / natural_width


# ---------------------------------------------------------------- the course's own figures

@validate()
def argument_diagram() -> Any:
    """The course's argument as one figure (lesson 00): input x -> layers -> features T ->
    softmax regression (the max-ent model, lessons 01-02) -> P(y|x), with the two feature
    conditions FC1 and FC2 (lesson 03) on the features and, below, the test of the recursive
    view (lessons 04-07): the linear read-out's excess cross-entropy,
    CE_lin(T) - H(Y|X) = FC1 gap + FC2 gap, falls layer by layer. A diagram, with no measured
    numbers. Returns the matplotlib Figure (one panel, :data:`FIGSIZE`).
    Introduced in lesson 00."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=FIGSIZE)
    ax.set(xlim=(0, 10), ylim=(0.9, 6.1))
    ax.axis("off")
    boxes = [(0.75, "input\n$x$", "00"), (2.85, "layers\n$\\phi_1, \\dots, \\phi_L$", "04"),
             (5.0, "features\n$T = T_L(x)$", "03"),
             (7.3, "softmax\nregression\n= max-ent", "01-02"), (9.35, "$P(y\\mid x)$", "")]
    style = {"boxstyle": "round,pad=0.35", "facecolor": "white", "edgecolor": COLORS[0],
             "linewidth": 1.8}
    for i, (x, text, lesson) in enumerate(boxes):
        ax.text(x, 4.3, text, ha="center", va="center", bbox=style, fontsize=14)
        if lesson and lesson != "00":
            ax.text(x, 3.25, f"lesson {lesson}", ha="center", va="center", fontsize=13,
                    color="0.35")
        if i:
            ax.annotate("", xy=(x - 0.85, 4.3), xytext=(boxes[i - 1][0] + 0.85, 4.3),
                        arrowprops={"arrowstyle": "-|>", "lw": 2, "color": COLORS[0]})
    ax.text(5.0, 5.75, "FC1: $T$ keeps what $x$ says about $y$     "
            "FC2: the log-odds of $y$ are affine in $T$", ha="center", va="center",
            fontsize=13.5)
    ax.annotate("", xy=(5.0, 5.0), xytext=(5.0, 5.5),
                arrowprops={"arrowstyle": "-|>", "lw": 1.5, "color": "0.35"})
    ax.text(5.0, 1.9, "excess of the linear read-out = FC1 gap + FC2 gap\n"
            "the test (lessons 04-07): each trained layer lowers it", ha="center",
            va="center", fontsize=14,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": "0.93", "edgecolor": "0.5",
                  "linestyle": "--"})
    ax.set_title("Layers make features that a max-ent read-out can use")
    return fig


@validate(ax=Instance(("matplotlib.axes.Axes",)), labels=Items(Text(), min_len=1),
          fc1=Array(ndim=1), fc2=Array(ndim=1), title=Text(optional=True))
def stacked_gaps(ax: Any, labels: Sequence[str], fc1: Any, fc2: Any,
                 title: str | None = None) -> list[Any]:
    """Horizontal stacked bars, one per feature map in ``labels``: the FC1 gap (hatched) and the
    FC2 gap (plain) end to end, so each bar's length is the linear read-out's excess
    cross-entropy CE_lin(T) - H(Y|X) = FC1 gap + FC2 gap (lesson 03, (4)), in nats, with its
    total written at its end. Gaps are clipped at 0 for drawing (a true gap is a KL divergence,
    never negative). Returns the two bar containers. Introduced in lesson 03."""
    _check_axes(ax)
    names = _check_labels(labels)
    a, b = np.clip(fc1, 0.0, None), np.clip(fc2, 0.0, None)
    if not len(a) == len(b) == len(names):
        raise ValueError(f"labels, fc1 and fc2 must have one entry per feature map, got "
                         f"{len(names)}, {len(a)} and {len(b)}")
    pos = np.arange(len(names))[::-1]
    first = ax.barh(pos, a, color=COLORS[1], hatch="//", edgecolor=COLORS[0],
                    label="FC1 gap (information lost)")
    second = ax.barh(pos, b, left=a, color=COLORS[2], edgecolor=COLORS[0],
                     label="FC2 gap (not log-linear)")
    for p, total in zip(pos, a + b, strict=True):
        ax.annotate(f"{total:.2f}", (total, p), xytext=(5, 0), textcoords="offset points",
                    va="center", ha="left")
    ax.set_yticks(pos, wrap_labels(names, 18))
    ax.set_xlim(0, max(float(np.max(a + b)), 1e-3) * 1.18)
    ax.set_xlabel("excess cross-entropy of the linear read-out  [nats]")
    if title is not None:
        ax.set_title(str(title))
    ax.legend(loc="lower right")
    return [first, second]


# ---------------------------------------------------------------- lesson 04: layer by layer



def _series(curves: object, name: str) -> dict[str, Any]:
    """``curves`` as {label: float array (runs, points)}: a dict of 2-D arrays of one width."""
    if not isinstance(curves, dict):
        raise InputTypeError(f"{name} must be a dict of label -> array (runs, points), got "
                             f"{type(curves).__name__}")
    out = {str(k): as_finite_array(v, f"{name}[{k!r}]", ndim=2) for k, v in curves.items()}
    widths = {v.shape[1] for v in out.values()}
    if len(widths) > 1:
        raise ValueError(f"the arrays of {name} have different numbers of points: "
                         f"{sorted(widths)}")
    return out


@validate(ax=_AXES, curves=Dict(min_len=1), names=Items(Text(), min_len=1, optional=True),
          excluded=Dict(optional=True), level=Real(low=0.0, high=1.0, low_open=True,
                                                   high_open=True))
def layer_profile(ax: Any, curves: dict[str, Any], names: Sequence[str] | None = None,
                  excluded: dict[str, Any] | None = None, level: float = 0.95) -> None:
    """A quantity layer by layer (e.g. the excess E_l of the linear read-out, lesson 04), one
    series per entry of ``curves`` (label -> array of shape (runs, layers)): a thin line per
    run (seed), and the mean over the runs with its Student-t interval
    ``mean -+ t_{(1+level)/2, n-1} sd / sqrt(n)`` (:func:`maxent_lib.stats.t_interval`) as
    markers and bars. Series are shifted sideways a little, so their bars do not hide each
    other. ``excluded`` (label -> array (runs, layers)) draws runs left out of the mean (nets
    that did not train) as dotted lines in that series' colour. ``names`` labels the layers
    (default 0, 1, ...). Introduced in lesson 04."""
    from .stats import t_interval

    _check_axes(ax)
    curves = _series(curves, "curves")
    extra = _series(excluded, "excluded") if excluded else {}
    width = next(iter(curves.values())).shape[1]
    if names is not None and len(names) != width:
        raise ValueError(f"names has {len(names)} labels for {width} layers")
    if any(v.shape[1] != width for v in extra.values()):
        raise ValueError(f"the arrays of excluded must have {width} points, as curves")
    unknown = sorted(set(extra) - set(curves))
    if unknown:
        raise ValueError(f"excluded has series that curves does not: {unknown}")
    k = len(curves)
    for c, (label, v) in enumerate(curves.items()):
        x = np.arange(width) + 0.06 * (c - (k - 1) / 2)
        color, style = COLORS[c % len(COLORS)], LINESTYLES[c % len(LINESTYLES)]
        ax.plot(x, v.T, color=color, ls=style, lw=0.8, alpha=0.5)
        if label in extra and len(extra[label]):
            ax.plot(x, extra[label].T, color=color, ls=":", lw=1.2)
            ax.plot([], [], color=color, ls=":", lw=1.2,
                    label=f"{label}: did not train ({len(extra[label])}, not in the mean)")
        stats_ = np.array([t_interval(col, level) for col in v.T])
        mean = stats_[:, 0]
        half = np.nan_to_num(np.stack([mean - stats_[:, 1], stats_[:, 2] - mean]))
        ax.errorbar(x, mean, yerr=half, fmt=MARKERS[c % len(MARKERS)], color=color, ls=style,
                    capsize=4, label=f"{label} ({len(v)} runs)")
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xticks(range(width), list(names) if names is not None else list(range(width)))


@validate(ax=_AXES, x=Array(ndim=1, min_len=1), curves=Dict(min_len=1))
def seed_curves(ax: Any, x: Any, curves: dict[str, Any]) -> None:
    """One thin line per run (row) of each series of ``curves`` (label -> array of shape
    (runs, len(x))) against ``x``, in the series' colour and line style, labelled once per
    series with its number of runs: e.g. each seed's held-out cross-entropy against gradient
    steps (lesson 04's equal budgets). Introduced in lesson 04."""
    _check_axes(ax)
    curves = _series(curves, "curves")
    for c, (label, v) in enumerate(curves.items()):
        if v.shape[1] != len(x):
            raise ValueError(f"curves[{label!r}] has {v.shape[1]} points but x has {len(x)}")
        for i, row in enumerate(v):
            ax.plot(x, row, color=COLORS[c % len(COLORS)], ls=LINESTYLES[c % len(LINESTYLES)],
                    lw=1.3, alpha=0.8, label=f"{label} ({len(v)} runs)" if i == 0 else None)


@validate(ax=_AXES, x1=Array(ndim=2, min_len=2), x2=Array(ndim=2, min_len=2),
          p1=Array(ndim=2, min_len=2), levels=Integer(low=2, high=101))
def posterior_map(ax: Any, x1: Any, x2: Any, p1: Any, levels: int = 11) -> Any:
    """P(y = 1 | x) of a 2-D two-class problem on a grid (``x1``, ``x2`` as from
    ``numpy.meshgrid``, ``p1`` of the same shape, values in [0, 1]): filled grey contours at
    ``levels`` evenly spaced values from 0 to 1, the decision boundary P = 1/2 as a black line,
    equal axes. Returns the filled contour set (for a colour bar). Introduced in lesson 04."""
    _check_axes(ax)
    if not (x1.shape == x2.shape == p1.shape):
        raise ValueError(f"x1, x2 and p1 must have one shape, got {x1.shape}, {x2.shape} and "
                         f"{p1.shape}")
    if p1.min() < 0 or p1.max() > 1:
        raise ValueError("p1 holds probabilities: its values must lie in [0, 1]")
    filled = ax.contourf(x1, x2, p1, levels=np.linspace(0, 1, levels), cmap="Greys")
    ax.contour(x1, x2, p1, [0.5], colors="k")
    ax.set_aspect("equal")
    return filled


# ------------------------------------------------------------------- lesson 07: the verdicts

#: How :func:`verdict_map` draws each verdict: a fill colour (Okabe-Ito, or grey) and a symbol
#: printed in the cell, so the map reads in black and white.
VERDICT_STYLE: dict[str, tuple[str, str]] = {
    "supported": ("#009E73", "✓"), "contradicted": ("#D55E00", "✗"),
    "mixed": ("#E69F00", "±"), "negligible": ("#56B4E9", "0"),
    "inconclusive": ("#DDDDDD", "?"), "no verdict": ("#FFFFFF", "–"),
    "by construction": ("#999999", "="),
}


@validate(ax=_AXES, cells=Dict(), rows=Items(Text(empty=False), min_len=1, unique=True),
          cols=Items(Text(empty=False), min_len=1, unique=True))
def verdict_map(ax: Any, cells: dict[tuple[str, str], str], rows: Sequence[str],
                cols: Sequence[str]) -> list[Any]:
    """The verdicts of claims by items as a grid of coloured cells: ``cells`` maps (row, column)
    (e.g. (item, claim)) to a verdict of :data:`VERDICT_STYLE` ("supported", ..., "no verdict",
    "by construction"), optionally followed by " | depends on a filter", drawn as a star after
    the cell's symbol; a pair missing from ``cells`` (a claim that does not apply to the item)
    stays blank. Rows top to bottom, columns labelled on top. Returns the legend handles of the
    verdicts shown (pass them to ``legend(handles=...)``). Introduced in lesson 07."""
    from matplotlib.patches import Patch, Rectangle

    _check_axes(ax)
    seen, starred = [], False
    for key, word in cells.items():
        if not (isinstance(key, tuple) and len(key) == 2 and key[0] in rows and key[1] in cols):
            raise ValueError(f"cells has the key {key!r}: keys must be (row, column) pairs of "
                             "rows and cols")
        base = word.split(" | ")[0] if isinstance(word, str) else word
        if base not in VERDICT_STYLE:
            raise ValueError(f"cells[{key!r}] = {word!r} is not one of {list(VERDICT_STYLE)}")
        seen.append(base)
        starred |= word.endswith("depends on a filter")
    for (row, col), word in cells.items():
        i, j = rows.index(row), cols.index(col)
        color, symbol = VERDICT_STYLE[word.split(" | ")[0]]
        ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=color, edgecolor="0.3",
                               lw=1.0, hatch="//" if word.startswith("no verdict") else None))
        ax.text(j, i, symbol + ("*" if word.endswith("depends on a filter") else ""),
                ha="center", va="center", fontsize=16, fontweight="bold")
    ax.set_xlim(-0.5, len(cols) - 0.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xticks(range(len(cols)), list(cols))
    ax.set_yticks(range(len(rows)), list(rows))
    ax.tick_params(top=True, labeltop=True, bottom=False, labelbottom=False, length=0)
    ax.grid(False)
    handles = [Patch(facecolor=VERDICT_STYLE[w][0], edgecolor="0.3",
                     hatch="//" if w == "no verdict" else None,
                     label=f"{VERDICT_STYLE[w][1]}  {w}") for w in VERDICT_STYLE if w in seen]
    if starred:
        handles.append(Patch(facecolor="white", edgecolor="white",
                             label="*  depends on a filter"))
    return handles


# -------------------------------------------------------------- lesson 06: regularisation

from .validation import Flag  # noqa: E402

#: Rows of per-(size, arm) statistics: ``ablation.summarize(records, ("n_train", "arm"), ...)``.
_ARM_ROWS = Items(Dict(required=("n_train", "arm")), min_len=1)


def _arm_values(rows: list[dict[str, Any]], metric: str
                ) -> tuple[list[str], dict[Any, np.ndarray]]:
    """The arms (in order of first appearance) and, per size (sorted), an array (arms, 3) of
    ``metric``'s mean, lo and hi (NaN where a row or a bound is missing)."""
    if not any(f"{metric}_mean" in r for r in rows):
        raise ValueError(f"rows have no '{metric}_mean' (summarise the metric {metric!r})")
    arms = list(dict.fromkeys(str(r["arm"]) for r in rows))
    out = {}
    for n in sorted({r["n_train"] for r in rows}):
        by = {str(r["arm"]): r for r in rows if r["n_train"] == n}
        out[n] = np.array([[np.nan if by.get(a, {}).get(f"{metric}_{s}") is None
                            else float(by[a][f"{metric}_{s}"]) for s in ("mean", "lo", "hi")]
                           for a in arms])
    return arms, out


def _half_widths(v: np.ndarray) -> np.ndarray:
    return np.nan_to_num(np.abs(np.stack([v[:, 0] - v[:, 1], v[:, 2] - v[:, 0]])))


@validate(ax=_AXES, rows=_ARM_ROWS, metric=Text(empty=False), band=Real(low=0.0, optional=True),
          hollow=Flag(), label=Text(), width=Integer(low=1, high=1000))
def arm_intervals(ax: Any, rows: Sequence[dict[str, Any]], metric: str, *,
                  band: float | None = None, hollow: bool = False, label: str = "",
                  width: int = 12) -> list[str]:
    """One column per arm on the x axis (labels wrapped under their ticks by
    :func:`category_axis`), one marker and colour per training-set size, side by side: the mean
    of ``metric`` with its 95% interval (the rows' ``<metric>_mean``, ``_lo``, ``_hi``, e.g.
    from :func:`maxent_lib.ablation.summarize` or a paired effect). ``band``: a grey band of
    +-band around a line at 0 (the margin of a paired effect); ``hollow``: open markers (a
    second metric drawn on the same axes); ``label`` prefixes the legend entries "n = ...".
    Returns the arms in order. Introduced in lesson 06."""
    _check_axes(ax)
    arms, values = _arm_values(list(rows), metric)
    if band is not None:
        ax.axhspan(-band, band, color="0.88", zorder=0)
        ax.axhline(0, color="0.4", lw=1)
    for j, (n, v) in enumerate(values.items()):
        x = np.arange(len(arms)) + 0.2 * (j - (len(values) - 1) / 2)
        ax.errorbar(x, v[:, 0], yerr=_half_widths(v), fmt=MARKERS[j % len(MARKERS)],
                    color=COLORS[j % len(COLORS)], ls="none", capsize=4,
                    mfc="white" if hollow else COLORS[j % len(COLORS)],
                    label=f"{label}, n = {n}" if label else f"n = {n}")
    category_axis(ax, arms, axis="x", width=width)
    return arms


@validate(ax=_AXES, rows=_ARM_ROWS)
def entropy_accuracy(ax: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Each arm's mean predictive entropy (x, nats) against its mean test accuracy (y), both with
    their 95% intervals: one colour and marker per arm, its training-set sizes joined by a thin
    line and labelled with n. The rows need ``test_entropy`` and ``test_acc`` (``_mean``,
    ``_lo``, ``_hi``), as :func:`maxent_lib.ablation.summarize` by ``("n_train", "arm")`` gives
    them. Introduced in lesson 06."""
    _check_axes(ax)
    arms, ent = _arm_values(list(rows), "test_entropy")
    _, acc = _arm_values(list(rows), "test_acc")
    for i, arm in enumerate(arms):
        e, a = (np.array([d[n][i] for n in d]) for d in (ent, acc))
        color = COLORS[i % len(COLORS)]
        marker = MARKERS[(i + i // len(COLORS)) % len(MARKERS)]
        ax.plot(e[:, 0], a[:, 0], color=color, lw=1, ls=LINESTYLES[i % len(LINESTYLES)])
        ax.errorbar(e[:, 0], a[:, 0], xerr=_half_widths(e), yerr=_half_widths(a), fmt=marker,
                    color=color, ls="none", capsize=3, label=arm)
        for n, x, y in zip(ent, e[:, 0], a[:, 0], strict=True):
            ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(6, -15),
                        fontsize=12, color=color)

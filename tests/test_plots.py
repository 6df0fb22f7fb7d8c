"""maxent_lib.plots: one figure style, large enough to read on a slide; log, category and bar
helpers that fix the unreadable figures (colliding log labels, rotated labels, invisible zeros)."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from maxent_lib import plots  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def course_style():
    with matplotlib.rc_context():
        plots.use_course_style()
        yield
        plt.close("all")


def _builder():
    name = "tools_build_slides"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "build_slides.py")
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


def _png_size(fig) -> tuple[int, int]:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return Image.open(buf).size


def test_style_is_applied_and_idempotent() -> None:
    rc = matplotlib.rcParams
    assert tuple(rc["figure.figsize"]) == plots.FIGSIZE and rc["figure.dpi"] == plots.DPI
    assert rc["figure.dpi"] > 80 and rc["xtick.labelsize"] >= plots.MIN_FONT_PT
    before = dict(rc)
    plots.use_course_style()
    assert dict(rc) == before


@pytest.mark.parametrize("figsize", [None, plots.FIGSIZE_WIDE])
def test_figures_read_on_a_slide(figsize) -> None:
    """A course figure, shown at the size the deck builder gives it, has tick labels at least
    MIN_DECK_TEXT_PX tall on a 1280x720 slide, also on a slide zoomed out to the minimum."""
    fig, axes = plt.subplots(1, 1 if figsize is None else 2, figsize=figsize)
    for ax in np.atleast_1d(axes):
        ax.plot([1, 2, 3], [3, 1, 2])
        ax.set(xlabel="depth (layers)", ylabel="accuracy", title="a finding")
    width, height = _png_size(fig)
    assert (width, height) == (round(fig.get_figwidth() * plots.DPI),
                               round(fig.get_figheight() * plots.DPI))
    builder = _builder()
    shown, _ = builder.figure_size(width, height)
    assert shown >= builder.MIN_FIGURE_FRACTION * builder.FRAME[0]
    assert plots.deck_text_px(fig, shown * builder.MIN_FIT_SCALE) >= plots.MIN_DECK_TEXT_PX


def test_old_small_figures_did_not_read() -> None:
    """The check can fail: the old figures (6 x 3.5 in at 80 dpi, 8-point ticks) shown at their
    natural size had tick labels under the minimum."""
    with matplotlib.rc_context({"xtick.labelsize": 8, "ytick.labelsize": 8}):
        fig, ax = plt.subplots(figsize=(6, 3.5), dpi=80)
        ax.plot([1, 2], [1, 2])
        assert plots.deck_text_px(fig, 6 * 80) < plots.MIN_DECK_TEXT_PX
    with pytest.raises(ValueError, match="shown_width_px"):
        plots.deck_text_px(fig, 0)


def test_colours_differ_in_grey() -> None:
    grey = [np.dot(matplotlib.colors.to_rgb(c), [0.299, 0.587, 0.114]) for c in plots.COLORS]
    styles = [line for line in plots.LINESTYLES]
    assert len(set(map(str, styles))) == len(styles) == len(plots.COLORS)
    assert len(set(plots.MARKERS)) == len(plots.COLORS)
    first = grey[:3]
    assert min(abs(a - b) for i, a in enumerate(first) for b in first[i + 1:]) > 0.25


def test_plain_log_axis_has_no_colliding_labels() -> None:
    fig, ax = plt.subplots()
    depths = [1, 2, 4, 8, 16, 32]
    ax.semilogx(depths, np.linspace(0.5, 0.9, 6))
    plots.plain_log_axis(ax, "x", ticks=depths)
    fig.canvas.draw()
    major = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    minor = [t.get_text() for t in ax.get_xticklabels(minor=True) if t.get_text()]
    assert major == ["1", "2", "4", "8", "16", "32"] and minor == []
    ax.set_yscale("log")
    ax.set_ylim(0.01, 10)
    plots.plain_log_axis(ax, "y")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "0.1" in labels and not any("10^" in s or "$" in s for s in labels)
    with pytest.raises(ValueError, match="axis"):
        plots.plain_log_axis(ax, "z")
    with pytest.raises(ValueError, match="ticks must hold numbers > 0"):
        plots.plain_log_axis(ax, "x", ticks=[0, 1])


def test_category_axis_wraps_instead_of_rotating() -> None:
    fig, ax = plt.subplots()
    arms = ["baseline", "weight decay 0.5", "label smoothing 0.1", "confidence penalty 0.3"]
    ax.bar(range(len(arms)), [1, 2, 3, 4])
    plots.category_axis(ax, arms, width=10)
    fig.canvas.draw()
    labels = ax.get_xticklabels()
    assert [t.get_rotation() for t in labels] == [0.0] * 4
    assert labels[3].get_text() == "confidence\npenalty\n0.3"
    assert all(len(line) <= 10 for t in labels for line in t.get_text().split("\n"))
    assert plots.wrap_labels(["a"], 3) == ["a"]
    with pytest.raises(ValueError, match="width"):
        plots.wrap_labels(["a"], 0)


@pytest.mark.parametrize("horizontal", [False, True])
def test_zero_bars_are_visible(horizontal: bool) -> None:
    fig, ax = plt.subplots()
    values = [0.3, 0.0, 0.12]
    bars = (ax.barh if horizontal else ax.bar)(range(3), values)
    n_lines = len(ax.lines)
    texts = plots.annotate_bars(ax, bars, fmt="{:.2f}")
    assert [t.get_text() for t in texts] == ["0.30", "0.00", "0.12"]
    assert len(ax.lines) == n_lines + 1  # one mark, for the zero bar only
    mark = ax.lines[-1]
    coords = mark.get_ydata() if not horizontal else mark.get_xdata()
    assert list(coords) == [0, 0] and mark.get_linewidth() >= 3


def test_argument_diagram_is_one_panel_without_numbers():
    fig = plots.argument_diagram()
    assert len(fig.axes) == 1 and not fig.axes[0].axison
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("FC1" in t and "FC2" in t for t in texts)
    assert any("max-ent" in t for t in texts) and any("lesson 04" in t for t in texts)
    assert not any(ch.isdigit() and "lesson" not in t and "FC" not in t and "_" not in t
                   for t in texts for ch in t), texts
    assert tuple(fig.get_size_inches()) == plots.FIGSIZE


def test_stacked_gaps_bars_add_up_to_the_excess():
    fig, ax = plt.subplots()
    first, second = plots.stacked_gaps(ax, ["T = x1", "T = x", "T = quad(x)"],
                                       [0.68, 0.0, 0.0], [-0.01, 0.68, 0.001], title="t")
    widths = [a.get_width() + b.get_width() for a, b in zip(first, second, strict=True)]
    assert widths == pytest.approx([0.68, 0.68, 0.001])  # a negative estimate drawn as 0
    assert [b.get_x() for b in second] == pytest.approx([0.68, 0.0, 0.0])
    assert [t.get_text() for t in ax.texts] == ["0.68", "0.68", "0.00"]
    with pytest.raises(ValueError, match="one entry per feature map"):
        plots.stacked_gaps(ax, ["a"], [0.1, 0.2], [0.1, 0.2])

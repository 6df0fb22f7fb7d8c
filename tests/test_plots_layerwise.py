"""Lesson 04's figure helpers in maxent_lib.plots: values layer by layer with per-seed lines and
t intervals, per-seed curves, and a posterior map; each draws what it says and refuses bad
input with a message that names the argument."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from maxent_lib import plots  # noqa: E402
from maxent_lib.stats import t_interval  # noqa: E402


@pytest.fixture(autouse=True)
def course_style():
    with matplotlib.rc_context():
        plots.use_course_style()
        yield
        plt.close("all")


def test_layer_profile_draws_means_and_t_intervals():
    rng = np.random.default_rng(0)
    trained, start = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)) + 1
    fig, ax = plt.subplots()
    plots.layer_profile(ax, {"trained": trained, "start": start}, names=["X", "T1", "T2"],
                        excluded={"trained": rng.normal(size=(1, 3))})
    bars = [c for c in ax.containers if hasattr(c, "lines")]
    assert len(bars) == 2
    mean_line = bars[0].lines[0]
    np.testing.assert_allclose(mean_line.get_ydata(), trained.mean(0))
    # the bar of the first layer spans the t interval of its column
    _, lo, hi = t_interval(trained[:, 0])
    segs = bars[0].lines[2][0].get_segments()
    np.testing.assert_allclose([segs[0][0][1], segs[0][1][1]], [lo, hi])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["X", "T1", "T2"]
    labels = [t.get_text() for t in ax.legend().get_texts()]
    assert any("did not train (1" in s for s in labels) and "trained (4 runs)" in labels
    # 4 + 4 per-seed lines, 1 excluded line, its legend entry, the zero line
    assert len(ax.lines) >= 10


def test_layer_profile_one_run_has_no_bars():
    fig, ax = plt.subplots()
    plots.layer_profile(ax, {"a": [[1.0, 2.0]]})
    assert np.isfinite(ax.containers[0].lines[0].get_ydata()).all()


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"curves": {"a": np.ones((2, 3))}, "names": ["X"]}, "names has 1 labels"),
    ({"curves": {"a": np.ones((2, 3)), "b": np.ones((2, 2))}}, "different numbers"),
    ({"curves": {"a": np.ones((2, 3))}, "excluded": {"b": np.ones((1, 3))}}, "excluded"),
    ({"curves": {"a": np.full((2, 3), np.nan)}}, "curves"),
    ({"curves": {}}, "curves"),
])
def test_layer_profile_refuses_bad_input(kwargs, words):
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=words):
        plots.layer_profile(ax, **kwargs)


def test_layer_profile_needs_axes():
    with pytest.raises(TypeError, match="ax"):
        plots.layer_profile("not axes", {"a": np.ones((2, 3))})


def test_seed_curves_one_line_per_run_one_label_per_series():
    fig, ax = plt.subplots()
    plots.seed_curves(ax, [1, 2, 3], {"a": np.ones((3, 3)), "b": np.zeros((2, 3))})
    assert len(ax.lines) == 5
    assert [t.get_text() for t in ax.legend().get_texts()] == ["a (3 runs)", "b (2 runs)"]
    with pytest.raises(ValueError, match="points"):
        plots.seed_curves(ax, [1, 2], {"a": np.ones((3, 3))})


def test_posterior_map_draws_the_boundary_and_returns_the_contours():
    xx, yy = np.meshgrid(np.linspace(-2, 2, 41), np.linspace(-2, 2, 41))
    p1 = 1 / (1 + np.exp(-(xx ** 2 + yy ** 2 - 1) * 5))
    fig, ax = plt.subplots()
    filled = plots.posterior_map(ax, xx, yy, p1)
    assert list(filled.levels) == pytest.approx(np.linspace(0, 1, 11))
    assert ax.get_aspect() == 1.0
    with pytest.raises(ValueError, match="p1"):
        plots.posterior_map(ax, xx, yy, p1 + 1)
    with pytest.raises(ValueError, match="shape"):
        plots.posterior_map(ax, xx, yy[:-1], p1)

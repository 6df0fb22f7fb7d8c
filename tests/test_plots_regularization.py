"""Lesson 06's figures (maxent_lib.plots, regularisation section): each regulariser's mean and
interval per training-set size, and predictive entropy against test accuracy."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from maxent_lib import plots  # noqa: E402


def _rows() -> list[dict]:
    rows = []
    for n, shift in ((250, 0.0), (1000, 0.1)):
        for i, arm in enumerate(("baseline", "weight decay 0.5", "confidence penalty 0.3")):
            acc, ent = 0.3 + shift + 0.02 * i, 0.5 + 0.3 * i - shift
            rows.append({"n_train": n, "arm": arm, "n": 8,
                         "test_acc_mean": acc, "test_acc_lo": acc - 0.01,
                         "test_acc_hi": acc + 0.01, "test_entropy_mean": ent,
                         "test_entropy_lo": ent - 0.05, "test_entropy_hi": ent + 0.05})
    return rows


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_arm_intervals_puts_arms_on_x_with_wrapped_labels_under_their_ticks(ax) -> None:
    arms = plots.arm_intervals(ax, _rows(), "test_acc")
    assert arms == ["baseline", "weight decay 0.5", "confidence penalty 0.3"]
    assert list(ax.get_xticks()) == [0, 1, 2]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[2] == "confidence\npenalty 0.3"
    # the labels are horizontal and hang below their ticks (top-anchored), so none straddles
    assert all(t.get_rotation() == 0 and t.get_va() == "top" for t in ax.get_xticklabels())
    handles, names = ax.get_legend_handles_labels()
    assert names == ["n = 250", "n = 1000"]
    # one series per size, offset side by side around each tick, error bars the intervals
    lines = [c for c in ax.containers]
    assert len(lines) == 2
    x0 = lines[0].lines[0].get_xdata()
    x1 = lines[1].lines[0].get_xdata()
    np.testing.assert_allclose(np.asarray(x1) - np.asarray(x0), 0.2)
    np.testing.assert_allclose(lines[1].lines[0].get_ydata(), [0.4, 0.42, 0.44])


def test_arm_intervals_band_label_and_hollow_markers(ax) -> None:
    plots.arm_intervals(ax, _rows(), "test_acc", band=0.01, hollow=True, label="raw")
    assert [t for t in ax.get_legend_handles_labels()[1]] == ["raw, n = 250", "raw, n = 1000"]
    assert ax.containers[0].lines[0].get_markerfacecolor() == "white"
    assert len(ax.patches) == 1  # the band


def test_arm_intervals_refuses_a_metric_the_rows_lack(ax) -> None:
    with pytest.raises(ValueError, match="test_loss"):
        plots.arm_intervals(ax, _rows(), "test_loss")
    with pytest.raises(TypeError, match="rows"):
        plots.arm_intervals(ax, "rows", "test_acc")
    with pytest.raises(ValueError, match="n_train"):
        plots.arm_intervals(ax, [{"arm": "a"}], "test_acc")


def test_arm_intervals_draws_a_missing_row_as_a_gap(ax) -> None:
    rows = [r for r in _rows() if not (r["n_train"] == 1000 and r["arm"] == "baseline")]
    plots.arm_intervals(ax, rows, "test_acc")
    assert np.isnan(ax.containers[1].lines[0].get_ydata()[0])


def test_entropy_accuracy_one_series_per_arm_with_sizes_labelled(ax) -> None:
    plots.entropy_accuracy(ax, _rows())
    names = ax.get_legend_handles_labels()[1]
    assert names == ["baseline", "weight decay 0.5", "confidence penalty 0.3"]
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("250") == 3 and texts.count("1000") == 3
    first = ax.containers[0].lines[0]
    np.testing.assert_allclose(first.get_xdata(), [0.5, 0.4])
    np.testing.assert_allclose(first.get_ydata(), [0.3, 0.4])


def test_entropy_accuracy_distinguishes_more_arms_than_colours(ax) -> None:
    rows = [{**r, "arm": f"arm {i}"} for i in range(8) for r in _rows()[:1]]
    plots.entropy_accuracy(ax, rows)
    styles = {(c.lines[0].get_color(), c.lines[0].get_marker()) for c in ax.containers}
    assert len(styles) == 8


def test_entropy_accuracy_needs_both_metrics(ax) -> None:
    rows = [{k: v for k, v in r.items() if not k.startswith("test_entropy")} for r in _rows()]
    with pytest.raises(ValueError, match="test_entropy"):
        plots.entropy_accuracy(ax, rows)

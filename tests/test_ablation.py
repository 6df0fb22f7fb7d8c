"""Tests of maxent_lib.ablation and maxent_lib.metrics: grouping, stacked = sequential, resume,
atomic append, out-of-memory splitting, summaries and bad input."""

import json
import warnings

import numpy as np
import pytest
import torch
from scipy import stats

from maxent_lib import ablation as A
from maxent_lib.metrics import expected_calibration_error, stacked_metrics


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    means = rng.normal(size=(3, 16)) * 1.0

    def sample(n):
        y = rng.integers(0, 3, n)
        return (means[y] + rng.normal(size=(n, 16))).astype(np.float32), y

    Xtr, ytr = sample(300)
    Xte, yte = sample(200)
    return Xtr, ytr, Xte, yte


def _grid():
    base = {"width": 16, "depth": 2, "epochs": 4, "batch_size": 32, "lr": 3e-3}
    cfgs = [{**base, "seed": s, "shortcut": sc} for s in (0, 1) for sc in (False, True)]
    cfgs += [{**base, "seed": s, "depth": 3, "weight_decay": 0.1} for s in (0, 1)]
    cfgs += [{**base, "seed": 0, "kind": "cnn", "width": 4}]
    return cfgs  # three shape groups: 4 + 2 + 1


def test_stacked_equals_sequential(data):
    stacked = A.run_grid(_grid(), data, device="cpu", progress=False)
    seq = A.run_grid(_grid(), data, device="cpu", progress=False, sequential=True)
    assert [r["path"] for r in seq] == ["sequential"] * 7
    for a, b in zip(stacked, seq, strict=True):
        assert a["key"] == b["key"]
        for m in ("test_acc", "train_acc", "test_loss", "test_ece"):
            assert abs(a[m] - b[m]) < 1e-3, m
    # "within 1 point of test accuracy on average"
    mean_stacked = np.mean([r["test_acc"] for r in stacked])
    assert abs(mean_stacked - np.mean([r["test_acc"] for r in seq])) <= 0.01
    r = stacked[0]
    for k in (*A.METRICS, "test_entropy", "seconds", "test_acc_curve", "best_epoch", "key"):
        assert k in r
    assert len(r["test_acc_curve"]) == 4 and r["test_acc"] > 0.5  # learnable toy task
    assert r["group_size"] == 4 and stacked[-1]["group_size"] == 1


def test_early_stopping_reports_earlier_epoch(data):
    cfg = {"width": 16, "epochs": 4, "batch_size": 32, "seed": 0}
    full, early = A.run_grid([cfg, {**cfg, "stop_fraction": 0.5}], data, device="cpu",
                             progress=False)
    assert full["epoch_reported"] == 4 and early["epoch_reported"] == 2
    assert early["test_acc"] == pytest.approx(full["test_acc_curve"][1], abs=1e-6)


class Crash(Exception):
    """Stands for an interrupt or a crash in the middle of a grid."""


def test_resume_and_interrupt(data, tmp_path, monkeypatch):
    path = tmp_path / "res.jsonl"
    real = A._train_records
    calls, armed = [], [True]

    def flaky(configs, *args, **kw):
        calls.append(len(configs))
        if armed[0] and len(calls) == 2:
            raise Crash("killed during the second group")
        return real(configs, *args, **kw)

    monkeypatch.setattr(A, "_train_records", flaky)
    with pytest.raises(Crash):
        A.run_grid(_grid(), data, device="cpu", progress=False, results_path=path)
    assert len(A.load_results(path)) == 4  # the first group survived
    assert not list(tmp_path.glob("*.tmp"))
    calls.clear()
    armed[0] = False
    out = A.run_grid(_grid(), data, device="cpu", progress=False, results_path=path)
    assert calls == [2, 1]  # only the unfinished groups were trained
    assert len(out) == 7 and len(A.load_results(path)) == 7
    calls.clear()
    again = A.run_grid(_grid(), data, device="cpu", progress=False, results_path=path)
    assert calls == [] and [r["key"] for r in again] == [r["key"] for r in out]


def test_torn_line_is_skipped(tmp_path):
    path = tmp_path / "r.jsonl"
    A.append_results(path, [{"key": "a", "x": 1}])
    with open(path, "a") as f:
        f.write('{"key": "b", "x":')  # a torn write
    with pytest.warns(UserWarning, match="malformed"):
        assert [r["key"] for r in A.load_results(path)] == ["a"]
    A.append_results(path, [{"key": "c"}])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert [r["key"] for r in A.load_results(path)] == ["a", "c"]


def test_oom_splits_the_group(data, monkeypatch):
    real = A._train_records
    sizes = []

    def small_gpu(configs, *args, **kw):
        sizes.append(len(configs))
        if len(configs) > 1:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(configs, *args, **kw)

    monkeypatch.setattr(A, "_train_records", small_gpu)
    with pytest.warns(UserWarning, match="splitting"):
        out = A.run_grid(_grid()[:4], data, device="cpu", progress=False)
    assert sizes == [4, 2, 1, 1, 2, 1, 1] and len(out) == 4
    monkeypatch.setattr(A, "_train_records", lambda *a, **k: (_ for _ in ()).throw(
        RuntimeError("something else")))
    with pytest.raises(RuntimeError, match="something else"):
        A.run_grid(_grid()[:2], data, device="cpu", progress=False)


def test_grids_and_grouping():
    for name, fn in A.GRIDS.items():
        quick, full = fn("quick"), fn("full")
        assert 0 < len(quick) < len(full), name
        canon = [A.canonical_config(c, 4000) for c in quick]
        groups = A.group_by_shape(canon)
        assert sum(len(g) for g in groups) == len(quick)
        assert all(len({tuple(c[k] for k in A.SHAPE_KEYS) for c in g}) == 1 for g in groups)
    depths = {c["depth"] for c in A.GRIDS["shortcut"]("full")}
    assert max(depths) == 32 and max(c["depth"] for c in A.GRIDS["shortcut"]("quick")) == 8


def test_t_interval_matches_scipy():
    v = [0.61, 0.64, 0.58, 0.66, 0.6]
    mean, lo, hi = A.t_interval(v)
    want = stats.t.interval(0.95, len(v) - 1, loc=np.mean(v), scale=stats.sem(v))
    assert mean == pytest.approx(np.mean(v))
    assert (lo, hi) == pytest.approx(want)
    assert np.isnan(A.t_interval([1.0])[1])


def test_summaries():
    recs = [{"arm": a, "seed": s, "n_train": 10, "test_acc": 0.5 + 0.1 * (a == "x") + 0.01 * s}
            for a in ("base", "x") for s in range(4)]
    rows = A.summarize(recs, ["arm"], ["test_acc"])
    assert [r["n"] for r in rows] == [4, 4]
    assert rows[1]["test_acc_mean"] == pytest.approx(0.615)
    eff = A.paired_effects(recs, "test_acc", "arm", "base", within=["n_train"])
    assert len(eff) == 1 and eff[0]["effect"] == pytest.approx(0.1)
    assert eff[0]["n"] == 4 and eff[0]["lo"] == pytest.approx(0.1)  # identical differences
    text = A.format_table(rows, ["arm", "n", "test_acc_mean"])
    assert "0.615" in text and text.count("\n") == 2
    with pytest.raises(ValueError, match="no record"):
        A.paired_effects(recs, "test_acc", "arm", "missing")
    with pytest.raises(ValueError, match="lacks the field"):
        A.paired_effects(recs, "test_loss", "arm", "base")


def test_ece_and_metrics():
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(4), size=500)
    y = rng.integers(0, 4, 500)
    conf, pred = p.max(1), p.argmax(1)
    want = 0.0
    for b in range(15):  # a direct loop over the bins (lo, hi]
        inside = (conf > b / 15) & (conf <= (b + 1) / 15)
        if inside.any():
            want += inside.mean() * abs((pred[inside] == y[inside]).mean() - conf[inside].mean())
    assert expected_calibration_error(p, y) == pytest.approx(want)
    onehot = np.eye(4)[y]
    assert expected_calibration_error(onehot, y) == pytest.approx(0.0)
    m = stacked_metrics(torch.log(torch.as_tensor(p)).unsqueeze(0), torch.as_tensor(y))
    assert m["acc"][0] == pytest.approx((pred == y).mean())
    assert m["loss"][0] == pytest.approx(-np.log(p[np.arange(500), y]).mean())
    assert m["entropy"][0] == pytest.approx(-(p * np.log(p)).sum(1).mean())
    with pytest.raises(ValueError, match="sum to one"):
        expected_calibration_error(p * 2, y)
    with pytest.raises(ValueError, match="out of range"):
        expected_calibration_error(p, y + 4)


def test_bad_input(data, tmp_path):
    with pytest.raises(ValueError, match="unknown config key"):
        A.canonical_config({"widht": 3})
    with pytest.raises(ValueError, match="dropout"):
        A.canonical_config({"dropout": 1.0})
    with pytest.raises(ValueError, match="shortcut"):
        A.canonical_config({"shortcut": "yes"})
    with pytest.raises(ValueError, match="n_train"):
        A.canonical_config({"n_train": 5000}, 4000)
    with pytest.raises(ValueError, match="empty"):
        A.run_grid([], data)
    with pytest.raises(ValueError, match="unknown data set"):
        A.run_grid([{}], "nope", progress=False)
    Xtr, ytr, Xte, yte = data
    with pytest.raises(ValueError, match="NaN"):
        A.run_grid([{}], (np.full_like(Xtr, np.nan), ytr, Xte, yte), progress=False)
    with pytest.raises(ValueError, match="rows"):
        A.run_grid([{}], (Xtr, ytr[:-1], Xte, yte), progress=False)
    with pytest.raises(ValueError, match="does not exist"):
        A.run_grid([{}], data, results_path=tmp_path / "no" / "r.jsonl", progress=False)
    with pytest.raises(ValueError, match="unknown device"):
        A.run_grid([{}], data, device="tpu", progress=False)


def test_results_are_json_lines(data, tmp_path):
    path = tmp_path / "r.jsonl"
    A.run_grid([{"width": 8, "epochs": 1, "batch_size": 64}], data, progress=False,
               results_path=path, device="cpu")
    lines = path.read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["dataset"].startswith("arrays:")

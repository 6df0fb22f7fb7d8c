"""Tests of maxent_lib.ablation and the metrics it records: grouping, stacked = sequential (bit
for bit), per-seed data splits, early stopping on the validation split, temperature scaling,
resume, provenance and stale results, pairing rules, summaries and bad input."""

import json
import warnings

import numpy as np
import pytest
import torch
from scipy import optimize
from scipy import stats as scipy_stats

from maxent_lib import ablation as A
from maxent_lib import stats as course_stats
from maxent_lib.ablation import fit, heldout, runner
from maxent_lib.metrics import (
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    per_model_metrics,
    stacked_metrics,
)
from maxent_lib.store import files
from maxent_lib.store.codehash import code_hash

#: train on the CPU without a progress bar
CPU = A.RunOptions(device="cpu", progress=False)


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
    base = {"width": 16, "depth": 2, "epochs": 4, "batch_size": 32, "lr": 3e-3, "n_val": 60}
    cfgs = [{**base, "seed": s, "shortcut": sc, "dropout": 0.2 * sc} for s in (0, 1)
            for sc in (False, True)]
    cfgs += [{**base, "seed": s, "depth": 3, "weight_decay": 0.1} for s in (0, 1)]
    cfgs += [{**base, "seed": 0, "kind": "cnn", "width": 4}]
    return cfgs  # three shape groups: 4 + 2 + 1


def _strip(r):
    skip = {"seconds", "group_seconds", "group_size", "path", "mode"}
    return {k: v for k, v in r.items() if k not in skip}


def test_stacked_equals_sequential_bitwise(data):
    stacked = A.run_grid(_grid(), data, options=CPU)
    seq = A.run_grid(_grid(), data, options=A.RunOptions(device="cpu", sequential=True,
                                                         progress=False))
    assert [r["path"] for r in seq] == ["sequential"] * 7
    for a, b in zip(stacked, seq, strict=True):
        assert _strip(a) == _strip(b)  # every metric, dropout included
    r = stacked[0]
    for k in (*A.METRICS, "test_entropy", "seconds", "test_acc_curve", "val_acc_curve",
              "best_val_epoch", "key", "code_hash", "data_hash", "temperature", "trained",
              "init"):
        assert k in r, k
    assert len(r["test_acc_curve"]) == 4 and r["test_acc"] > 0.5  # learnable toy task
    assert r["n_train"] == 240 and r["n_val"] == 60 and r["init"] == "he"
    assert r["group_size"] == 4 and stacked[-1]["group_size"] == 1


def test_record_does_not_depend_on_its_group(data):
    """A config's record is the same alone, in its grid, or after the grid is cut in pieces."""
    whole = A.run_grid(_grid(), data, options=CPU)
    for i in (1, 3, 5):
        alone = A.run_grid([_grid()[i]], data, options=CPU)[0]
        assert _strip(alone) == _strip(whole[i])


def test_each_seed_draws_its_own_split():
    tr0, va0 = A.data_split(0, 4000, 1000, 400)
    tr1, va1 = A.data_split(1, 4000, 1000, 400)
    assert len(tr0) == 1000 and len(va0) == 400 and not set(tr0) & set(va0)
    assert set(tr0) != set(tr1) and set(va0) != set(va1)
    big, va_big = A.data_split(0, 4000, 3600, 400)
    assert set(tr0) <= set(big) and np.array_equal(va0, va_big)  # nested sizes, same val
    with pytest.raises(ValueError, match="pool"):
        A.data_split(0, 100, 90, 20)


def test_records_use_the_seed_split(data):
    cfg = {"width": 8, "epochs": 2, "batch_size": 32, "n_train": 100, "n_val": 50}
    rec = A.fit_group([A.canonical_config(cfg, 300)], A.prepare_dataset(data), "cpu")
    tr, va = rec.splits[0]
    want_tr, want_va = A.data_split(0, 300, 100, 50)
    np.testing.assert_array_equal(tr, want_tr)
    np.testing.assert_array_equal(va, want_va)
    assert rec.records[0]["n_train"] == 100


def test_early_stopping_reports_the_best_validation_epoch(data):
    cfg = {"width": 16, "epochs": 6, "batch_size": 32, "seed": 0, "lr": 3e-2, "n_val": 60}
    full, early = A.run_grid([cfg, {**cfg, "early_stopping": True}], data, options=CPU)
    assert full["epoch_reported"] == 6 and early["epoch_reported"] == full["best_val_epoch"]
    e = early["epoch_reported"]
    curve = full["val_acc_curve"]
    assert curve[e - 1] == max(curve) and early["val_acc"] == pytest.approx(curve[e - 1])
    assert early["test_acc"] == pytest.approx(full["test_acc_curve"][e - 1], abs=1e-6)
    assert early["group_size"] == 1  # one model trained for both records


def test_eval_epochs():
    assert A.eval_epochs(10) == list(range(1, 11))
    at = A.eval_epochs(300)
    assert at[-1] == 300 and len(at) <= A.EVAL_POINTS + 1 and at[0] == 10


def test_fit_temperature_minimises_the_held_out_loss():
    rng = np.random.default_rng(3)
    base = rng.normal(size=(400, 5)) * 1.5
    p = np.exp(base) / np.exp(base).sum(1, keepdims=True)
    y = torch.as_tensor(np.array([rng.choice(5, p=row) for row in p]))
    z = torch.as_tensor(base[None] * np.array([4.0, 0.5, 1.0])[:, None, None])  # T* near 4, .5, 1
    lp = torch.log_softmax(z, -1)
    temps = fit_temperature(lp, y)
    for m in range(3):
        def nll(log_t, m=m):
            return float(torch.nn.functional.cross_entropy(z[m] / np.exp(log_t), y))
        best = optimize.minimize_scalar(nll, bounds=(-3, 3), method="bounded",
                                        options={"xatol": 1e-10}).x
        assert temps[m] == pytest.approx(np.exp(best), rel=1e-4)
        assert 0.1 < temps[m] < 10
    cal = apply_temperature(lp, temps)
    assert torch.equal(cal.argmax(-1), lp.argmax(-1))  # no prediction changes
    before = stacked_metrics(lp, y)["loss"]
    after = stacked_metrics(cal, y)["loss"]
    assert np.all(after <= before + 1e-12)
    per = fit_temperature(lp, y.view(1, -1).expand(3, -1))
    np.testing.assert_allclose(per, temps)
    with pytest.raises(ValueError):
        fit_temperature(lp, y[:10])
    with pytest.raises(ValueError, match="temperature"):
        apply_temperature(lp, [1.0, -1.0, 1.0])


def test_calibrated_loss_is_fitted_on_validation_only(data):
    """The temperature is the one that minimises the validation loss (never the test loss)."""
    cfg = A.canonical_config({"width": 16, "epochs": 8, "batch_size": 32, "lr": 3e-2,
                              "n_val": 60}, 300)
    d = A.prepare_dataset(data)
    res = A.fit_group([cfg], d, "cpu")
    _, va = res.splits[0]
    from maxent_lib import ablation as ensemble
    lp_val = ensemble.predict_log_proba(res.model, torch.as_tensor(d.X_train[va]))
    t = fit_temperature(lp_val, torch.as_tensor(d.y_train[va]))
    assert res.records[0]["temperature"] == pytest.approx(float(t[0]), rel=1e-5)
    lp_te = ensemble.predict_log_proba(res.model, torch.as_tensor(d.X_test))
    cal = stacked_metrics(apply_temperature(lp_te, t), torch.as_tensor(d.y_test))["loss"][0]
    assert res.records[0]["test_loss_calibrated"] == pytest.approx(cal, rel=1e-5)


def test_did_not_train():
    assert A.did_not_train({"train_acc": 0.15, "n_classes": 10})
    assert not A.did_not_train({"train_acc": 0.25, "n_classes": 10})
    assert A.did_not_train({"trained": False, "train_acc": 0.9})


class Crash(Exception):
    """Stands for an interrupt or a crash in the middle of a grid."""


def test_resume_and_interrupt_give_the_same_records(data, tmp_path, monkeypatch):
    path = tmp_path / "res.jsonl"
    real = runner._train_records
    calls, armed = [], [True]

    def flaky(configs, *args, **kw):
        calls.append(len(configs))
        if armed[0] and len(calls) == 2:
            raise Crash("killed during the second group")
        return real(configs, *args, **kw)

    monkeypatch.setattr(runner, "_train_records", flaky)
    with pytest.raises(Crash):
        A.run_grid(_grid(), data, results_path=path, options=CPU)
    assert len(A.read_records(path)) == 4  # the first group survived
    assert not list(tmp_path.glob("*.tmp"))
    calls.clear()
    armed[0] = False
    out = A.run_grid(_grid(), data, results_path=path, options=CPU)
    assert calls == [2, 1]  # only the unfinished groups were trained
    assert len(out) == 7 and len(A.read_records(path)) == 7
    calls.clear()
    again = A.run_grid(_grid(), data, results_path=path, options=CPU)
    assert calls == [] and [r["key"] for r in again] == [r["key"] for r in out]
    fresh = A.run_grid(_grid(), data, options=CPU)  # never interrupted
    assert [_strip(r) for r in fresh] == [_strip(r) for r in out]


def test_provenance_is_written_by_the_run(data, tmp_path):
    path = tmp_path / "grid_quick.jsonl"
    recs = A.run_grid(_grid()[:2], data, results_path=path,
                      command="python -m maxent_lib ablate --grid x", options=CPU)
    prov = json.loads((tmp_path / "grid_quick_provenance.json").read_text())
    for k in ("commit", "dirty", "code_hash", "versions", "device", "command", "created"):
        assert k in prov, k
    assert prov["code_hash"] == code_hash(A.ABLATION_CODE) == recs[0]["code_hash"]
    assert prov["kind"] == "ablation grid" and prov["code_entry_points"] == list(A.ABLATION_CODE)
    assert set(prov["versions"]) >= {"python", "torch", "numpy", "mnist1d"}
    assert prov["command"] == "python -m maxent_lib ablate --grid x" and prov["records"] == 2
    assert prov["device"].startswith("cpu") and prov["runs"][0]["status"] == "finished"
    stored = A.load_stored(path)
    assert stored.current and len(stored.records) == 2
    A.run_grid(_grid()[:3], data, results_path=path, command="b", options=CPU)
    prov2 = A.load_provenance(path)
    assert prov2["created"] == prov["created"] and len(prov2["runs"]) == 2
    assert prov2["records"] == 3


def test_stale_results_are_refused_and_flagged(data, tmp_path):
    path = tmp_path / "old.jsonl"
    files.append_records(path, [{"key": "x", "code_hash": "0000", "test_acc": 0.5}])
    with pytest.raises(ValueError, match="other code"):
        A.run_grid(_grid()[:1], data, results_path=path, options=CPU)
    stored = A.load_stored(path)
    assert not stored.current and "provenance" in stored.why
    (tmp_path / "old_provenance.json").write_text('{"device": "GPU"}')
    assert "older provenance format" in A.load_stored(path).why
    current = {"code_hash": code_hash(A.ABLATION_CODE), "code_entry_points": list(A.ABLATION_CODE)}
    (tmp_path / "old_provenance.json").write_text(json.dumps(current))
    assert "another code hash" in A.load_stored(path).why
    (tmp_path / "old_provenance.json").write_text(json.dumps({**current, "code_hash": "0" * 16}))
    assert "made by other code" in A.load_stored(path).why


def test_a_run_that_has_not_finished_is_not_current(data, tmp_path):
    """While a run writes a grid (or after it was killed) the file holds only some models: it
    is not current until a run finishes; resuming completes it."""
    path = tmp_path / "r.jsonl"
    cfgs = [{"width": 8, "epochs": 1, "batch_size": 64, "n_val": 50, "seed": s} for s in (0, 1)]
    A.run_grid(cfgs, data, results_path=path, options=CPU)
    assert A.load_stored(path).current
    prov = json.loads(A.provenance_path(path).read_text())
    prov["runs"].append({"run": "x", "command": "c", "device": "cpu",
                         "started": "2026-01-01T00:00:00+00:00", "finished": None,
                         "status": "interrupted"})
    A.provenance_path(path).write_text(json.dumps(prov))
    stored = A.load_stored(path)
    assert not stored.current and "interrupted, not finished" in stored.why
    A.run_grid(cfgs, data, results_path=path, options=CPU)  # trains nothing
    assert A.load_stored(path).current


def test_oom_splits_the_group(data, monkeypatch):
    real = runner._train_records
    sizes = []

    def small_gpu(configs, *args, **kw):
        sizes.append(len(configs))
        if len(configs) > 1:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(configs, *args, **kw)

    monkeypatch.setattr(runner, "_train_records", small_gpu)
    with pytest.warns(UserWarning, match="splitting"):
        out = A.run_grid(_grid()[:4], data, options=CPU)
    assert sizes == [4, 2, 1, 1, 2, 1, 1] and len(out) == 4
    monkeypatch.setattr(runner, "_train_records", lambda *a, **k: (_ for _ in ()).throw(
        RuntimeError("something else")))
    with pytest.raises(RuntimeError, match="something else"):
        A.run_grid(_grid()[:2], data, options=CPU)


def test_grids_and_grouping():
    for name, fn in A.GRIDS.items():
        quick, full = fn("quick"), fn("full")
        assert 0 < len(quick) < len(full), name
        canon = [A.canonical_config(c, 4000) for c in quick]
        groups = A.group_by_shape(canon)
        assert sum(len(g) for g in groups) == len(quick)
        assert all(len({tuple(c[k] for k in A.SHAPE_KEYS) for c in g}) == 1 for g in groups)
        assert {c["profile"] for c in quick} == {"quick"}
        assert len({A.config_key(c, "d") for c in canon}) == len(canon)  # no duplicates
    depths = {c["depth"] for c in A.GRIDS["shortcut"]("full")}
    assert max(depths) == 32 and max(c["depth"] for c in A.GRIDS["shortcut"]("quick")) == 8
    assert {c["init"] for c in A.GRIDS["shortcut"]("quick")} == {"he"}
    # every net of lesson 05's grid is read at its best validation epoch, both profiles
    assert all(c["early_stopping"] for p in ("quick", "full") for c in A.GRIDS["shortcut"](p))
    assert {c["init"] for c in A.GRIDS["init_demo"]("quick")} == {"he", "uniform"}


def test_t_interval_matches_scipy():
    v = [0.61, 0.64, 0.58, 0.66, 0.6]
    mean, lo, hi = course_stats.t_interval(v)
    want = scipy_stats.t.interval(0.95, len(v) - 1, loc=np.mean(v), scale=scipy_stats.sem(v))
    assert mean == pytest.approx(np.mean(v))
    assert (lo, hi) == pytest.approx(want)
    assert np.isnan(course_stats.t_interval([1.0])[1])


def _recs(**extra):
    return [{"arm": a, "seed": s, "n_train": 10, "width": 8,
             "test_acc": 0.5 + 0.1 * (a == "x") + 0.01 * s, **extra}
            for a in ("base", "x") for s in range(4)]


def test_summaries():
    recs = _recs()
    rows = A.summarize(recs, ["arm"], ["test_acc"])
    assert [r["n"] for r in rows] == [4, 4]
    assert rows[1]["test_acc_mean"] == pytest.approx(0.615)
    eff = A.paired_effects(recs, "test_acc", "arm", "base", within=["n_train"])
    assert len(eff) == 1 and eff[0]["effect"] == pytest.approx(0.1)
    assert eff[0]["n"] == 4 and eff[0]["lo"] == pytest.approx(0.1)  # identical differences
    assert eff[0]["seeds"] == [0, 1, 2, 3] and eff[0]["diffs"] == pytest.approx([0.1] * 4)
    text = A.format_table(rows, ["arm", "n", "test_acc_mean"])
    assert "0.615" in text and text.count("\n") == 2
    with pytest.raises(ValueError, match="no record"):
        A.paired_effects(recs, "test_acc", "arm", "missing")
    with pytest.raises(ValueError, match="lacks the field"):
        A.paired_effects(recs, "test_loss", "arm", "base")


def test_pairing_refuses_duplicates_and_mixed_runs():
    recs = _recs()
    with pytest.raises(ValueError, match="duplicate"):
        A.paired_effects(recs + recs[:1], "test_acc", "arm", "base", within=["n_train"])
    mixed = _recs(profile="quick")[:4] + _recs(profile="full")[4:]
    with pytest.raises(ValueError, match="profiles"):
        A.paired_effects(mixed, "test_acc", "arm", "base")
    mixed = _recs(code_hash="a")[:4] + _recs(code_hash="b")[4:]
    with pytest.raises(ValueError, match="code hashes"):
        A.paired_effects(mixed, "test_acc", "arm", "base")


def test_pairing_keys_include_every_config_field():
    """Records that differ in a setting field (here the width) never pair, and a setting field
    that varies but is not in `within` is an error rather than a silent mix."""
    recs = _recs(width=8) + _recs(width=16)
    with pytest.raises(ValueError, match="width"):
        A.paired_effects(recs, "test_acc", "arm", "base", within=["n_train"])
    rows = A.paired_effects(recs, "test_acc", "arm", "base", within=["n_train", "width"])
    assert sorted(r["width"] for r in rows) == [8, 16] and all(r["n"] == 4 for r in rows)
    # a baseline of another width is not a partner: refused by default, counted on request
    lone = [r for r in _recs(width=8) if r["arm"] == "base"] + \
        [r for r in _recs(width=16) if r["arm"] == "x"]
    with pytest.raises(ValueError, match="4 record.*no baseline partner"):
        A.paired_effects(lone, "test_acc", "arm", "base")
    rows = A.paired_effects(lone, "test_acc", "arm", "base", unpaired="report")
    assert [(r["n"], r["n_unpaired"], r["effect"]) for r in rows] == [(0, 4, None)]
    # one seed missing its baseline: the other pairs count, the lone record is reported
    part = [r for r in _recs(width=8) if not (r["arm"] == "base" and r["seed"] == 0)]
    row = A.paired_effects(part, "test_acc", "arm", "base", unpaired="report")[0]
    assert (row["n"], row["n_unpaired"]) == (3, 1) and 0 not in row["seeds"]
    assert "weight_decay" not in A.pairing_fields("arm") and "width" in A.pairing_fields("arm")
    assert "arm" in A.pairing_fields("depth") and "seed" not in A.pairing_fields("depth")


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
    lp = torch.log(torch.as_tensor(p)).unsqueeze(0)
    m = stacked_metrics(lp, torch.as_tensor(y))
    assert m["acc"][0] == pytest.approx((pred == y).mean())
    assert m["loss"][0] == pytest.approx(-np.log(p[np.arange(500), y]).mean())
    assert m["entropy"][0] == pytest.approx(-(p * np.log(p)).sum(1).mean())
    per = per_model_metrics(lp.expand(2, -1, -1), torch.as_tensor(np.stack([y, y])))
    np.testing.assert_allclose(per["ece"], m["ece"][0])
    with pytest.raises(ValueError, match="sum to one"):
        expected_calibration_error(p * 2, y)
    with pytest.raises(ValueError, match="out of range"):
        expected_calibration_error(p, y + 4)
    with pytest.raises(ValueError):
        per_model_metrics(lp, torch.as_tensor(y))


def test_bad_input(data, tmp_path):
    with pytest.raises(ValueError, match="unknown key"):
        A.canonical_config({"widht": 3})
    with pytest.raises(ValueError, match="dropout"):
        A.canonical_config({"dropout": 1.0})
    with pytest.raises(ValueError, match="shortcut"):
        A.canonical_config({"shortcut": "yes"})
    with pytest.raises(ValueError, match="init"):
        A.canonical_config({"init": "xavier"})
    with pytest.raises(ValueError, match="lr_schedule"):
        A.canonical_config({"lr_schedule": "step"})
    with pytest.raises(ValueError, match="n_train"):
        A.canonical_config({"n_train": 3800}, 4000)
    with pytest.raises(ValueError, match="n_val"):
        A.canonical_config({"n_val": 4000}, 4000)
    assert A.canonical_config({}, 4000)["n_train"] == 3600
    with pytest.raises(ValueError, match="empty"):
        A.run_grid([], data)
    with pytest.raises(ValueError, match="dataset must be one of"):
        A.run_grid([{}], "nope", options=A.RunOptions(progress=False))
    Xtr, ytr, Xte, yte = data
    with pytest.raises(ValueError, match="NaN"):
        A.run_grid([{}], (np.full_like(Xtr, np.nan), ytr, Xte, yte),
                   options=A.RunOptions(progress=False))
    with pytest.raises(ValueError, match="rows"):
        A.run_grid([{}], (Xtr, ytr[:-1], Xte, yte), options=A.RunOptions(progress=False))
    with pytest.raises(ValueError, match="does not exist"):
        A.run_grid([{}], data, results_path=tmp_path / "no" / "r.jsonl",
                   options=A.RunOptions(progress=False))
    with pytest.raises(ValueError, match="device 'tpu'"):
        A.run_grid([{}], data, options=A.RunOptions(device="tpu", progress=False))
    with pytest.raises(TypeError, match="shortcut"):  # a string is not a flag
        A.run_grid([{"shortcut": "False"}], data, options=A.RunOptions(progress=False))
    with pytest.raises(TypeError, match="seed"):
        A.canonical_config({"seed": 1.5})
    with pytest.raises(TypeError, match="width"):
        A.canonical_config({"width": "8"})
    with pytest.raises(ValueError, match="lr \\* weight_decay"):
        A.canonical_config({"lr": 0.01, "weight_decay": 100.0})
    with pytest.raises(TypeError, match="records"):
        A.summarize([3], by=["arm"])
    with pytest.raises(TypeError, match="by"):
        A.summarize([{"arm": "a", "test_acc": 0.5}], by="arm")


def test_results_are_json_lines(data, tmp_path):
    path = tmp_path / "r.jsonl"
    A.run_grid([{"width": 8, "epochs": 1, "batch_size": 64, "n_val": 50}], data,
               results_path=path, options=CPU)
    lines = path.read_text().splitlines()
    rec = json.loads(lines[0])
    assert len(lines) == 1 and rec["dataset"].startswith("arrays:")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert A.read_records(path)[0]["key"] == rec["key"]


def test_compare_records():
    a = [{"key": "k1", "arm": "x", "test_acc": 0.5, "train_acc": 0.9, "trained": True},
         {"key": "k2", "arm": "y", "test_acc": 0.6, "train_acc": 0.9, "trained": False}]
    same = A.compare_records(a, a, ("test_acc", "train_acc"))
    assert same["identical"] and same["matched"] == 2 and same["max_diff"] == 0.0
    b = [dict(a[0]), dict(a[1], test_acc=0.61)]
    diff = A.compare_records(a, b, ("test_acc",))
    assert not diff["identical"] and diff["max_diff"] == pytest.approx(0.01)
    assert diff["by_arm"]["x"]["identical"] and not diff["by_arm"]["y"]["identical"]
    assert A.compare_records(a, b[:1], ("test_acc",))["missing"] == ["k2"]


def test_heldout_layer_gaps_use_unseen_rows_and_refits(data):
    """The probes see only points the net never saw (its unseen pool rows and the test set);
    each gap is the mean over refit splits with the corrected repeated-split t interval;
    the result is a function of the seed."""

    cfg = A.canonical_config({"width": 8, "depth": 2, "epochs": 3, "batch_size": 32,
                              "n_train": 120, "n_val": 40}, 300)
    res = A.fit_group([cfg], A.prepare_dataset(data), "cpu")
    rows = A.unseen_rows(res, 0)
    tr, va = res.splits[0]
    assert len(rows) == 140 and not set(rows) & (set(tr) | set(va))
    kw = {"n_splits": 3, "probe": {"max_epochs": 20}}
    gaps = A.heldout_layer_gaps(res, 0, [1, 2], include_input=True, **kw)
    assert [g["layer"] for g in gaps] == [0, 1, 2] and gaps[0]["fc1_gap"] == 0.0
    assert all(g["n_points"] == 340 and g["n_train"] + g["n_test"] == 340 for g in gaps)
    for g in gaps:
        for key in ("fc1_gap", "fc2_gap", "total_gap"):
            per_split = g["splits"][key]
            assert len(per_split) == 3 and g[key] == pytest.approx(per_split.mean())
            assert g[key + "_ci"] == tuple(course_stats.t_interval(per_split,
                                                                   test_fraction=0.3)[1:])
    assert gaps[2]["total_gap_ci"][1] > gaps[2]["total_gap_ci"][0]  # refits: a real spread
    again = A.heldout_layer_gaps(res, 0, [1, 2], include_input=True, **kw)
    assert all(np.array_equal(g["splits"]["total_gap"], h["splits"]["total_gap"])
               for g, h in zip(gaps, again, strict=True))
    other = A.heldout_layer_gaps(res, 0, [1, 2], include_input=True, seed=1, **kw)
    assert other[2]["total_gap"] != gaps[2]["total_gap"]
    with pytest.raises(ValueError, match="layers"):
        A.heldout_layer_gaps(res, 0, [3])


def test_heldout_gaps_pair_models_that_share_their_unseen_rows(data):
    base = {"width": 8, "depth": 2, "epochs": 3, "batch_size": 32, "n_train": 120, "n_val": 40}
    cfgs = [A.canonical_config({**base, "seed": s, "shortcut": sc}, 300)
            for s, sc in ((0, False), (0, True), (1, False))]
    res = A.fit_group(cfgs, A.prepare_dataset(data), "cpu")
    pair = A.heldout_gaps(res, [0, 1], [2], n_splits=3, probe={"max_epochs": 20})
    assert len(pair) == 2 and all(len(g) == 1 for g in pair)
    # one probe on X, the same splits: the reference is shared, the gaps paired
    assert np.array_equal(pair[0][0]["splits"]["ce_flexible_input"],
                          pair[1][0]["splits"]["ce_flexible_input"])
    assert pair[0][0]["fc1_gap"] != pair[1][0]["fc1_gap"]
    with pytest.raises(ValueError, match="unseen"):
        A.heldout_gaps(res, [0, 2], [2], n_splits=3)


def test_live_units_drop_units_that_barely_vary():
    rng = np.random.default_rng(0)
    T = rng.normal(size=(500, 4))
    T[:, 1] = 0.0
    T[:, 2] = 0.0
    T[7, 2] = 1e-3  # fires once: sd ~ 4e-5 of the others'
    kept = heldout._live_units(T)
    assert kept.shape == (500, 2) and np.array_equal(kept, T[:, [0, 3]])
    assert heldout._live_units(np.zeros((5, 3))).shape == (5, 3)


def test_a_diverged_model_is_recorded_and_the_grid_goes_on(data, tmp_path, monkeypatch):
    """One model of a stack diverges (its parameters turn NaN in training): its record says
    so, with no metrics (None, not NaN); its stack-mates' records are those of a run without
    it; a resumed run trusts the diverged row and trains nothing; summaries and paired effects
    leave it out and say so."""
    base = {"width": 8, "depth": 2, "epochs": 2, "batch_size": 32, "n_val": 40}
    configs = [{**base, "seed": s, "shortcut": sc, "arm": "res" if sc else "plain"}
               for s in (0, 1, 2) for sc in (False, True)]
    clean = A.run_grid(configs, data, options=CPU)
    real = fit.train

    def diverge_seed_1_residual(model, *args, **kw):
        with torch.no_grad():  # the residual net of seed 1 blows up
            for i, (s, sc) in enumerate(zip(model.seeds, model.shortcut.view(-1).tolist(),
                                            strict=True)):
                if s == 1 and sc:
                    model.params[0][i] = float("nan")
        return real(model, *args, **kw)

    monkeypatch.setattr(fit, "train", diverge_seed_1_residual)
    path = tmp_path / "r.jsonl"
    recs = A.run_grid(configs, data, results_path=path, options=CPU)
    bad = [r for r in recs if r["diverged"]]
    assert [(r["seed"], r["shortcut"]) for r in bad] == [(1, True)]
    assert bad[0]["trained"] is False and bad[0]["diverged_epoch"] == 1
    assert all(bad[0][k] is None for k in A.METRICS)
    assert "NaN" not in path.read_text()
    for a, b in zip(clean, recs, strict=True):
        if not b["diverged"]:
            assert {k: a[k] for k in A.METRICS} == {k: b[k] for k in A.METRICS}
    monkeypatch.setattr(fit, "train", real)
    lines = path.read_text().splitlines()
    again = A.run_grid(configs, data, results_path=path, options=CPU)
    assert path.read_text().splitlines() == lines  # the diverged row is trusted: nothing new
    assert [r["key"] for r in again] == [r["key"] for r in recs]
    rows = {r["arm"]: r for r in A.summarize(recs, ["arm"], ["test_acc"])}
    assert (rows["res"]["n"], rows["res"]["n_diverged"]) == (2, 1)
    assert (rows["plain"]["n"], rows["plain"]["n_diverged"]) == (3, 0)
    eff = A.paired_effects(recs, "test_acc", "arm", "plain")[0]
    assert eff["n"] == 2 and eff["n_diverged"] == 1 and eff["seeds"] == [0, 2]
    assert sum(r["diverged"] for r in recs) == 1
    assert sum(A.did_not_train(r) for r in recs) >= 1


@pytest.mark.parametrize("damage", [
    {"test_acc": None}, {"test_acc": float("nan")}, {"test_acc": float("inf")},
    {"test_acc": "0.5"}, {"test_acc": True}, {"train_acc": -5.0}, {"test_ece": 2.0},
    {"test_loss": -1.0}])
def test_rows_with_invalid_metrics_are_trained_again(data, tmp_path, damage):
    """Resume trusts a stored row only if every metric is a finite number in its range: NaN,
    inf, text, booleans and impossible values are trained again, and the summary of the
    resumed grid works."""
    cfg = {"width": 8, "depth": 2, "epochs": 1, "batch_size": 32, "n_val": 40}
    path = tmp_path / "r.jsonl"
    full = A.run_grid([cfg], data, results_path=path,
                      options=CPU)[0]
    bad = {**full, **damage}
    assert not A.is_trustworthy(bad) and A.is_trustworthy(full)
    path.write_text(json.dumps(bad, allow_nan=True) + "\n")
    again = A.run_grid([cfg], data, results_path=path,
                       options=CPU)
    assert again[0]["test_acc"] == full["test_acc"] and again[0]["train_acc"] == full["train_acc"]
    with pytest.warns(files.ResultsFileWarning, match="duplicate"):
        stored = A.read_records(path)
    assert len(stored) == 1 and A.is_trustworthy(stored[0])  # the repaired row is the one kept
    A.summarize(stored, ["arm"], ["test_acc", "train_acc"])


def test_rows_without_metrics_are_trained_again(data, tmp_path):
    """A stored row whose key matches but that lacks its metrics (a damaged or partial row)
    is not trusted: the resumed run trains that config again and stores the complete row."""
    cfg = {"width": 8, "depth": 2, "epochs": 1, "batch_size": 32, "n_val": 40}
    path = tmp_path / "r.jsonl"
    full = A.run_grid([cfg], data, results_path=path, options=CPU)[0]
    partial = {k: v for k, v in full.items() if k not in ("test_acc", "train_acc")}
    path.write_text(json.dumps(partial) + "\n")
    again = A.run_grid([cfg], data, results_path=path, options=CPU)[0]
    assert again["test_acc"] == full["test_acc"]
    with pytest.warns(files.ResultsFileWarning, match="duplicate"):
        stored = A.read_records(path)  # the partial row and the complete one: one kept
    assert len(stored) == 1 and stored[0]["test_acc"] == full["test_acc"]


def test_a_killed_run_is_marked_interrupted_when_the_next_run_begins(tmp_path):
    """A run killed by SIGKILL never records its end; the next run on the same machine finds its
    process gone and marks it interrupted. A live process, another machine's run and an entry
    without a process id are left as they are."""
    import os
    import platform
    import subprocess
    import sys

    from maxent_lib.store.provenance import _host_id, begin_run, load_provenance

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    prov = {"code_hash": "h", "command": "c", "device": "cpu", "created": "t0"}
    path = tmp_path / "g.jsonl"
    begin_run(path, prov, 0)
    stored = load_provenance(path)
    mine = stored["runs"][0]
    assert mine["status"] == "running" and mine["pid"] == os.getpid() \
        and mine["host"] == _host_id() and platform.node() not in json.dumps(stored)
    gone = {"run": "a", "status": "running", "host": _host_id(), "pid": dead.pid}
    alive = {"run": "b", "status": "running", "host": _host_id(), "pid": os.getppid()}
    other = {"run": "c", "status": "running", "host": "another machine",
             "pid": dead.pid}
    old = {"run": "d", "status": "running"}
    stored["runs"] = [gone, alive, other, old, {**gone, "run": "e", "status": "finished"}]
    A.provenance_path(path).write_text(json.dumps(stored))
    begin_run(path, prov, 0)
    runs = {r["run"]: r for r in load_provenance(path)["runs"]}
    assert runs["a"]["status"] == "interrupted" and "killed" in runs["a"]["note"]
    assert [runs[k]["status"] for k in "bcde"] == ["running", "running", "running", "finished"]
    assert len(runs) == 6

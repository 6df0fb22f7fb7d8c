"""The budget-sensitivity check (maxent_lib.ablation.budget): a grid trained too briefly fails it
(real training on a small task), a grid at its plateau passes, a changed verdict fails it, and
the configs of the check stretch the whole schedule."""

from __future__ import annotations

import json

import numpy as np
import pytest

from maxent_lib import ablation
from maxent_lib.__main__ import main

CPU = ablation.RunOptions(device="cpu", progress=False)


def _task(seed: int = 0):
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(3, 10))
    y = rng.integers(0, 3, 1400)
    X = (means[y] + rng.normal(size=(1400, 10))).astype(np.float32)
    return X[:1000], y[:1000], X[1000:], y[1000:]


def _grid(epochs: int, lr: float = 1e-3, depths: tuple[int, ...] = (2,)) -> list[dict]:
    return [{"width": 16, "depth": d, "epochs": epochs, "batch_size": 100, "lr": lr,
             "n_val": 100, "seed": s, "shortcut": sc, "arm": "residual" if sc else "plain"}
            for d in depths for s in range(4) for sc in (False, True)]


def test_budget_configs_stretch_the_schedule_and_pick_seeds() -> None:
    configs = _grid(7)
    doubled = ablation.budget_configs(configs, 2)
    assert [c["epochs"] for c in doubled] == [14] * 8 and configs[0]["epochs"] == 7
    two = ablation.budget_configs(configs, 2, seeds=2)
    assert sorted({c["seed"] for c in two}) == [0, 1] and len(two) == 4
    assert ablation.budget_configs(configs) == configs
    with pytest.raises(ValueError, match="multiple"):
        ablation.budget_configs(configs, 0)


def test_a_grid_trained_too_briefly_fails_and_a_trained_one_passes() -> None:
    data = _task()
    brief = ablation.run_grid(_grid(1), data, options=CPU)
    twice = ablation.run_grid(ablation.budget_configs(_grid(1), 2), data, options=CPU)
    check = ablation.budget_check(brief, twice)
    assert not check.passed and check.max_move > 0.01
    assert "FAILED" in check.summary() and len(check.rows) == 2  # plain and residual
    assert all(r["n"] == 4 for r in check.rows)
    long = ablation.run_grid(_grid(30, lr=1e-2), data, options=CPU)
    longer = ablation.run_grid(ablation.budget_configs(_grid(30, lr=1e-2), 2), data, options=CPU)
    settled = ablation.budget_check(long, longer)
    assert settled.passed, ablation.format_budget_check(settled)
    assert "passed" in ablation.format_budget_check(settled)


def _records(moves: dict[str, float], seeds: int = 3) -> tuple[list[dict], list[dict]]:
    base, longer = [], []
    for arm, move in moves.items():
        for s in range(seeds):
            r = {"arm": arm, "seed": s, "epochs": 10, "test_acc": 0.6 + 0.01 * s}
            base.append(r)
            longer.append({**r, "epochs": 20, "test_acc": r["test_acc"] + move})
    return base, longer


def test_the_tolerance_and_unmatched_records() -> None:
    base, longer = _records({"a": 0.005, "b": -0.02})
    check = ablation.budget_check(base, longer)
    assert not check.passed and check.max_move == pytest.approx(0.02)
    assert ablation.budget_check(base, longer, tolerance=0.03).passed
    stray = [{**longer[0], "epochs": 30}]  # not twice the budget: no partner
    assert ablation.budget_check(base, longer + stray).unmatched == 1
    with pytest.raises(ValueError, match="pairs"):
        ablation.budget_check(base, stray)


def test_a_changed_verdict_fails_the_check() -> None:
    base, longer = _records({"a": 0.0})

    def verdicts(records):  # "supported" once the accuracy reaches the longer run's
        return {"C": "supported" if max(r["epochs"] for r in records) > 10 else "inconclusive"}

    check = ablation.budget_check(base, longer, verdicts=verdicts)
    assert check.accuracy_ok and not check.verdicts_ok and not check.passed
    assert "C: inconclusive -> supported" in check.summary()


def test_items_say_where_a_failing_grid_fails() -> None:
    """Per item (here: arms compared with a shared baseline), whether its part of the grid
    passes on its own: by its settings' moves and by its own verdicts. The grid still fails."""
    base, longer = _records({"baseline": 0.0, "a": 0.005, "b": -0.02, "c": 0.0})

    def verdicts(records):  # item c's verdict changes with the longer budget
        longer_run = max(r["epochs"] for r in records) > 10
        arms = {r["arm"] for r in records}
        return {f"C {arm}": ("supported" if longer_run and arm == "c" else "inconclusive")
                for arm in arms - {"baseline"}}

    check = ablation.budget_check(base, longer, verdicts=verdicts, item_key="arm",
                                  shared="baseline")
    assert not check.passed
    assert check.items == {"a": True, "b": False, "c": False}
    assert check.summary().endswith("by item: a passes, b fails, c fails.")
    # a moving shared setting fails every item
    base, longer = _records({"baseline": 0.03, "a": 0.0})
    moved = ablation.budget_check(base, longer, item_key="arm", shared="baseline")
    assert moved.items == {"a": False}
    # an item with no longer run cannot pass
    base, longer = _records({"a": 0.0, "b": 0.03})
    partial = ablation.budget_check(base, [r for r in longer if r["arm"] == "b"],
                                    item_key="arm")
    assert partial.items == {"a": False, "b": False}
    # without item_key: no items, and a passing grid does not list them
    assert ablation.budget_check(base, longer).items == {}
    base, longer = _records({"a": 0.0, "b": 0.001})
    passing = ablation.budget_check(base, longer, item_key="arm")
    assert passing.passed and passing.items == {"a": True, "b": True}
    assert "by item" not in passing.summary()


def test_cli_budget_stores_the_check_beside_the_grid(tmp_path, monkeypatch, capsys) -> None:
    data = _task(1)
    configs = _grid(2, depths=(2, 3))
    grid = tmp_path / "shortcut_quick.jsonl"
    ablation.run_grid(configs, data, results_path=grid, options=CPU)
    ablation.run_grid(ablation.budget_configs(configs, 2), data,
                      results_path=tmp_path / "shortcut_quick_budget.jsonl", options=CPU)
    recs = ablation.read_records(grid)
    for r in recs:  # the shortcut claims need these fields
        assert {"kind", "depth", "arm", "seed", "test_acc", "train_acc"} <= set(r)
    assert main(["budget", "--grid", "shortcut", "--profile", "quick",
                 "--dir", str(tmp_path)]) == 0
    out = json.loads((tmp_path / "shortcut_quick_budget_check.json").read_text())
    assert out["grid"] == "shortcut_quick.jsonl" and isinstance(out["passed"], bool)
    assert set(out["verdicts"]) == {"C5 mlp", "C6 mlp"} and len(out["rows"]) == 4
    assert "budget check" in capsys.readouterr().out
    # the second doubling: the budget file against the grid at four times its epochs
    ablation.run_grid(ablation.budget_configs(configs, 4, seeds=2), data,
                      results_path=tmp_path / "shortcut_quick_budget4.jsonl", options=CPU)
    assert main(["budget", "--grid", "shortcut", "--profile", "quick", "--second",
                 "--dir", str(tmp_path)]) == 0
    second = json.loads((tmp_path / "shortcut_quick_budget4_check.json").read_text())
    assert (second["grid"], second["longer"]) == ("shortcut_quick_budget.jsonl",
                                                  "shortcut_quick_budget4.jsonl")
    assert {r["n"] for r in second["rows"]} == {2} and len(second["rows"]) == 4
    (tmp_path / "regularization_quick.jsonl").write_text("")
    with pytest.raises(SystemExit):
        main(["budget", "--grid", "regularization", "--profile", "quick",
              "--dir", str(tmp_path)])


def test_a_row_is_named_by_the_fields_the_arm_does_not_fix() -> None:
    """A regulariser's strength is fixed by its arm and left out of the row's name; a field
    that varies within an arm (the training-set size) stays, and without arms every varying
    field names the row."""
    base, longer = [], []
    for n in (250, 1000):
        for arm, wd in (("baseline", 0.0), ("weight decay 0.5", 0.5)):
            for s in range(2):
                r = {"arm": arm, "weight_decay": wd, "n_train": n, "seed": s, "epochs": 10,
                     "test_acc": 0.5}
                base.append(r)
                longer.append({**r, "epochs": 20})
    check = ablation.budget_check(base, longer)
    assert [r["setting"] for r in check.rows][:2] == [
        {"n_train": 250, "arm": "baseline"}, {"n_train": 250, "arm": "weight decay 0.5"}]
    def drop_arm(records: list[dict]) -> list[dict]:
        return [{k: v for k, v in r.items() if k != "arm"} for r in records]

    rows = ablation.budget_check(drop_arm(base), drop_arm(longer)).rows
    assert {tuple(r["setting"]) for r in rows} == {("weight_decay", "n_train")}


def _moves(diffs_by_setting: dict[str, list[float]]) -> tuple[list[dict], list[dict]]:
    """A grid and its longer runs whose seed-for-seed moves are the given differences."""
    grid, longer = [], []
    for arm, diffs in diffs_by_setting.items():
        for s, d in enumerate(diffs):
            base = {"arm": arm, "seed": s, "epochs": 10, "test_acc": 0.5}
            grid.append(base)
            longer.append({**base, "epochs": 20, "test_acc": 0.5 + d})
    return grid, longer


def test_the_chance_of_failing_on_noise_follows_the_seed_spread() -> None:
    # one setting whose mean move has standard error tolerance / 1.96: fails 5% of the time
    diffs = np.array([-1.0, 1.0, -1.0, 1.0])           # sd 1.155, se 0.577 before scaling
    se = diffs.std(ddof=1) / 2
    one = ablation.budget_check(*_moves({"a": list(diffs * 0.01 / 1.96 / se)}))
    assert abs(one.rows[0]["move_se"] - 0.01 / 1.96) < 1e-12
    assert abs(ablation.chance_of_failing_on_noise(one, draws=200_000) - 0.05) < 0.003
    # tight seeds: never fails by chance; wide seeds across many settings: nearly always
    tight = ablation.budget_check(*_moves({a: [0.001, -0.001, 0.0005] for a in "abc"}))
    assert ablation.chance_of_failing_on_noise(tight) == 0.0
    wide = ablation.budget_check(*_moves({a: [0.05, -0.05, 0.04, -0.04] for a in "abcdefgh"}))
    assert ablation.chance_of_failing_on_noise(wide) > 0.99
    # more settings of the same spread fail more often (the largest of them is read)
    few = ablation.budget_check(*_moves({a: [0.01, -0.01, 0.008, -0.008] for a in "ab"}))
    many = ablation.budget_check(*_moves({a: [0.01, -0.01, 0.008, -0.008] for a in "abcdefgh"}))
    assert ablation.chance_of_failing_on_noise(few) < ablation.chance_of_failing_on_noise(many)
    # a setting with one seed has no spread: no estimate
    single = ablation.budget_check(*_moves({"a": [0.02]}))
    assert np.isnan(single.rows[0]["move_se"])
    assert np.isnan(ablation.chance_of_failing_on_noise(single))


def test_the_budget_path_follows_each_setting_over_growing_budgets() -> None:
    grid = [{"arm": arm, "n_train": n, "seed": s, "epochs": 10, "test_acc": 0.5 + 0.1 * s}
            for arm in ("baseline", "dropout") for n in (250, 1000) for s in range(4)]
    twice = [{**r, "epochs": 20, "test_acc": r["test_acc"] + 0.02} for r in grid if r["seed"] < 2]
    four = [{**r, "epochs": 40, "test_acc": r["test_acc"] - 0.01} for r in twice]
    four = [r for r in four if (r["arm"], r["n_train"], r["seed"]) != ("dropout", 1000, 1)]
    four.append({**four[0], "test_acc": None, "diverged": True, "seed": 3})  # diverged: skipped
    rows = ablation.budget_path([grid, twice, four])
    assert len(rows) == 4 and {tuple(r["setting"]) for r in rows} == {("n_train", "arm")}
    by = {(r["setting"]["n_train"], r["setting"]["arm"]): r for r in rows}
    base = by[(250, "baseline")]
    # only seeds 0 and 1 are in every run; their means 0.55, +0.02, then -0.01
    assert base["seeds"] == 2 and base["multiples"] == [1.0, 2.0, 4.0]
    assert np.allclose(base["test_acc"], [0.55, 0.57, 0.56])
    assert base["per_seed"].shape == (2, 3) and np.allclose(base["per_seed"][:, 0], [0.5, 0.6])
    assert by[(1000, "dropout")]["seeds"] == 1           # seed 1 is missing at four times
    assert np.allclose(by[(1000, "dropout")]["test_acc"], [0.5, 0.52, 0.51])
    # a setting absent from a run has no row; nothing common, or budgets that do not grow, raise
    assert len(ablation.budget_path([grid, [r for r in twice if r["arm"] == "dropout"]])) == 2
    with pytest.raises(ValueError, match="no setting"):
        ablation.budget_path([grid, [{**twice[0], "arm": "other"}]])
    with pytest.raises(ValueError, match="grow"):
        ablation.budget_path([twice, grid])


def test_the_budget_path_in_words() -> None:
    rows = [{"setting": {"arm": "a"}, "seeds": 2, "multiples": [1, 2, 4],
             "test_acc": [0.316, 0.299, 0.270]},                    # fell twice: kept falling
            {"setting": {"arm": "b"}, "seeds": 2, "multiples": [1, 2, 4],
             "test_acc": [0.440, 0.452, 0.445]},                    # settled at the last step
            {"setting": {"arm": "c"}, "seeds": 2, "multiples": [1, 2, 4],
             "test_acc": [0.500, 0.505, 0.520]}]                    # rose only at the last step
    lines = ablation.budget_path_lines(rows)
    assert lines[0] == ("arm a kept falling (0.316, 0.299, 0.270 at 1x, 2x, 4x the "
                        "budget, 2 seeds)")
    assert lines[1].startswith("arm c moved +0.015 at the last doubling (0.500, 0.505, 0.520")
    assert lines[2] == "settled at the last doubling (moved by at most 0.01): arm b"
    assert ablation.budget_path_lines(rows, steady_only=True)[1] == (
        "1 other setting moved by more than 0.01 at the last doubling, not always the same way")
    assert ablation.budget_path_lines(rows[1:], steady_only=True)[0].startswith(
        "1 setting moved by more than 0.01")
    assert ablation.budget_path_lines(rows, tolerance=0.05)[-1].endswith("arm a; arm b; arm c")
    assert ablation.budget_path_lines(rows[:1], tolerance=0.0)[-1].endswith("none")
    with pytest.raises(ValueError, match="two or more budgets"):
        ablation.budget_path_lines([{"setting": {"arm": "a"}, "test_acc": [0.3]}])


def test_at_best_validation_reads_each_net_as_early_stopping_does() -> None:
    r = {"arm": "a", "seed": 0, "epochs": 30, "test_acc": 0.40, "best_val_epoch": 20,
         "eval_epochs": [10, 20, 30], "test_acc_curve": [0.35, 0.45, 0.40]}
    read = ablation.at_best_validation([r, {"arm": "b", "diverged": True, "test_acc": None}])
    assert read[0]["test_acc"] == 0.45 and read[0]["epoch_reported"] == 20
    assert r["test_acc"] == 0.40 and read[1]["test_acc"] is None   # input untouched
    for bad in ({**r, "best_val_epoch": 25}, {**r, "test_acc_curve": [0.3]},
                {k: v for k, v in r.items() if k != "eval_epochs"}):
        with pytest.raises(ValueError, match="best validation epoch"):
            ablation.at_best_validation([bad])


def test_the_stored_early_stopping_arm_is_the_baseline_read_at_its_best_epoch() -> None:
    # in the stored grid, early stopping is the baseline's own run read at its best validation
    # epoch: re-reading the baseline's stored curve must give the same test accuracy
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "results" / "regularization_quick.jsonl"
    records = ablation.load_stored(path).records
    if not records:
        pytest.skip("no stored regularisation grid")
    base = {(r["n_train"], r["seed"]): r for r in records if r["arm"] == "baseline"}
    stopped = [r for r in records if r["arm"] == "early stopping"]
    read = ablation.at_best_validation([base[(r["n_train"], r["seed"])] for r in stopped])
    assert len(stopped) == 16
    assert [x["test_acc"] for x in read] == [r["test_acc"] for r in stopped]

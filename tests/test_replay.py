"""Checking stored nets without training them to the end: the replay of a run's first
evaluations (compared with its stored curves) and the kept final weights of a few nets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from maxent_lib import ablation, regularization
from maxent_lib.runtime import describe_device

CPU = ablation.RunOptions(device="cpu", progress=False)


def _configs(epochs: int = 60) -> list[dict]:
    arms = {"baseline": {}, "dropout 0.3": {"dropout": 0.3},
            "label smoothing 0.1": {"label_smoothing": 0.1},
            "early stopping": {"early_stopping": True}}
    return [{"kind": "mlp", "width": 8, "depth": 2, "seed": s, "epochs": epochs,
             "batch_size": 32, "lr": 3e-3, "n_train": 200, "n_val": 100, "arm": arm,
             "profile": "quick", **extra} for s in (0, 1) for arm, extra in arms.items()]


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    from test_regularization import _tiny_data

    path = tmp_path_factory.mktemp("grid") / "grid.jsonl"
    ablation.run_grid(_configs(), _tiny_data(), results_path=path, options=CPU)
    return ablation.load_stored(path), ablation.prepare_dataset(_tiny_data())


def test_a_replay_reproduces_the_first_evaluations_of_the_stored_runs(stored) -> None:
    grid, data = stored
    replayed = ablation.replay_start(_configs(), data, 3)
    assert [r["eval_epochs"] for r in replayed] == [[2, 4, 6]] * len(replayed)
    by_key = {r["key"]: r for r in grid.records}
    for r in replayed:                       # the stored curve's first points, exactly
        s = by_key[r["key"]]
        assert r["test_acc_curve"] == s["test_acc_curve"][:3]
        assert r["val_acc_curve"] == s["val_acc_curve"][:3]
    here = replace(grid, provenance={**grid.provenance, "device": describe_device("cpu")})
    check = ablation.replay_check(replayed, here)
    assert check["passed"] and check["same_machine"] and all(x["equal"] for x in check["rows"])
    assert "every point must be equal" in ablation.format_replay_check(check)


def test_a_replay_check_fails_on_a_changed_point_a_missing_row_or_a_stale_file(stored) -> None:
    grid, data = stored
    replayed = ablation.replay_start(_configs()[:2], data, 2)
    here = replace(grid, provenance={**grid.provenance, "device": describe_device("cpu")})
    nudged = [{**r, "test_acc_curve": [r["test_acc_curve"][0] + 0.005, *r["test_acc_curve"][1:]]}
              for r in replayed]
    res = ablation.replay_check(nudged, here)
    assert not res["passed"] and "DIFFERENT" in ablation.format_replay_check(res)
    # on another machine the rounding differs: a small difference passes, a large one does not
    elsewhere = replace(grid, provenance={**grid.provenance, "device": "another machine"})
    assert ablation.replay_check(nudged, elsewhere)["passed"]
    far = [{**r, "val_acc_curve": [v + 0.05 for v in r["val_acc_curve"]]} for r in replayed]
    assert not ablation.replay_check(far, elsewhere)["passed"]
    lost = [{**replayed[0], "key": "not stored"}]
    res = ablation.replay_check(lost, here)
    assert not res["passed"] and res["unmatched"] == 1
    later = [{**r, "eval_epochs": [e + 1 for e in r["eval_epochs"]]} for r in replayed]
    assert not ablation.replay_check(later, here)["passed"]
    stale = replace(here, current=False)
    assert not ablation.replay_check(replayed, stale)["passed"]
    assert "not current" in ablation.format_replay_check(ablation.replay_check(replayed, stale))


def test_a_replay_refuses_configs_of_two_shapes(stored) -> None:
    _, data = stored
    two = [_configs()[0], {**_configs()[1], "width": 16}]
    with pytest.raises(ValueError, match="share"):
        ablation.replay_start(two, data)


def test_kept_nets_give_their_stored_final_metrics_again(tmp_path) -> None:
    from test_regularization import _tiny_data

    path = tmp_path / "nets.jsonl"
    keep = [c for c in _configs() if not c.get("early_stopping")]
    opts = replace(CPU, save_nets=True)
    ablation.run_grid(keep[:2], _tiny_data(), results_path=path, options=opts)
    ablation.run_grid(keep, _tiny_data(), results_path=path, options=opts)   # resumes, adds
    assert len(torch.load(ablation.nets_path(path), weights_only=True)) == len(keep)
    nets = ablation.load_nets(ablation.load_stored(path), ablation.prepare_dataset(_tiny_data()))
    check = ablation.nets_check(nets)
    assert check["passed"] and len(check["rows"]) == len(keep)
    assert all(r["max_diff"] == 0 for r in check["rows"])     # same machine, same arithmetic
    # the rebuilt group serves what reads a fitted group: the log-probabilities of an arm
    lp_val, y_val, lp_test, y_test = regularization.split_log_probs(nets, "baseline")
    assert lp_val.shape == (100, 3) and lp_test.shape == (200, 3)
    # a net that is not the stored one fails the check
    with torch.no_grad():
        nets.model.params[-1][0] += 5.0 * torch.arange(3.0)
    assert not ablation.nets_check(nets)["passed"]
    assert "FAILED" in ablation.format_nets_check(ablation.nets_check(nets))


def test_saving_nets_refuses_early_stopping_other_executors_and_missing_weights(
        tmp_path) -> None:
    from test_regularization import _tiny_data

    opts = replace(CPU, save_nets=True)
    with pytest.raises(ValueError, match="snapshot"):
        ablation.run_grid(_configs(4)[3:4], _tiny_data(), results_path=tmp_path / "a.jsonl",
                          options=opts)
    with pytest.raises(ValueError, match="results path"):
        ablation.run_grid(_configs(4)[:1], _tiny_data(), options=opts)
    with pytest.raises(ValueError, match="sequential"):
        ablation.run_grid(_configs(4)[:1], _tiny_data(), results_path=tmp_path / "b.jsonl",
                          options=replace(opts, sequential=True))
    path = tmp_path / "c.jsonl"
    ablation.run_grid(_configs(4)[:1], _tiny_data(), results_path=path, options=CPU)
    with pytest.raises(ValueError, match="not found"):
        ablation.load_nets(ablation.load_stored(path), ablation.prepare_dataset(_tiny_data()))
    ablation.run_grid(_configs(4)[:2], _tiny_data(), results_path=path, options=opts)
    with pytest.raises(ValueError, match="lacks the nets of 1 rows"):
        ablation.load_nets(ablation.load_stored(path), ablation.prepare_dataset(_tiny_data()))


def test_the_command_line_keeps_nets_beside_its_results(tmp_path) -> None:
    import subprocess
    import sys

    out = tmp_path / "live.jsonl"
    cmd = [sys.executable, "-m", "maxent_lib", "ablate", "--grid", "init_demo", "--profile",
           "quick", "--device", "cpu", "--no-progress", "--limit", "1", "--save-nets",
           "--out", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    assert ablation.nets_path(out).exists() and ablation.load_stored(out).current

"""The live re-training check of lessons 05 and 06: bit for bit on the machine that made a
stored grid, within the stored seeds' range on another."""

from __future__ import annotations

from pathlib import Path

import pytest

from maxent_lib import ablation, regularization
from maxent_lib.runtime import describe_device
from maxent_lib.store.provenance import StoredResults


def _rows(accs, arm="plain", depth=2):
    return [{"kind": "mlp", "depth": depth, "arm": arm, "seed": s, "key": f"{arm}{depth}{s}",
             "train_acc": 1.0, "test_acc": a} for s, a in enumerate(accs)]


def test_seed_range_accepts_a_draw_inside_and_refuses_one_beyond_the_tolerance() -> None:
    stored = _rows([0.60, 0.62, 0.65])
    inside = [{**stored[0], "test_acc": 0.66}]                   # above the max, by less than 0.02
    assert ablation.within_seed_range(inside, stored)["passed"]
    below = [{**stored[0], "test_acc": 0.575}]                   # below the min by 0.025
    res = ablation.within_seed_range(below, stored)
    assert not res["passed"] and "test_acc" in res["outside"][0]
    assert ablation.within_seed_range(below, stored, tolerance=0.03)["passed"]
    unfit = [{**stored[0], "train_acc": 0.9}]
    assert "train_acc" in ablation.within_seed_range(unfit, stored)["outside"][0]


def test_seed_range_compares_a_net_with_its_own_setting_only() -> None:
    stored = _rows([0.60, 0.62]) + _rows([0.90, 0.92], depth=8)
    other = [{**stored[0], "depth": 8}]                          # 0.60 is far from depth 8's seeds
    assert not ablation.within_seed_range(other, stored)["passed"]
    nowhere = [{**stored[0], "depth": 4}]
    res = ablation.within_seed_range(nowhere, stored)
    assert not res["passed"] and res["unmatched"] == 1
    diverged = [{**stored[0], "diverged": True, "train_acc": None, "test_acc": None}]
    assert not ablation.within_seed_range(diverged, stored)["passed"]
    assert not ablation.within_seed_range([], stored)["passed"]


def _tiny():
    from test_regularization import _tiny_data

    configs = [{"kind": "mlp", "width": 8, "depth": 2, "seed": 0, "epochs": 6, "batch_size": 32,
                "lr": 3e-3, "n_train": 200, "n_val": 100, "arm": arm, "profile": "quick",
                **extra} for arm, extra in {"baseline": {}, "dropout 0.3": {"dropout": 0.3},
                                            "early stopping": {"early_stopping": True}}.items()]
    return _tiny_data(), configs


def test_live_check_is_bit_for_bit_on_the_machine_that_made_the_file() -> None:
    raw, configs = _tiny()
    stored = ablation.run_grid(configs, raw, options=ablation.RunOptions(device="cpu",
                                                                          progress=False))
    fitted = regularization.retrain(configs[:2], ablation.prepare_dataset(raw))

    def check(rows, device):
        return ablation.live_check(fitted.records, StoredResults(
            Path("a.jsonl"), rows, {"device": device}, True, "ok"))

    here = check(stored, describe_device("cpu"))
    assert here["passed"] and here["same_machine"] and here["comparison"]["identical"]
    assert "bit for bit required" in ablation.format_live_check(here)
    nudged = [{**r, "test_acc": r["test_acc"] + 0.001} for r in stored]
    assert not check(nudged, describe_device("cpu"))["passed"]    # same machine: bit for bit
    elsewhere = check(nudged, "another machine")
    assert elsewhere["passed"] and not elsewhere["same_machine"]
    assert "within its setting's stored seeds" in ablation.format_live_check(elsewhere)
    far = [{**r, "test_acc": r["test_acc"] + 0.05} for r in stored]
    res = check(far, "another machine")
    assert not res["passed"] and "outside" in ablation.format_live_check(res)
    stale = ablation.live_check(fitted.records, StoredResults(Path("a.jsonl"), stored, None,
                                                              False, "old"))
    assert not stale["passed"] and not stale["current"] and stale["comparison"] is None
    assert not check(stored[2:], describe_device("cpu"))["passed"]   # a row not stored


def test_the_device_names_the_instruction_set_torch_chose() -> None:
    import torch

    assert describe_device("cpu").endswith(f"{torch.backends.cpu.get_cpu_capability()})")


@pytest.mark.parametrize("bad", [[{"key": "a"}], "rows"])
def test_live_check_refuses_rows_without_key_and_arm(bad) -> None:
    with pytest.raises((ValueError, TypeError)):
        ablation.live_check(bad, StoredResults(Path("a.jsonl"), [], None, True, "ok"))

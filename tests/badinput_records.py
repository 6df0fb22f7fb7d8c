"""Fixtures of the bad-input suite's examples (``tests/test_badinput.py``) for the modules that
judge claims: small fake grids (shortcut and regularisation records, the same with twice the
epochs), stored results, claims' families, lesson 04's runs and the results made from them.
Each is cheap (no training) and made once."""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

import numpy as np

#: The regularisation grid's arms (with their treatment fields) of the fake records.
REG_ARMS: dict[str, dict[str, float]] = {
    "baseline": {}, "dropout 0.3": {"dropout": 0.3}, "weight decay 0.5": {"weight_decay": 0.5},
    "label smoothing 0.1": {"label_smoothing": 0.1}}


def shortcut_records(epochs: int = 10) -> list[dict[str, Any]]:
    """Shortcut-grid records (mlp and cnn, depths 2 and 8, 4 seeds, both arms): the residual
    net gains 0.05 test accuracy at depth 8; ``epochs`` 20 gives the budget file's records
    (the same accuracies)."""
    rng = np.random.default_rng(0)
    out = []
    for kind in ("mlp", "cnn"):
        for depth in (2, 8):
            for seed in range(4):
                for arm in ("plain", "residual"):
                    gain = 0.05 if depth == 8 and arm == "residual" else 0.0
                    test = round(0.6 + 0.01 * seed + gain + 0.002 * rng.normal(), 4)
                    out.append({"kind": kind, "depth": depth, "arm": arm, "seed": seed,
                                "shortcut": arm == "residual", "init": "he", "epochs": epochs,
                                "n_classes": 10, "train_acc": 0.95, "test_acc": test,
                                "gen_gap": round(0.95 - test, 4)})
    return out


def reg_records(epochs: int = 10) -> list[dict[str, Any]]:
    """Regularisation-grid records (4 arms, sizes 250 and 1000, 8 seeds): dropout gains test
    accuracy at the small size."""
    rng = np.random.default_rng(1)
    out = []
    for n_train, gain in ((250, 0.05), (1000, 0.01)):
        for seed in range(8):
            for arm, extra in REG_ARMS.items():
                j = 0.002 * rng.normal() * (arm != "baseline")
                acc = 0.6 + gain * (arm == "dropout 0.3") + j
                out.append({"arm": arm, "n_train": n_train, "seed": seed, "dataset": "mnist1d",
                            "profile": "quick", "epochs": epochs, "train_acc": 1.0,
                            "test_acc": acc, "test_loss": 2.0 - acc,
                            "test_loss_calibrated": 1.5 - acc,
                            "test_entropy": 1.0 + j + 0.4 * (arm == "label smoothing 0.1"),
                            "gen_gap": 1.0 - acc, "late_gain": 0.02 * (seed == 0), **extra})
    return out


SC, SC2 = shortcut_records(), shortcut_records(20)
SC_MLP = [r for r in SC if r["kind"] == "mlp"]
REG, REG2 = reg_records(), reg_records(20)


def stored(records: list[dict[str, Any]], name: str = "shortcut_quick.jsonl") -> Any:
    """A current stored results file holding ``records``."""
    from maxent_lib.store.provenance import StoredResults

    return StoredResults(Path(name), records, None, True, "made by the current code")


@functools.cache
def families() -> list[Any]:
    """C5 for mlp (both settings for it), C5 for cnn (every setting excluded), C7 for dropout
    (one setting against it, one with a single seed), C0 (one step for it, one negligible)."""
    from maxent_lib.claims import Family, claim

    return [Family(claim("C5"), "quick", settings=["depth 4", "depth 8"],
                   effects=[np.array([0.05, 0.06, 0.055, 0.052]),
                            np.array([0.08, 0.07, 0.075, 0.09])], item="mlp"),
            Family(claim("C5"), "quick", excluded=[("depth 4", "did not train")], item="cnn"),
            Family(claim("C7"), "quick", settings=["n_train 250", "n_train 1000"],
                   effects=[np.array([-0.05, -0.06, -0.055]), np.array([0.2])],
                   item="dropout 0.3"),
            Family(claim("C0"), "lesson 04", settings=["X -> T1", "T1 -> T2"],
                   effects=[np.array([-0.3, -0.25, -0.35]),
                            np.array([0.001, -0.002, 0.0015, 0.0])])]


@functools.cache
def family_result() -> Any:
    from maxent_lib.stats import family_tests

    return family_tests([[0.05, 0.06, 0.055, 0.052], [0.08, 0.07, 0.075, 0.09]], 1,
                        margin=0.01)


@functools.cache
def checks() -> list[Any]:
    from maxent_lib.claims import Check

    return [Check("C1", "xor", 1, 1e-8, 1e-8, 1e-8, True),
            Check("C2", "gaussians", 3, 1e-3, 0.0, 2e-3, True)]


@functools.cache
def budget_result() -> Any:
    from maxent_lib.ablation.budget import budget_check

    return budget_check(SC, SC2)


@functools.cache
def evidence() -> list[Any]:
    """The quick shortcut grid, current and settled; the quick regularisation grid, not made."""
    from maxent_lib.evidence import GridEvidence

    return [GridEvidence("shortcut", "quick", stored(SC), stored(SC2), budget_result()),
            GridEvidence("regularization", "quick", None, None, None)]


@functools.cache
def verdicts_of_grid() -> Any:
    from maxent_lib.shortcuts import judge_grid

    return judge_grid(stored(SC), stored(SC2), "quick")


@functools.cache
def reg_families() -> list[Any]:
    from maxent_lib.claims import regularization_families

    return regularization_families(REG, "quick")


@functools.cache
def reg_state() -> Any:
    from maxent_lib.regularization import grid_state

    return grid_state(stored(REG, "regularization_quick.jsonl"),
                      stored(REG2, "regularization_quick_budget.jsonl"))


def reg_failed_state() -> Any:
    """The quick regularisation grid whose dropout nets gain 0.05 with twice the epochs: its
    budget check fails."""
    from maxent_lib.regularization import grid_state

    moved = [{**r, "test_acc": r["test_acc"] + 0.05} if r["arm"] == "dropout 0.3" else r
             for r in REG2]
    return grid_state(stored(REG, "regularization_quick.jsonl"),
                      stored(moved, "regularization_quick_budget.jsonl"))


def layer_runs() -> dict[tuple[str, int], dict[str, Any]]:
    """Lesson 04's runs of 3 seeds (the format of :func:`maxent_lib.layerwise.summarise_runs`):
    the end-to-end nets lower the excess most, the nets at initialisation least."""
    runs: dict[tuple[str, int], dict[str, Any]] = {}
    for s in range(3):
        e = 0.01 * s
        for method, totals, train_ce, test_ce, acc in (
                ("end to end", (0.6, 0.2 + e, 0.1 + e), 0.05, 0.1 + e, 0.9 - e),
                ("layer-wise", (0.6, 0.3 + e, 0.2 + e), 0.1, 0.2 + 2 * e, 0.8),
                ("at initialisation", (0.6, 0.5 + e, 0.55 + e), math.nan, 0.7, 0.5)):
            runs[method, s] = {"test_ce": test_ce, "test_acc": acc, "train_ce": train_ce,
                               "gaps": [{"total_gap": t, "fc1_gap": 0.0, "fc2_gap": t}
                                        for t in totals]}
    return runs


RUNS = layer_runs()
NO_STUCK = {"end to end": [], "layer-wise": []}


@functools.cache
def comparison() -> Any:
    from maxent_lib.layerwise import compare_methods

    return compare_methods(RUNS, NO_STUCK, "xor")


DEPTH_ROWS = [{"kind": "mlp", "arm": arm, "depth": d, "test_acc_mean": 0.6, "test_acc_lo": 0.58,
               "test_acc_hi": 0.62, "train_acc_mean": 1.0}
              for arm in ("plain", "residual") for d in (2, 4, 8)]
SENSITIVITY = {0.05: {("C5", "mlp"): "supported"}, None: {("C5", "mlp"): "mixed"}}
METRICS = {"train_acc": 1.0, "test_acc": 0.5, "test_loss": 1.0, "test_loss_calibrated": 0.9}

"""Stored nets checked without training them to the end (lesson 06).

A stored row records, besides its final metrics, the validation and test accuracy at about 30
evaluation epochs of its run (``val_acc_curve``, ``test_acc_curve``). Two checks use them:

- :func:`replay_start` trains a group's nets again **for their first few evaluation epochs
  only**, on the same learning-rate schedule as the whole run (the cosine over all its epochs), and
  :func:`replay_check` compares each replayed curve point with the stored one. An accuracy on
  1000 test or 400 validation points is a count of correct answers, so equal points mean equal
  counts at every replayed evaluation; on the machine that made the file any difference in the
  arithmetic would, thousands of steps later, show as a different count. A replay of 2 of 30
  evaluations costs a fifteenth of the run.
- :mod:`maxent_lib.ablation.nets` keeps the final weights of a few stored nets; evaluating them
  gives their stored final metrics again.

Together they check the start of a stored run by re-training and its end by its kept weights,
in seconds instead of the minutes a whole run takes on a laptop.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..validation import Dict, Instance, Integer, Items, validate
from .configs import CONFIG, DEFAULTS, SHAPE_KEYS, canonical_config, config_key
from .fit import (
    PreparedData,
    _distinct_models,
    _round,
    _tensors,
    _Tracker,
    data_split,
    eval_epochs,
    torch_threads,
)
from .livecheck import OTHER_MACHINE_TOLERANCE

if TYPE_CHECKING:
    from ..store.provenance import StoredResults

__all__ = ["format_replay_check", "replay_check", "replay_start"]


class _EnoughEvaluations(Exception):
    """Raised from the evaluation hook once the last replayed evaluation is recorded."""


@validate(configs=Items(CONFIG, min_len=1), data=Instance((PreparedData,)),
          evaluations=Integer(low=1, high=1000), threads=Integer(low=1, high=1024))
def replay_start(configs: Sequence[dict[str, Any]], data: PreparedData, evaluations: int = 2, *,
           threads: int = 1) -> list[dict[str, Any]]:
    """Train ``configs`` (one shape, :data:`~maxent_lib.ablation.configs.SHAPE_KEYS`) on the CPU
    as :func:`~maxent_lib.ablation.fit_group` does, with ``threads`` torch threads, but stop
    after the first ``evaluations`` evaluation epochs of their runs. Returns per config its
    config fields, ``key`` (as :func:`~maxent_lib.ablation.run_grid` stores it),
    ``eval_epochs`` and ``val_acc_curve`` / ``test_acc_curve`` over those epochs, rounded as the
    stored rows are. Raises ``ValueError`` for configs of several shapes. Introduced in
    lesson 06."""
    import torch

    from .stacked import DivergenceWarning, StackedNet
    from .training import TrainSettings, train

    canon = [canonical_config(c, len(data.X_train)) for c in configs]
    first = canon[0]
    if any(c[k] != first[k] for c in canon for k in SHAPE_KEYS):
        raise ValueError("replay trains one stack: all configs must share "
                         + ", ".join(SHAPE_KEYS))
    models, model_of = _distinct_models(canon)
    n_pool = len(data.X_train)
    splits = [data_split(c["seed"], n_pool, c["n_train"] or n_pool - c["n_val"], c["n_val"])
              for c in models]
    t = _tensors(data, splits, torch.device("cpu"))
    col = {k: [c[k] for c in models] for k in DEFAULTS}
    at = eval_epochs(first["epochs"])[:evaluations]
    with torch_threads(threads):
        model = StackedNet(first["kind"], t.X.shape[1], data.n_classes, first["width"],
                           first["depth"], col["seed"], shortcut=col["shortcut"],
                           dropout=col["dropout"], init=col["init"], device="cpu")
        tracker = _Tracker(model, t, at, False)

        def on_epoch(epoch: int) -> None:
            tracker.on_epoch(epoch)
            if epoch == at[-1]:
                raise _EnoughEvaluations

        settings = TrainSettings(
            epochs=first["epochs"], batch_size=first["batch_size"], lr=first["lr"],
            weight_decay=col["weight_decay"], label_smoothing=col["label_smoothing"],
            confidence_penalty=col["confidence_penalty"], mode="eager", tf32=False,
            lr_schedule=first["lr_schedule"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergenceWarning)
            try:
                train(model, t.X, t.y, settings, on_epoch=on_epoch, subsets=t.tr.numpy())
            except _EnoughEvaluations:
                pass
    ident = f"{data.dataset_id}#{data.data_hash}"
    out = []
    for c, i in zip(canon, model_of, strict=True):
        rec = {k: c[k] for k in DEFAULTS}
        rec.update(key=config_key(rec, ident), eval_epochs=list(at))
        for name in ("val", "test"):
            rec[f"{name}_acc_curve"] = [_round(v) if np.isfinite(v) else None
                                        for v in np.asarray(tracker.curves[name])[:, i]]
        out.append(rec)
    return out


@validate(replayed=Items(Dict(required=("key", "eval_epochs", "val_acc_curve",
                                        "test_acc_curve")), min_len=1),
          stored=Instance(("maxent_lib.store.provenance.StoredResults",)))
def replay_check(replayed: Sequence[dict[str, Any]], stored: StoredResults) -> dict[str, Any]:
    """Compare :func:`replay_start`'s curves with the stored rows of the same key: ``rows`` (per
    replayed config: ``arm``, ``seed``, ``epochs``, ``replayed`` and ``stored`` test accuracies,
    ``equal``: every replayed validation and test point equals the stored one; ``max_diff``:
    the largest difference of a point), ``unmatched`` (replayed configs with no stored row),
    ``same_machine`` (the stored provenance names this CPU, core count and instruction set),
    ``passed`` and ``current``. On the machine that made the file every point must be equal; on
    another (whose rounding differs, see :mod:`~maxent_lib.ablation.livecheck`) within
    :data:`~maxent_lib.ablation.livecheck.OTHER_MACHINE_TOLERANCE`. ``passed`` also needs the
    file current and every config found. Introduced in lesson 06."""
    from ..runtime import describe_device

    by_key = {r.get("key"): r for r in stored.records}
    rows, unmatched = [], 0
    for r in replayed:
        s = by_key.get(r["key"])
        if s is None:
            unmatched += 1
            continue
        k = len(r["eval_epochs"])
        mine = [*r["val_acc_curve"], *r["test_acc_curve"]]
        theirs = [*list(s.get("val_acc_curve", []))[:k], *list(s.get("test_acc_curve", []))[:k]]
        complete = (list(s.get("eval_epochs", []))[:k] == list(r["eval_epochs"])
                    and len(theirs) == len(mine) == 2 * k and None not in [*mine, *theirs])
        diff = (max(abs(a - b) for a, b in zip(mine, theirs, strict=True)) if complete
                else float("inf"))
        rows.append({"arm": r.get("arm", ""), "seed": r.get("seed"), "epochs": r["eval_epochs"],
                     "replayed": r["test_acc_curve"],
                     "stored": list(s.get("test_acc_curve", []))[:k],
                     "equal": complete and mine == theirs, "max_diff": diff})
    same = (stored.provenance or {}).get("device") == describe_device("cpu")
    ok = all(x["equal"] if same else x["max_diff"] <= OTHER_MACHINE_TOLERANCE for x in rows)
    passed = bool(stored.current and rows and unmatched == 0 and ok)
    return {"rows": rows, "unmatched": unmatched, "same_machine": same, "passed": passed,
            "current": stored.current}


@validate(check=Dict(required=("rows", "unmatched", "same_machine", "passed", "current")))
def format_replay_check(check: dict[str, Any]) -> str:
    """:func:`replay_check`'s result in lines: per net, the replayed and stored test accuracy
    at each replayed evaluation epoch. Introduced in lesson 06."""
    if not check["current"]:
        return "no comparison: the stored file is not current"
    lines = [f"  {r['arm']:>18} seed {r['seed']}: test accuracy at epochs {r['epochs']}: "
             f"replayed {r['replayed']}, stored {r['stored']}"
             f"{' (equal)' if r['equal'] else ' DIFFERENT'}" for r in check["rows"]]
    if check["unmatched"]:
        lines.append(f"  {check['unmatched']} replayed configs have no stored row")
    lines.append("the stored file was made on this machine: every point must be equal"
                 if check["same_machine"] else "another machine made the stored file: every "
                 f"point must lie within {OTHER_MACHINE_TOLERANCE} of the stored one")
    lines.append("passed" if check["passed"] else "FAILED")
    return "\n".join(lines)

"""The final weights of stored nets, kept beside their results file (lesson 06).

A lesson that studies trained nets (their features, their probabilities) needs the nets, and
training one of the regularisation grid's nets takes minutes on a laptop. ``python -m maxent_lib
ablate ... --save-nets --out NAME.jsonl`` trains the chosen configs as the grid does, stores
their rows in ``NAME.jsonl`` (with provenance, like any grid) and their final weights in
``NAME.pt``; :func:`load_nets` rebuilds them as a fitted group and :func:`nets_check` says
whether the weights give the stored final metrics again. Early-stopping configs are refused:
their rows report a snapshot, not the final weights.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..validation import Dict, Instance, Items, PathArg, Text, validate
from .configs import SHAPE_KEYS
from .fit import GroupResult, PreparedData, _evaluate, _round, _tensors, data_split

if TYPE_CHECKING:
    from ..store.provenance import StoredResults

__all__ = ["format_nets_check", "load_nets", "nets_check", "nets_path", "save_nets"]

#: The final metrics :func:`nets_check` recomputes from the kept weights.
CHECKED_METRICS = ("train_acc", "val_acc", "test_acc", "train_loss", "test_loss")


def nets_path(results_path: str | os.PathLike[str]) -> Path:
    """``NAME.pt`` beside the results file ``NAME.jsonl``. Introduced in lesson 06."""
    return Path(results_path).with_suffix(".pt")


@validate(fitted=Instance((GroupResult,)), keys=Items(Text(empty=False)), path=PathArg(file=True))
def save_nets(fitted: GroupResult, keys: Sequence[str], path: str | os.PathLike[str]) -> None:
    """Add the final weights of every record of ``fitted`` to the file ``path`` (a dict: the
    record's ``key`` -> the list of its parameter tensors), written whole to a temporary file
    and moved into place, so an interrupted save leaves the old file. ``keys`` are the records'
    keys, in order. Raises ``ValueError`` for an early-stopping record or a key count that does
    not match. Introduced in lesson 06."""
    import torch

    if len(keys) != len(fitted.records):
        raise ValueError(f"{len(keys)} keys for {len(fitted.records)} records")
    if any(r.get("early_stopping") for r in fitted.records):
        raise ValueError("an early-stopping row reports a snapshot, not the final weights: "
                         "leave early stopping out of the configs whose nets are saved")
    p = Path(path)
    kept = torch.load(p, weights_only=True) if p.exists() else {}
    for key, i in zip(keys, fitted.model_of, strict=True):
        kept[key] = [w[i].detach().cpu().clone() for w in fitted.model.params]
    tmp = p.with_name(p.name + ".tmp")
    torch.save(kept, tmp)
    os.replace(tmp, p)


@validate(stored=Instance(("maxent_lib.store.provenance.StoredResults",)),
          data=Instance((PreparedData,)))
def load_nets(stored: StoredResults, data: PreparedData) -> GroupResult:
    """The nets of a results file made with ``--save-nets``, rebuilt as one stack (one model
    per row, in the file's order) with their rows, the data and each one's training and
    validation rows: what :func:`~maxent_lib.ablation.fit_group` returns, for the functions
    that read a fitted group (e.g. :func:`maxent_lib.regularization.fc_gap_rows`). Raises
    ``ValueError`` when the weights file is missing, lacks a row's net, or the rows are not of
    one shape. Introduced in lesson 06."""
    import torch

    from .stacked import StackedNet

    path = nets_path(stored.path)
    if not path.exists():
        raise ValueError(f"{path.name} not found: make it with the results file's command "
                         "and --save-nets")
    kept = torch.load(path, weights_only=True)
    recs = list(stored.records)
    if not recs:
        raise ValueError(f"{stored.path.name} holds no rows")
    missing = [r.get("key") for r in recs if r.get("key") not in kept]
    if missing:
        raise ValueError(f"{path.name} lacks the nets of {len(missing)} rows ({missing[:3]})")
    first = recs[0]
    if any(r[k] != first[k] for r in recs for k in SHAPE_KEYS):
        raise ValueError("the rows are not of one shape: " + ", ".join(SHAPE_KEYS))
    model = StackedNet(first["kind"], data.X_train.shape[1], data.n_classes, first["width"],
                       first["depth"], [r["seed"] for r in recs],
                       shortcut=[float(r["shortcut"]) for r in recs],
                       dropout=[r["dropout"] for r in recs], init=[r["init"] for r in recs])
    with torch.no_grad():
        for j, w in enumerate(model.params):
            w.copy_(torch.stack([kept[r["key"]][j] for r in recs]))
    n_pool = len(data.X_train)
    splits = [data_split(r["seed"], n_pool, r["n_train"], r["n_val"]) for r in recs]
    model.eval()
    return GroupResult(model, recs, data, splits, list(range(len(recs))))


@validate(fitted=Instance((GroupResult,)))
def nets_check(fitted: GroupResult) -> dict[str, Any]:
    """Evaluate the nets of :func:`load_nets` and compare each one's final metrics
    (:data:`CHECKED_METRICS`, rounded as stored) with its row: ``rows`` (per net ``arm``,
    ``seed``, the recomputed and stored test accuracy, ``max_diff`` over the metrics and
    ``accuracies_equal``) and ``passed`` (every net's accuracies equal: a count of correct
    answers does not move with the last bits of the arithmetic, losses may). Introduced in
    lesson 06."""
    import torch

    t = _tensors(fitted.data, fitted.splits, torch.device("cpu"))
    with torch.no_grad():
        got = _evaluate(fitted.model, t.X, t.y, t.tr, t.va, t.Xte, t.yte)
    rows = []
    for i, r in enumerate(fitted.records):
        mine = {m: _round(got[m][i]) for m in CHECKED_METRICS}
        diff = max(abs(mine[m] - r[m]) for m in CHECKED_METRICS)
        rows.append({"arm": r.get("arm", ""), "seed": r.get("seed"), "test_acc": mine["test_acc"],
                     "stored_test_acc": r["test_acc"], "max_diff": diff,
                     "accuracies_equal": all(mine[m] == r[m] for m in CHECKED_METRICS
                                             if m.endswith("_acc"))})
    return {"rows": rows, "passed": bool(rows) and all(x["accuracies_equal"] for x in rows)}


@validate(check=Dict(required=("rows", "passed")))
def format_nets_check(check: dict[str, Any]) -> str:
    """:func:`nets_check`'s result in lines. Introduced in lesson 06."""
    lines = [f"  {r['arm']:>18} seed {r['seed']}: test accuracy {r['test_acc']} (stored "
             f"{r['stored_test_acc']}); largest difference of {', '.join(CHECKED_METRICS)} "
             f"{r['max_diff']:.1e}" for r in check["rows"]]
    lines.append("passed" if check["passed"] else "FAILED")
    return "\n".join(lines)

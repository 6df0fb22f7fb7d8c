"""Stored nets trained again, live, and compared with their stored rows (lessons 05 and 06).

Every random stream of a net is seeded by its own seed, so on the machine that made a stored
grid a re-trained net must come out **bit for bit** as its stored row. On another machine the
rounding of the matrix products differs (another CPU model, or the same model with another
instruction set: torch picks its kernels by the CPU's capability, which
:func:`maxent_lib.runtime.describe_device` names), and a long training run amplifies it: the
re-trained net is then, in effect, one more draw of its setting. There the check is that its
training and test accuracy lie within the range of the stored seeds of its setting, widened by
:data:`OTHER_MACHINE_TOLERANCE` (cross-entropies are left out: an overconfident net's test
loss moves by whole nats with the rounding). No torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..validation import Dict, Instance, Items, Real, validate
from .configs import DEFAULTS
from .summaries import _value, compare_records

if TYPE_CHECKING:
    from ..store.provenance import StoredResults

__all__ = ["OTHER_MACHINE_TOLERANCE", "format_live_check", "live_check", "within_seed_range"]

#: On another machine than the one that made a stored grid, how far (in accuracy) a re-trained
#: net may lie outside the range of its setting's stored seeds.
OTHER_MACHINE_TOLERANCE = 0.02

_ACCURACIES = ("train_acc", "test_acc")


def _setting(record: dict[str, Any]) -> tuple:
    return tuple((k, record.get(k, DEFAULTS[k])) for k in DEFAULTS if k != "seed")


@validate(rerun=Items(Dict()), stored=Items(Dict()), tolerance=Real(low=0.0))
def within_seed_range(rerun: Sequence[dict[str, Any]], stored: Sequence[dict[str, Any]],
                      tolerance: float = OTHER_MACHINE_TOLERANCE) -> dict[str, Any]:
    """Whether each re-run record's training and test accuracy lie within ``[min - tolerance,
    max + tolerance]`` of the stored records of its setting (every config field but the seed):
    ``passed`` (every re-run record has stored records of its setting, and every accuracy lies
    within), ``outside`` (a line per accuracy that does not) and ``unmatched`` (re-run records
    with no stored record of their setting). A diverged model (no accuracy) is left out of the
    range; a re-run one is outside it. Introduced in lesson 05."""
    by_setting: dict[tuple, list[dict[str, Any]]] = {}
    for s in stored:
        by_setting.setdefault(_setting(s), []).append(s)
    outside, unmatched = [], 0
    for r in rerun:
        peers = by_setting.get(_setting(r))
        if not peers:
            unmatched += 1
            continue
        for m in _ACCURACIES:
            seen = [v for v in (_value(p, m) for p in peers) if v is not None]
            v = _value(r, m)
            if v is None or not seen or not min(seen) - tolerance <= v <= max(seen) + tolerance:
                outside.append(f"{r.get('arm', '')} seed {r.get('seed')}: {m} {v} outside "
                               f"[{min(seen, default=float('nan')):.3f}, "
                               f"{max(seen, default=float('nan')):.3f}] +- {tolerance}")
    return {"passed": bool(rerun) and unmatched == 0 and not outside, "outside": outside,
            "unmatched": unmatched}


@validate(records=Items(Dict(required=("key", "arm"))),
          stored=Instance(("maxent_lib.store.provenance.StoredResults",)))
def live_check(records: Sequence[dict[str, Any]], stored: StoredResults) -> dict[str, Any]:
    """Compare re-trained ``records`` with the rows of the stored grid ``stored``:
    ``comparison`` (:func:`~maxent_lib.ablation.compare_records`), ``same_machine`` (the stored
    provenance names this machine's CPU, core count and instruction set: then every row must
    agree bit for bit), ``spread`` (:func:`within_seed_range`, the rule on another machine),
    ``passed`` (every re-trained row found, and bit for bit on the same machine, within its
    setting's seeds on another) and ``current`` (False: the stored file is not current,
    nothing is compared and ``passed`` is False). Introduced in lesson 05."""
    from ..runtime import describe_device

    if not stored.current:
        return {"comparison": None, "same_machine": False, "spread": None, "passed": False,
                "current": False}
    same = compare_records(list(records), stored.records)
    here = (stored.provenance or {}).get("device") == describe_device("cpu")
    spread = within_seed_range(list(records), stored.records)
    found = same["matched"] == len(records) and len(records) > 0
    ok = same["identical"] if here else spread["passed"]
    return {"comparison": same, "same_machine": here, "spread": spread,
            "passed": bool(found and ok), "current": True}


@validate(check=Dict(required=("comparison", "same_machine", "passed", "current")))
def format_live_check(check: dict[str, Any]) -> str:
    """:func:`live_check`'s result in lines: per arm, the largest difference from the stored
    row; then the rule that applied and any accuracy outside its setting's seeds.
    Introduced in lesson 05."""
    if not check["current"]:
        return "no comparison: the stored file is not current"
    lines = [f"  {arm:>18}: largest difference from the stored row {c['max_diff']:.1e}"
             f"{' (bit for bit)' if c['identical'] else ''}"
             for arm, c in check["comparison"]["by_arm"].items()]
    if check["same_machine"]:
        lines.append("the stored file was made on this machine: bit for bit required")
    else:
        lines.append("another machine made the stored file: each re-trained net's training and "
                     "test accuracy must lie within its setting's stored seeds, "
                     f"+- {OTHER_MACHINE_TOLERANCE}")
        lines += [f"  outside: {x}" for x in (check.get("spread") or {}).get("outside", [])]
    lines.append("passed" if check["passed"] else "FAILED")
    return "\n".join(lines)

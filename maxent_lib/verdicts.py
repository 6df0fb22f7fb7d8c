"""Verdicts on the paper's claims, as tables and as sentences (lessons 05-07). No torch.

- :func:`item_verdicts`: each family's verdict, keyed by (claim, item) (a per-item claim such
  as "every regulariser raises test accuracy" has one family per regulariser);
- :func:`verdict_table`: one row per claim with its quantifier, evidence, the verdict of each
  item (in words: "2 of 3 settings for the prediction, none against, 1 unclear"), the filter
  sensitivity where a filter decides, and the claim's caveat;
- :func:`family_rows`: one row per setting of a family (effect, interval, p-values for and
  against the prediction, the call);
- :func:`filter_sensitivity`: the verdicts rebuilt at other values of a filter (C5's fit
  tolerance, the "did not train" threshold); a verdict that changes *depends on the filter*;
- :func:`found_sentences`: what the experiments found, in plain sentences generated from the
  verdicts (lessons 04-07's "What we found" cells), so the text cannot drift from them.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

from ._checks import InputTypeError
from .claims import PAPER_CLAIMS, Claim, Family, regularization_families, shortcut_families
from .stats import FamilyResult
from .tables import format_table
from .validation import (
    Anything,
    Choice,
    Dict,
    Function,
    Instance,
    Integer,
    Items,
    Real,
    Text,
    validate,
)

__all__ = ["GRID_ITEMS", "family_rows", "filter_sensitivity", "format_claims",
           "found_sentences", "grid_families", "grid_verdicts", "item_verdicts",
           "sensitivity_notes", "verdict_table"]

#: How each quantifier reads in a table.
_QUANTIFIER_WORDS = {"universal": "every setting", "existential": "some setting"}

_FAMILIES = Items(Instance((Family,)))
_CLAIMS = Items(Instance((Claim,)))
_ALPHA = Real(low=0.0, high=1.0, low_open=True, high_open=True)
_RECORDS = Items(Dict())
_GRID = Choice(("shortcut", "regularization"))
#: A value of a filter (a tolerance or a threshold; None: no filter).
_FILTER_VALUE = Real(optional=True)


@validate(families=_FAMILIES, alpha=_ALPHA)
def item_verdicts(families: Sequence[Family], alpha: float = 0.05
                  ) -> dict[tuple[str, str], FamilyResult | None]:
    """Each family's :meth:`~maxent_lib.claims.Family.judge`, keyed by (claim key, item)
    (None when no setting is left). Introduced in lesson 05."""
    return {(f.claim.key, f.item): f.judge(alpha) for f in families}


def _item_text(f: Family, res: FamilyResult | None) -> str:
    who = f"{f.item}: " if f.item else ""
    if res is None:
        why = "; ".join(w for _, w in f.excluded) or "no evidence"
        return f"{who}no verdict ({why})"
    return who + res.in_words()


@validate(families=_FAMILIES, alpha=_ALPHA, claims=_CLAIMS,
          theorem_checks=Dict(optional=True), sensitivity=Dict(optional=True))
def verdict_table(families: Sequence[Family], alpha: float = 0.05,
                  claims: Sequence[Claim] = PAPER_CLAIMS,
                  theorem_checks: dict[str, str] | None = None,
                  sensitivity: dict[tuple[str, str], str] | None = None
                  ) -> list[dict[str, str]]:
    """One row per claim: key, lesson, statement, ``quantifier`` ("every setting", "some
    setting", "per <item>: ..."), evidence (sources, settings, seeds, exclusions), ``verdict``
    (per item, in words; "theorem (checked: ...)", "by construction (no evidence)" or "not
    measured"), ``filters`` (the items whose verdict depends on a filter, from ``sensitivity``,
    see :func:`sensitivity_notes`) and the claim's ``caveat``. Introduced in lesson 07."""
    rows = []
    for c in claims:
        fams = [f for f in families if f.claim.key == c.key]
        rows.append({"claim": c.key, "lesson": c.lesson, "statement": c.statement,
                     "quantifier": _quantifier(c), "evidence": _evidence(fams),
                     "verdict": _verdict_cell(c, fams, alpha, theorem_checks or {}),
                     "filters": "; ".join(v for (k, _), v in (sensitivity or {}).items()
                                          if k == c.key),
                     "caveat": c.caveat})
    return rows


def _quantifier(c: Claim) -> str:
    words = _QUANTIFIER_WORDS[c.quantifier]
    return f"per {'architecture' if c.per == 'kind' else 'regulariser'}; {words}" \
        if c.per else words


def _evidence(fams: list[Family]) -> str:
    if not fams:
        return "-"
    sources = sorted({f.source for f in fams})
    n_set = sum(len(f.effects) for f in fams)
    n_exc = sum(len(f.excluded) for f in fams)
    seeds = sorted({len(e) for f in fams for e in f.effects})
    text = f"{', '.join(sources)}: {_count(n_set, 'setting')}"
    text += f", {n_exc} excluded" if n_exc else ""
    if seeds:
        text += f"; {seeds[0]}-{seeds[-1]} seeds" if len(seeds) > 1 else f"; {seeds[0]} seeds"
    return text


def _verdict_cell(c: Claim, fams: list[Family], alpha: float, checks: dict[str, str]) -> str:
    if c.status == "theorem":
        return "theorem" + (f" (checked: {checks[c.key]})" if c.key in checks else "")
    if c.status == "by construction":
        return "by construction (no evidence)"
    results = [(f, f.judge(alpha)) for f in fams]
    if not any(res for _, res in results):
        return "not measured" if not fams else "; ".join(_item_text(f, r) for f, r in results)
    return "; ".join(_item_text(f, res) for f, res in results)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


@validate(family=Instance((Family,)), alpha=_ALPHA, digits=Integer(low=0, high=15))
def family_rows(family: Family, alpha: float = 0.05, digits: int = 3) -> list[dict[str, str]]:
    """One row per setting of a family (effect, 95% interval, the one-sided p-values for and
    against the prediction, the call) and one per excluded setting. Introduced in lesson 05."""
    res = family.judge(alpha)
    out = []

    def num(x: float) -> str:
        return f"{x:+.{digits}f}" if math.isfinite(x) else "n/a"

    for s in res.settings if res else ():
        p_for, p_against = (s.p_up, s.p_down) if family.claim.direction >= 0 else \
            (s.p_down, s.p_up)
        out.append({"claim": family.claim.key, "item": family.item, "setting": s.setting,
                    "seeds": str(s.n), "effect": num(s.effect),
                    "95% interval": f"[{num(s.lo)}, {num(s.hi)}]", "p for": f"{p_for:.2g}",
                    "p against": f"{p_against:.2g}", "p equiv": f"{s.p_equiv:.2g}",
                    "call": s.call})
    for label, why in family.excluded:
        out.append({"claim": family.claim.key, "item": family.item, "setting": label,
                    "call": f"excluded: {why}"})
    return out


@validate(claims=_CLAIMS)
def format_claims(claims: Sequence[Claim]) -> str:
    """The claims as a markdown table: key, lesson, statement, metric, predicted effect,
    quantifier, status. Introduced in lesson 07."""
    sign = {1: "> +{m:g}", -1: "< -{m:g}", 0: "within +-{m:g}"}
    rows = [{"claim": c.key, "lesson": c.lesson, "statement": c.statement, "metric": c.metric,
             "predicted effect": sign[c.direction].format(m=c.margin),
             "judged": _quantifier(c), "status": c.status} for c in claims]
    return format_table(rows, ["claim", "lesson", "statement", "metric", "predicted effect",
                               "judged", "status"], markdown=True)


@validate(build=Function("a function that builds the families of the records"),
          records=_RECORDS, source=Text(), name=Text(empty=False),
          values=Items(Anything("a value of the filter (None: no filter), checked by build"),
                       min_len=1), alpha=_ALPHA)
def filter_sensitivity(build: Callable[..., list[Family]], records: Sequence[dict[str, Any]],
                       source: str, name: str, values: Sequence[Any], alpha: float = 0.05
                       ) -> dict[Any, dict[tuple[str, str], str]]:
    """The verdict of every (claim, item) when the families are built with the filter ``name``
    (a keyword of ``build``, e.g. ``fit_tolerance`` of
    :func:`~maxent_lib.claims.shortcut_families`) set to each of ``values`` (None: no
    filter). A family with no setting left reads "no verdict". Introduced in lesson 05."""
    try:
        params = inspect.signature(build).parameters
    except (TypeError, ValueError):  # a callable without a signature: let the call say
        params = {}
    if params and name not in params and not any(
            p.kind is p.VAR_KEYWORD for p in params.values()):
        raise ValueError(f"name {name!r} is not a keyword of build (its parameters: "
                         f"{list(params)})")
    out: dict[Any, dict[tuple[str, str], str]] = {}
    for v in values:
        verdicts = item_verdicts(build(records, source, **{name: v}), alpha)
        out[v] = {k: (res.verdict if res else "no verdict") for k, res in verdicts.items()}
    return out


@validate(sensitivity=Dict(min_len=1), name=Text(), default=_FILTER_VALUE)
def sensitivity_notes(sensitivity: dict[Any, dict[tuple[str, str], str]], name: str,
                      default: Any) -> dict[tuple[str, str], str]:
    """For each (claim, item) whose verdict is not the same at every value of the filter:
    "depends on the <name>: 0.03 -> mixed, 0.05 -> supported, ..." (its verdict at ``default``
    first). Items whose verdict does not change are left out."""
    if default not in sensitivity:
        raise ValueError(f"sensitivity must map filter values (including {default!r}) to "
                         "verdicts (from filter_sensitivity)")
    for value, verdicts in sensitivity.items():
        if not isinstance(verdicts, dict):
            raise InputTypeError(f"sensitivity[{value!r}] must be a dict of (claim, item) -> "
                                 f"verdict, got {type(verdicts).__name__}")
    notes = {}
    for key in sensitivity[default]:
        seen = {v: s.get(key, "no verdict") for v, s in sensitivity.items()}
        if len(set(seen.values())) > 1:
            text = ", ".join(f"{'none' if v is None else v}: {w}" for v, w in seen.items())
            notes[key] = f"{key[1] or key[0]} depends on the {name} ({text})"
    return notes


@validate(families=_FAMILIES, alpha=_ALPHA, notes=Dict(optional=True))
def found_sentences(families: Sequence[Family], alpha: float = 0.05,
                    notes: dict[tuple[str, str], str] | None = None) -> list[str]:
    """What the experiments found, one plain sentence per (claim, item), generated from the
    verdicts: what held, what did not, what could not be told (and what depends on a filter,
    from ``notes``). Introduced in lesson 05."""
    out = []
    for f in families:
        res = f.judge(alpha)
        who = f" for {f.item}" if f.item else ""
        head = f"{f.claim.key}{who}"
        if (f.claim.key, f.item) in (notes or {}):
            out.append(f"{head}: the verdict {notes[(f.claim.key, f.item)].partition(' ')[2]}.")
        elif res is None:
            out.append(f"{head}: no verdict; every setting was left out "
                       f"({'; '.join(w for _, w in f.excluded)}).")
        else:
            out.append(f"{head}: {_sentence(res)}.")
    return out


def _sentence(res: FamilyResult) -> str:
    verb = {"supported": "the prediction held", "contradicted": "the opposite of the "
            "prediction was measured", "mixed": "it held in some settings and failed in "
            "others", "negligible": "every effect was too small to matter",
            "inconclusive": "we could not tell"}[res.verdict]
    return f"{verb} ({res.in_words()})"


@validate(grid=_GRID, records=Items(Dict(), min_len=1), source=Text())
def grid_families(grid: str, records: Sequence[dict[str, Any]], source: str) -> list[Family]:
    """The claims' families of a stored grid ("shortcut": C5, C6; "regularization": C7-C10),
    with the default filters. Introduced in lesson 05."""
    builders = {"shortcut": shortcut_families, "regularization": regularization_families}
    return builders[grid](records, source)


#: grid -> (the record field that names a claim's item, the value shared by every item): the
#: items of the shortcut grid are its architectures; those of the regularisation grid its
#: regularisers, each compared with the shared baseline (the budget check's ``item_key`` and
#: ``shared``)
GRID_ITEMS: dict[str, tuple[str, str | None]] = {"shortcut": ("kind", None),
                                                 "regularization": ("arm", "baseline")}


@validate(grid=_GRID, records=Items(Dict(), min_len=1))
def grid_verdicts(grid: str, records: Sequence[dict[str, Any]]) -> dict[str, str]:
    """``{"C5 mlp": "supported", ...}``: the verdict of every (claim, item) of a grid's records
    (the ``verdicts`` function of the budget check, :func:`maxent_lib.ablation.budget_check`).
    Introduced in lesson 05."""
    out = {}
    for f in grid_families(grid, records, "grid"):
        if f.claim.status != "empirical":
            continue
        res = f.judge()
        out[f"{f.claim.key} {f.item}".strip()] = res.verdict if res else "no verdict"
    return out

"""The evidence behind lesson 07's table: every stored grid with its status and budget check,
the claims' families from the grids that may give a verdict, the filters that can decide a
verdict, both profiles side by side, claim C0 re-measured as lesson 04 measures it on MNIST-1D,
and the fit / generalisation split of claim C6.

- :func:`gather_grids`: per grid (shortcut, regularisation) and profile (quick, full) the stored
  records (:func:`maxent_lib.store.provenance.load_stored`), the same grid trained with twice
  the epochs (``NAME_budget.jsonl``) and the budget check
  (:func:`maxent_lib.ablation.budget_check`) as a :class:`GridEvidence`. A grid **gives a
  verdict** only when its file is current (made by the code now, last run finished), its
  budget file is current, and the check passes: no setting's mean test accuracy moves by more
  than 0.01 at twice the epochs and no claim's verdict changes. A full grid's check retrains a
  sample of its settings and seeds (:attr:`GridEvidence.sample` names it);
- :func:`profile_families`, :func:`profile_notes`: the claims' families of the grids that give
  a verdict, and the items whose verdict depends on a filter (C5's fit tolerance at
  :data:`maxent_lib.claims.FIT_TOLERANCES`, the "did not train" threshold at
  :data:`maxent_lib.claims.TRAINED_ATS`);
- :func:`two_profile_table`: one row per claim with its quantifier, the per-item verdicts of
  each profile (or why there is none), the filters and the claim's caveat; :func:`theorem_words`
  sums up the theorems' numerical checks for it;
- :func:`argument_findings`: what the tests found for each of the argument's five sentences;
- :func:`found_with_filters`: lesson 07's "What we found" sentences
  (:func:`maxent_lib.verdicts.found_sentences`, with the filters' notes);
- :func:`verdict_cells`: the verdicts as (item, claim) cells, for
  :func:`maxent_lib.plots.verdict_map`;
- :func:`c6_split`: C6's contrast of test accuracy split exactly into fit and generalisation,
  since test accuracy = training accuracy - generalisation gap:

      d(test) = d(train) - d(gap),    d(m) = [m(res) - m(plain)](deepest) - [...](shallowest);

- :func:`remeasure_c0`: lesson 04's MNIST-1D measurement of C0 with lesson 04's settings
  (:data:`C0_SETTINGS`), the same functions and seeds, hence the same numbers.

Introduced in lesson 07.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .ablation.budget import BudgetCheck, budget_check, chance_of_failing_on_noise
from .ablation.summaries import TRAINED_AT
from .claims import (
    FIT_TOLERANCE,
    FIT_TOLERANCES,
    PAPER_CLAIMS,
    TRAINED_ATS,
    Check,
    Family,
    claim,
    interaction_values,
    regularization_families,
    shortcut_families,
)
from .regularization import BEST_EPOCH_CLAIMS, best_epoch_verdicts, read_at_best_epoch
from .runtime import by_profile
from .stats import FAMILY_VERDICTS, t_interval
from .store.provenance import StoredResults, load_stored
from .validation import (
    Choice,
    Device,
    Dict,
    Flag,
    Instance,
    Items,
    PathArg,
    Text,
    validate,
)
from .verdicts import (
    GRID_ITEMS,
    filter_sensitivity,
    found_sentences,
    grid_families,
    grid_verdicts,
    sensitivity_notes,
)
from .verdicts import verdict_table as _verdict_table

__all__ = ["C0Run", "C0_SETTINGS", "GRID_CLAIMS", "GridEvidence", "PROFILE_NAMES",
           "argument_findings", "c6_split", "found_with_filters", "gather_grids",
           "profile_families", "profile_notes", "remeasure_c0", "theorem_words",
           "two_profile_table", "verdict_cells"]

#: The claims each stored grid tests.
GRID_CLAIMS: dict[str, tuple[str, ...]] = {
    "shortcut": ("C5", "C6"), "regularization": ("C7", "C7c", "C8", "C8b", "C9", "C10")}
#: The profiles, in the order lessons show them.
PROFILE_NAMES: tuple[str, ...] = ("quick", "full")
#: Config fields whose values a budget check may sample (seeds and the grid's axes).
_SAMPLED = ("seed", "depth", "kind", "n_train", "arm")

#: Lesson 04's MNIST-1D measurement of C0 (section 2 of lesson 04), per profile: the seeds,
#: training points, probe splits, net settings, and the "did not train" threshold in units of
#: log(10) nats (a final training cross-entropy above 0.9 log 10 is near chance).
C0_SETTINGS: dict[str, dict[str, Any]] = {
    name: {"seeds": tuple(range(n_seeds)), "n_train": 3000, "probe_splits": splits,
           "net": {"width": 32, "depth": 3, "activation": "relu", "lr": 2e-3,
                   "weight_decay": 1e-4, "batch_size": 128, "epochs_per_layer": epochs},
           "stuck_at": 0.9}
    for name, n_seeds, splits, epochs in (("quick", 5, 2, 10), ("full", 10, 5, 50))}

_PROFILE = Choice(PROFILE_NAMES)


@dataclass(frozen=True)
class GridEvidence:
    """One stored grid of one profile: its records (``stored``; None when the file does not
    exist), the same grid trained with twice the epochs (``budget``; None when absent), the
    budget check (``check``; None when it could not be made) and, when the longer runs are a
    sample of the grid, which (``sample``, e.g. "depth 2, 8, 32; seed 0, 1"). ``reading``: how
    the nets are read (:data:`maxent_lib.regularization.READINGS`); a regularisation grid read
    at its last epoch carries the same runs read at each net's best validation epoch as
    ``best_epoch`` (its records and budget records so read, its check on the claims of
    :data:`~maxent_lib.regularization.BEST_EPOCH_CLAIMS` only). Introduced in lesson 07."""

    grid: str
    profile: str
    stored: StoredResults | None
    budget: StoredResults | None
    check: BudgetCheck | None
    sample: str = ""
    reading: str = "last epoch"
    best_epoch: GridEvidence | None = None

    @property
    def claims(self) -> tuple[str, ...]:
        """The claims this reading of the grid can judge."""
        return GRID_CLAIMS[self.grid] if self.reading == "last epoch" else BEST_EPOCH_CLAIMS

    @property
    def label(self) -> str:
        """E.g. "regularization grid read at the best validation epoch"."""
        return f"{self.grid} grid" + ("" if self.reading == "last epoch" else
                                      f" read at the {self.reading}")

    @validate(claim_key=Text(empty=False))
    def judging(self, claim_key: str) -> GridEvidence | None:
        """The reading that gives this claim its verdict: this one when it gives a verdict and
        judges the claim, else its best-epoch reading when that does; None otherwise."""
        for ev in (self, self.best_epoch):
            if ev is not None and ev.gives_verdict and claim_key in ev.claims:
                return ev
        return None

    @property
    def gives_verdict(self) -> bool:
        """Current, with a current budget file, and the budget check passed."""
        return bool(self.stored and self.stored.current and self.check is not None
                    and self.check.passed)

    @property
    def status(self) -> str:
        """Why the grid gives a verdict or does not, in words."""
        name = f"{self.grid}_{self.profile}.jsonl"
        if self.stored is None:
            return f"no verdict: {name} has not been made"
        if not self.stored.current:
            return f"no verdict: {name} is stale or unfinished ({self.stored.why})"
        if self.budget is None:
            return f"no verdict: its budget check has not been made (no {self.grid}_" \
                   f"{self.profile}_budget.jsonl)"
        if not self.budget.current:
            return f"no verdict: its budget file is stale or unfinished ({self.budget.why})"
        if self.check is None:
            return "no verdict: no model of the budget file pairs with the grid"
        scope = f" on a sample ({self.sample})" if self.sample else " on the whole grid"
        if self.reading != "last epoch":
            scope += f", read at the {self.reading}"
        if not self.check.passed:
            changed = [f"{c}: {a} -> {b}" for c, (a, b) in self.check.verdicts.items() if a != b]
            items = [f"{item} {'passes' if ok else 'fails'}"
                     for item, ok in self.check.items.items()]
            return (f"no verdict: budget check FAILED{scope} (largest move of mean test accuracy "
                    f"{self.check.max_move:.3f}, tolerance {self.check.tolerance:g}"
                    + (f"; verdicts changed: {'; '.join(changed)}" if changed else "")
                    + (f"; by item: {', '.join(items)}" if items else "") + ")")
        return f"budget check passed{scope}"

    @property
    def brief(self) -> str:
        """:attr:`status` in a few words, for a table cell: a failed budget check names its
        largest move, how many verdicts changed (not which: :attr:`status` says) and how often
        noise alone would fail it (:func:`~maxent_lib.ablation.budget.
        chance_of_failing_on_noise`)."""
        if self.check is None or self.check.passed:   # a check exists only for current files
            return self.status
        changed = sum(a != b for a, b in self.check.verdicts.values())
        chance = chance_of_failing_on_noise(self.check)
        within = "<=" if self.check.accuracy_ok else ">"
        return (f"no verdict: budget check FAILED (largest move {self.check.max_move:.3f} "
                f"{within} {self.check.tolerance:g}"
                + (f"; {changed} verdict{'s' * (changed != 1)} changed" if changed else "")
                + ("" if math.isnan(chance) else f"; noise alone fails it {chance:.0%} of the time")
                + ")")


def _sample(records: list[dict[str, Any]], longer: list[dict[str, Any]]) -> str:
    """The fields whose values the longer runs cover only in part, e.g. "seed 0, 1"."""
    parts = []
    for key in _SAMPLED:
        have = {r.get(key) for r in records}
        got = {r.get(key) for r in longer}
        if got < have:
            try:
                ordered = sorted(got)
            except TypeError:
                ordered = sorted(got, key=str)
            parts.append(f"{key} " + ", ".join(str(v) for v in ordered))
    return "; ".join(parts)


def _evidence(grid: str, profile: str, stored: StoredResults | None,
              longer: StoredResults | None, reading: str) -> GridEvidence:
    best = reading != "last epoch"
    check, sample = None, ""
    if stored and stored.current and longer and longer.current:
        if best:
            stored = replace(stored, records=read_at_best_epoch(stored.records))
            longer = replace(longer, records=read_at_best_epoch(longer.records))
        try:
            check = budget_check(stored.records, longer.records,
                                 verdicts=best_epoch_verdicts if best else
                                 (lambda r: grid_verdicts(grid, r)),
                                 item_key=GRID_ITEMS[grid][0], shared=GRID_ITEMS[grid][1])
        except ValueError:
            check = None
        sample = _sample(stored.records, longer.records)
    return GridEvidence(grid, profile, stored, longer, check, sample, reading)


def _one_grid(folder: Path, grid: str, profile: str) -> GridEvidence:
    path = folder / f"{grid}_{profile}.jsonl"
    stored = load_stored(path) if path.exists() else None
    longer_path = folder / f"{grid}_{profile}_budget.jsonl"
    longer = load_stored(longer_path) if longer_path.exists() else None
    ev = _evidence(grid, profile, stored, longer, "last epoch")
    if grid == "regularization":
        ev = replace(ev, best_epoch=_evidence(grid, profile, stored, longer,
                                              "best validation epoch"))
    return ev


@validate(results_dir=PathArg())
def gather_grids(results_dir: str | Path) -> list[GridEvidence]:
    """Every grid of :data:`GRID_CLAIMS` in every profile of :data:`PROFILE_NAMES`, read from
    ``results_dir`` (``NAME.jsonl``, ``NAME_budget.jsonl`` and their provenance files) with its
    budget check (see the module docstring). A missing file gives ``stored=None`` or
    ``budget=None``; nothing raises for a missing, stale or unfinished file.
    Introduced in lesson 07."""
    folder = Path(results_dir)
    if not folder.is_dir():
        raise ValueError(f"results_dir {str(folder)!r} is not a folder")
    return [_one_grid(folder, g, p) for g in GRID_CLAIMS for p in PROFILE_NAMES]


_EVIDENCE = Items(Instance((GridEvidence,)))


@validate(evidence=_EVIDENCE)
def profile_families(evidence: Sequence[GridEvidence]) -> dict[str, list[Family]]:
    """Per profile, the claims' families (:func:`maxent_lib.verdicts.grid_families`, source =
    the profile) of the grids that give a verdict (:attr:`GridEvidence.gives_verdict`); a
    profile with none maps to an empty list. Introduced in lesson 07."""
    out: dict[str, list[Family]] = {p: [] for p in PROFILE_NAMES}
    for ev in evidence:
        if ev.gives_verdict:
            out.setdefault(ev.profile, []).extend(
                grid_families(ev.grid, ev.stored.records, ev.profile))
        elif ev.best_epoch is not None and ev.best_epoch.gives_verdict:
            best = ev.best_epoch
            out.setdefault(ev.profile, []).extend(
                f for f in grid_families(ev.grid, best.stored.records, ev.profile)
                if f.claim.key in best.claims)
    return out


def _notes(ev: GridEvidence) -> dict[tuple[str, str], str]:
    build = shortcut_families if ev.grid == "shortcut" else regularization_families
    filters = [("trained_at", TRAINED_ATS, TRAINED_AT, '"did not train" threshold')]
    if ev.grid == "shortcut":
        filters.insert(0, ("fit_tolerance", FIT_TOLERANCES, FIT_TOLERANCE, "fit tolerance"))
    out: dict[tuple[str, str], str] = {}
    for name, values, default, words in filters:
        seen = filter_sensitivity(build, ev.stored.records, ev.profile, name, list(values))
        for key, text in sensitivity_notes(seen, words, default).items():
            if key[0] not in ev.claims:
                continue
            rest = text.split(" depends ", 1)[1]
            out[key] = f"{out[key]}; and {rest}" if key in out else text
    return out


@validate(evidence=_EVIDENCE)
def profile_notes(evidence: Sequence[GridEvidence]) -> dict[str, dict[tuple[str, str], str]]:
    """Per profile, the (claim, item) keys whose verdict is not the same at every value of a
    filter that can decide it, rebuilt by :func:`maxent_lib.verdicts.filter_sensitivity`: C5's
    fit tolerance (:data:`~maxent_lib.claims.FIT_TOLERANCES`, default 0.05) and the "did not
    train" threshold (:data:`~maxent_lib.claims.TRAINED_ATS` times chance, default twice), with
    a note from :func:`~maxent_lib.verdicts.sensitivity_notes` ("mlp depends on the fit
    tolerance (0.05: supported, 0.03: mixed, ...)"; both filters joined by "; "). Only grids
    that give a verdict are read. Introduced in lesson 07."""
    out: dict[str, dict[tuple[str, str], str]] = {p: {} for p in PROFILE_NAMES}
    for ev in evidence:
        for reading in (ev, ev.best_epoch):
            if reading is not None and reading.gives_verdict:
                out.setdefault(ev.profile, {}).update(_notes(reading))
                break
    return out


@validate(families=Items(Instance((Family,))), notes=Dict(optional=True))
def found_with_filters(families: Sequence[Family],
                       notes: dict[tuple[str, str], str] | None = None) -> list[str]:
    """:func:`maxent_lib.verdicts.found_sentences` of ``families``, where an item listed in
    ``notes`` (one profile of :func:`profile_notes`) reads "the verdict depends on the fit
    tolerance (0.05: supported, ...)" whatever its item's name (an item of several words, such
    as "dropout 0.3", keeps its whole name). Introduced in lesson 07."""
    fixed = {k: f"{k[0]} depends {v.split(' depends ', 1)[1]}" for k, v in (notes or {}).items()
             if " depends " in v}
    return found_sentences(list(families), notes=fixed)


@validate(checks=Items(Instance((Check,))))
def theorem_words(checks: Sequence[Check]) -> dict[str, str]:
    """Per theorem, how many of its numerical checks (:func:`maxent_lib.conditions.theorems.
    remeasure_theorems`) came out as the theorem says, e.g. "2 of 2 checks as the theorem
    says" (for :func:`two_profile_table`). Introduced in lesson 07."""
    out: dict[str, list[bool]] = {}
    for c in checks:
        out.setdefault(c.claim, []).append(c.holds)
    return {k: f"{sum(v)} of {len(v)} checks as the theorem says"
            + ("" if all(v) else " (FAILS)") for k, v in out.items()}


def _cell(row: dict[str, str], claim: str, profile: str, grids: dict[tuple[str, str], Any],
          c0_profile: str | None) -> str:
    text = row["verdict"]
    for grid, keys in GRID_CLAIMS.items():
        if claim in keys and (grid, profile) in grids:
            ev = grids[grid, profile].judging(claim) or grids[grid, profile]
            if not ev.gives_verdict:
                return ev.brief
            if row["evidence"] != "-" and not text.startswith("by construction"):
                text += f" [{row['evidence']}; {ev.status}]"
    if claim == "C0":
        if profile != c0_profile:
            return f"not re-measured in this run (it ran the {c0_profile} profile)"
        text += f" [{row['evidence']}]" if row["evidence"] != "-" else ""
    return text


@validate(evidence=_EVIDENCE, families=Dict(), c0=Instance((Family,), optional=True),
          c0_profile=_PROFILE, theorems=Dict(optional=True), notes=Dict(optional=True))
def two_profile_table(evidence: Sequence[GridEvidence], families: dict[str, list[Family]],
                      c0: Family | None, c0_profile: str,
                      theorems: dict[str, str] | None = None,
                      notes: dict[str, dict[tuple[str, str], str]] | None = None
                      ) -> list[dict[str, str]]:
    """One row per claim of :data:`~maxent_lib.claims.PAPER_CLAIMS`: ``claim``,
    ``statement``, ``judged`` (the quantifier: "every setting", or "per regulariser; every
    setting"), one column per profile (``quick``, ``full``) with the per-item verdicts in words
    (:func:`maxent_lib.verdicts.verdict_table`) followed by [the evidence; the grid's budget
    check], or why that profile gives no verdict (the grid's :attr:`GridEvidence.status`);
    ``filters`` (the items whose verdict depends on a filter, per profile) and ``caveat``.
    Theorems read "theorem (checked: ...)" with ``theorems`` (e.g. :func:`theorem_words`), C8b
    "by construction (no evidence)". ``families``: per profile, as :func:`profile_families`;
    ``c0``: claim C0's family re-measured in the profile ``c0_profile`` (None: not measured).
    Introduced in lesson 07."""
    grids = {(ev.grid, ev.profile): ev for ev in evidence}
    notes = notes or {}
    per_profile = {}
    for p in PROFILE_NAMES:
        fams = list(families.get(p, [])) + ([c0] if c0 is not None and p == c0_profile else [])
        per_profile[p] = {r["claim"]: r for r in _verdict_table(
            fams, theorem_checks=theorems, sensitivity=notes.get(p, {}))}
    rows = []
    for c in PAPER_CLAIMS:
        row = {"claim": c.key, "statement": c.statement,
               "judged": per_profile["quick"][c.key]["quantifier"], "caveat": c.caveat}
        for p in PROFILE_NAMES:
            row[p] = _cell(per_profile[p][c.key], c.key, p, grids, c0_profile)
        row["filters"] = "; ".join(f"{p}: {per_profile[p][c.key]['filters']}"
                                   for p in PROFILE_NAMES if per_profile[p][c.key]["filters"])
        rows.append(row)
    return rows


def _tally(fams: Sequence[Family]) -> str:
    """E.g. "2 supported, 1 mixed, 3 inconclusive (6 claim-item pairs)"."""
    seen = [f.judge() for f in fams if f.claim.status == "empirical"]
    words = [r.verdict if r is not None else "no verdict" for r in seen]
    order = [*FAMILY_VERDICTS, "no verdict"]
    parts = [f"{words.count(w)} {w}" for w in order if words.count(w)]
    return ", ".join(parts) + f" ({len(words)} claim-item pairs)" if words else "none"


@validate(checks=Items(Instance((Check,))), c0=Instance((Family,), optional=True),
          families=Dict(), evidence=_EVIDENCE)
def argument_findings(checks: Sequence[Check], c0: Family | None,
                      families: dict[str, list[Family]], evidence: Sequence[GridEvidence]
                      ) -> list[str]:
    """What the course's tests found for each of the argument's five sentences (lesson 00):
    (1) the Gibbs form, a theorem of lesson 01; (2) softmax regression is conditional max-ent,
    claim C1; (3) exact under FC1 and FC2, claims C2-C4 (their numerical ``checks``, see
    :func:`theorem_words`); (4) the recursive view, tested through (5): claim C0's verdict
    (``c0``) and, per profile, the tally of the verdicts of C5-C10 (``families`` as
    :func:`profile_families`), with the grids that give no verdict and why.
    Introduced in lesson 07."""
    words = theorem_words(checks)
    c0_text = "not measured" if c0 is None else (
        f"{c0.item or 'C0'} ({c0.source}): "
        + (c0.judge().in_words() if c0.judge() is not None else "no verdict"))
    lines = ["1. Gibbs form (lesson 01): a theorem, checked there on numbers.",
             f"2. Softmax regression is conditional max-ent (lesson 02): C1, a theorem: "
             f"{words.get('C1', 'not checked')}.",
             "3. Exact under FC1 and FC2 (lesson 03): C2-C4, theorems: "
             + "; ".join(f"{k} {words.get(k, 'not checked')}" for k in ("C2", "C3", "C4"))
             + ".",
             "4. A DNN is a recursive solution (lesson 04): a reading of the layers, tested "
             "through sentence 5.",
             f"5. The test (lessons 04-06): C0 on {c0_text}."]
    for p in PROFILE_NAMES:
        missing = [f"the {ev.label}: {ev.brief}" + _best_words(ev) for ev in evidence
                   if ev.profile == p and not ev.gives_verdict]
        lines.append(f"   C5-C10, {p} profile: {_tally(families.get(p, []))}"
                     + (f"; {'; '.join(missing)}" if missing else "") + ".")
    return lines


def _best_words(ev: GridEvidence) -> str:
    """For a grid without a verdict whose best-epoch reading gives one, which claims it judges."""
    best = ev.best_epoch
    if best is None or not best.gives_verdict:
        return ""
    return f" ({', '.join(best.claims)} judged at the {best.reading}: its budget check passed)"


def _grid_items(grid: str, profile: str) -> dict[str, tuple[str, ...]]:
    """Item -> the claims the grid tests for it, from the grid's configs
    (:data:`maxent_lib.ablation.configs.GRIDS`)."""
    from .ablation.configs import GRIDS
    from .claims import ENTROPY_BY_CONSTRUCTION

    configs = GRIDS[grid](profile)
    if grid == "shortcut":
        return {k: ("C5", "C6") for k in sorted({c["kind"] for c in configs})}
    arms = sorted({c["arm"] for c in configs} - {"baseline"})
    return {a: ("C7", "C7c", "C9", "C10") + ("C8",) * a.startswith("weight decay")
            + ("C8b",) * a.startswith(ENTROPY_BY_CONSTRUCTION) for a in arms}


@validate(families=Items(Instance((Family,))), notes=Dict(optional=True),
          without_verdict=_EVIDENCE)
def verdict_cells(families: Sequence[Family],
                  notes: dict[tuple[str, str], str] | None = None,
                  without_verdict: Sequence[GridEvidence] = ()
                  ) -> dict[tuple[str, str], str]:
    """The verdicts as cells keyed by (item, claim) for :func:`maxent_lib.plots.verdict_map`:
    the family's verdict (one of :data:`maxent_lib.stats.FAMILY_VERDICTS`), "by construction"
    for C8b, "no verdict" when every setting was left out, and "depends on a filter" appended
    (after " | ") where ``notes`` (one profile of :func:`profile_notes`) lists the item. A
    family without an item (C0) is keyed by its source. Every claim and item of a grid in
    ``without_verdict`` (one that gives no verdict) reads "no verdict" (its items from the
    grid's configs). Introduced in lesson 07."""
    out = {}
    for ev in without_verdict:
        if not ev.gives_verdict:
            for item, keys in _grid_items(ev.grid, ev.profile).items():
                out.update({(item, k): "no verdict" for k in keys})
    for f in families:
        res = f.judge()
        word = ("by construction" if f.claim.status == "by construction"
                else res.verdict if res is not None else "no verdict")
        if (f.claim.key, f.item) in (notes or {}):
            word += " | depends on a filter"
        out[f.item or f.source, f.claim.key] = word
    return out


def _reading(fit: tuple[float, float, float], gen: tuple[float, float, float]) -> str:
    shown = [name for name, (_, lo, _) in (("fit", fit), ("generalisation", gen)) if lo > 0]
    return {0: "neither", 2: "fit and generalisation"}.get(len(shown), shown[0] if shown
                                                             else "neither")


@validate(records=Items(Dict(required=("kind", "depth", "arm", "seed", "test_acc",
                                        "train_acc", "gen_gap")), min_len=1))
def c6_split(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per architecture (``kind``) of the shortcut grid's records, claim C6's per-seed contrast
    d(m) = [m(residual) - m(plain)] at the deepest depth minus the same at the shallowest
    (:func:`maxent_lib.claims.interaction_values`, seeds whose four nets trained) for m = test
    accuracy and training accuracy. Since ``gen_gap = train_acc - test_acc`` for every net
    (checked on the records, to their rounding), the split is exact, seed by seed:

        d(test) = d(train) + (-d(gap)) = the **fit part** + the **generalisation part**,

    with the generalisation part computed as d(test) - d(train).

    One dict per architecture: ``kind``, ``depths`` (shallowest, deepest), ``n`` (seeds),
    ``values`` (per seed: ``test``, ``fit``, ``generalisation``), ``test``, ``fit`` and
    ``generalisation`` as (mean, lo, hi) with the 95% t interval over seeds, and ``reading``:
    which part's interval lies above 0 ("fit", "generalisation", "fit and generalisation" or
    "neither"). An architecture with no seed whose four nets trained has ``n`` 0, None for the
    numbers and that reason as its ``reading``. Introduced in lesson 07."""
    recs = [r for r in records if r.get("init", "he") == "he"]
    for r in recs:
        if r["test_acc"] is not None and not math.isclose(
                r["gen_gap"], r["train_acc"] - r["test_acc"], abs_tol=2e-3):
            raise ValueError(f"a record's gen_gap {r['gen_gap']} is not train_acc - test_acc")
    out = []
    for kind in sorted({r["kind"] for r in recs}):
        mine = [r for r in recs if r["kind"] == kind]
        lo, hi = min(r["depth"] for r in mine), max(r["depth"] for r in mine)
        if lo == hi:
            continue
        try:
            d = {m: interaction_values(mine, m, "arm", "plain", "residual", "depth", lo, hi)
                 for m in ("test_acc", "train_acc")}
        except ValueError:  # no seed whose four nets trained
            out.append({"kind": kind, "depths": (lo, hi), "n": 0, "values": None,
                        "test": None, "fit": None, "generalisation": None,
                        "reading": "no seed whose four nets trained"})
            continue
        values = {"test": list(d["test_acc"]), "fit": list(d["train_acc"]),
                  "generalisation": [t - f for t, f in zip(d["test_acc"], d["train_acc"],
                                                           strict=True)]}
        row: dict[str, Any] = {"kind": kind, "depths": (lo, hi), "n": len(values["test"]),
                               "values": values}
        row.update({k: t_interval(v) for k, v in values.items()})
        row["reading"] = _reading(row["fit"], row["generalisation"])
        out.append(row)
    return out


@dataclass(frozen=True)
class C0Run:
    """Lesson 04's MNIST-1D measurement of C0 (:func:`remeasure_c0`): ``runs`` (per (method,
    seed), :func:`maxent_lib.layerwise.summarise_runs`), the seeds, those whose end-to-end net
    did not train (``stuck``), the family (:func:`maxent_lib.layerwise.c0_family` over the
    seeds that trained) and the settings used. Introduced in lesson 07."""

    runs: dict[tuple[str, int], dict[str, Any]]
    seeds: tuple[int, ...]
    stuck: tuple[int, ...]
    family: Family
    settings: dict[str, Any]


@validate(profile=Choice(PROFILE_NAMES, optional=True), source=Text(), device=Device(),
          progress=Flag())
def remeasure_c0(profile: str | None = None, *, source: str = "re-measured",
                 device: Any = None, progress: bool = False) -> C0Run:
    """Claim C0 on MNIST-1D exactly as lesson 04 measures it, with lesson 04's settings
    (:data:`C0_SETTINGS` of ``profile``, default the active profile): ReLU nets trained end to
    end and grown layer by layer from the same seeds (:func:`maxent_lib.layerwise.
    train_both`) on the first ``n_train`` training sequences, their held-out excess

        E_l = CE_lin(T_l) - CE_flex(X) = FC1 gap + FC2 gap

    measured by probes on the other training sequences and the test set, trained and at
    initialisation (:func:`~maxent_lib.layerwise.summarise_runs`), and per seed the step
    effect d_l = (E_l - E_{l-1})[trained] - (E_l - E_{l-1})[at initialisation], judged over the
    seeds whose end-to-end net trained (final training cross-entropy below ``stuck_at`` x
    log 10 nats; with fewer than two, the family has no setting and says why). The family's
    source is "<profile>, <source>" and its item "MNIST-1D". The same functions and seeds give
    the same numbers as lesson 04. Introduced in lesson 07."""
    import numpy as np

    from . import data, layerwise

    name = profile or by_profile("quick", "full")
    cfg = C0_SETTINGS[name]
    m1d, n = data.mnist1d(), cfg["n_train"]
    X_pool = np.concatenate([m1d.X_train[n:], m1d.X_test])   # never seen by the nets
    y_pool = np.concatenate([m1d.y_train[n:], m1d.y_test])
    nets = layerwise.train_both(m1d.X_train[:n], m1d.y_train[:n], seeds=cfg["seeds"],
                                eval_data=(m1d.X_test, m1d.y_test), device=device,
                                **cfg["net"])
    runs = layerwise.summarise_runs(nets, m1d.X_test, m1d.y_test, X_pool, y_pool,
                                    n_splits=cfg["probe_splits"], progress=progress)
    stuck = layerwise.stuck_seeds(runs, cfg["stuck_at"] * math.log(10))["end to end"]
    ok = [s for s in cfg["seeds"] if s not in stuck]
    if len(ok) >= 2:
        family = layerwise.c0_family(runs, ok, "MNIST-1D", source=f"{name}, {source}")
    else:  # no verdict: fewer than two nets trained
        family = Family(claim("C0"), f"{name}, {source}", item="MNIST-1D", excluded=[(
            "every step", f"did not train ({len(stuck)} of {len(cfg['seeds'])} nets)")])
    return C0Run(runs, tuple(cfg["seeds"]), tuple(stuck), family, cfg)


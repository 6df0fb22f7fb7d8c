"""Lesson 04's measurements: the recursive view's test (claim C0) and the side study of growing a
net layer by layer against training it end to end.

The top of a net is softmax regression on T_L, the max-ent model given T_L (lesson 02); it is
right exactly when T_L satisfies FC1 and FC2 (lesson 03). The **excess** of the linear read-out
of layer l, measured by probes on points the net never saw,

    E_l = CE_lin(T_l) - CE_flex(X) = [CE_flex(T_l) - CE_flex(X)] + [CE_lin(T_l) - CE_flex(T_l)]
        = FC1 gap + FC2 gap,                                            with T_0 = X,

is what layer l still has to remove. The recursive view predicts that every trained layer lowers
it, and more than the same layer at initialisation does (random non-linear features of the layer
below already help a linear read-out): per seed, the **step effect** of layer l is

    d_l = (E_l - E_{l-1})[trained] - (E_l - E_{l-1})[at initialisation],

predicted below -margin at every step (:func:`c0_family`, judged by the verdict rule of
:mod:`maxent_lib.stats`).

- :func:`train_both`: the same nets trained end to end and grown layer by layer, at equal
  budgets; :func:`at_initialisation`: the same nets before training;
- :func:`summarise_runs`: per (method, seed) the held-out cross-entropy and accuracy, the final
  training cross-entropy and the FC gaps of every layer (one probe on X shared by all);
- :func:`stuck_seeds`, :func:`layer_values`: the runs that did not train, and per-seed values
  layer by layer;
- :func:`c0_family`: claim C0's family from the runs;
- :func:`compare_methods`, :func:`comparison_lines`, :func:`comparison_sentence`: the side
  study's paired comparison over the seeds where both nets trained and over all seeds, its
  verdicts and the sentence of lesson 04's "What we found" cell.

Introduced in lesson 04.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import fisher_exact

from . import models
from ._checks import InputTypeError
from .claims import MARGINS, Family, layer_gap_family
from .conditions import layerwise_repeated_split_gaps
from .runtime import progress_bar
from .stats import FamilyResult, family_tests, t_interval
from .validation import (
    Array,
    Choice,
    Constraint,
    Device,
    Dict,
    Flag,
    Instance,
    Integer,
    Items,
    Labels,
    Real,
    Seed,
    Text,
    Tuple,
    validate,
)

__all__ = ["BASELINE", "METHODS", "MethodComparison", "at_initialisation", "c0_family",
           "compare_methods", "comparison_lines", "comparison_sentence", "layer_values",
           "stuck_seeds", "summarise_runs", "train_both"]

#: The two ways of training the same architecture (lesson 04, section 3).
METHODS: tuple[str, ...] = ("end to end", "layer-wise")
#: The runs of the same nets before training (claim C0's control).
BASELINE = "at initialisation"
#: The side study's prediction: CE(layer-wise) - CE(end to end) > 0 (the greedy objective loses).
PREDICTION = ("end-to-end training reaches the lower held-out cross-entropy at equal budgets")
#: A setting's call in words.
CALL_WORDS: dict[str, str] = {"for": "for the prediction", "against": "against the prediction",
                              "negligible": "negligible", "unclear": "unclear",
                              "too few seeds": "too few seeds"}

_STACKED = Instance((models.StackedMLP,))


class _Runs(Constraint):
    """Runs as :func:`summarise_runs` returns them: a non-empty dict keyed by (method, seed),
    each value a dict with ``test_ce``, ``test_acc``, ``train_ce`` and ``gaps`` (a list of
    per-layer dicts), every method with every seed. Passed on unchanged."""

    FIELDS = ("test_ce", "test_acc", "train_ce", "gaps")

    def check(self, value: Any, name: str, args: dict[str, Any]) -> dict[Any, Any]:
        if not isinstance(value, dict):
            raise InputTypeError(f"{name} must be a dict of runs keyed by (method, seed), as "
                                 f"summarise_runs returns it, got {type(value).__name__}")
        if not value:
            raise ValueError(f"{name} is empty: give the runs of summarise_runs")
        for key, run in value.items():
            if not (isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], str)
                    and isinstance(key[1], int | np.integer) and not isinstance(key[1], bool)):
                raise InputTypeError(f"{name} must be keyed by (method, seed), got the key "
                                     f"{key!r}")
            if not isinstance(run, dict):
                raise InputTypeError(f"{name}[{key!r}] must be a dict, got "
                                     f"{type(run).__name__}")
            missing = [f for f in self.FIELDS if f not in run]
            if missing:
                raise ValueError(f"{name}[{key!r}] lacks the field(s) {missing}")
            if not isinstance(run["gaps"], list) or not run["gaps"]:
                raise ValueError(f"{name}[{key!r}]['gaps'] must be a non-empty list of layers")
        methods, seeds = _check_runs(value)
        holes = [(m, s) for m in methods for s in seeds if (m, s) not in value]
        if holes:
            raise ValueError(f"{name} lacks the runs {holes[:3]}: every method needs every seed")
        return value

    def bad_values(self, example: Any) -> list[tuple[str, Any, str]]:
        key = next(iter(example))
        return [*super().bad_values(example), ("text", "abc", "type"), ("list", [1, 2], "type"),
                ("empty", {}, "value"), ("string_key", {"a": example[key]}, "type"),
                ("no_gaps", {key: {k: v for k, v in example[key].items() if k != "gaps"}},
                 "value")]

    def describe(self) -> str:
        return "runs keyed by (method, seed)"


_RUNS = _Runs()
_SEEDS = Items(Seed(), min_len=1, unique=True)


@validate(net=_STACKED)
def at_initialisation(net: models.StackedMLP) -> models.StackedMLP:
    """The nets of ``net`` as they were before training: a new :class:`~maxent_lib.models.
    StackedMLP` of the same shape, activation, shortcut and seeds, so model m has exactly the
    weights ``torch.manual_seed(seeds[m]); MLP(...)`` gave it, the weights both
    :func:`train_both` nets started from. Its features are claim C0's control: a linear read-out
    of random non-linear features of x is already a richer model than one of x.
    Introduced in lesson 04."""
    return models.StackedMLP(net.in_dim, net.width, net.depth, net.n_classes, list(net.seeds),
                             net.activation, net.shortcut)


@validate(X=Array(ndim=2, min_len=2), y=Labels(), width=Integer(low=1, high=65_536),
          depth=Integer(low=1, high=1_024), activation=Choice(tuple(models.ACTIVATIONS)),
          seeds=_SEEDS,
          epochs_per_layer=Integer(low=1, high=10**6), lr=Real(low=0.0, low_open=True),
          batch_size=Integer(low=1, high=10**8), weight_decay=Real(low=0.0),
          eval_data=Tuple((Array(ndim=2, min_len=1), Labels()), ("X_eval", "y_eval"),
                          optional=True),
          device=Device(), progress=Flag())
def train_both(X: np.ndarray, y: np.ndarray, *, width: int, depth: int, activation: str,
               seeds: Sequence[int], epochs_per_layer: int, lr: float, batch_size: int,
               weight_decay: float = 0.0, eval_data: tuple[np.ndarray, np.ndarray] | None = None,
               device: Any = None, progress: bool = False
               ) -> dict[str, tuple[models.StackedMLP, dict[str, np.ndarray]]]:
    """The same architecture (``depth`` hidden layers of ``width`` units, ``activation``), one
    net per seed, trained two ways from the same initial weights, at **equal budgets**:

    - "end to end": every layer at once for L x E epochs
      (:func:`maxent_lib.models.train_stacked`);
    - "layer-wise": layer l with a temporary softmax head on the frozen layers below, E epochs
      each, l = 1..L (:func:`maxent_lib.models.grow_layerwise_stacked`),

    with L = ``depth`` and E = ``epochs_per_layer``: both take L x E x ceil(n / batch_size)
    Adam steps on the same points. Returns ``{method: (net, history)}`` (histories as
    ``train_stacked`` gives them: ``loss`` and ``eval_loss``, shape (seeds, L x E)).
    Introduced in lesson 04."""
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}; they must match")
    shape = (X.shape[1], width, depth, int(y.max()) + 1)
    kw = dict(lr=lr, batch_size=batch_size, weight_decay=weight_decay, eval_data=eval_data,
              device=device, progress=progress)
    e2e = models.StackedMLP(*shape, list(seeds), activation)
    hist_e2e = models.train_stacked(e2e, X, y, epochs=depth * epochs_per_layer, **kw)
    grown = models.StackedMLP(*shape, list(seeds), activation)
    hist_grown = models.grow_layerwise_stacked(grown, X, y, epochs_per_layer=epochs_per_layer,
                                               **kw)
    return {METHODS[0]: (e2e, hist_e2e), METHODS[1]: (grown, hist_grown)}


def _test_metrics(net: models.MLP, X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    probs = models.predict_proba(net, X)
    p_true = np.clip(probs[np.arange(len(y)), y], 1e-300, 1.0)
    return float(-np.mean(np.log(p_true))), float(np.mean(probs.argmax(1) == y))


@validate(nets=Dict(min_len=1), X_test=Array(ndim=2, min_len=1), y_test=Labels(),
          X_probe=Array(ndim=2, min_len=20), y_probe=Labels(), n_splits=Integer(low=2, high=1000),
          baseline=Flag(), progress=Flag())
def summarise_runs(nets: dict[str, tuple[models.StackedMLP, dict[str, np.ndarray]]],
                   X_test: np.ndarray, y_test: np.ndarray, X_probe: np.ndarray,
                   y_probe: np.ndarray, *, n_splits: int = 2, baseline: bool = True,
                   progress: bool = False) -> dict[tuple[str, int], dict[str, Any]]:
    """Per (method, seed) of ``nets`` (from :func:`train_both`): ``test_ce`` (mean -log P(y|x)
    of the net on ``X_test``, nats), ``test_acc``, ``train_ce`` (the last epoch's mean training
    cross-entropy) and ``gaps``: for layer l = 0..L (layer 0 is the input X itself) the FC1, FC2
    and total gaps of :func:`maxent_lib.conditions.layerwise_repeated_split_gaps` on
    (``X_probe``, ``y_probe``), points the nets never saw:

        FC2 gap = CE_lin(T_l) - CE_flex(T_l),  FC1 gap = CE_flex(T_l) - CE_flex(X),
        total gap E_l = CE_lin(T_l) - CE_flex(X)  (nats; each the mean over ``n_splits`` refit
        splits, seed ``[seed, j]``).

    With ``baseline``, the same nets at initialisation (:func:`at_initialisation`) are measured
    too, under the key :data:`BASELINE` (``train_ce`` NaN: they never trained). All nets of one
    seed share the splits and the one flexible probe on X, so their gaps are paired and E_0 is
    the same number for all of them. Introduced in lesson 04."""
    if not nets or any(not isinstance(v, tuple) or len(v) != 2
                       or not isinstance(v[0], models.StackedMLP) for v in nets.values()):
        raise ValueError("nets must map each method to (StackedMLP, history), as train_both "
                         "returns it")
    first = next(iter(nets.values()))[0]
    for name, (net, _) in nets.items():
        if list(net.seeds) != list(first.seeds) or net.depth != first.depth:
            raise ValueError(f"the nets of {name!r} have other seeds or depth than the first "
                             "method's: they cannot be paired")
    for a, b, what in ((X_test, y_test, "test"), (X_probe, y_probe, "probe")):
        if len(a) != len(b):
            raise ValueError(f"X_{what} has {len(a)} rows but y_{what} has {len(b)}")
    methods = {name: net for name, (net, _) in nets.items()}
    if baseline:
        methods[BASELINE] = at_initialisation(first)
    L = first.depth
    runs: dict[tuple[str, int], dict[str, Any]] = {}
    for i, seed in enumerate(progress_bar(first.seeds, desc="held-out probes",
                                          enabled=progress)):
        plain = {name: net.unstack(i) for name, net in methods.items()}
        feats = [X_probe] + [t for net in plain.values()
                             for t in models.layer_features(net, X_probe)]
        res = layerwise_repeated_split_gaps(feats, y_probe, X_probe, n_splits=n_splits,
                                            seed=seed)
        for k, (name, net) in enumerate(plain.items()):
            test_ce, test_acc = _test_metrics(net, X_test, y_test)
            train_ce = float(nets[name][1]["loss"][i, -1]) if name in nets else math.nan
            runs[name, seed] = {"test_ce": test_ce, "test_acc": test_acc, "train_ce": train_ce,
                                "gaps": [res[0]] + res[1 + k * L:1 + (k + 1) * L]}
    return runs


def _check_runs(runs: dict[Any, Any]) -> tuple[list[str], list[int]]:
    """The methods and seeds of checked ``runs`` (see :class:`_Runs`)."""
    return list(dict.fromkeys(k[0] for k in runs)), list(dict.fromkeys(k[1] for k in runs))


@validate(runs=_RUNS, threshold=Real(low=0.0, low_open=True))
def stuck_seeds(runs: dict[tuple[str, int], dict[str, Any]], threshold: float
                ) -> dict[str, list[int]]:
    """Per trained method of ``runs``, the seeds whose final **training** cross-entropy is above
    ``threshold`` nats: runs that **did not train** (an optimisation failure). The flag reads
    training data only, so the test points select nothing. The nets at initialisation
    (:data:`BASELINE`) are not listed. Introduced in lesson 04."""
    methods, seeds = _check_runs(runs)
    return {m: [s for s in seeds if runs[m, s]["train_ce"] > threshold]
            for m in methods if m != BASELINE}


@validate(runs=_RUNS, method=Text(), seeds=_SEEDS, key=Text())
def layer_values(runs: dict[tuple[str, int], dict[str, Any]], method: str, seeds: Sequence[int],
                 key: str = "total_gap") -> np.ndarray:
    """``runs[method, s]["gaps"][l][key]`` for every seed s of ``seeds`` (rows) and layer
    l = 0..L (columns): e.g. the excess E_l (``total_gap``), ``fc1_gap`` or ``fc2_gap``, in
    nats. Introduced in lesson 04."""
    _check_runs(runs)
    if any((method, s) not in runs for s in seeds):
        raise ValueError(f"runs has no {method!r} run for some of the seeds {list(seeds)}")
    return np.array([[float(g[key]) for g in runs[method, s]["gaps"]] for s in seeds])


@validate(runs=_RUNS, seeds=_SEEDS, item=Text(), method=Text(), source=Text())
def c0_family(runs: dict[tuple[str, int], dict[str, Any]], seeds: Sequence[int], item: str, *,
              method: str = METHODS[0], source: str = "lesson 04") -> Family:
    """Claim C0 for the nets of ``method`` on one data set (``item``): one setting per step
    X -> T_1 -> ... -> T_L, with one value per seed of ``seeds`` (the seeds whose nets trained),
    the step effect

        d_l = (E_l - E_{l-1})[trained] - (E_l - E_{l-1})[at initialisation],

    E_l = CE_lin(T_l) - CE_flex(X) (:func:`maxent_lib.claims.layer_gap_family` with the runs
    of :data:`BASELINE` as its baseline). C0 predicts d_l < -margin at every step; the family's
    :meth:`~maxent_lib.claims.Family.judge` gives the verdict. Introduced in lesson 04."""
    _check_runs(runs)
    if len(seeds) < 2:
        raise ValueError("a family needs at least two seeds whose nets trained")
    trained = [runs[method, s]["gaps"] for s in seeds]
    start = [runs[BASELINE, s]["gaps"] for s in seeds]
    fam = layer_gap_family(trained, source, baseline=start)
    fam.item = item
    fam.note = f"{method} nets, seeds {list(seeds)}"
    return fam


@dataclass(frozen=True)
class MethodComparison:
    """The side study on one data set: per seed the two methods' final training cross-entropy,
    held-out cross-entropy and accuracy (``per_seed[seed][method] = (train_ce, test_ce,
    test_acc)``), the seeds each method got stuck in (``stuck``), the seeds where both trained,
    and the paired difference CE(layer-wise) - CE(end to end) judged by the verdict rule over
    those seeds (``trained``) and over all seeds (``overall``), each None with fewer than two
    seeds; ``accuracy``: (mean, lo, hi) of acc(layer-wise) - acc(end to end) over the seeds
    where both trained; ``fisher_p``: Fisher's exact test of the two methods' stuck counts.
    Introduced in lesson 04."""

    label: str
    seeds: tuple[int, ...]
    per_seed: dict[int, dict[str, tuple[float, float, float]]]
    stuck: dict[str, tuple[int, ...]]
    trained_seeds: tuple[int, ...]
    trained: FamilyResult | None
    overall: FamilyResult | None
    accuracy: tuple[float, float, float] | None
    fisher_p: float
    margin: float


@validate(runs=_RUNS, stuck=Dict(), label=Text(), margin=Real(low=0.0))
def compare_methods(runs: dict[tuple[str, int], dict[str, Any]], stuck: dict[str, list[int]],
                    label: str, *, margin: float = MARGINS["test_loss"]) -> MethodComparison:
    """The paired comparison of the two :data:`METHODS` on one data set: per seed
    d_s = CE(layer-wise, s) - CE(end to end, s) (held-out cross-entropy, nats; same seed: same
    initial weights, training points and number of steps). The prediction (the layer-wise
    objective is greedy): d > +``margin``. Judged by :func:`maxent_lib.stats.family_tests`
    (one setting, two one-sided t-tests against +-margin with Holm, TOST for "negligible")
    twice: over the seeds where both nets trained (``stuck`` from :func:`stuck_seeds` left
    out) and over all seeds. Introduced in lesson 04."""
    methods, seeds = _check_runs(runs)
    if any(m not in methods for m in METHODS):
        raise ValueError(f"runs must hold both methods {METHODS}, got {methods}")
    for m in METHODS:
        bad = [s for s in stuck.get(m, []) if s not in seeds]
        if bad:
            raise ValueError(f"stuck[{m!r}] names seeds that runs does not have: {bad}")
    stuck_by = {m: tuple(stuck.get(m, [])) for m in METHODS}
    ok = tuple(s for s in seeds if not any(s in stuck_by[m] for m in METHODS))
    per_seed = {s: {m: (runs[m, s]["train_ce"], runs[m, s]["test_ce"], runs[m, s]["test_acc"])
                    for m in METHODS} for s in seeds}

    def judge(which: Sequence[int], what: str) -> FamilyResult | None:
        if len(which) < 2:
            return None
        d = [runs[METHODS[1], s]["test_ce"] - runs[METHODS[0], s]["test_ce"] for s in which]
        return family_tests([d], +1, margin=margin, settings=[f"{label}, {what}"])

    acc = None
    if len(ok) >= 2:
        acc = t_interval([runs[METHODS[1], s]["test_acc"] - runs[METHODS[0], s]["test_acc"]
                          for s in ok])
    n = len(seeds)
    p = float(fisher_exact([[len(stuck_by[m]), n - len(stuck_by[m])] for m in METHODS])[1])
    return MethodComparison(label, tuple(seeds), per_seed, stuck_by, ok,
                            judge(ok, "seeds where both trained"), judge(seeds, "all seeds"),
                            acc, p, float(margin))


def _interval_text(res: FamilyResult) -> str:
    s = res.settings[0]
    return f"{s.effect:+.3f} [{s.lo:+.3f}, {s.hi:+.3f}] nats"


@validate(comparison=Instance((MethodComparison,)))
def comparison_lines(comparison: MethodComparison) -> list[str]:
    """The comparison as printed lines: one per seed (both methods' training and held-out
    cross-entropy and accuracy, and which did not train), the verdict over the seeds where both
    trained and over all seeds (effect, 95% t interval over seeds, call), the accuracy
    difference, and the stuck counts with Fisher's exact test. Introduced in lesson 04."""
    c = comparison
    out = []
    for s in c.seeds:
        flags = [m for m in METHODS if s in c.stuck[m]]
        out.append(f"seed {s}: " + " | ".join(
            f"{m}: train CE {c.per_seed[s][m][0]:.3f}, test CE {c.per_seed[s][m][1]:.3f}, acc "
            f"{c.per_seed[s][m][2]:.3f}" for m in METHODS)
            + (f"   did not train: {', '.join(flags)}" if flags else ""))
    for res, which in ((c.trained, f"the {len(c.trained_seeds)} seeds where both trained"),
                       (c.overall, f"all {len(c.seeds)} seeds")):
        if res is None:
            out.append(f"{c.label}, over {which}: no verdict (fewer than two seeds)")
            continue
        out.append(f"{c.label}, over {which}: CE(layer-wise) - CE(end to end) = "
                   f"{_interval_text(res)} (95% t interval over seeds), "
                   f"{CALL_WORDS[res.settings[0].call]} -> {res.verdict}")
    if c.accuracy is not None:
        m, lo, hi = c.accuracy
        out.append(f"{c.label}, test accuracy over the seeds where both trained: layer-wise - "
                   f"end to end = {m:+.3f} [{lo:+.3f}, {hi:+.3f}]")
    out.append("did not train: " + ", ".join(f"{m} {len(c.stuck[m])}/{len(c.seeds)}"
                                             for m in METHODS)
               + f" (Fisher's exact test p = {c.fisher_p:.2f})")
    return out


@validate(comparison=Instance((MethodComparison,)))
def comparison_sentence(comparison: MethodComparison) -> str:
    """The side study's result on one data set in one sentence, generated from the computed
    comparison in the verdict vocabulary of :mod:`maxent_lib.stats` (supported, contradicted,
    mixed, negligible, inconclusive; for / against the prediction), over the seeds where both
    nets trained and over all seeds, and how many runs of each method did not train.
    Introduced in lesson 04."""
    c = comparison
    parts = []
    for res, which in ((c.trained, f"the {len(c.trained_seeds)} seeds where both nets trained"),
                       (c.overall, f"all {len(c.seeds)} seeds")):
        if res is None:
            parts.append(f"over {which}, no verdict (fewer than two seeds)")
        else:
            parts.append(f"over {which}, {res.verdict} ({CALL_WORDS[res.settings[0].call]}: "
                         f"CE(layer-wise) - CE(end to end) = {_interval_text(res)})")
    stuck = ", ".join(f"{m} in {len(c.stuck[m])} of {len(c.seeds)}" for m in METHODS)
    return (f"Side study on {c.label}, the prediction that {PREDICTION}: "
            + "; ".join(parts) + f". Runs that did not train: {stuck}.")

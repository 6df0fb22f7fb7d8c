"""The bad-input suite, generated from the declared constraints.

Every public function and method of the library declares its parameters with
:func:`maxent_lib.validation.validate`. This suite holds ONE valid example call per declared
function (:data:`EXAMPLES`: its arguments, and where it matters what a right result looks like),
and generates the rest: for each parameter and each bad value its constraint says it must refuse
(:meth:`~maxent_lib.validation.Constraint.bad_values`: wrong types, NaN/inf, wrong shapes,
out-of-range values, numeric strings, booleans, complex numbers, labels that would build a million
classes, device files...), one call with that argument replaced. Numerically hard inputs, checks
that relate several arguments, the command line and the regression cases of earlier issues are
written by hand (``tests/badinput_cases.py``).

Each case runs in-process under a timeout guard and is classified (``tests/badinput_harness.py``):
``clean`` (the right exception class naming the argument, or the right answer), ``unclear``,
``other``, ``silent_nan``, ``wrong`` or ``hang``; every case must be clean. Completeness is tested
too: every public callable of every module is declared (or exempt, with the reason) and has an
example, and a module of the library missing from :data:`MODULES` fails.
``python tests/test_badinput.py`` prints the figures.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import importlib
import inspect
import itertools
import json
import pkgutil
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import badinput_cases  # noqa: E402
import badinput_records as br  # noqa: E402
from badinput_harness import Case, run_case  # noqa: E402

import maxent_lib  # noqa: E402
from maxent_lib.validation import DECLARED  # noqa: E402

#: Every module of the library held to the suite (dotted names under ``maxent_lib``).
MODULES = (
    "__main__", "ablation", "ablation.budget", "ablation.configs", "ablation.executors",
    "ablation.fit", "ablation.heldout", "ablation.livecheck", "ablation.nets", "ablation.replay",
    "ablation.runner", "ablation.stacked",
    "ablation.summaries", "ablation.training", "claims", "conditions", "conditions._common",
    "conditions.coverage", "conditions.exact", "conditions.measured", "conditions.probes",
    "conditions.refit", "conditions.theorems", "coursemap", "data", "envcheck", "evidence",
    "info", "layerwise", "maxent", "metrics", "models", "plots", "profiles", "quadrature",
    "regularization", "runtime", "shortcuts", "softmax", "stats", "store", "store.codehash",
    "store.files", "store.locking", "store.provenance", "tables", "verdicts",
)
#: Modules outside the suite, and why.
EXEMPT_MODULES: dict[str, str] = {
    "exercises": "answer checkers: every answer, however malformed, gets feedback and never an "
                 "exception (tests/test_exercises_*.py)",
    "_checks": "the check primitives the constraints are made of (tests/test_checks.py, and "
               "their bad inputs in tests/badinput_cases.py)",
    "validation": "the declaration mechanism itself (its constraints' bad values generate this "
                  "suite; tests/test_checks.py)",
}
#: New modules another engineer is writing now (their functions are declared as they land):
#: they join MODULES, with examples, when their author finishes them.
BEING_WRITTEN: dict[str, str] = {}
#: Modules or functions being rewritten, declared by the engineer rewriting them (none now).
PENDING_DECLARATIONS: frozenset[str] = frozenset()
#: Public callables that are not declared, and why.
EXEMPT: dict[str, str] = {
    "maxent_lib.data.SyntheticTask.log_joint": "abstract: each task's own log_joint is declared",
    "maxent_lib.data.Split.__init__": "a plain record (dataclass) of arrays; made by the data "
                                      "sets, checked where it is consumed",
    "maxent_lib.maxent.MaxEntSolution.__init__": "a plain record (dataclass); made by "
                                                 "solve_maxent",
    "maxent_lib.envcheck.PackageCheck.__init__": "a plain record (dataclass); made by "
                                                 "check_package",
    "maxent_lib.coursemap.LessonEntry.__init__": "a plain record (dataclass); made by "
                                                 "read_entry",
    "maxent_lib.ablation.fit.PreparedData.__init__": "a plain record (dataclass); made by "
                                                     "prepare_dataset",
    "maxent_lib.ablation.fit.GroupResult.__init__": "a plain record (dataclass); made by "
                                                    "fit_group",
    "maxent_lib.store.provenance.StoredResults.__init__": "a plain record (dataclass); made "
                                                          "by load_stored",
    "maxent_lib.stats.SettingTest.__init__": "a plain record (dataclass); made by family_tests",
    "maxent_lib.stats.FamilyResult.__init__": "a plain record (dataclass); made by "
                                              "family_tests",
    "maxent_lib.claims.Family.__init__": "a record (dataclass) of a claim's evidence, made by "
                                         "paired_family, layer_gap_family and the grids' "
                                         "builders; its list fields default to new lists (a "
                                         "declaration would bind the factory's placeholder), "
                                         "its __post_init__ checks their types and judge() "
                                         "checks the effects (family_tests is declared)",
    "maxent_lib.claims.Check.__init__": "a plain record (dataclass); made by "
                                        "conditions.theorems.remeasure_theorems",
    "maxent_lib.ablation.budget.BudgetCheck.__init__": "a plain record (dataclass); made by "
                                                       "budget_check",
    "maxent_lib.layerwise.MethodComparison.__init__": "a plain record (dataclass); made by "
                                                      "compare_methods",
    "maxent_lib.shortcuts.GridVerdicts.__init__": "a plain record (dataclass); made by "
                                                  "judge_grid",
    "maxent_lib.evidence.GridEvidence.__init__": "a plain record (dataclass); made by "
                                                 "gather_grids",
    "maxent_lib.evidence.C0Run.__init__": "a plain record (dataclass); made by remeasure_c0",
    "maxent_lib.regularization.GridState.__init__": "a plain record (dataclass); made by "
                                                    "grid_state",
    "maxent_lib.ablation.stacked.PerModel.__init__": "a constraint (the parameters of a "
                                                     "declaration, written in the library)",
    "maxent_lib.ablation.stacked.PerModel.check": "a constraint's own protocol, run by every "
                                                  "declaration that uses it",
    "maxent_lib.ablation.stacked.PerModel.bad_values": "a constraint's own protocol: it "
                                                       "generates cases of this suite",
}


# ------------------------------------------------------------------------------ enumeration

def _pending(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in PENDING_DECLARATIONS)


def public_callables(module: str) -> list[str]:
    """The qualified names (``maxent_lib.module.name``) of a module's public callables:
    ``__all__``, else every public function and class defined in the module; for a class its
    ``__init__`` (where it takes arguments) and the public methods it defines. Exceptions,
    warnings and non-callables are left out; names another module defines are counted there."""
    full = f"maxent_lib.{module}"
    mod = importlib.import_module(full)
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n, o in vars(mod).items() if not n.startswith("_")
                 and getattr(o, "__module__", None) == full]
    out = []
    for n in names:
        obj = getattr(mod, n, None)
        if obj is None or not callable(obj) or isinstance(obj, dict) or (
                inspect.isclass(obj) and issubclass(obj, BaseException)) or not str(
                getattr(obj, "__module__", "")).startswith("maxent_lib"):
            continue
        where = f"{obj.__module__}.{obj.__qualname__}"
        if inspect.isclass(obj):
            init = vars(obj).get("__init__")
            if init is not None and len(inspect.signature(obj).parameters):
                out.append(f"{where}.__init__")
            for attr, value in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if isinstance(value, (staticmethod, classmethod)):
                    value = value.__func__
                if inspect.isfunction(value):
                    out.append(f"{where}.{attr}")
        elif inspect.isfunction(obj) or callable(obj):
            out.append(where)
    return out


def all_public() -> list[str]:
    seen: dict[str, None] = {}
    for m in MODULES:
        for name in public_callables(m):
            seen.setdefault(name, None)
    return list(seen)


# ------------------------------------------------------------------------------ fixtures

RNG = np.random.default_rng(0)
X2 = RNG.normal(size=(40, 3))
Y3 = np.r_[np.arange(3), RNG.integers(0, 3, 37)]
P3 = np.exp(X2) / np.exp(X2).sum(1, keepdims=True)
LP3 = np.log(P3)
LP = torch.log_softmax(torch.as_tensor(RNG.normal(size=(2, 40, 3))), -1)
YT = torch.as_tensor(Y3)
XF = torch.as_tensor(X2, dtype=torch.float32)
SMALL = (X2[:30], Y3[:30], X2[30:], Y3[30:])
TMP = Path(tempfile.mkdtemp(prefix="maxent_badinput_"))
atexit.register(shutil.rmtree, TMP, ignore_errors=True)
GMT = [[(1.0, [0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]])],
       [(1.0, [1.0, 0.0], [[1.0, 0.0], [0.0, 1.0]])]]
PROBE_SETTINGS = {"width": 4, "max_epochs": 2, "patience": 1}


@functools.cache
def task() -> Any:
    from maxent_lib import data

    return data.shared_covariance_gaussians(n_classes=3, dim=2, seed=0)


@functools.cache
def circles() -> Any:
    from maxent_lib import data

    return data.CirclesTask()


@functools.cache
def fitted_softmax() -> Any:
    from maxent_lib.softmax import SoftmaxRegression

    return SoftmaxRegression(alpha=1e-2).fit(X2, Y3)


def net(m: int = 2) -> Any:
    from maxent_lib.ablation.stacked import StackedNet

    return StackedNet("mlp", 3, 3, 4, 1, list(range(m)), device="cpu")


@functools.cache
def settings() -> Any:
    from maxent_lib.ablation.training import TrainSettings

    return TrainSettings(epochs=1, batch_size=8)


def trainer() -> Any:
    from maxent_lib.ablation.training import StackedTrainer

    return StackedTrainer(net(), XF, YT, settings())


@functools.cache
def prepared() -> Any:
    from maxent_lib.ablation.fit import prepare_dataset

    return prepare_dataset(SMALL)


GROUP = [{"width": 4, "depth": 1, "epochs": 1, "batch_size": 8, "n_val": 5, "seed": s}
         for s in (0, 1)]
FACES = np.arange(1.0, 7.0)
NOTEBOOKS = TMP / "notebooks"
NOTEBOOKS.mkdir()
(NOTEBOOKS / "01_x.ipynb").write_text(json.dumps(
    {"cells": [{"cell_type": "markdown", "source": ["# Title\n", "Time: 5 minutes"]}]}))
REQ = TMP / "requirements.txt"
REQ.write_text(f"numpy=={np.__version__}\n-e .\n")
EMPTY = TMP / "empty"
EMPTY.mkdir()
RESULTS = TMP / "r.jsonl"
RESULTS.write_text('{"key": "a", "x": 1}\n')
ENTRY = "maxent_lib.data:cache_dir"


@functools.cache
def fitted_group() -> Any:
    """A fitted group whose models leave training rows unseen (for the held-out gaps)."""
    from maxent_lib import data
    from maxent_lib.ablation.configs import canonical_config
    from maxent_lib.ablation.fit import fit_group, prepare_dataset

    split = data.shared_covariance_gaussians(n_classes=3, dim=4, seed=1).split(200, 100, seed=0)
    configs = [canonical_config({"width": 4, "depth": 2, "epochs": 1, "batch_size": 32,
                                 "n_train": 60, "n_val": 20, "seed": 0}, 200)]
    return fit_group(configs, prepare_dataset(split.as_tuple()), "cpu")


@functools.cache
def code_index() -> Any:
    from maxent_lib.store.codehash import CodeIndex

    return CodeIndex()


@functools.cache
def prov() -> dict[str, Any]:
    from maxent_lib.store.provenance import provenance

    return provenance("test", [ENTRY], command="x", device="cpu")


@functools.cache
def run_id() -> str:
    from maxent_lib.store.provenance import begin_run

    return begin_run(TMP / "run.jsonl", prov(), 0)


@functools.cache
def figure() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    atexit.register(plt.close, fig)
    return fig, ax


def bars() -> Any:
    return figure()[1].bar([0, 1], [0.0, 2.0])


def mlp() -> Any:
    from maxent_lib.models import MLP

    return MLP(3, 4, 2, 3)


def stacked_mlp() -> Any:
    from maxent_lib.models import StackedMLP

    return StackedMLP(3, 4, 2, 3, [0, 1])


def _close_figure(fig: Any) -> bool:
    import matplotlib.pyplot as plt

    plt.close(fig)
    return True


def _count_group(group: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"n": len(group)}]


def stacked_probe_inputs() -> dict[str, Any]:
    rng = np.random.default_rng(3)
    Zf, Zv = rng.normal(size=(2, 30, 3)), rng.normal(size=(2, 10, 3))
    Zf[1, :, 2] = Zv[1, :, 2] = 0.0  # probe 1 has 2 inputs: its third column is padding
    W = rng.normal(size=(2, 3, 3))
    W[1, 2] = 0.0
    return {"Z_fit": Zf, "y_fit": rng.integers(0, 3, (2, 30)), "Z_val": Zv,
            "y_val": rng.integers(0, 3, (2, 10)), "n_classes": 3, "seeds": [0, 1],
            "in_dims": [3, 2], "affine_init": (W, rng.normal(size=(2, 3)))}


@functools.cache
def fitted_stacked_probes() -> Any:
    from maxent_lib.conditions import StackedProbes

    return StackedProbes(max_epochs=2).fit(**stacked_probe_inputs())


@functools.cache
def fitted_probe() -> Any:
    from maxent_lib.conditions import FlexibleProbe

    return FlexibleProbe(max_epochs=3, patience=2).fit(X2, Y3)


def coverage_record() -> dict[str, Any]:
    rec: dict[str, Any] = {"case": "c", "sample": 0}
    for g in ("fc1_gap", "fc2_gap", "total_gap"):
        rec.update({f"exact_{g}": 0.1, f"refit_{g}": 0.12, f"refit_{g}_ci": [0.05, 0.2],
                    f"test_points_{g}": 0.11, f"test_points_{g}_ci": [0.08, 0.14]})
    return rec


# ------------------------------------------------------------------------------ examples

@dataclasses.dataclass
class Example:
    """A valid call of a declared function: ``make()`` gives fresh (args, kwargs) (for a method,
    args start with the instance; for a class, the arguments of the class); ``check`` says
    whether a result is right; ``skip`` says why the valid call is not run here (too slow for
    this suite, or it needs Ray; it is tested elsewhere), its bad values still are."""

    make: Callable[[], tuple[tuple[Any, ...], dict[str, Any]]]
    check: Callable[[Any], bool] | None = None
    skip: str = ""


def E(*args: Any, check: Callable[[Any], bool] | None = None, skip: str = "",
      **kwargs: Any) -> Example:
    """An example whose arguments can be reused (immutable, or not changed by the call)."""
    return Example(lambda: (args, kwargs), check, skip)


def F(make: Callable[[], tuple[tuple[Any, ...], dict[str, Any]]],
      check: Callable[[Any], bool] | None = None, skip: str = "") -> Example:
    """An example whose arguments are made afresh for every call (objects a call changes)."""
    return Example(make, check, skip)


def _close(a: Any, b: Any) -> bool:
    return bool(np.allclose(a, b))


def _is_distribution(p: Any) -> bool:
    return bool(np.all(np.asarray(p) >= 0) and np.allclose(np.sum(p, axis=-1), 1.0))


SLOW = "slow (seconds): its valid call is tested in the module's own tests"


def _examples() -> dict[str, Example]:
    t = TMP
    ex: dict[str, Example] = {
        # ---- store.locking
        "store.locking.lock_path": E(t / "r.jsonl", check=lambda p: p.name == "r.jsonl.lock"),
        "store.locking.temp_prefix": E(t / "r.jsonl", check=lambda s: s == ".r.jsonl.maxent-"),
        "store.locking.temp_name": E(t / "r.jsonl", check=lambda s: s.startswith(".r.jsonl.")),
        "store.locking.is_temp_of": E(t / "r.jsonl", ".r.jsonl.maxent-0123456789abcdef.tmp",
                                      check=lambda r: r is True),
        "store.locking.file_lock": E(t / "r.jsonl", timeout=1.0, poll=0.01,
                                     check=lambda cm: hasattr(cm, "__enter__")),
        "store.locking.remove_stale_temps": E(t / "none.jsonl", check=lambda r: r == []),
        "store.locking.glob_escape": E("a*b", check=lambda s: s == "a[*]b"),
        "store.locking.atomic_write": E(t / "atomic.bin", lambda f: f.write(b"x")),
        # ---- profiles and runtime
        "profiles.get_profile": E(check=lambda p: p in ("quick", "full")),
        "profiles.by_profile": E(1, 2, "full", check=lambda r: r == 2),
        "runtime.get_device": E("cpu", check=lambda d: str(d) == "cpu"),
        "runtime.describe_device": E("cpu", check=lambda s: s.startswith("cpu")),
        "runtime.seed_everything": E(3),
        "runtime.environment_report": E(check=lambda r: "numpy" in r),
        "runtime.progress_bar": E(range(3), enabled=False, check=lambda b: list(b) == [0, 1, 2]),
        # ---- data
        "data.Split.as_tuple": F(lambda: ((task().split(5, 5),), {}),
                                 check=lambda r: len(r) == 4),
        "data.SyntheticTask.sample": F(lambda: ((task(), 20, 0), {}),
                                       check=lambda r: r[0].shape == (20, 2)),
        "data.SyntheticTask.posterior": F(lambda: ((task(), X2[:, :2]), {}),
                                          check=_is_distribution),
        "data.SyntheticTask.split": F(lambda: ((task(), 20, 10, 0), {}),
                                      check=lambda s: s.X_test.shape == (10, 2)),
        "data.GaussianMixtureTask.__init__": E(GMT, [0.5, 0.5], "two",
                                               check=lambda t: t.n_classes == 2),
        "data.GaussianMixtureTask.log_joint": F(lambda: ((task(), X2[:, :2]), {}),
                                                check=lambda r: r.shape == (40, 3)),
        "data.GaussianMixtureTask.marginal": F(lambda: ((task(), [0]), {}),
                                               check=lambda t: t.dim == 1),
        "data.shared_covariance_gaussians": E(3, 2, 2.0, 0, check=lambda t: t.dim == 2),
        "data.class_covariance_gaussians": E(3, 2, 1.0, 0, check=lambda t: t.n_classes == 3),
        "data.xor_task": E(0.35, 1.0, check=lambda t: t.n_classes == 2),
        "data.CirclesTask.__init__": E((1.0, 2.0), 0.25, check=lambda t: t.n_classes == 2),
        "data.CirclesTask.log_joint": F(lambda: ((circles(), X2[:, :2]), {}),
                                        check=lambda r: r.shape == (40, 2)),
        "data.quadratic_features": E(X2, check=lambda r: r.shape == (40, 9)),
        "data.cache_dir": E(),
        "data.mnist1d": E(90, 10, 3, False, check=lambda s: s.X_train.shape == (90, 40)),
        "data.digits": E(0.25, 0, check=lambda s: s.X_train.shape[1] == 64),
        "data.load": E("xor", 0, check=lambda s: s.name == "XOR"),
        # ---- metrics
        "metrics.expected_calibration_error": E(P3, Y3, 15, check=lambda r: 0 <= r <= 1),
        "metrics.stacked_metrics": E(LP, YT, 15, check=lambda r: r["acc"].shape == (2,)),
        "metrics.per_model_metrics": E(LP, YT.expand(2, -1).clone(), 15,
                                       check=lambda r: r["acc"].shape == (2,)),
        "metrics.fit_temperature": E(LP, YT, 0.01, 100.0, 60, check=lambda r: np.all(r > 0)),
        "metrics.apply_temperature": E(LP, np.array([1.0, 2.0]),
                                       check=lambda r: r.shape == LP.shape),
        # ---- softmax
        "softmax.log_softmax": E(X2, -1, check=lambda r: _close(np.exp(r).sum(1), 1.0)),
        "softmax.softmax": E(X2, -1, check=_is_distribution),
        "softmax.moment_residuals": E(X2, Y3, P3, check=lambda r: r.shape == (3, 3)),
        "softmax.mean_cross_entropy": E(P3, Y3, check=lambda r: r > 0),
        "softmax.conditional_entropy": E(P3, check=lambda r: 0 < r < np.log(3)),
        "softmax.SoftmaxRegression.__init__": E(0.0, 1e-10, 100),
        "softmax.SoftmaxRegression.fit": F(
            lambda: ((_new_softmax(), X2, Y3), {"n_classes": 3, "init": fitted_softmax()}),
            check=lambda m: m.converged_),
        "softmax.SoftmaxRegression.decision_function": F(
            lambda: ((fitted_softmax(), X2), {}), check=lambda r: r.shape == (40, 3)),
        "softmax.SoftmaxRegression.predict_proba": F(lambda: ((fitted_softmax(), X2), {}),
                                                     check=_is_distribution),
        "softmax.SoftmaxRegression.predict": F(lambda: ((fitted_softmax(), X2), {}),
                                               check=lambda r: r.shape == (40,)),
        "softmax.SoftmaxRegression.log_loss": F(lambda: ((fitted_softmax(), X2, Y3), {}),
                                                check=lambda r: r > 0),
        "softmax.SoftmaxRegression.objective": F(lambda: ((fitted_softmax(), X2, Y3), {}),
                                                 check=lambda r: r > 0),
        # ---- quadrature
        "quadrature.has_quadrature": F(lambda: ((task(),), {}), check=lambda r: r is True),
        "quadrature.quadrature_nodes": F(lambda: ((circles(), 16), {}),
                                         check=lambda r: _close(r[1].sum(), 1.0)),
        "quadrature.coarser_n": F(lambda: ((circles(), 16), {}), check=lambda r: r == (16, 12)),
        "quadrature.expectation": F(lambda: ((task(), lambda Z: Z[:, 0], 16), {}),
                                    check=lambda r: np.isfinite(r[0])),
        # ---- conditions
        "conditions._common.point_losses": E(LP3, Y3, check=lambda r: np.all(r >= 0)),
        "conditions.exact.soft_label_softmax": E(X2, P3, np.full(40, 1 / 40), 0.0, 1e-10, 50,
                                                 check=callable),
        "conditions.exact.exact_condition_gaps": F(
            lambda: ((task(), [0, 1], lambda T: T),
                     {"X_test": X2[:, :2], "y_test": Y3, "n_eval": 500, "n_population": 500,
                      "alpha": 0.0, "seed": 0, "method": "auto", "n_nodes": 16}),
            check=lambda r: r["method"] == "points"),
        "conditions.exact.log_odds_affine_residual": E(X2, LP3, check=lambda r: r >= 0),
        "conditions.exact.feasible_alternative": E(X2, P3, 0.5, 0, 0.05, 400,
                                                   check=_is_distribution),
        "conditions.probes.StackedProbes.__init__": E(width=8, weight_decay=1e-4, lr=3e-3,
                                                      max_epochs=2, patience=1, min_delta=0.0,
                                                      device="cpu", threads=1),
        "conditions.probes.StackedProbes.fit": F(
            lambda: ((_new_stacked_probes(),), stacked_probe_inputs()),
            check=lambda p: p.val_loss_.shape == (2,)),
        "conditions.probes.StackedProbes.predict_log_proba": F(
            lambda: ((fitted_stacked_probes(), stacked_probe_inputs()["Z_val"]), {}),
            check=lambda r: r.shape == (2, 10, 3)),
        "conditions.probes.FlexibleProbe.__init__": E(width=8, weight_decay=1e-4, lr=3e-3,
                                                      max_epochs=3, patience=2,
                                                      val_fraction=0.2, seed=0),
        "conditions.probes.FlexibleProbe.fit": F(
            lambda: ((_new_probe(), X2, Y3), {"n_classes": 3}),
            check=lambda p: p.n_classes_ == 3),
        "conditions.probes.FlexibleProbe.predict_log_proba": F(
            lambda: ((fitted_probe(), X2), {}), check=lambda r: r.shape == (40, 3)),
        "conditions.probes.FlexibleProbe.predict_proba": F(lambda: ((fitted_probe(), X2), {}),
                                                           check=_is_distribution),
        "conditions.measured.linear_probe": E(X2, Y3, 3, 1e-4, check=callable),
        "conditions.measured.feature_condition_gaps": E(
            X2, Y3, X2, Y3, X_train=X2, X_test=X2, alpha=1e-4, n_bootstrap=20, seed=0,
            n_classes=3, confidence=0.95, input_losses=np.ones(40), priors=[0.2, 0.3, 0.5],
            check=lambda r: r["fc1_gap"] is not None),
        "conditions.measured.layerwise_condition_gaps": E(
            [X2, X2[:, :2]], [X2, X2[:, :2]], Y3, Y3, X_train=X2, X_test=X2, alpha=1e-4,
            n_bootstrap=10, seed=0, n_classes=3, progress=False, check=lambda r: len(r) == 2,
            skip=SLOW),
        "conditions.refit.layerwise_repeated_split_gaps": E(
            [X2, X2[:, :2]], Y3, X2, n_splits=2, test_fraction=0.3, val_fraction=0.2,
            alpha=[1e-2, 1e-3], confidence=0.95, seed=0, n_classes=3, priors=[0.2, 0.3, 0.5],
            select=True, probe=PROBE_SETTINGS, check=lambda r: len(r) == 2),
        "conditions.refit.repeated_split_gaps": E(X2, Y3, X2, n_splits=2, probe=PROBE_SETTINGS,
                                                  check=lambda r: r["n_splits"] == 2),
        "conditions.coverage.coverage_record": E("shared cov, T=x", 0, n_points=100,
                                                 n_splits=2, test_fraction=0.3, seed=0,
                                                 skip=SLOW),
        "conditions.coverage.simulate_coverage": E(
            ["shared cov, T=x"], 1, 100, 2, 0.3, 0, out=t / "coverage.jsonl", progress=False,
            command="x", skip=SLOW),
        "conditions.coverage.coverage_table": E([coverage_record()],
                                                check=lambda r: len(r) == 6),
        # ---- ablation: configs, stacked nets, training, fitting a group
        "ablation.configs.canonical_config": E({"width": 8, "seed": 3}, 500,
                                               check=lambda c: c["n_train"] == 100),
        "ablation.configs.config_key": E({"width": 8}, "arrays:abc",
                                         check=lambda k: len(k) == 16),
        "ablation.configs.shortcut_grid": E("quick", check=lambda g: len(g) > 0),
        "ablation.configs.init_demo_grid": E("quick", check=lambda g: len(g) > 0),
        "ablation.configs.regularization_grid": E("quick", check=lambda g: len(g) > 0),
        "ablation.stacked.stream_seed": E(0, 3, check=lambda s: 0 <= s < 2**63),
        "ablation.stacked.StackedNet.__init__": E(
            "mlp", 3, 3, 4, 1, [0, 1], shortcut=[0.0, 1.0], dropout=0.1, init=["he", "uniform"],
            dtype=torch.float32, device="cpu", check=lambda n: n.m == 2),
        "ablation.stacked.StackedNet.layer_shapes": F(lambda: ((net(),), {}),
                                                      check=lambda r: r == [(3, 4), (4, 3)]),
        "ablation.stacked.StackedNet.reset_dropout_streams": F(lambda: ((net(),), {})),
        "ablation.stacked.StackedNet.forward": F(lambda: ((net(), XF), {"return_features": False}),
                                                 check=lambda r: r.shape == (2, 40, 3)),
        "ablation.stacked.flops_per_model_step": E("mlp", 3, 3, 4, 2, 8, check=lambda r: r > 0),
        "ablation.training.stacked_loss": E(
            torch.randn(2, 5, 3, generator=torch.Generator().manual_seed(0)),
            YT[:10].reshape(2, 5).clone(), torch.tensor([0.0, 0.1]), torch.tensor([0.0, 0.2]),
            check=lambda r: r.dim() == 0),
        "ablation.training.TrainSettings.__init__": E(
            epochs=1, batch_size=8, lr=1e-3, weight_decay=[0.0, 0.1], label_smoothing=0.0,
            confidence_penalty=0.0, mode="eager", tf32=False, lr_schedule="cosine"),
        "ablation.training.lr_at": F(lambda: ((settings(), 0, 10), {}),
                                     check=lambda r: r == 1e-3),
        "ablation.training.batch_orders": E([0, 1], 5, 2,
                                            check=lambda it: next(it).shape == (2, 5)),
        "ablation.training.tf32_enabled": E(False, check=lambda cm: hasattr(cm, "__enter__")),
        "ablation.training.StackedTrainer.__init__": F(lambda: ((net(), XF, YT, settings()), {})),
        "ablation.training.StackedTrainer.set_lr": F(lambda: ((trainer(), 1e-3), {})),
        "ablation.training.StackedTrainer.step": F(
            lambda: ((trainer(), torch.arange(16).reshape(2, 8)), {})),
        "ablation.training.train": F(
            lambda: ((net(), XF, YT, settings()),
                     {"on_epoch": lambda e: None, "subsets": np.tile(np.arange(40), (2, 1))}),
            check=lambda tr: tr.mode == "eager"),
        "ablation.training.predict_log_proba": F(lambda: ((net(), XF, 16), {}),
                                                 check=lambda r: r.shape == (2, 40, 3)),
        "ablation.training.features": F(lambda: ((net(), XF, 16), {}),
                                        check=lambda r: r[0].shape == (2, 40, 4)),
        "ablation.fit.prepare_dataset": E(SMALL, check=lambda d: d.n_classes == 3),
        "ablation.fit.data_split": E(0, 100, 50, 20, check=lambda r: len(r[0]) == 50),
        "ablation.fit.torch_threads": E(1, check=lambda cm: hasattr(cm, "__enter__")),
        "ablation.fit.eval_epochs": E(45, check=lambda r: r[-1] == 45),
        "ablation.fit.fit_group": F(lambda: ((GROUP, prepared()),
                                             {"device": "cpu", "fast": False, "threads": 1}),
                                    check=lambda g: len(g.records) == 2),
        "ablation.fit.train_group": F(lambda: ((GROUP, prepared()),
                                               {"device": "cpu", "fast": False, "threads": 1}),
                                      check=lambda r: len(r) == 2),
        # ---- ablation: held-out gaps, the grid runner, executors
        "ablation.heldout.unseen_rows": F(lambda: ((fitted_group(), 0), {}),
                                          check=lambda r: len(r) == 120),
        "ablation.heldout.heldout_gaps": F(
            lambda: ((fitted_group(), [0], [1, 2]),
                     {"include_input": True, "n_splits": 2, "alpha": [1e-2, 1e-1], "seed": 0,
                      "probe": PROBE_SETTINGS}), check=lambda r: len(r[0]) == 3),
        "ablation.heldout.heldout_layer_gaps": F(
            lambda: ((fitted_group(), 0, [2]),
                     {"include_input": False, "n_splits": 2, "alpha": 1e-2, "seed": 0,
                      "probe": PROBE_SETTINGS}), check=lambda r: r[0]["layer"] == 2),
        "ablation.heldout.at_initialisation": F(lambda: ((fitted_group(),), {}),
                                                check=lambda r: r.model.m == 1),
        "ablation.runner.group_by_shape": F(
            lambda: ((_canonical([{"seed": 0}, {"seed": 1}, {"width": 8}]),), {}),
            check=lambda g: [len(x) for x in g] == [2, 1]),
        "ablation.runner.RunOptions.__init__": E(device="cpu", sequential=False, fast=True,
                                                 threads=1, progress=False),
        "ablation.runner.is_trustworthy": E({"key": "a"}, check=lambda r: r is False),
        "ablation.executors.Execution.__init__": E("local", None, None, 2),
        "ablation.executors.available_cpus": E(check=lambda n: n >= 1),
        "ablation.executors.slice_groups": E([[{"seed": s} for s in range(5)]], 2,
                                             check=lambda r: [len(g) for g in r] == [2, 2, 1]),
        "ablation.executors.group_cost": E([{"width": 8}], 40, 10, check=lambda c: c > 0),
        "ablation.executors.check_executor": E("local", None, None, 2,
                                               check=lambda r: r is None),
        "ablation.executors.ray_session": E(None, 1, num_gpus=0, ship_library=True,
                                            skip="starts Ray (tests/test_executors.py)"),
        "ablation.executors.warm_up": E(2, skip="needs a running Ray (tests/test_executors.py)"),
        "ablation.executors.failed_in_a_task": E(ValueError("x"), check=lambda r: r is False),
        "ablation.executors.map_groups": F(
            lambda: (([[{"seed": 0}], [{"seed": 1}, {"seed": 2}]], _count_group),
                     {"execution": _local(), "cpus_per_task": 1, "gpus_per_task": 0,
                      "cost": len, "max_retries": 3}),
            check=lambda it: [r[0]["n"] for r in it] == [1, 2]),
        "conditions.coverage.coverage_comparison": E([coverage_record()],
                                                     check=lambda r: len(r) == 3),
        "conditions.theorems.remeasure_theorems": E([0, 1], 2000, 1000, 0.01, skip=SLOW),
        # ---- store: results files, the code hash, provenance
        "store.files.is_complete": E({"key": "a"}, ["key"], check=lambda r: r is True),
        "store.files.read_records": E(RESULTS, key="key", check=lambda r: r[0]["x"] == 1),
        "store.files.append_records": F(
            lambda: ((t / "appended.jsonl", [{"key": "a", "x": 1}]),
                     {"key": "key", "lock_timeout": 5.0, "trusted": lambda r: True}),
            check=lambda n: n in (0, 1)),
        "store.files.check_writable": E(RESULTS, check=lambda p: p == RESULTS),
        "store.codehash.CodeIndex.__init__": E(None, check=lambda i: "maxent_lib.data" in
                                               i.modules),
        "store.codehash.CodeIndex.resolve": F(
            lambda: ((code_index(), "maxent_lib.data", "cache_dir", 0), {}),
            check=lambda r: r == ("maxent_lib.data", "cache_dir")),
        "store.codehash.CodeIndex.reach": F(lambda: ((code_index(), [ENTRY]), {}),
                                            check=lambda r: len(r) >= 1),
        "store.codehash.CodeIndex.normalised": F(
            lambda: ((code_index(), "maxent_lib.data",
                      code_index().modules["maxent_lib.data"].defs["cache_dir"]), {}),
            check=lambda r: "cache_dir" in r),
        "store.codehash.CodeIndex.hash": F(lambda: ((code_index(), [ENTRY]), {}),
                                           check=lambda h: len(h) == 16),
        "store.codehash.CodeIndex.files": F(lambda: ((code_index(), [ENTRY]), {}),
                                            check=lambda r: "maxent_lib/data.py" in r),
        "store.codehash.code_hash": E([ENTRY], None, check=lambda h: len(h) == 16),
        "store.codehash.reached_files": E([ENTRY], None,
                                          check=lambda r: "maxent_lib/data.py" in r),
        "store.provenance.provenance": E("test", [ENTRY], command="x", device="cpu",
                                         check=lambda p: p["kind"] == "test"),
        "store.provenance.provenance_path": E(RESULTS,
                                              check=lambda p: p.name == "r_provenance.json"),
        "store.provenance.load_provenance": E(RESULTS, check=lambda p: p is None),
        "store.provenance.begin_run": F(lambda: ((t / "run.jsonl", prov(), 0), {}),
                                        check=lambda r: len(r) == 12),
        "store.provenance.end_run": F(lambda: ((t / "run.jsonl", run_id(), "finished", 0), {})),
        "store.provenance.load_stored": E(RESULTS, check=lambda s: not s.current),
        "store.provenance.stored_report": E(EMPTY, check=lambda r: r == []),
        "store.provenance.merge_stored": F(
            lambda: ((merge_parts(), TMP / f"merged{next(_MERGED)}.jsonl"), {"command": "x"}),
            check=lambda s: s.current and len(s.records) == 2),
        # ---- the command line, the course map, the environment check
        "__main__.main": E(["stored", "--dir", str(EMPTY)], check=lambda r: r == 0),
        "coursemap.read_entry": E(NOTEBOOKS / "01_x.ipynb", "01",
                                  check=lambda e: e.title == "Title"),
        "coursemap.course_map": E(NOTEBOOKS, check=lambda r: len(r) == 8),
        "coursemap.format_map": F(lambda: ((_course_map(),), {}),
                                  check=lambda r: r.startswith("|")),
        "coursemap.study_counts": E(NOTEBOOKS / "01_x.ipynb", check=lambda r: r["words"] > 0),
        "coursemap.study_minutes": E({"words": 300, "equations": 2, "code cells": 4,
                                      "exercises": 1}, 60.0, check=lambda m: m > 0),
        "envcheck.read_pins": E(REQ, check=lambda r: "numpy" in r),
        "envcheck.find_requirements": E(TMP, check=lambda p: p is None or p.is_file()),
        "envcheck.check_package": E("numpy", np.__version__, False,
                                    check=lambda r: r.status == "OK"),
        "envcheck.check_packages": E({"numpy": np.__version__}, check=lambda r: len(r) == 1),
        "envcheck.format_table": F(lambda: ((_package_rows(),), {}),
                                   check=lambda r: "numpy" in r),
        "envcheck.summary": F(lambda: ((_package_rows(),), {}),
                              check=lambda r: r.startswith("Ready")),
        # ---- information, maximum entropy
        "info.entropy": E(P3, check=lambda h: np.all(h >= 0)),
        "info.cross_entropy": E(P3, P3[::-1], check=lambda h: np.all(h >= 0)),
        "info.kl_divergence": E(P3, P3[::-1], check=lambda h: np.all(h >= 0)),
        "info.mutual_information": E(P3[:4] / 4, check=lambda r: r >= 0),
        "maxent.gibbs": E(FACES, [0.3], check=lambda r: _close(r[0].sum(), 1.0)),
        "maxent.dual": E(FACES, 4.5, [0.3], check=lambda r: np.isfinite(r[0])),
        "maxent.solve_maxent": E(FACES, 4.5, 1e-12, 200, 1e-9,
                                 check=lambda s: _close(s.p @ FACES, 4.5)),
        "maxent.penalised_primal": F(lambda: ((X2, Y3, fitted_softmax().predict_proba(X2),
                                               1e-2), {}), check=np.isfinite),
        "maxent.penalised_duality_gap": F(
            lambda: ((X2, Y3, fitted_softmax().predict_proba(X2), fitted_softmax().coef_,
                      fitted_softmax().intercept_, 1e-2, 1e-8), {}), check=np.isfinite),
        "maxent.bias_preserving_swap": E(P3, 0, check=_is_distribution),
        # ---- models
        "models.MLP.__init__": E(3, 4, 2, 3, "relu", False, check=lambda m: m.depth == 2),
        "models.MLP.layer": F(lambda: ((mlp(), 0, XF), {}), check=lambda r: r.shape == (40, 4)),
        "models.MLP.features": F(lambda: ((mlp(), XF), {}), check=lambda r: len(r) == 2),
        "models.MLP.forward": F(lambda: ((mlp(), XF), {}), check=lambda r: r.shape == (40, 3)),
        "models.train_classifier": F(
            lambda: ((mlp(), X2, Y3), {"epochs": 1, "lr": 1e-3, "batch_size": 16,
                                       "weight_decay": 0.0, "seed": 0, "device": "cpu",
                                       "progress": False}),
            check=lambda h: len(h["loss"]) == 1),
        "models.grow_layerwise": E(3, 4, 2, 3, X2, Y3, activation="relu", shortcut=False,
                                   epochs_per_layer=1, lr=1e-3, batch_size=16,
                                   weight_decay=0.0, seed=0, device="cpu", progress=False,
                                   check=lambda m: len(m.growth_history) == 2),
        "models.layer_features": F(lambda: ((mlp(), X2, 16), {}), check=lambda r: len(r) == 2),
        "models.predict_proba": F(lambda: ((mlp(), X2, 16), {}), check=_is_distribution),
        "models.StackedMLP.__init__": E(3, 4, 2, 3, [0, 1], "tanh", True,
                                        check=lambda m: m.m == 2),
        "models.StackedMLP.layer": F(lambda: ((stacked_mlp(), 0, XF.expand(2, -1, -1)), {}),
                                     check=lambda r: r.shape == (2, 40, 4)),
        "models.StackedMLP.forward": F(lambda: ((stacked_mlp(), XF), {}),
                                       check=lambda r: r.shape == (2, 40, 3)),
        "models.StackedMLP.unstack": F(lambda: ((stacked_mlp(), 1), {}),
                                       check=lambda m: m.depth == 2),
        "models.train_stacked": F(
            lambda: ((stacked_mlp(), X2, Y3),
                     {"epochs": 1, "lr": 1e-3, "batch_size": 16, "weight_decay": 0.0,
                      "eval_data": (X2, Y3), "device": "cpu", "progress": False}),
            check=lambda h: h["loss"].shape == (2, 1)),
        "models.grow_layerwise_stacked": F(
            lambda: ((stacked_mlp(), X2, Y3),
                     {"epochs_per_layer": 1, "lr": 1e-3, "batch_size": 16, "weight_decay": 0.0,
                      "eval_data": (X2, Y3), "device": "cpu", "progress": False}),
            check=lambda h: h["loss"].shape == (2, 2)),
        # ---- plots
        "plots.use_course_style": E(),
        "plots.plain_log_axis": F(lambda: ((figure()[1], "x", [2, 4, 8]), {})),
        "plots.wrap_labels": E(["a long label", 3], 5, check=lambda r: r[1] == "3"),
        "plots.category_axis": F(lambda: ((figure()[1], ["a", "b"], "y", 8), {})),
        "plots.annotate_bars": F(lambda: ((figure()[1], bars(), "{:.1f}", 0.1), {}),
                                 check=lambda r: len(r) == 2),
        "plots.deck_text_px": F(lambda: ((figure()[0], 1200.0), {}), check=lambda r: r > 0),
        "plots.argument_diagram": E(check=_close_figure),
        "plots.stacked_gaps": F(lambda: ((figure()[1], ["a", "b"], [0.1, 0.2], [0.3, 0.0]),
                                         {"title": "t"})),
        "plots.layer_profile": F(
            lambda: ((figure()[1], {"a": RNG.normal(size=(3, 4))}),
                     {"names": ["x", "1", "2", "3"], "excluded": {"a": np.zeros((1, 4))},
                      "level": 0.95})),
        "plots.seed_curves": F(lambda: ((figure()[1], [1.0, 2.0, 3.0],
                                         {"a": RNG.normal(size=(2, 3))}), {})),
        "plots.arm_intervals": F(
            lambda: ((figure()[1], [{"arm": a, "n_train": 250, "test_acc_mean": 0.6,
                                     "test_acc_lo": 0.5, "test_acc_hi": 0.7}
                                    for a in ("a", "b")], "test_acc"),
                     {"band": 0.01, "hollow": False, "label": "x", "width": 12}),
            check=lambda r: r == ["a", "b"]),
        "plots.entropy_accuracy": F(
            lambda: ((figure()[1], [{"arm": a, "n_train": n, **{
                f"{m}_{k}": v for m, base in (("test_entropy", 0.5), ("test_acc", 0.6))
                for k, v in (("mean", base), ("lo", base - 0.1), ("hi", base + 0.1))}}
                for a in ("a", "b") for n in (250, 1000)]), {})),
        # ---- statistics of the verdicts
        "stats.t_interval": E([0.5, 0.6, 0.7], 0.95, test_fraction=0.3,
                              check=lambda r: r[1] <= r[0] <= r[2]),
        "stats.paired_bootstrap_ci": E(X2[:, 0] ** 2, X2[:, 1] ** 2, n_bootstrap=50,
                                       confidence=0.9, seed=0, check=lambda r: r[0] <= r[1]),
        "stats.one_sided_pvalues": E([0.01, 0.02, 0.015], 0.005,
                                     check=lambda r: all(0 <= p <= 1 for p in r)),
        "stats.holm": E([0.01, 0.2, 0.03], 0.05, check=lambda r: list(r) == [True, False, False]),
        "stats.family_tests": E([[0.02, 0.03, 0.025], [0.0, 0.01, -0.01]], 1, margin=0.01,
                                alpha=0.05, settings=["a", "b"], quantifier="existential"),
        "stats.family_verdict": E([[0.02, 0.03, 0.025], [0.0, 0.01, -0.01]], 1, margin=0.01,
                                  alpha=0.05, quantifier="existential",
                                  check=lambda v: isinstance(v, str)),
        "stats.verdict": E(0.1, 0.2, 1, 0.0, check=lambda v: v == "supported"),
        "plots.posterior_map": F(lambda: ((figure()[1], *np.meshgrid(np.arange(3.0),
                                                                    np.arange(3.0)),
                                           np.full((3, 3), 0.5)), {"levels": 5})),
        "plots.verdict_map": F(lambda: ((figure()[1], {("mlp", "C5"): "supported", (
            "cnn", "C5"): "no verdict | depends on a filter"}, ["mlp", "cnn"], ["C5"]), {}),
                               check=lambda r: len(r) == 3),
    }
    ex.update(_verdict_examples())
    ex.update(_lesson_examples())
    return {f"maxent_lib.{k}": v for k, v in ex.items()}


def _verdict_examples() -> dict[str, Example]:
    """The examples of the modules that summarise grids and judge claims (no training)."""
    from maxent_lib.ablation.runner import RunOptions
    from maxent_lib.claims import PAPER_CLAIMS, claim, shortcut_families

    fams, sc, reg, cpu = br.families, br.SC, br.REG, RunOptions(device="cpu", progress=False)
    gaps = [[{"total_gap": t} for t in (0.6, 0.3 + e, 0.1 + e)] for e in (0.0, 0.01, 0.02)]
    start = [[{"total_gap": t} for t in (0.6, 0.5 + e, 0.45 + e)] for e in (0.0, 0.02, 0.01)]
    return {
        # ---- tables, summaries of records, the budget check, the grid runner
        "tables.format_table": E([{"a": 1.0, "b": "x|y"}], ["a", "b"], markdown=True, digits=2,
                                 check=lambda s: "1.00" in s and "x\\|y" in s),
        "ablation.summaries.summarize": E(reg, ["arm", "n_train"], ["test_acc"], 0.95,
                                          check=lambda r: len(r) == 8 and r[0]["n"] == 8),
        "ablation.summaries.did_not_train": E({"train_acc": 0.05, "n_classes": 10}, 2.0,
                                              check=lambda r: r is True),
        "ablation.summaries.pairing_fields": E("arm", ["seed"], check=lambda r: "dataset" in r
                                               and "seed" not in r and "arm" not in r),
        "ablation.summaries.paired_effects": E(
            reg, "test_acc", "arm", "baseline", ["n_train"], ["seed"], 0.95, "report",
            check=lambda r: len(r) == 6 and all(x["n"] == 8 for x in r)),
        "ablation.summaries.compare_records": E(
            [{"key": "a", "arm": "x", **br.METRICS}], [{"key": "a", "arm": "x", **br.METRICS}],
            ["test_acc"], check=lambda r: r["identical"]),
        "ablation.livecheck.live_check": E(
            [{"key": "a", "arm": "baseline", **br.METRICS}],
            br.stored([{"key": "a", "arm": "baseline", **br.METRICS}], "regularization_quick"
                      ".jsonl"), check=lambda r: r["current"] and r["comparison"]["matched"] == 1),
        "ablation.livecheck.within_seed_range": E(
            [{"arm": "x", **br.METRICS}], [{"arm": "x", **br.METRICS}], 0.02,
            check=lambda r: r["passed"]),
        "ablation.livecheck.format_live_check": E(
            {"comparison": {"by_arm": {}}, "same_machine": True, "passed": True,
             "current": True}, check=lambda s: "bit for bit" in s),
        "ablation.replay.replay_start": F(lambda: ((REG_CONFIGS, prepared(), 1), {"threads": 1}),
                                    check=lambda r: len(r) == 1 and r[0]["eval_epochs"] == [1]),
        "ablation.replay.replay_check": E(
            [{"key": "a", "eval_epochs": [1], "val_acc_curve": [0.5], "test_acc_curve": [0.5]}],
            br.stored([{"key": "a", "arm": "baseline", "eval_epochs": [1], "val_acc_curve": [0.5],
                        "test_acc_curve": [0.5], **br.METRICS}], "regularization_quick.jsonl"),
            check=lambda r: r["current"] and not r["unmatched"] and r["rows"][0]["equal"]),
        "ablation.replay.format_replay_check": E(
            {"rows": [], "unmatched": 0, "same_machine": True, "passed": False, "current": True},
            check=lambda s: s.endswith("FAILED")),
        "ablation.nets.nets_path": E("results/a.jsonl", check=lambda p: p.name == "a.pt"),
        "ablation.nets.save_nets": F(lambda: ((retrained(), [retrained().records[0]["key"]],
                                               TMP / "saved.pt"), {}), check=lambda r: r is None),
        "ablation.nets.load_nets": F(lambda: ((kept_nets()[0], prepared()), {}),
                                     check=lambda g: len(g.records) == 1),
        "ablation.nets.nets_check": F(lambda: ((kept_nets()[1],), {}),
                                      check=lambda r: r["passed"]),
        "ablation.nets.format_nets_check": E({"rows": [], "passed": False},
                                             check=lambda s: s.endswith("FAILED")),
        "ablation.budget.chance_of_failing_on_noise": F(lambda: ((br.budget_result(), 1000, 0), {}),
                                                        check=lambda p: 0.0 <= p <= 1.0),
        "ablation.budget.budget_configs": E([{"seed": s, "epochs": 10} for s in range(3)], 2.0, 2,
                                            check=lambda r: [c["epochs"] for c in r] == [20, 20]),
        "ablation.budget.BudgetCheck.summary": F(lambda: ((br.budget_result(),), {}),
                                                 check=lambda s: "passed" in s),
        "ablation.budget.budget_check": E(sc, br.SC2, tolerance=0.01, verdicts=None,
                                          check=lambda c: c.passed),
        "ablation.budget.at_best_validation": E(
            [{"best_val_epoch": 2, "eval_epochs": [1, 2], "test_acc_curve": [0.1, 0.2]}],
            check=lambda r: r[0]["test_acc"] == 0.2),
        "ablation.budget.budget_path": E([sc, br.SC2], check=lambda r: r[0]["multiples"] == [1, 2]),
        "ablation.budget.budget_path_lines": E([{"setting": {"arm": "a"}, "test_acc": [0.3, 0.3]}],
                                               0.01, check=lambda r: r[-1].endswith("arm a")),
        "ablation.budget.format_budget_check": F(lambda: ((br.budget_result(), 3), {}),
                                                 check=lambda s: "passed" in s),
        "ablation.runner.run_grid": F(
            lambda: (([{"width": 4, "depth": 1, "epochs": 1, "batch_size": 8, "n_val": 5,
                        "seed": 0}], SMALL),
                     {"results_path": TMP / "grid.jsonl", "options": cpu, "execution": None,
                      "command": "x", "code": []}),
            check=lambda r: len(r) == 1 and len(r[0]["key"]) == 16),
        # ---- claims, their families and verdicts
        "stats.FamilyResult.count": F(lambda: ((br.family_result(), "for"), {}),
                                      check=lambda n: n == 2),
        "stats.FamilyResult.summary": F(lambda: ((br.family_result(),), {}),
                                        check=lambda s: s.endswith("of 2")),
        "stats.FamilyResult.in_words": F(lambda: ((br.family_result(),), {}),
                                         check=lambda s: s.startswith("supported")),
        "claims.Claim.__init__": E("X1", "05", "a statement", "test_acc", 1, 0.01, "empirical",
                                   "universal", "kind", "", check=lambda c: c.key == "X1"),
        "claims.Family.judge": F(lambda: ((fams()[0], 0.05), {}),
                                 check=lambda r: r.verdict == "supported"),
        "claims.paired_family": E(reg, claim("C7"), "arm", "baseline", ["dropout 0.3"],
                                  ["n_train"], "quick", False, fit_tolerance=0.05,
                                  trained_at=2.0, item="dropout 0.3",
                                  check=lambda f: len(f.settings) == 2),
        "claims.interaction_values": E(br.SC_MLP, "test_acc", "arm", "plain", "residual",
                                       "depth", 2, 8, ["seed"], True, 2.0,
                                       check=lambda v: len(v) == 4 and 0.04 < np.mean(v) < 0.06),
        "claims.claim": E("C5", check=lambda c: c.key == "C5"),
        "claims.shortcut_families": E(sc, "quick", fit_tolerance=0.05, trained_at=2.0,
                                      check=lambda r: len(r) == 4),
        "claims.regularization_families": E(reg, "quick", trained_at=2.0,
                                            check=lambda r: len(r) == 14),
        "claims.layer_gap_family": E(gaps, "x", ["X", "T1", "T2"], start,
                                     check=lambda f: len(f.settings) == 2),
        "claims.find_results_dir": E(TMP, check=lambda r: r is None or r.name == "results"),
        "claims.load_grid": E(EMPTY, "shortcut", check=lambda r: r == {}),
        "claims.theorem_summary": F(lambda: ((br.checks(),), {}),
                                    check=lambda r: set(r) == {"C1", "C2"}),
        # (not the C7 family: its one-seed setting has NaN p-values, "too few seeds", by design)
        "verdicts.item_verdicts": F(lambda: (([fams()[0], fams()[1], fams()[3]], 0.05), {}),
                                    check=lambda r: r["C5", "mlp"].verdict == "supported"),
        "verdicts.verdict_table": F(
            lambda: ((fams(),), {"alpha": 0.05, "claims": PAPER_CLAIMS,
                                 "theorem_checks": {"C1": "ok"},
                                 "sensitivity": {("C5", "mlp"): "a note"}}),
            check=lambda r: len(r) == len(PAPER_CLAIMS)),
        "verdicts.family_rows": F(lambda: ((fams()[0], 0.05, 3), {}), check=lambda r: len(r) == 2),
        "verdicts.format_claims": E(list(PAPER_CLAIMS[:3]),
                                    check=lambda s: s.startswith("| claim")),
        "verdicts.filter_sensitivity": E(shortcut_families, sc, "quick", "fit_tolerance",
                                         [0.05, None], 0.05,
                                         check=lambda r: set(r) == {0.05, None}),
        "verdicts.sensitivity_notes": E(br.SENSITIVITY, "fit tolerance", 0.05,
                                        check=lambda r: ("C5", "mlp") in r),
        "verdicts.found_sentences": F(
            lambda: ((fams(),), {"alpha": 0.05, "notes": {("C5", "cnn"): "cnn depends on x"}}),
            check=lambda r: len(r) == 4),
        "verdicts.grid_families": E("shortcut", sc, "quick", check=lambda r: len(r) == 4),
        "verdicts.grid_verdicts": E("shortcut", sc, check=lambda r: "C5 mlp" in r),
        # ---- lesson 07's evidence
        "evidence.gather_grids": E(EMPTY, check=lambda r: len(r) == 4
                                   and all(ev.stored is None for ev in r)),
        "evidence.GridEvidence.judging": F(lambda: ((br.evidence()[0], "C5"), {}),
                                           check=lambda r: r is br.evidence()[0]),
        "evidence.profile_families": F(lambda: ((br.evidence(),), {}),
                                       check=lambda r: len(r["quick"]) == 4),
        "evidence.profile_notes": F(lambda: ((br.evidence(),), {}),
                                    check=lambda r: isinstance(r["quick"], dict)),
        "evidence.found_with_filters": F(
            lambda: ((fams(),), {"notes": {("C5", "mlp"): "mlp depends on the fit tolerance"}}),
            check=lambda r: len(r) == 4),
        "evidence.theorem_words": F(lambda: ((br.checks(),), {}),
                                    check=lambda r: r["C1"].startswith("1 of 1")),
        "evidence.two_profile_table": F(
            lambda: ((br.evidence(), {"quick": fams()}, fams()[3], "quick"),
                     {"theorems": {"C1": "ok"}, "notes": {}}),
            check=lambda r: len(r) == len(PAPER_CLAIMS)),
        "evidence.argument_findings": F(
            lambda: ((br.checks(), fams()[3], {"quick": fams()}, br.evidence()), {}),
            check=lambda r: len(r) == 7),
        "evidence.verdict_cells": F(
            lambda: ((fams(),), {"notes": {}, "without_verdict": br.evidence()}),
            check=lambda r: r["mlp", "C5"] == "supported"),
        "evidence.c6_split": E(sc, check=lambda r: len(r) == 2),
        "evidence.remeasure_c0": E("quick", source="x", device="cpu", progress=False, skip=SLOW),
    }


@functools.cache
def both_nets() -> Any:
    from maxent_lib.layerwise import train_both

    return train_both(X2, Y3, width=3, depth=2, activation="relu", seeds=[0, 1],
                      epochs_per_layer=1, lr=1e-2, batch_size=16, device="cpu")


@functools.cache
def arms_nets() -> Any:
    from maxent_lib.shortcuts import train_arms

    return train_arms(X2, Y3, width=3, depth=2, seeds=[0, 1], epochs=1, lr=1e-2, batch_size=16,
                      device="cpu")


REG_CONFIGS = [{"arm": "baseline", "seed": 0, "n_train": 20, "n_val": 5, "width": 4, "depth": 1,
                "epochs": 1, "batch_size": 8}]


@functools.cache
def retrained() -> Any:
    from maxent_lib.regularization import retrain

    return retrain(REG_CONFIGS, prepared())


_MERGED = itertools.count()


@functools.cache
def merge_parts() -> list[Any]:
    """Two current results files of the same code, one seed each (for merge_stored)."""
    from maxent_lib import ablation

    parts = [TMP / "part0.jsonl", TMP / "part1.jsonl"]
    for seed, part in enumerate(parts):
        ablation.run_grid([{**REG_CONFIGS[0], "seed": seed}], SMALL, results_path=part,
                          options=ablation.RunOptions(device="cpu", progress=False),
                          command="x")
    return parts


@functools.cache
def kept_nets() -> tuple[Any, Any]:
    """The re-trained net of :func:`retrained`, kept beside a results file, and loaded again."""
    from maxent_lib.ablation.nets import load_nets, nets_path, save_nets
    from maxent_lib.store.provenance import StoredResults

    fitted = retrained()
    path = TMP / "kept.jsonl"
    save_nets(fitted, [r["key"] for r in fitted.records], nets_path(path))
    stored = StoredResults(path, fitted.records, None, True, "made by the current code")
    return stored, load_nets(stored, prepared())


def _lesson_examples() -> dict[str, Example]:
    """The examples of lessons 04-06's measurements (layerwise, shortcuts, regularization)."""
    log_k = float(np.log(10))
    return {
        # ---- lesson 04: layer-wise against end to end, claim C0
        "layerwise.at_initialisation": F(lambda: ((stacked_mlp(),), {}),
                                         check=lambda n: n.m == 2),
        "layerwise.train_both": E(X2, Y3, width=3, depth=2, activation="relu", seeds=[0, 1],
                                  epochs_per_layer=1, lr=1e-2, batch_size=16, weight_decay=0.0,
                                  eval_data=(X2, Y3), device="cpu", progress=False,
                                  check=lambda r: set(r) == {"end to end", "layer-wise"}),
        "layerwise.summarise_runs": F(lambda: ((both_nets(), X2, Y3, X2, Y3),
                                               {"n_splits": 2, "baseline": True,
                                                "progress": False}), skip=SLOW),
        "layerwise.stuck_seeds": E(br.RUNS, 0.07,
                                   check=lambda r: r["layer-wise"] == [0, 1, 2]
                                   and not r["end to end"]),
        "layerwise.layer_values": E(br.RUNS, "end to end", [0, 1], "total_gap",
                                    check=lambda r: r.shape == (2, 3)),
        "layerwise.c0_family": E(br.RUNS, [0, 1, 2], "xor", method="end to end", source="t",
                                 check=lambda f: len(f.settings) == 2),
        "layerwise.compare_methods": E(br.RUNS, br.NO_STUCK, "xor", margin=0.02,
                                       check=lambda c: c.trained is not None),
        "layerwise.comparison_lines": F(lambda: ((br.comparison(),), {}),
                                        check=lambda r: len(r) == 7),
        "layerwise.comparison_sentence": F(lambda: ((br.comparison(),), {}),
                                           check=lambda s: s.startswith("Side study")),
        # ---- lesson 05: shortcuts
        "shortcuts.train_arms": E(X2, Y3, width=3, depth=2, seeds=[0, 1], epochs=1, lr=1e-2,
                                  batch_size=16, device="cpu", progress=False,
                                  check=lambda r: set(r) == {"plain", "residual"}),
        "shortcuts.arm_layer_gaps": F(lambda: ((arms_nets(), X2, Y3),
                                               {"n_splits": 2, "probe": PROBE_SETTINGS,
                                                "progress": False}),
                                      check=lambda r: len(r) == 4),
        "shortcuts.c6_split": E(br.SC, 2.0, check=lambda r: len(r) == 6),
        "shortcuts.GridVerdicts.sentences": F(lambda: ((br.verdicts_of_grid(),), {}),
                                              check=lambda r: len(r) == 4),
        "shortcuts.judge_grid": E(br.stored(br.SC), br.stored(br.SC2), "quick",
                                  check=lambda g: g.judged),
        "shortcuts.sensitivity_rows": E(br.SENSITIVITY, check=lambda r: r[0]["depends"] == "yes"),
        "shortcuts.null_simulation": E(0.0, 0.01, n_families=20, n_settings=2, n_seeds=4,
                                       margin=0.01, direction=1, quantifier="universal",
                                       alpha=0.05, seed=0,
                                       check=lambda r: abs(sum(r.values()) - 1) < 1e-9),
        "shortcuts.accuracy_by_depth": F(lambda: ((figure()[1], br.DEPTH_ROWS),
                                                  {"arms": ["plain", "residual"]})),
        "shortcuts.effect_by_depth": F(lambda: ((figure()[1], {"test": [
            {"depth": d, "effect": 0.01, "lo": 0.0, "hi": 0.02} for d in (4, 8)]}),
            {"margin": 0.01})),
        "shortcuts.interval_rows": F(lambda: ((figure()[1], ["a", "b"], [0.0, 0.1],
                                               [-0.1, 0.0], [0.1, 0.2]), {"band": 0.01})),
        # ---- lesson 06: regularisation
        "regularization.smoothed_target_entropy": E(0.1, 10, check=lambda h: 0 < h < log_k),
        "regularization.penalty_optimum_entropy": E(0.5, 10, check=lambda h: 0 < h < log_k),
        "regularization.reliability_bins": E(P3, Y3, 10,
                                             check=lambda r: _close(r["share"].sum(), 1.0)),
        "regularization.GridState.line": F(lambda: ((br.reg_state(),), {}),
                                           check=lambda s: "verdicts are drawn" in s),
        "regularization.grid_state": E(br.stored(br.REG, "regularization_quick.jsonl"),
                                       br.stored(br.REG2, "regularization_quick_budget.jsonl"),
                                       grid="regularization", check=lambda s: s.judged),
        "regularization.read_at_best_epoch": E(
            [{"arm": "baseline", "best_val_epoch": 2, "eval_epochs": [1, 2],
              "test_acc_curve": [0.1, 0.2]},
             {"arm": "early stopping", "best_val_epoch": 1, "eval_epochs": [1],
              "test_acc_curve": [0.3]}],
            check=lambda r: [x["test_acc"] for x in r] == [0.2]),
        "regularization.best_epoch_verdicts": E(
            br.REG,
            check=lambda r: all(k.split()[0] in ("C7", "C10") for k in r)),
        "regularization.state_families": F(lambda: ((br.reg_state(), "quick"), {}),
                                           check=lambda r: len(r) > 0),
        "regularization.claim_table": F(lambda: ((br.reg_families(), "C7"),
                                                 {"judged": True, "reason": ""}),
                                        check=lambda s: s.startswith("| regulariser")),
        "regularization.verdict_summary": F(lambda: ((br.reg_families(), "C7"), {"judged": True}),
                                            check=lambda s: s.startswith("C7")),
        "regularization.found_lines": F(lambda: ((br.reg_families(), br.reg_state()),
                                                 {"notes": {}}), check=lambda r: len(r) > 0),
        "regularization.failed_check_lines": F(lambda: ((br.reg_failed_state(),), {}),
                                               check=lambda r: r[0].startswith("No verdict")),
        "regularization.paired_rows": E(br.REG, "test_acc", check=lambda r: len(r) == 6),
        "regularization.training_health": E(br.REG, 2.0, 0.01, check=lambda r: len(r) == 8),
        "regularization.retrain": F(lambda: ((REG_CONFIGS, prepared()),
                                             {"grid": "regularization", "threads": 1}),
                                    check=lambda g: len(g.records[0]["key"]) == 16),
        "regularization.fc_gap_rows": F(lambda: ((retrained(), 2), {"baseline": "baseline"}),
                                        skip=SLOW),
        "regularization.split_log_probs": F(lambda: ((retrained(), "baseline"), {}),
                                            check=lambda r: r[0].shape == (5, 3)
                                            and r[1].shape == (5,)),
    }


def _canonical(configs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from maxent_lib.ablation.configs import canonical_config

    return [canonical_config(c) for c in configs]


def _local() -> Any:
    from maxent_lib.ablation.executors import Execution

    return Execution()


def _course_map() -> Any:
    from maxent_lib.coursemap import course_map

    return course_map(NOTEBOOKS)


def _package_rows() -> Any:
    from maxent_lib.envcheck import check_packages

    return check_packages({"numpy": np.__version__})


def _new_softmax() -> Any:
    from maxent_lib.softmax import SoftmaxRegression

    return SoftmaxRegression(alpha=1e-2)


def _new_stacked_probes() -> Any:
    from maxent_lib.conditions import StackedProbes

    return StackedProbes(max_epochs=2)


def _new_probe() -> Any:
    from maxent_lib.conditions import FlexibleProbe

    return FlexibleProbe(max_epochs=3, patience=2)


EXAMPLES = _examples()


# ------------------------------------------------------------------------------ generation

def _library_declarations() -> list[str]:
    """The declared functions of the suite's modules (not pending, not exempt; declarations
    made elsewhere, e.g. by tests of the mechanism, are left out)."""
    return [n for n in DECLARED if n.startswith("maxent_lib.") and not _pending(n)
            and not any(n.startswith(f"maxent_lib.{e}.")
                        for e in (*EXEMPT_MODULES, *BEING_WRITTEN))]


def _callable_of(name: str) -> tuple[Callable[..., Any], inspect.Signature]:
    """What a case calls for a declared name (the class for a declared ``__init__``), and the
    signature its examples bind to."""
    fn = DECLARED[name].function
    if name.endswith(".__init__"):
        module, _, qual = name[: -len(".__init__")].rpartition(".")
        while module not in sys.modules:  # a nested qualname: move the dot
            module, _, head = module.rpartition(".")
            qual = f"{head}.{qual}"
        cls: Any = sys.modules[module]
        for part in qual.split("."):
            cls = getattr(cls, part)
        return cls, inspect.signature(cls)
    return fn, inspect.signature(fn)


def _bound(example: Example, sig: inspect.Signature) -> inspect.BoundArguments:
    args, kwargs = example.make()
    bound = sig.bind(*args, **kwargs)
    bound.apply_defaults()
    return bound


def _names(param: str, label: str) -> tuple[str, ...]:
    """The names a message about a bad ``param`` may use: the parameter, or the key of a dict
    entry the bad value is in (labels ``key=...``)."""
    key = label.split("=", 1)[0]
    return (param, key) if "=" in label else (param,)


def generated_cases() -> list[Case]:
    """One valid call per declared function and one call per bad value of each parameter."""
    for m in MODULES:  # every declaration is made when its module is imported
        importlib.import_module(f"maxent_lib.{m}")
    cases = []
    for name in sorted(DECLARED):
        if _pending(name) or name not in EXAMPLES:
            continue
        example = EXAMPLES[name]
        fn, sig = _callable_of(name)
        short = name.removeprefix("maxent_lib.")

        def call(fn: Callable[..., Any] = fn, sig: inspect.Signature = sig,
                 example: Example = example, param: str | None = None,
                 bad: Any = None) -> Any:
            bound = _bound(example, sig)
            if param is not None:
                bound.arguments[param] = bad
            return fn(*bound.args, **bound.kwargs)

        if not example.skip:
            cases.append(Case(short, "valid_call", call, "ok", check=example.check,
                              group="valid calls"))
        bound = _bound(example, sig)
        for param, constraint in DECLARED[name].constraints.items():
            for label, bad, kind in constraint.bad_values(bound.arguments[param]):
                cases.append(Case(short, f"{param}={label}",
                                  functools.partial(call, param=param, bad=bad), kind,
                                  _names(param, label), group="generated bad inputs"))
    return cases


CASES = generated_cases() + badinput_cases.cases(TMP)


# ------------------------------------------------------------------------------ tests

def test_every_module_is_in_the_suite():
    """Every module of maxent_lib is in :data:`MODULES` or exempt (with the reason): a new
    module's public functions cannot escape the suite."""
    found = {m.name.removeprefix("maxent_lib.")
             for m in pkgutil.walk_packages(maxent_lib.__path__, "maxent_lib.")}
    exempt = {m for m in found if any(m == e or m.startswith(e + ".")
                                      for e in (*EXEMPT_MODULES, *BEING_WRITTEN))}
    assert not sorted(found - set(MODULES) - exempt), "modules outside the suite"
    assert not sorted(set(MODULES) - found), "listed modules are gone"


def test_every_public_callable_is_declared():
    """Every public function, method and class (its ``__init__``) of every module of the suite
    declares its parameters, or is exempt with the reason, or is pending."""
    public = all_public()
    missing = [n for n in public if n not in DECLARED and n not in EXEMPT and not _pending(n)]
    assert not missing, f"public callables without a declaration: {missing}"
    assert not sorted(set(EXEMPT) - set(public)), "exemptions of callables that are gone"
    assert not set(EXEMPT) & set(DECLARED), "declared callables listed as exempt"


def test_every_declared_function_has_an_example():
    missing = [n for n in _library_declarations() if n not in EXAMPLES]
    assert not missing, f"declared functions without an example: {missing}"
    assert not sorted(set(EXAMPLES) - set(DECLARED)), "examples of undeclared functions"


def test_the_pending_declarations_are_still_pending():
    """Once the engineer rewriting them declares these, remove them from
    :data:`PENDING_DECLARATIONS` (and give them examples)."""
    declared = [n for n in DECLARED if _pending(n)]
    assert not declared, f"declared now, so no longer pending: {declared}"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case):
    outcome, detail = run_case(case)
    assert outcome == "clean", f"{outcome}: {detail}"


def figures(cases: list[Case]) -> dict[str, Any]:
    """Run every case; count the outcomes per group."""
    counts: dict[str, dict[str, int]] = {}
    failures = []
    start = time.perf_counter()
    for c in cases:
        outcome, detail = run_case(c)
        counts.setdefault(c.group, {}).setdefault(outcome, 0)
        counts[c.group][outcome] += 1
        if outcome != "clean":
            failures.append((c.id, outcome, detail))
    declared = _library_declarations()
    return {"counts": counts, "failures": failures, "seconds": time.perf_counter() - start,
            "declared": len(declared)}


if __name__ == "__main__":  # python tests/test_badinput.py: the figures
    result = figures(CASES)
    total: dict[str, int] = {}
    for c in result["counts"].values():
        for k, v in c.items():
            total[k] = total.get(k, 0) + v
    print(f"{len(CASES)} cases over {result['declared']} declared functions and methods "
          f"({len(PENDING_DECLARATIONS)} modules or functions pending), "
          f"{result['seconds']:.1f} s")
    for group, c in result["counts"].items():
        print(f"  {group}: {sum(c.values())} -> " + ", ".join(f"{k} {v}" for k, v in
                                                             sorted(c.items())))
    print("  all: " + ", ".join(f"{k} {total.get(k, 0)}" for k in
                               ("clean", "unclear", "other", "silent_nan", "wrong", "hang")))
    for f in result["failures"]:
        print("  NOT CLEAN", *f)
    print(json.dumps({k: total.get(k, 0) for k in total}))
    sys.exit(0)

"""The bad-input suite: every public function and method of the library's modules, fed bad input
one argument at a time (wrong types, NaN/inf, wrong shapes, out-of-range values, numeric strings,
booleans, complex numbers, labels that would build a million classes) and numerically hard input.

Each case runs in-process under a timeout guard (SIGALRM where there is one) and is classified:

- ``clean``: a bad input raised ``TypeError`` (a wrong type) or ``ValueError`` (a wrong value)
  whose message names the argument; a hard input gave the right answer (checked);
- ``unclear``: the right exception class, but the message does not name the argument;
- ``other``: another exception class (AttributeError, IndexError, a torch RuntimeError...);
- ``silent_nan``: it returned NaN or inf without saying so;
- ``wrong``: it accepted bad input, or answered a hard input wrongly;
- ``hang``: it ran past the timeout.

Public functions are enumerated from the modules themselves (``__all__``, else every function and
class defined there, with the public methods each class defines), so a new public function
without cases fails :func:`test_every_public_function_has_cases`, and a new module of the
library that is not in :data:`MODULES` (nor exempted, with the reason) fails
:func:`test_every_module_is_in_the_suite`. The problems the issue reported are cases too
(:func:`_issue_cases`). Run ``python tests/test_badinput.py`` for the figures.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import importlib
import inspect
import json
import math
import random
import re
import shutil
import signal
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from maxent_lib import (
    _checks,
    coursemap,
    data,
    envcheck,
    info,
    maxent,
    metrics,
    runtime,
    softmax,
)
from maxent_lib.store import files

#: modules held to the suite: every public function needs cases, every case must be clean
MODULES = ("_checks", "info", "maxent", "softmax", "metrics", "data", "runtime",
           "envcheck", "coursemap", "resultsfile", "ensemble", "ablation", "claims", "executors",
           "__main__", "conditions", "models", "quadrature", "probes", "coverage", "plots")
#: modules of maxent_lib outside the suite, and why
EXEMPT_MODULES: dict[str, str] = {
    "_fileio": "private helpers of resultsfile and data (locks, atomic writes), tested through "
               "them in test_resultsfile and test_cache",
    "exercises": "answer checkers: every answer, however malformed, gets feedback and never an "
                 "exception (tests/test_exercises_*.py)",
}
TIMEOUT_S = 20.0


# ------------------------------------------------------------------------------ enumeration

def public_callables(module_name: str) -> list[str]:
    """``module.name`` for every public function and class of a module, and
    ``module.Class.method`` for every public method a class defines itself. Exceptions, warnings
    and non-callables are left out."""
    mod = importlib.import_module(f"maxent_lib.{module_name}")
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n, o in vars(mod).items() if not n.startswith("_")
                 and getattr(o, "__module__", None) == mod.__name__]
    out = []
    for n in names:
        obj = getattr(mod, n)
        if not callable(obj) or (inspect.isclass(obj) and issubclass(obj, BaseException)):
            continue
        out.append(f"{module_name}.{n}")
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if isinstance(value, (staticmethod, classmethod)):
                    value = value.__func__
                if inspect.isfunction(value):
                    out.append(f"{module_name}.{n}.{attr}")
    return out


# ------------------------------------------------------------------------------ cases

@dataclasses.dataclass
class Case:
    """One call. ``expect``: "type" (a TypeError naming one of ``names``), "value" (a
    ValueError, not a TypeError, naming one of ``names``), "error" (either), or "ok" (a result
    that passes ``check``; NaN/inf only where ``allow_inf``)."""

    target: str
    label: str
    call: Callable[[], Any]
    expect: str
    names: tuple[str, ...] = ()
    check: Callable[[Any], bool] | None = None
    allow_inf: bool = False

    @property
    def id(self) -> str:
        return f"{self.target}[{self.label}]"


def _has_nan(x: Any, depth: int = 0) -> bool:
    """NaN or inf anywhere in a result (arrays, tensors, numbers, containers, dataclasses,
    fitted estimators' array attributes)."""
    if depth > 4:
        return False
    if isinstance(x, torch.Tensor):
        return x.is_floating_point() and not bool(torch.isfinite(x).all())
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "fc" and not bool(np.all(np.isfinite(x)))
    if isinstance(x, (float, np.floating)):
        return not math.isfinite(x)
    if isinstance(x, dict):
        return any(_has_nan(v, depth + 1) for v in x.values())
    if isinstance(x, (list, tuple)):
        return any(_has_nan(v, depth + 1) for v in list(x)[:1000])
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return any(_has_nan(getattr(x, f.name), depth + 1) for f in dataclasses.fields(x))
    if hasattr(x, "__dict__") and type(x).__module__.startswith("maxent_lib"):
        return any(_has_nan(v, depth + 1) for v in vars(x).values()
                   if isinstance(v, (np.ndarray, float, torch.Tensor)))
    return False


class _Timeout(BaseException):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    if not hasattr(signal, "setitimer") or threading_main() is False:
        yield
        return

    def on_alarm(signum, frame):
        raise _Timeout

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _names_argument(message: str, names: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message)
               for n in names)


def run_case(case: Case, timeout: float = TIMEOUT_S) -> tuple[str, str]:
    """(outcome, detail) of one case; outcomes as in the module docstring. The global random
    states (some cases seed them) are restored afterwards."""
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    try:
        return _run_case(case, timeout)
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])


def _run_case(case: Case, timeout: float) -> tuple[str, str]:
    try:
        with _time_limit(timeout), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = case.call()
    except _Timeout:
        return "hang", f"still running after {timeout:g} s"
    except Exception as exc:  # noqa: BLE001 - classified below
        msg = f"{type(exc).__name__}: {exc}"
        if case.expect == "ok":
            return "wrong", f"a valid (hard) input was refused: {msg}"
        if case.expect == "type":
            right = isinstance(exc, TypeError)
        elif case.expect == "value":
            right = isinstance(exc, ValueError) and not isinstance(exc, TypeError)
        else:
            right = isinstance(exc, (TypeError, ValueError))
        if not right:
            return "other", msg
        if case.names and not _names_argument(str(exc), case.names):
            return "unclear", msg
        return "clean", msg
    if case.expect != "ok":
        outcome = "silent_nan" if _has_nan(result) else "wrong"
        return outcome, f"accepted, returned {result!r:.200}"
    if _has_nan(result) and not case.allow_inf:
        return "silent_nan", f"returned {result!r:.200}"
    if case.check is not None:
        try:
            ok = bool(case.check(result))
        except Exception as exc:  # noqa: BLE001
            return "wrong", f"the check of the result raised {type(exc).__name__}: {exc}"
        if not ok:
            return "wrong", f"wrong answer: {result!r:.200}"
    return "clean", "right answer"


# ------------------------------------------------------------------------------ bad values

def bad_array(valid: Any, *, fixed_ndim: bool = True, nonneg: bool = False) -> list[tuple]:
    """(label, value, expect) for a numeric array argument whose valid value is ``valid``."""
    v = np.asarray(valid, dtype=float)
    out: list[tuple] = [
        ("None", None, "type"),
        ("text", "abc", "type"),
        ("numeric_strings", v.astype(str), "type"),
        ("complex", v + 1j, "type"),
        ("bool", v > v.mean(), "type"),
        ("object_with_None", np.array([None] * v.size, dtype=object).reshape(v.shape), "type"),
        ("list_with_text", [["0.5"] * v.shape[-1]] * (v.shape[0] if v.ndim > 1 else 1)
         if v.ndim > 1 else ["0.5"] * v.shape[0], "type"),
        ("nan", _poke(v, np.nan), "value"),
        ("inf", _poke(v, np.inf), "value"),
        ("-inf", _poke(v, -np.inf), "value"),
        ("empty", np.zeros((0, *v.shape[1:])), "value"),
    ]
    if v.ndim >= 1 and v.shape[0] >= 2:
        ragged = [list(r) for r in v.reshape(v.shape[0], -1)]
        ragged[0] = ragged[0] + [1.0]
        out.append(("ragged", ragged, "value"))
    if fixed_ndim:
        out.append(("extra_dim", v[..., None], "value"))
        if v.ndim >= 1:
            out.append(("scalar", 1.0 if v.ndim > 0 else [1.0], "value"))
    if nonneg:
        out.append(("negative", _poke(v, -0.5), "value"))
    return out


def _poke(v: np.ndarray, value: float) -> np.ndarray:
    w = np.array(v, dtype=float, copy=True)
    w.flat[0] = value
    return w


def bad_prob(valid: Any, fixed_ndim: bool = True) -> list[tuple]:
    v = np.asarray(valid, dtype=float)
    return bad_array(v, fixed_ndim=fixed_ndim) + [
        ("not_summing_to_one", v * 1.5, "value"),
        ("negative", _poke(v, -0.2) + np.eye(1, v.shape[-1], 1).reshape(-1) * 0.2
         if v.ndim == 1 else _poke(v, -0.2), "value"),
    ]


def bad_labels(valid: Any, k: int | None) -> list[tuple]:
    v = np.asarray(valid)
    out = [
        ("None", None, "type"),
        ("text", "ab", "type"),
        ("strings", v.astype(str), "type"),
        ("complex", v + 1j, "type"),
        ("bool", v > 0, "type"),
        ("nan", _poke(v.astype(float), np.nan), "value"),
        ("inf", _poke(v.astype(float), np.inf), "value"),
        ("non_integer", _poke(v.astype(float), 0.5), "value"),
        ("negative", _poke(v, -5).astype(int), "value"),
        ("label_1e6", _poke(v, 10**6).astype(int), "value"),
        ("two_dims", v[:, None], "value"),
        ("empty", np.zeros(0, dtype=int), "value"),
    ]
    if k is not None:  # (with K inferred, a label of 99 is legal: it makes 100 classes)
        out += [("label_K", _poke(v, k).astype(int), "value"),
                ("label_99", _poke(v, 99).astype(int), "value")]
    return out


def bad_number(low: float | None = None, high: float | None = None, *, inf_ok: bool = False
               ) -> list[tuple]:
    out = [("True", True, "type"), ("False", False, "type"), ("numeric_string", "0.5", "type"),
           ("complex", 1 + 2j, "type"), ("None", None, "type"), ("list", [0.1, 0.2], "type"),
           ("nan", float("nan"), "value")]
    if not inf_ok:
        out.append(("inf", float("inf"), "value"))
    if low is not None:
        out.append(("below_range", low - max(1.0, abs(low)) if low != 0 else -1e-3, "value"))
    if high is not None:
        out.append(("above_range", high + max(1.0, abs(high)), "value"))
    return out


def _bad_penalties() -> list[tuple]:
    """A penalty, or a list of candidate penalties (each a number >= 0)."""
    return ([b for b in bad_number(0.0) if b[0] != "list"]
            + [("empty_list", [], "value"), ("list_with_text", [1e-2, "x"], "type"),
               ("list_negative", [1e-2, -1.0], "value"), ("list_nan", [float("nan")], "value")])


def bad_int(low: int | None = None, high: int | None = None) -> list[tuple]:
    out = [("True", True, "type"), ("float", 2.5, "type"), ("integral_float", 2.0, "type"),
           ("numeric_string", "3", "type"), ("None", None, "type"),
           ("nan", float("nan"), "type")]
    if low is not None:
        out.append(("below_range", low - 1, "value"))
    if high is not None:
        out.append(("above_range", high + 1, "value"))
    return out


def bad_seed(high: int = 2**63 - 1) -> list[tuple]:
    return bad_int(0, high)


def bad_flag() -> list[tuple]:
    return [("string_False", "False", "type"), ("string_True", "True", "type"),
            ("one", 1, "type"), ("zero", 0, "type"), ("None", None, "type")]


def bad_path() -> list[tuple]:
    return [("None", None, "type"), ("int", 3, "type"), ("bytes", b"r.jsonl", "type"),
            ("empty", "", "value")]


def bad_tensor(valid: torch.Tensor) -> list[tuple]:
    nan, inf = valid.clone(), valid.clone()
    nan.view(-1)[0], inf.view(-1)[0] = float("nan"), float("inf")
    return [
        ("numpy_array", valid.numpy(), "type"), ("list", valid.tolist(), "type"),
        ("int_tensor", valid.long(), "type"), ("bool_tensor", valid > 0, "type"),
        ("complex_tensor", valid.to(torch.complex64), "type"),
        ("nan", nan, "value"), ("inf", inf, "value"),
        ("extra_dim", valid[..., None], "value"), ("empty", valid[:0], "value"),
        ("requires_grad_nan", nan.requires_grad_(True), "value"),
    ]


def bad_label_tensor(valid: torch.Tensor, k: int) -> list[tuple]:
    neg, big = valid.clone(), valid.clone()
    neg[0], big[0] = -1, k
    return [("numpy_array", valid.numpy(), "type"), ("float_tensor", valid.double(), "type"),
            ("bool_tensor", valid > 0, "type"), ("negative", neg, "value"),
            ("label_K", big, "value"), ("short", valid[:-1], "value"),
            ("two_dims", valid[:, None], "value")]


# ------------------------------------------------------------------------------ fixtures

RNG = np.random.default_rng(0)
X2 = RNG.normal(size=(40, 3))
Y3 = np.r_[np.arange(3), RNG.integers(0, 3, 37)]
P3 = softmax.softmax(RNG.normal(size=(40, 3)))
FACES = np.arange(1.0, 7.0)
FITTED = softmax.SoftmaxRegression(alpha=1e-2).fit(X2, Y3)
LP = torch.log_softmax(torch.as_tensor(RNG.normal(size=(2, 40, 3))), -1)
YT = torch.as_tensor(Y3)
TASK = data.shared_covariance_gaussians(n_classes=3, dim=2, seed=0)
CIRCLES = data.CirclesTask()
TMP = Path(tempfile.mkdtemp(prefix="maxent_badinput_"))
atexit.register(shutil.rmtree, TMP, ignore_errors=True)
REQ = TMP / "requirements.txt"
REQ.write_text("numpy==2.4.6\n-e .\n")
NOTEBOOKS = TMP / "notebooks"
NOTEBOOKS.mkdir()
(NOTEBOOKS / "01_x.ipynb").write_text(json.dumps(
    {"cells": [{"cell_type": "markdown", "source": ["# Title\n", "Time: 5 minutes"]}]}))
DAMAGED_NB = TMP / "02_broken.ipynb"
DAMAGED_NB.write_text('{"cells": [')
RESULTS = TMP / "r.jsonl"
ROWS = envcheck.check_packages({"numpy": np.__version__})
ENTRIES = coursemap.course_map(NOTEBOOKS)


@dataclasses.dataclass
class Spec:
    """A function, a valid call (keyword arguments), and how each argument can go wrong:
    ``bad[arg]`` is a list of (label, value, expect); ``names[arg]`` the names a message may use
    for it (default: the argument's own name)."""

    target: str
    fn: Callable[..., Any]
    valid: dict[str, Any]
    bad: dict[str, list[tuple]]
    names: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)

    def cases(self) -> list[Case]:
        out = [Case(self.target, "valid_call", lambda: self.fn(**self.valid), "ok")]
        for arg, battery in self.bad.items():
            names = self.names.get(arg, (arg,))
            for label, value, expect in battery:
                kwargs = {**self.valid, arg: value}
                out.append(Case(self.target, f"{arg}={label}",
                                (lambda kw=kwargs: self.fn(**kw)), expect, names))
        return out


def _not_none(battery: list[tuple]) -> list[tuple]:
    """A battery without its None case, for arguments where None is a valid choice."""
    return [b for b in battery if b[0] != "None"]


def _short(v: Any) -> list[tuple]:
    """A row fewer than its partner: the lengths do not match."""
    return [("one_row_short", v[:-1], "value")]


def _specs() -> list[Spec]:
    T, y, P = X2, Y3, P3
    fit = softmax.SoftmaxRegression
    gmt_valid = [[(1.0, [0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]])],
                 [(1.0, [1.0, 0.0], [[1.0, 0.0], [0.0, 1.0]])]]
    return [
        # ---- _checks (the layer itself)
        Spec("_checks.as_finite_array", _checks.as_finite_array,
             {"x": X2, "name": "X", "ndim": 2}, {"x": bad_array(X2)}, {"x": ("X",)}),
        Spec("_checks.check_probabilities", _checks.check_probabilities,
             {"p": P3, "name": "probs"}, {"p": bad_prob(P3, fixed_ndim=False)},
             {"p": ("probs",)}),
        Spec("_checks.check_labels", _checks.check_labels, {"y": Y3, "n_classes": None},
             {"y": bad_labels(Y3, None), "n_classes": _not_none(bad_int(1, _checks.MAX_CLASSES))}),
        Spec("_checks.check_same_length", _checks.check_same_length,
             {"name_a": "X", "a": X2, "name_b": "y", "b": Y3},
             {"b": _short(Y3)}, {"b": ("y", "X")}),
        Spec("_checks.check_number", _checks.check_number,
             {"x": 0.5, "name": "alpha", "low": 0.0, "high": 1.0},
             {"x": bad_number(0.0, 1.0)}, {"x": ("alpha",)}),
        Spec("_checks.check_int", _checks.check_int, {"x": 3, "name": "n", "low": 1, "high": 9},
             {"x": bad_int(1, 9)}, {"x": ("n",)}),
        Spec("_checks.check_seed", _checks.check_seed, {"seed": 3}, {"seed": bad_seed()}),
        Spec("_checks.check_n_classes", _checks.check_n_classes, {"n_classes": 3},
             {"n_classes": bad_int(2, _checks.MAX_CLASSES)}),
        Spec("_checks.check_flag", _checks.check_flag, {"x": True, "name": "shortcut"},
             {"x": bad_flag()}, {"x": ("shortcut",)}),
        Spec("_checks.check_choice", _checks.check_choice,
             {"x": "relu", "name": "activation", "choices": ["relu", "tanh"]},
             {"x": [("int", 3, "type"), ("None", None, "type"), ("unknown", "gelu", "value")]},
             {"x": ("activation",)}),
        Spec("_checks.check_path", _checks.check_path, {"x": "r.jsonl", "name": "path"},
             {"x": bad_path()}, {"x": ("path",)}),
        Spec("_checks.check_tensor", _checks.check_tensor,
             {"t": LP, "name": "log_probs", "ndim": 3}, {"t": bad_tensor(LP)},
             {"t": ("log_probs",)}),
        Spec("_checks.check_log_probabilities", _checks.check_log_probabilities,
             {"log_probs": LP, "name": "log_probs", "ndim": 3},
             {"log_probs": bad_tensor(LP) + [("probabilities", LP.exp(), "value"),
                                             ("logits", LP + 1.0, "value")]}),
        # ---- info
        Spec("info.entropy", info.entropy, {"p": P3}, {"p": bad_prob(P3, fixed_ndim=False)}),
        Spec("info.cross_entropy", info.cross_entropy, {"p": P3, "q": P3[::-1]},
             {"p": bad_prob(P3, False), "q": bad_prob(P3, False)
              + [("other_K", P3[:, :2] / P3[:, :2].sum(1, keepdims=True), "value")]}),
        Spec("info.kl_divergence", info.kl_divergence, {"p": P3, "q": P3[::-1]},
             {"p": bad_prob(P3, False), "q": bad_prob(P3, False)
              + [("rows_do_not_broadcast", P3[:7], "value")]}, {"q": ("q", "p")}),
        Spec("info.mutual_information", info.mutual_information,
             {"joint": P3[:4] / 4}, {"joint": bad_prob(P3[:4] / 4)
                                      + [("rows_normalised_not_joint", P3[:4], "value")]}),
        # ---- maxent
        Spec("maxent.solve_maxent", maxent.solve_maxent,
             {"F": FACES, "target": 4.5, "tol": 1e-12, "max_iter": 200, "boundary_tol": 1e-9},
             {"F": bad_array(FACES, fixed_ndim=False)
              + [("three_dims", FACES[:, None, None], "value")],
              "target": bad_array([4.5], fixed_ndim=False)
              + [("infeasible", 7.0, "value"), ("boundary", 6.0, "value"),
                 ("two_entries", [4.5, 1.0], "value")],
              "tol": bad_number(0.0), "max_iter": bad_int(0), "boundary_tol": bad_number(0.0)},
             {"target": ("target", "infeasible", "boundary", "F")}),
        Spec("maxent.gibbs", maxent.gibbs, {"F": FACES, "lambdas": [0.3]},
             {"F": bad_array(FACES, fixed_ndim=False),
              "lambdas": bad_array([0.3], fixed_ndim=False)
              + [("two_entries", [0.3, 0.1], "value"), ("overflow", [1e308], "value")]}),
        Spec("maxent.dual", maxent.dual, {"F": FACES, "target": 4.5, "lambdas": [0.3]},
             {"F": bad_array(FACES, fixed_ndim=False),
              "target": bad_array([4.5], fixed_ndim=False),
              "lambdas": bad_array([0.3], fixed_ndim=False) + [("overflow", [1e308], "value")]},
             {"lambdas": ("lambdas",)}),
        # ---- softmax
        Spec("softmax.softmax", softmax.softmax, {"z": X2, "axis": -1},
             {"z": bad_array(X2, fixed_ndim=False) + [("spread_beyond_float64",
                                                     [[1e308, -1e308]], "value")],
              "axis": bad_int() + [("out_of_range", 5, "value")]}),
        Spec("softmax.log_softmax", softmax.log_softmax, {"z": X2, "axis": -1},
             {"z": bad_array(X2, fixed_ndim=False) + [("spread_beyond_float64",
                                                     [[1e308, -1e308]], "value")],
              "axis": bad_int() + [("out_of_range", -3, "value")]}),
        Spec("softmax.moment_residuals", softmax.moment_residuals, {"T": T, "y": y, "probs": P},
             {"T": bad_array(T) + _short(T), "y": bad_labels(y, 3) + _short(y),
              "probs": bad_prob(P) + _short(P)},
             {"T": ("T", "y", "probs"), "y": ("y", "T"), "probs": ("probs", "T")}),
        Spec("softmax.mean_cross_entropy", softmax.mean_cross_entropy, {"probs": P, "y": y},
             {"probs": bad_prob(P) + _short(P), "y": bad_labels(y, 3) + _short(y)},
             {"probs": ("probs", "y"), "y": ("y", "probs")}),
        Spec("softmax.conditional_entropy", softmax.conditional_entropy, {"probs": P},
             {"probs": bad_prob(P)}),
        Spec("softmax.SoftmaxRegression", fit, {"alpha": 0.0, "tol": 1e-10, "max_iter": 100},
             {"alpha": bad_number(0.0), "tol": bad_number(0.0), "max_iter": bad_int(1)}),
        Spec("softmax.SoftmaxRegression.fit", lambda **kw: fit(alpha=1e-2).fit(**kw),
             {"T": T, "y": y, "n_classes": None, "init": None},
             {"T": bad_array(T) + _short(T), "y": bad_labels(y, None) + _short(y),
              "n_classes": _not_none(bad_int(2, _checks.MAX_CLASSES))
              + [("below_labels", 2, "value")],
              "init": [("array", FITTED.coef_, "type"), ("text", "warm", "type"),
                       ("not_fitted", fit(), "value"),
                       ("other_shape", fit().fit(T[:, :2], y), "value")]},
             {"T": ("T", "y"), "y": ("y", "T"), "n_classes": ("n_classes", "y")}),
        *[Spec(f"softmax.SoftmaxRegression.{m}", getattr(FITTED, m), {"T": T},
               {"T": bad_array(T) + [("wrong_columns", T[:, :2], "value")]})
          for m in ("decision_function", "predict_proba", "predict")],
        *[Spec(f"softmax.SoftmaxRegression.{m}", getattr(FITTED, m), {"T": T, "y": y},
               {"T": bad_array(T) + [("wrong_columns", T[:, :2], "value")],
                "y": bad_labels(y, 3) + _short(y)}, {"y": ("y", "probs")})
          for m in ("log_loss", "objective")],
        # ---- metrics
        Spec("metrics.expected_calibration_error", metrics.expected_calibration_error,
             {"probs": P, "y": y, "n_bins": 15},
             {"probs": bad_prob(P) + _short(P), "y": bad_labels(y, 3) + _short(y),
              "n_bins": bad_int(1, 10**6)},
             {"probs": ("probs", "y"), "y": ("y", "probs")}),
        *[Spec(f"metrics.{name}", getattr(metrics, name), {"log_probs": LP, "y": YT},
               {"log_probs": bad_tensor(LP) + [("probabilities", LP.exp(), "value"),
                                               ("logits", LP + 2.0, "value")],
                "y": bad_label_tensor(YT, 3)},
               {"y": ("y", "log_probs")})
          for name in ("stacked_metrics", "fit_temperature")],
        Spec("metrics.stacked_metrics(n_bins)", metrics.stacked_metrics,
             {"log_probs": LP, "y": YT, "n_bins": 15}, {"n_bins": bad_int(1, 10**6)}),
        Spec("metrics.per_model_metrics", metrics.per_model_metrics,
             {"log_probs": LP, "y": YT.expand(2, -1).clone(), "n_bins": 15},
             {"log_probs": bad_tensor(LP) + [("probabilities", LP.exp(), "value")],
              "y": bad_label_tensor(YT.expand(2, -1).clone(), 3)[:5],
              "n_bins": bad_int(1, 10**6)}, {"y": ("y", "log_probs")}),
        Spec("metrics.fit_temperature(range)", metrics.fit_temperature,
             {"log_probs": LP, "y": YT, "low": 0.01, "high": 100.0, "iterations": 60},
             {"low": bad_number(0.0), "high": bad_number(0.0), "iterations": bad_int(1)}),
        Spec("metrics.apply_temperature", metrics.apply_temperature,
             {"log_probs": LP, "temperature": np.array([1.0, 2.0])},
             {"log_probs": bad_tensor(LP) + [("probabilities", LP.exp(), "value")],
              "temperature": bad_array([1.0, 2.0]) + [("non_positive", [0.0, 1.0], "value"),
                                                       ("wrong_length", [1.0], "value")]}),
        # ---- data
        Spec("data.SyntheticTask.sample", TASK.sample, {"n": 20, "seed": 0},
             {"n": bad_int(1, data.MAX_SAMPLES), "seed": bad_seed()}),
        Spec("data.SyntheticTask.split", TASK.split, {"n_train": 20, "n_test": 10, "seed": 0},
             {"n_train": bad_int(1), "n_test": bad_int(1), "seed": bad_seed()}),
        Spec("data.SyntheticTask.posterior", TASK.posterior, {"X": X2[:, :2]},
             {"X": bad_array(X2[:, :2]) + [("wrong_columns", X2, "value"),
                                          ("far_beyond_float64", X2[:, :2] * 1e160, "value")]}),
        Spec("data.SyntheticTask.log_joint", TASK.log_joint, {"X": X2[:, :2]},
             {"X": bad_array(X2[:, :2]) + [("wrong_columns", X2, "value")]}),
        Spec("data.GaussianMixtureTask.log_joint", TASK.log_joint, {"X": X2[:, :2]},
             {"X": bad_array(X2[:, :2])}),
        Spec("data.CirclesTask.log_joint", CIRCLES.log_joint, {"X": X2[:, :2]},
             {"X": bad_array(X2[:, :2]) + [("wrong_columns", X2, "value")]}),
        Spec("data.GaussianMixtureTask.marginal", TASK.marginal, {"keep": [0]},
             {"keep": [("None", None, "type"), ("text", "0", "type"), ("float", [0.5], "type"),
                       ("bool", [True], "type"), ("out_of_range", [2], "value"),
                       ("repeated", [0, 0], "value"), ("empty", [], "value")]}),
        Spec("data.GaussianMixtureTask", data.GaussianMixtureTask,
             {"components": gmt_valid, "priors": [0.5, 0.5], "name": "two"},
             {"components": [
                 ("None", None, "type"), ("text", "abc", "type"),
                 ("one_class", gmt_valid[:1], "value"),
                 ("nan_mean", [[(1.0, [np.nan, 0.0], np.eye(2))], gmt_valid[1]], "value"),
                 ("inf_cov", [[(1.0, [0.0, 0.0], np.diag([np.inf, 1.0]))], gmt_valid[1]], "value"),
                 ("nan_weight", [[(np.nan, [0.0, 0.0], np.eye(2))], gmt_valid[1]], "value"),
                 ("bool_weight", [[(True, [0.0, 0.0], np.eye(2))], gmt_valid[1]], "type"),
                 ("string_weight", [[("1.0", [0.0, 0.0], np.eye(2))], gmt_valid[1]], "type"),
                 ("weights_not_one", [[(0.5, [0.0, 0.0], np.eye(2))], gmt_valid[1]], "value"),
                 ("non_symmetric_cov", [[(1.0, [0.0, 0.0], [[1.0, 0.9], [0.0, 1.0]])],
                                        gmt_valid[1]], "value"),
                 ("not_positive_definite", [[(1.0, [0.0, 0.0], -np.eye(2))], gmt_valid[1]],
                  "value"),
                 ("cov_shape", [[(1.0, [0.0, 0.0], np.eye(3))], gmt_valid[1]], "value"),
                 ("no_component", [[], gmt_valid[1]], "value"),
                 ("not_a_triple", [[(1.0, [0.0, 0.0])], gmt_valid[1]], "type"),
                 ("complex_mean", [[(1.0, [1j, 0.0], np.eye(2))], gmt_valid[1]], "type")],
              "priors": _not_none(bad_array([0.5, 0.5])) + [("not_summing", [0.5, 0.6], "value"),
                                                 ("zero", [0.0, 1.0], "value"),
                                                 ("three", [0.2, 0.3, 0.5], "value")],
              "name": [("int", 3, "type")]},
             {"components": ("components", "cov", "mean", "weight", "weights", "component",
                             "classes", "covariance")}),
        Spec("data.shared_covariance_gaussians", data.shared_covariance_gaussians,
             {"n_classes": 3, "dim": 2, "separation": 2.0, "seed": 0},
             {"n_classes": bad_int(2, _checks.MAX_CLASSES), "dim": bad_int(1, 1000),
              "separation": bad_number(0.0), "seed": bad_seed()}),
        Spec("data.class_covariance_gaussians", data.class_covariance_gaussians,
             {"n_classes": 3, "dim": 2, "separation": 1.0, "seed": 0},
             {"n_classes": bad_int(2, _checks.MAX_CLASSES), "dim": bad_int(1, 1000),
              "separation": bad_number(0.0), "seed": bad_seed()}),
        Spec("data.xor_task", data.xor_task, {"spread": 0.35, "distance": 1.0},
             {"spread": bad_number(1e-150, 1e150), "distance": bad_number()}),
        Spec("data.CirclesTask", data.CirclesTask, {"radii": (1.0, 2.0), "noise": 0.25},
             {"radii": bad_array([1.0, 2.0]) + [("one_radius", [1.0], "value"),
                                                ("negative", [-1.0, 2.0], "value")],
              "noise": bad_number(0.0)}),
        Spec("data.quadratic_features", data.quadratic_features, {"X": X2},
             {"X": bad_array(X2) + [("products_overflow", X2 * 1e200, "value")]}),
        Spec("data.mnist1d", data.mnist1d, {"n_train": 90, "n_test": 10, "seed": 3,
                                            "cache": False},
             {"n_train": bad_int(1), "n_test": bad_int(1), "seed": bad_seed(2**32 - 1),
              "cache": bad_flag()}, {"n_train": ("n_train", "n_test"),
                                     "n_test": ("n_test", "n_train")}),
        Spec("data.digits", data.digits, {"test_fraction": 0.25, "seed": 0},
             {"test_fraction": bad_number(0.0, 1.0) + [("zero", 0.0, "value"),
                                                       ("one", 1.0, "value")],
              "seed": bad_seed(2**32 - 1)}),
        Spec("data.load", data.load, {"name": "xor", "seed": 0},
             {"name": [("int", 3, "type"), ("None", None, "type"), ("unknown", "nope", "value")],
              "seed": bad_seed()}, {"name": ("name", "data set")}),
        # ---- runtime
        Spec("runtime.by_profile", runtime.by_profile,
             {"quick": 1, "full": 2, "profile": "quick"},
             {"profile": [("int", 3, "type"), ("list", ["quick"], "type"),
                          ("unknown", "medium", "value")]}),
        Spec("runtime.get_device", runtime.get_device, {"preference": "cpu"},
             {"preference": [("int", 3, "type"), ("list", ["cpu"], "type"),
                             ("unknown", "tpu", "value"), ("absent_cuda", "cuda:7", "value")]},
             {"preference": ("preference", "device", "tpu", "cuda:7")}),
        Spec("runtime.seed_everything", runtime.seed_everything, {"seed": 0},
             {"seed": bad_seed(2**64 - 1)}),
        Spec("runtime.progress_bar", runtime.progress_bar,
             {"iterable": range(3), "enabled": False}, {"enabled": bad_flag()}),
        # ---- envcheck
        Spec("envcheck.read_pins", envcheck.read_pins, {"path": REQ},
             {"path": bad_path() + [("missing", TMP / "none.txt", "value"),
                                    ("folder", TMP, "value")]},
             {"path": ("path", "requirements")}),
        Spec("envcheck.find_requirements", envcheck.find_requirements, {"start": TMP},
             {"start": _not_none(bad_path())}),
        Spec("envcheck.check_package", envcheck.check_package,
             {"name": "numpy", "pinned": np.__version__, "import_it": False},
             {"name": [("None", None, "type"), ("int", 3, "type"), ("empty", "", "type")],
              "pinned": [("None", None, "type"), ("float", 2.0, "type")],
              "import_it": _not_none(bad_flag())}),
        Spec("envcheck.check_packages", envcheck.check_packages, {"pins": {"numpy": "2.0"}},
             {"pins": [("list", ["numpy==2.0"], "type"), ("empty", {}, "value"),
                       ("None", None, "type")]}),
        *[Spec(f"envcheck.{fn}", getattr(envcheck, fn), {"rows": ROWS},
               {"rows": [("text", "numpy", "type"), ("dicts", [{"name": "numpy"}], "type"),
                         ("None", None, "type")]}) for fn in ("format_table", "summary")],
        # ---- coursemap
        Spec("coursemap.read_entry", coursemap.read_entry,
             {"path": NOTEBOOKS / "01_x.ipynb", "number": "01"},
             {"path": bad_path() + [("damaged_notebook", DAMAGED_NB, "value"),
                                    ("missing", TMP / "none.ipynb", "value")],
              "number": [("int", 1, "type")]},
             {"path": ("path", "notebook", "02_broken.ipynb", "none.ipynb")}),
        Spec("coursemap.course_map", coursemap.course_map, {"notebooks": NOTEBOOKS},
             {"notebooks": bad_path() + [("missing", TMP / "nowhere", "value")]}),
        Spec("coursemap.format_map", coursemap.format_map, {"entries": ENTRIES},
             {"entries": [("text", "01", "type"), ("dicts", [{"number": "01"}], "type")]}),
        # ---- resultsfile
        Spec("files.append_records", files.append_records,
             {"path": RESULTS, "records": [{"key": "a", "x": 1}]},
             {"path": bad_path() + [("folder", TMP, "value"),
                                    ("missing_folder", TMP / "no" / "r.jsonl", "value")],
              "records": [("dict", {"key": "a"}, "type"), ("text", "abc", "type"),
                          ("ints", [3], "type"), ("key_not_str", [{"key": 3}], "type"),
                          ("not_json", [{"key": "a", "x": object()}], "type"),
                          ("None", None, "type")],
              "key": [("int", 3, "type"), ("empty", "", "type")]},
             {"path": ("path", "results path"), "records": ("records",)}),
        Spec("files.read_records", files.read_records, {"path": RESULTS},
             {"path": bad_path() + [("folder", TMP, "value")],
              "key": [("int", 3, "type"), ("None", None, "type")]},
             {"path": ("path", "results path")}),
        Spec("files.check_writable", files.check_writable, {"path": RESULTS},
             {"path": bad_path() + [("folder", TMP, "value"),
                                    ("missing_folder", TMP / "no" / "r.jsonl", "value")]},
             {"path": ("path", "results path")}),
        Spec("files.is_complete", files.is_complete,
             {"record": {"key": "a"}, "required_fields": ["key"]},
             {"required_fields": [("one_string", "key", "type"), ("ints", [1], "type")]}),
    ]


def _hard_cases() -> list[Case]:
    """Numerically hard but valid inputs: solved right, or (where the answer is not
    representable) refused with a message that says why."""
    ref_die = maxent.solve_maxent(FACES, 4.5).p
    ref_fit = softmax.SoftmaxRegression().fit(X2, Y3).predict_proba(X2)
    out = []
    for s in (1e-300, 1e-12, 1e-6, 1e6, 1e15, 1e300):
        out.append(Case("maxent.solve_maxent", f"scale_{s:g}",
                        lambda s=s: maxent.solve_maxent(FACES * s, 4.5 * s).p, "ok",
                        check=lambda p: np.allclose(p, ref_die, atol=1e-9)))
    for off in (1e6, 1e12, 1e15):
        out.append(Case("maxent.solve_maxent", f"offset_{off:g}",
                        lambda off=off: maxent.solve_maxent(FACES + off, 4.5 + off).p, "ok",
                        check=lambda p: np.allclose(p, ref_die, atol=1e-9)))
    mixed = np.c_[FACES * 1e-9, (FACES % 2) * 1e9]  # columns at very different scales
    q = np.array([0.05, 0.1, 0.15, 0.2, 0.2, 0.3])
    out.append(Case("maxent.solve_maxent", "mixed_column_scales",
                    lambda: maxent.solve_maxent(mixed, mixed.T @ q), "ok",
                    check=lambda sol: np.allclose(sol.p @ mixed[:, 0] / 1e-9, q @ FACES,
                                                  atol=1e-9)
                    and np.allclose(sol.p @ mixed[:, 1] / 1e9, q @ (FACES % 2), atol=1e-9)
                    and np.isclose(sol.entropy, maxent.solve_maxent(
                        np.c_[FACES, FACES % 2], np.c_[FACES, FACES % 2].T @ q).entropy)))
    for lam in (50.0, 1e5, 1e300):
        out.append(Case("maxent.gibbs", f"large_lambda_{lam:g}",
                        lambda lam=lam: maxent.gibbs(FACES, [lam]), "ok",
                        check=lambda r, lam=lam: np.isclose(r[0].sum(), 1.0)
                        and r[0][-1] > 0.99 and np.isclose(r[1], 6 * lam, rtol=1e-12)))
        out.append(Case("maxent.dual", f"large_lambda_{lam:g}",
                        lambda lam=lam: maxent.dual(FACES, 4.5, [lam]), "ok",
                        check=lambda r, lam=lam: np.isclose(r[0], 1.5 * lam, rtol=1e-12)
                        and np.isclose(r[1][0], 1.5)))
    out.append(Case("maxent.gibbs", "scores_overflow", lambda: maxent.gibbs(FACES, [1e308]),
                    "value", ("lambda", "lambdas")))
    for s in (1e-150, 1e-12, 1e12, 1e150):
        out.append(Case("softmax.SoftmaxRegression.fit", f"feature_scale_{s:g}",
                        lambda s=s: softmax.SoftmaxRegression().fit(X2 * s, Y3)
                        .predict_proba(X2 * s), "ok",
                        check=lambda p: np.allclose(p, ref_fit, atol=1e-7)))
    for a in (1e12, 1e100):  # a huge penalty: the weights vanish, the biases still fit
        freq = np.bincount(Y3) / len(Y3)
        out.append(Case("softmax.SoftmaxRegression.fit", f"alpha_{a:g}",
                        lambda a=a: softmax.SoftmaxRegression(alpha=a).fit(X2, Y3)
                        .predict_proba(X2), "ok",
                        check=lambda p, f=freq: np.allclose(p, f, atol=1e-6)))
    out.append(Case("softmax.softmax", "large_scores", lambda: softmax.softmax([[1e300, 0.0]]),
                    "ok", check=lambda p: np.allclose(p, [[1.0, 0.0]])))
    out.append(Case("softmax.mean_cross_entropy", "zero_probability_of_true_label_is_inf",
                    lambda: softmax.mean_cross_entropy([[1.0, 0.0]], [1]), "ok",
                    check=lambda v: v == np.inf, allow_inf=True))
    out.append(Case("info.kl_divergence", "q_zero_where_p_positive_is_inf",
                    lambda: info.kl_divergence([0.5, 0.5], [1.0, 0.0]), "ok",
                    check=lambda v: v == np.inf, allow_inf=True))
    out.append(Case("info.entropy", "tiny_probabilities",
                    lambda: info.entropy([1 - 2e-300, 1e-300, 1e-300]), "ok",
                    check=lambda h: 0 <= h < 1e-290))
    out.append(Case("data.SyntheticTask.posterior", "far_points_1e3",
                    lambda: TASK.posterior(X2[:, :2] * 1e3), "ok",
                    check=lambda p: np.allclose(p.sum(1), 1.0)))
    out.append(Case("data.CirclesTask.log_joint", "far_points_are_finite",
                    lambda: CIRCLES.posterior(np.array([[100.0, 0.0]])), "ok",
                    check=lambda p: p[0, 1] > 0.999))
    out.append(Case("metrics.stacked_metrics", "float32_log_probs",
                    lambda: metrics.stacked_metrics(LP.float(), YT), "ok",
                    check=lambda r: 0 <= r["acc"].min() <= 1))
    out.append(Case("softmax.SoftmaxRegression.predict_proba", "not_fitted",
                    lambda: softmax.SoftmaxRegression().predict_proba(X2), "value", ("fit",)))
    out.append(Case("softmax.SoftmaxRegression.fit", "labels_bounded_with_n_classes_None",
                    lambda: softmax.SoftmaxRegression().fit(X2, _poke(Y3, 10**6).astype(int)),
                    "value", ("y", "classes")))
    return out


# ------------------------------------------------------------------------------ training modules

def _ens() -> Any:
    return importlib.import_module("maxent_lib.ablation")


def _abl() -> Any:
    return importlib.import_module("maxent_lib.ablation")


XF = torch.as_tensor(X2, dtype=torch.float32)  # 40 rows, 3 inputs
SMALL = (X2[:30], Y3[:30], X2[30:], Y3[30:])  # a tiny data set of 3 classes


def _net(m: int = 2, **kw: Any) -> Any:
    return _ens().StackedNet("mlp", 3, 3, 4, 1, list(range(m)), **kw)


def _settings(**kw: Any) -> Any:
    return _ens().TrainSettings(**{"epochs": 1, "batch_size": 8, **kw})


def _with_flag(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(on: Any) -> bool:
        with fn(on):
            return True
    return call


def _bad_seed_lists() -> list[tuple]:
    return [("None", None, "type"), ("int", 3, "type"), ("text", "01", "type"),
            ("float_seed", [0, 1.5], "type"), ("bool_seed", [0, True], "type"),
            ("negative", [0, -1], "value"), ("empty", [], "value"),
            ("too_large", [2**63], "value"), ("two_dims", np.zeros((2, 2), int), "value")]


def _bad_inputs_tensor(valid: torch.Tensor) -> list[tuple]:
    return bad_tensor(valid) + [("wrong_columns", valid[..., :2], "value"),
                                ("other_dtype", valid.double(), "type")]


def _bad_label_vec(valid: torch.Tensor, k: int) -> list[tuple]:
    return bad_label_tensor(valid, k) + [("None", None, "type"), ("list", valid.tolist(), "type")]


def _config_cases() -> list[Case]:
    """canonical_config: every key given a value of the wrong type or out of range."""
    bad: dict[str, list[tuple]] = {
        "kind": [("int", 3, "type"), ("None", None, "type"), ("unknown", "rnn", "value")],
        "init": [("int", 3, "type"), ("unknown", "xavier", "value")],
        "lr_schedule": [("list", ["cosine"], "type"), ("unknown", "step", "value")],
        "width": bad_int(1, 65_536), "depth": bad_int(1, 1_024), "epochs": bad_int(1, 10**6),
        "batch_size": bad_int(1), "n_val": bad_int(1), "n_train": _not_none(bad_int(2)),
        "seed": bad_seed(), "shortcut": bad_flag(), "early_stopping": bad_flag(),
        "lr": bad_number(0.0) + [("zero", 0.0, "value")],
        "weight_decay": bad_number(0.0) + [("lr_times_wd_1", 1e3, "value")],
        "dropout": bad_number(0.0, 1.0) + [("one", 1.0, "value")],
        "label_smoothing": bad_number(0.0, 1.0) + [("one", 1.0, "value")],
        "confidence_penalty": bad_number(0.0),
        "arm": [("int", 3, "type"), ("None", None, "type")], "profile": [("int", 3, "type")],
    }
    out = []
    for key, battery in bad.items():
        for label, value, expect in battery:
            out.append(Case("ablation.canonical_config", f"{key}={label}",
                            lambda k=key, v=value: _abl().canonical_config({k: v}, 1000),
                            expect, (key,)))
    return out


def _training_specs() -> list[Spec]:
    E, A = _ens(), _abl()
    logits = torch.randn(2, 5, 3, generator=torch.Generator().manual_seed(0))
    y2 = torch.as_tensor(Y3[:10].reshape(2, 5))
    y2_neg, y2_big = y2.clone(), y2.clone()
    y2_neg[0, 0], y2_big[0, 0] = -1, 3
    eps, beta = torch.tensor([0.0, 0.1]), torch.tensor([0.0, 0.2])
    trainer = E.StackedTrainer(_net(), XF, YT, _settings())
    prepared = A.prepare_dataset(SMALL)
    cfg = {"width": 4, "depth": 1, "epochs": 1, "batch_size": 8, "n_val": 5}
    group = [A.canonical_config({**cfg, "seed": s}, 30) for s in (0, 1)]
    small = list(SMALL)

    def data_with(i: int, value: Any) -> tuple:
        d = list(small)
        d[i] = value
        return tuple(d)

    bad_idx = torch.zeros(2, 4, dtype=torch.long)
    return [
        # ---- ensemble
        Spec("ensemble.stream_seed", E.stream_seed, {"seed": 3, "stream": 1},
             {"seed": bad_seed(), "stream": bad_int(0, 2**32 - 1)}),
        Spec("ensemble.StackedNet", E.StackedNet,
             {"kind": "mlp", "in_dim": 3, "n_classes": 3, "width": 4, "depth": 2,
              "seeds": [0, 1], "shortcut": [False, True], "dropout": 0.0, "init": "he",
              "dtype": torch.float32, "device": None},
             {"kind": [("int", 3, "type"), ("None", None, "type"), ("unknown", "rnn", "value")],
              "in_dim": bad_int(1, 10**6), "n_classes": bad_int(2, _checks.MAX_CLASSES),
              "width": bad_int(1, 65_536), "depth": bad_int(1, 1_024),
              "seeds": _bad_seed_lists(),
              "shortcut": [("string_False", "False", "type"), ("None", None, "type"),
                           ("complex", 1j, "type"), ("half", 0.5, "value"),
                           ("nan", float("nan"), "value"), ("wrong_length", [0, 1, 0], "value"),
                           ("strings", ["False", "True"], "type")],
              "dropout": [b for b in bad_number(0.0, 1.0) if b[0] != "list"]
              + [("one", 1.0, "value"), ("wrong_length", [0.1, 0.2, 0.3], "value")],
              "init": [("int", 3, "type"), ("None", None, "type"), ("unknown", "xavier", "value"),
                       ("wrong_length", ["he"], "value"), ("list_with_int", ["he", 3], "type")],
              "dtype": [("int_dtype", torch.int64, "type"), ("text", "float32", "type"),
                        ("None", None, "type")],
              "device": [("int", 3, "type"), ("unknown", "tpu", "value"),
                         ("absent_gpu", "cuda:7", "value")]}),
        Spec("ensemble.StackedNet(size)", lambda **kw: E.StackedNet("mlp", 3, 3, **kw),
             {"width": 4, "depth": 2, "seeds": [0]},
             {"width": [("too_many_parameters", 65_536, "value")]},
             {"width": ("parameters", "width")}),
        Spec("ensemble.StackedNet.forward", lambda **kw: _net()(**kw),
             {"x": XF, "return_features": True},
             {"x": _bad_inputs_tensor(XF) + [("wrong_models", XF.expand(3, -1, -1), "value")],
              "return_features": bad_flag()}),
        Spec("ensemble.stacked_loss", E.stacked_loss,
             {"logits": logits, "y": y2, "label_smoothing": eps, "confidence_penalty": beta},
             {"logits": bad_tensor(logits), "y": [
                 ("numpy_array", y2.numpy(), "type"), ("float_tensor", y2.double(), "type"),
                 ("negative", y2_neg, "value"), ("label_K", y2_big, "value"),
                 ("one_dim", y2[0], "value"), ("short", y2[:, :4], "value")],
              "label_smoothing": [("list", [0.0, 0.1], "type"), ("one", torch.tensor([1.0]),
                                                                   "value"),
                                  ("nan", torch.tensor([float("nan")]), "value"),
                                  ("three", torch.zeros(3), "value")],
              "confidence_penalty": [("float", 0.2, "type"),
                                     ("inf", torch.tensor([float("inf")]), "value")]},
             {"y": ("y",)}),
        Spec("ensemble.TrainSettings", E.TrainSettings,
             {"epochs": 1, "batch_size": 8, "lr": 1e-3, "weight_decay": [0.0, 0.1],
              "label_smoothing": 0.0, "confidence_penalty": 0.0, "mode": "eager",
              "tf32": False, "lr_schedule": "cosine"},
             {"epochs": bad_int(1, 10**6), "batch_size": bad_int(1, 10**8),
              "lr": bad_number(0.0) + [("zero", 0.0, "value")],
              "weight_decay": [b for b in bad_number(0.0) if b[0] != "list"]
              + [("two_dims", [[0.1]], "value"), ("strings", ["0.1"], "type")],
              "label_smoothing": [b for b in bad_number(0.0, 1.0) if b[0] != "list"]
              + [("one", 1.0, "value")],
              "confidence_penalty": [b for b in bad_number() if b[0] != "list"],
              "mode": [("int", 3, "type"), ("unknown", "fast", "value")],
              "tf32": bad_flag(),
              "lr_schedule": [("None", None, "type"), ("unknown", "step", "value")]}),
        Spec("ensemble.lr_at", E.lr_at, {"settings": _settings(lr_schedule="cosine"),
                                         "step": 3, "total_steps": 10},
             {"settings": [("None", None, "type"), ("dict", {"lr": 0.1}, "type")],
              "step": bad_int(0, 10), "total_steps": bad_int(1)},
             {"step": ("step", "total_steps")}),
        Spec("ensemble.batch_orders", lambda **kw: list(E.batch_orders(**kw)),
             {"seeds": [0, 1], "n": 10, "epochs": 2},
             {"seeds": _bad_seed_lists(), "n": bad_int(1), "epochs": bad_int(1)}),
        Spec("ensemble.tf32_enabled", _with_flag(E.tf32_enabled), {"on": False},
             {"on": bad_flag()}),
        Spec("ensemble.StackedTrainer", E.StackedTrainer,
             {"model": _net(), "X": XF, "y": YT, "settings": _settings()},
             {"model": [("None", None, "type"), ("module", torch.nn.Linear(3, 3), "type")],
              "X": _bad_inputs_tensor(XF),
              "y": _bad_label_vec(YT, 3) + [("other_length", YT[:-5], "value")],
              "settings": [("None", None, "type"), ("dict", {"epochs": 1}, "type")]},
             {"y": ("y", "X")}),
        Spec("ensemble.StackedTrainer.set_lr", trainer.set_lr, {"lr": 1e-3},
             {"lr": bad_number(0.0)}),
        Spec("ensemble.StackedTrainer.step", trainer.step, {"idx": bad_idx},
             {"idx": [("numpy", bad_idx.numpy(), "type"), ("float", bad_idx.double(), "type"),
                      ("negative", bad_idx - 1, "value"), ("beyond_rows", bad_idx + 40, "value"),
                      ("one_dim", bad_idx[0], "value"), ("three_models", bad_idx[[0, 0, 0]],
                                                         "value"),
                      ("empty", bad_idx[:, :0], "value")]}),
        Spec("ensemble.train", lambda **kw: E.train(**{"model": _net(), **kw}),
             {"X_train": XF, "y_train": YT, "settings": _settings(), "on_epoch": None,
              "subsets": None},
             {"model": [("None", None, "type"), ("module", torch.nn.Linear(3, 3), "type")],
              "X_train": _bad_inputs_tensor(XF),
              "y_train": _bad_label_vec(YT, 3) + [("other_length", YT[:-5], "value")],
              "settings": [("None", None, "type"), ("dict", {"epochs": 1}, "type")],
              "on_epoch": [("int", 3, "type"), ("text", "print", "type")],
              "subsets": [("float", np.zeros((2, 5)), "type"), ("bool", np.ones((2, 5), bool),
                                                               "type"),
                          ("text", "all", "type"), ("wrong_models", np.zeros((3, 5), int),
                                                    "value"),
                          ("beyond_rows", np.full((2, 5), 40), "value"),
                          ("negative", np.full((2, 5), -1), "value"),
                          ("empty", np.zeros((2, 0), int), "value")]},
             {"y_train": ("y_train", "X_train")}),
        Spec("ensemble.predict_log_proba", lambda **kw: E.predict_log_proba(_net(), **kw),
             {"X": XF, "chunk": 16},
             {"X": _bad_inputs_tensor(XF) + [("wrong_models", XF.expand(3, -1, -1), "value")],
              "chunk": bad_int(1)}),
        Spec("ensemble.predict_log_proba(model)", E.predict_log_proba,
             {"model": _net(), "X": XF},
             {"model": [("None", None, "type"), ("module", torch.nn.Linear(3, 3), "type")]}),
        Spec("ensemble.features", lambda **kw: E.features(**{"model": _net(), **kw}),
             {"X": XF, "chunk": 16},
             {"model": [("None", None, "type"), ("module", torch.nn.Linear(3, 3), "type")],
              "X": _bad_inputs_tensor(XF), "chunk": bad_int(1)}),
        Spec("ensemble.flops_per_model_step", E.flops_per_model_step,
             {"kind": "mlp", "in_dim": 3, "n_classes": 3, "width": 4, "depth": 2,
              "batch_size": 8},
             {"kind": [("int", 3, "type"), ("unknown", "rnn", "value")],
              "in_dim": bad_int(1, 10**6), "n_classes": bad_int(2, _checks.MAX_CLASSES),
              "width": bad_int(1, 65_536), "depth": bad_int(1, 1_024),
              "batch_size": bad_int(1)}),
        # ---- ablation: configs, data, training a group
        Spec("ablation.canonical_config", A.canonical_config,
             {"config": {"width": 8, "seed": 3}, "n_available": 500},
             {"config": [("None", None, "type"), ("list", [("width", 8)], "type"),
                         ("text", "width=8", "type"), ("unknown_key", {"widht": 8}, "value"),
                         ("n_val_too_large", {"n_val": 500}, "value"),
                         ("n_train_too_large", {"n_train": 200}, "value")],
              "n_available": _not_none(bad_int(2))},
             {"config": ("config", "widht", "n_val", "n_train")}),
        Spec("ablation.config_key", A.config_key,
             {"config": group[0], "dataset_id": "arrays:abc"},
             {"config": [("None", None, "type"), ("list", [1], "type"),
                         ("not_json", {"x": object()}, "type"),
                         ("nan", {"x": float("nan")}, "value")],
              "dataset_id": [("None", None, "type"), ("int", 3, "type")]}),
        Spec("ablation.prepare_dataset", A.prepare_dataset, {"dataset": SMALL},
             {"dataset": [
                 ("None", None, "type"), ("int", 3, "type"), ("unknown_name", "nope", "value"),
                 ("three_arrays", SMALL[:3], "type"),
                 ("X_train_nan", data_with(0, _poke(X2[:30], np.nan)), "value"),
                 ("X_train_text", data_with(0, X2[:30].astype(str)), "type"),
                 ("X_train_1e200", data_with(0, X2[:30] * 1e200), "value"),
                 ("X_test_columns", data_with(2, X2[30:, :2]), "value"),
                 ("y_train_1e6", data_with(1, _poke(Y3[:30], 10**6)), "value"),
                 ("y_train_float", data_with(1, Y3[:30] + 0.5), "value"),
                 ("y_train_short", data_with(1, Y3[:29]), "value"),
                 ("one_class", (X2[:30], np.zeros(30, int), X2[30:], np.zeros(10, int)),
                  "value")]},
             {"dataset": ("dataset", "data set", "X_train", "X_test", "y_train", "labels",
                          "class")}),
        Spec("ablation.data_split", A.data_split,
             {"seed": 0, "n_pool": 100, "n_train": 50, "n_val": 20},
             {"seed": bad_seed(), "n_pool": bad_int(2), "n_train": bad_int(1)
              + [("too_many", 90, "value")], "n_val": bad_int(1)},
             {"n_train": ("n_train",)}),
        Spec("ablation.eval_epochs", A.eval_epochs, {"epochs": 45}, {"epochs": bad_int(1, 10**6)}),
        Spec("ablation.late_gain", A.late_gain,
             {"curve": [0.5, 0.6, 0.7], "epochs_at": [2, 4, 5], "epochs": 5},
             {"curve": bad_array([0.5, 0.6, 0.7]) + [("short", [0.5, 0.6], "value")],
              "epochs_at": [("decreasing", [5, 4, 2], "value"), ("fractional", [2, 4.5, 5],
                                                                  "value"),
                            ("text", "245", "type")],
              "epochs": bad_int(1)},
             {"curve": ("curve", "epochs_at")}),
        Spec("ablation.fit_group", A.fit_group,
             {"configs": group, "data": prepared, "device": "cpu", "fast": False,
              "threads": 1},
             {"configs": [("None", None, "type"), ("dict", group[0], "type"),
                          ("empty", [], "value"), ("ints", [3], "type"),
                          ("string_width", [{**cfg, "width": "8"}], "type"),
                          ("shapes_differ", [group[0], {**group[1], "width": 8}], "value"),
                          ("n_train_beyond_pool", [{**cfg, "n_train": 40}], "value")],
              "data": [("None", None, "type"), ("tuple", SMALL, "type")],
              "device": [("int", 3, "type"), ("unknown", "tpu", "value")],
              "fast": bad_flag(), "threads": _not_none(bad_int(1, 1024))},
             {"configs": ("configs", "config", "width", "n_train", "group")}),
        Spec("ablation.train_group", A.train_group,
             {"configs": group, "data": prepared, "device": "cpu"},
             {"configs": [("dict", group[0], "type"), ("empty", [], "value")],
              "data": [("None", None, "type")], "device": [("unknown", "tpu", "value")]}),
    ]


def _poisoned(model_index: int) -> Callable[..., Any]:
    """ensemble.train, after which one model of the stack has NaN parameters (a divergence)."""
    E = _ens()
    real = E.train

    def train(model: Any, *args: Any, **kw: Any) -> Any:
        with torch.no_grad():
            model.params[0][model_index] = float("nan")
        return real(model, *args, **kw)
    return train


def _one_model_diverges() -> tuple[bool, ...]:
    """Model 1 of a stack diverges: model 0 trains exactly as it does alone."""
    E = _ens()
    stack, alone = _net(2), _net(1)
    with torch.no_grad():
        stack.params[0][1] = float("nan")
    with warnings.catch_warnings(record=True) as caught, _abl().torch_threads(1):
        warnings.simplefilter("always")
        E.train(stack, XF, YT, _settings(epochs=2))
        E.train(alone, XF, YT, _settings(epochs=2))
    same = all(torch.equal(p[0], q[0]) for p, q in zip(stack.params, alone.params, strict=True))
    return (same, not bool(torch.isfinite(stack.params[0][1]).any()),
            any(issubclass(w.category, E.DivergenceWarning) for w in caught))


def _diverged_group() -> list[dict[str, Any]]:
    A = _abl()
    E = _ens()
    real = E.train
    cfg = {"width": 4, "depth": 1, "epochs": 2, "batch_size": 8, "n_val": 5}
    configs = [A.canonical_config({**cfg, "seed": s}, 30) for s in (0, 1)]
    clean = A.fit_group(configs[:1], A.prepare_dataset(SMALL), "cpu").records
    E.train = _poisoned(1)
    try:
        records = A.fit_group(configs, A.prepare_dataset(SMALL), "cpu").records
    finally:
        E.train = real
    return [clean[0], *records]


def _training_hard_cases() -> list[Case]:
    A = _abl()
    metric_fields = ("train_acc", "test_acc", "test_loss", "test_loss_calibrated", "temperature",
                     "gen_gap", "loss_gap", "test_ece")
    same_fields = ("train_acc", "val_acc", "test_acc", "test_loss", "test_loss_calibrated",
                   "val_acc_curve", "temperature")
    cfg = {"width": 4, "depth": 1, "epochs": 2, "batch_size": 8, "n_val": 5, "lr": 1e30}
    return [
        Case("ensemble.train", "one_model_diverges_the_other_is_unchanged", _one_model_diverges,
             "ok", check=lambda r: all(r)),
        Case("ablation.fit_group", "one_model_diverged_recorded_the_other_unchanged",
             _diverged_group, "ok",
             check=lambda r: all(r[0][k] == r[1][k] for k in same_fields)
             and r[2]["diverged"] and not r[2]["trained"] and not r[1]["diverged"]
             and all(r[2][k] is None for k in metric_fields)),
        Case("ablation.fit_group", "lr_1e30_every_model_diverges_no_nan",
             lambda: A.fit_group([A.canonical_config({**cfg, "seed": s}, 30) for s in (0, 1)],
                                 A.prepare_dataset(SMALL), "cpu").records, "ok",
             check=lambda rs: all(r["diverged"] and r["test_acc"] is None
                                  and r["diverged_epoch"] == 1 for r in rs)),
        Case("ablation.prepare_dataset", "X_scale_1e100_standardised",
             lambda: A.prepare_dataset((X2[:30] * 1e100, Y3[:30], X2[30:] * 1e100,
                                        Y3[30:])).X_train, "ok",
             check=lambda x: np.allclose(x, A.prepare_dataset(SMALL).X_train, atol=1e-5)),
    ]


def _clm() -> Any:
    return importlib.import_module("maxent_lib.claims")


def _exe() -> Any:
    return importlib.import_module("maxent_lib.ablation.executors")


def _records(metric: float = 0.6) -> list[dict[str, Any]]:
    """Four run_grid-like records: arms plain and res, seeds 0 and 1."""
    base = {"kind": "mlp", "depth": 3, "dataset": "d", "profile": "quick", "n_classes": 10,
            "train_acc": 0.95, "trained": True, "late_gain": 0.001}
    return [{**base, "arm": arm, "seed": s, "key": f"k{arm}{s}",
             "test_acc": metric + 0.01 * s + (0.02 if arm == "res" else 0.0)}
            for arm in ("plain", "res") for s in (0, 1)]


def _shortcut_like(seeds: int = 3) -> list[dict[str, Any]]:
    out = []
    for depth in (2, 4):
        for s in range(seeds):
            common = {"kind": "mlp", "depth": depth, "seed": s, "dataset": "d", "width": 8,
                      "init": "he", "profile": "quick", "n_classes": 10, "train_acc": 0.95}
            out.append({**common, "arm": "plain", "shortcut": False, "test_acc": 0.6 + s / 100})
            out.append({**common, "arm": "residual", "shortcut": True,
                        "test_acc": 0.62 + s / 100 + depth / 1000})
    return out


def _regularization_like() -> list[dict[str, Any]]:
    return [{"arm": arm, "n_train": n, "seed": s, "dataset": "d", "profile": "quick",
             "n_classes": 10, "train_acc": 0.95, "test_acc": 0.6 + s / 100,
             "test_loss_calibrated": 1.0, "test_entropy": 0.5, "gen_gap": 0.3}
            for arm in ("baseline", "weight decay 0.5") for n in (250, 1000) for s in range(3)]


def _with_ctx(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(**kw: Any) -> bool:
        with fn(**kw):
            return True
    return call


def _cli(*argv: str) -> int:
    """The CLI's answer to ``argv``: its return value, or, where it exits with an error
    (status 1 or 2, a message and no traceback), ValueError(message)."""
    import contextlib
    import io

    from maxent_lib.__main__ import main

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            return main(list(argv))
    except SystemExit as exc:
        text = err.getvalue()
        if exc.code in (1, 2) and "Traceback" not in text and "error:" in text:
            raise ValueError(text.strip().splitlines()[-1]) from None
        raise AssertionError(f"exit status {exc.code}: {text}") from None


def _cli_tiny(*argv: str) -> int:
    A = _abl()
    A.GRIDS["badinput_tiny"] = lambda profile=None: [
        {"width": 4, "depth": 1, "epochs": 1, "batch_size": 32, "seed": s, "arm": "a"}
        for s in (0, 1)]
    A.GRID_SUMMARY["badinput_tiny"] = ("arm",)
    try:
        return _cli(*argv)
    finally:
        del A.GRIDS["badinput_tiny"], A.GRID_SUMMARY["badinput_tiny"]


def _cli_cases() -> list[Case]:
    out_ok = str(TMP / "cli.jsonl")
    base = ["ablate", "--grid", "badinput_tiny", "--dataset", "gaussians", "--device", "cpu",
            "--no-progress"]
    rows = [
        ("valid_call", [*base, "--out", out_ok], "ok", ()),
        ("grid=unknown", ["ablate", "--grid", "nope", "--out", out_ok], "value", ("grid",)),
        ("profile=unknown", [*base, "--profile", "huge", "--out", out_ok], "value",
         ("profile",)),
        ("device=unknown", [*base[:-3], "--device", "tpu", "--out", out_ok], "value",
         ("device",)),
        ("limit=0", [*base, "--limit", "0", "--out", out_ok], "value", ("--limit",)),
        ("limit=text", [*base, "--limit", "ten", "--out", out_ok], "value", ("--limit",)),
        ("workers=local", [*base, "--workers", "2", "--out", out_ok], "value", ("--workers",)),
        ("executor=unknown", [*base, "--executor", "dask", "--out", out_ok], "value",
         ("--executor",)),
        ("out=folder", [*base, "--out", str(TMP)], "value", ("results path",)),
        ("out=missing_folder", [*base, "--out", str(TMP / "no" / "r.jsonl")], "value",
         ("results path", "folder")),
        ("out=empty", [*base, "--out", ""], "value", ("path",)),
        ("dataset=unknown", [*base[:4], "nope", *base[5:], "--out", out_ok], "value",
         ("data set",)),
    ]
    return [Case("__main__.main", label, lambda a=argv: _cli_tiny(*a), expect, names,
                 check=(lambda r: r == 0) if expect == "ok" else None)
            for label, argv, expect, names in rows]


def _only_bad(target: str, fn: Callable[..., Any], valid: dict[str, Any],
              bad: dict[str, list[tuple]], names: dict[str, tuple[str, ...]] | None = None
              ) -> list[Case]:
    """A Spec's bad-input cases without its valid call (for calls too slow for the suite or that
    need Ray running; their valid calls are tested in the module's own tests)."""
    return [c for c in Spec(target, fn, valid, bad, names or {}).cases()
            if c.label != "valid_call"]


def _summary_specs() -> list[Spec]:
    A, C, X = _abl(), _clm(), _exe()
    recs = _records()
    gaps_data = data.shared_covariance_gaussians(n_classes=3, dim=4, seed=1).split(200, 100,
                                                                                     seed=0)
    fitted = A.fit_group([A.canonical_config({"width": 4, "depth": 2, "epochs": 1,
                                              "batch_size": 32, "n_train": 60, "n_val": 20,
                                              "seed": s}, 200) for s in (0, 1)],
                         A.prepare_dataset(gaps_data.as_tuple()), "cpu")
    quick_probe = {"width": 4, "max_epochs": 2, "patience": 1}
    prov_bad = TMP / "bad_provenance.json"
    prov_bad.write_text("[1, 2]")
    (TMP / "bad_provenance_provenance.json").write_text("[1, 2]")
    (TMP / "torn_provenance.json").write_text('{"code_hash": ')
    claim5 = C.claim("C5")
    fam = C.paired_family(_shortcut_like(), claim5, "arm", "plain", ["residual"], ["depth"],
                          "quick")
    res = fam.judge()
    gaps = [[{"total_gap": 0.5}, {"total_gap": 0.3 + 0.01 * s}] for s in range(3)]
    checks = [C.Check("C2", "x", 2, 0.001, 0.0, 0.002, True)]
    pvals = [0.01, 0.2, 0.03]
    interval_bad = [b for b in bad_number() if b[0] != "nan"] + [("nan", float("nan"), "value")]
    groups = [[{"width": 8}, {"width": 8}], [{"width": 16}]]
    rec_bad = [
        ("None", None, "type"), ("text", "abc", "type"), ("dict", recs[0], "type"),
        ("ints", [3], "type"), ("metric_text", [dict(r, test_acc="0.6") for r in recs], "type"),
        ("metric_nan", [dict(r, test_acc=float("nan")) for r in recs], "value"),
        ("metric_bool", [dict(r, test_acc=True) for r in recs], "type"),
        ("metric_None_not_diverged", [dict(r, test_acc=None) for r in recs], "value"),
        ("lacking_the_metric", [{k: v for k, v in r.items() if k != "test_acc"}
                                for r in recs], "value"),
        ("unhashable_field", [dict(r, arm=["plain"]) for r in recs], "type")]
    rec_names = ("records", "test_acc", "arm", "record")
    return [
        # ---- ablation: files, threads, held-out gaps, provenance
        Spec("ablation.load_results", A.load_results, {"path": RESULTS},
             {"path": bad_path() + [("folder", TMP, "value")]},
             {"path": ("path", "results path")}),
        Spec("ablation.append_results", A.append_results,
             {"path": TMP / "appended.jsonl", "records": [{"key": "a", "x": 1}]},
             {"path": bad_path() + [("folder", TMP, "value")],
              "records": [("dict", {"key": "a"}, "type"), ("ints", [3], "type"),
                          ("None", None, "type")]},
             {"path": ("path", "results path")}),
        Spec("ablation.check_writable", A.check_writable, {"path": RESULTS},
             {"path": bad_path() + [("folder", TMP, "value")]},
             {"path": ("path", "results path")}),
        Spec("ablation.torch_threads", _with_ctx(A.torch_threads), {"n": 1},
             {"n": _not_none(bad_int(1, 1024))}, {"n": ("threads (n)",)}),
        Spec("ablation.unseen_rows", A.unseen_rows, {"result": fitted, "i": 0},
             {"result": [("None", None, "type"), ("records", fitted.records, "type")],
              "i": bad_int(0, 1)}),
        Spec("ablation.at_initialisation", A.at_initialisation, {"result": fitted},
             {"result": [("None", None, "type"), ("records", fitted.records, "type")]}),
        Spec("ablation.heldout_layer_gaps", A.heldout_layer_gaps,
             {"result": fitted, "i": 0, "layers": [1, 2], "include_input": False,
              "n_splits": 2, "alpha": 1e-2, "seed": 0, "probe": quick_probe},
             {"result": [("None", None, "type")], "i": bad_int(0, 1),
              "layers": [("None", None, "type"), ("text", "1", "type"), ("zero", [0], "value"),
                         ("beyond_depth", [3], "value"), ("empty", [], "value"),
                         ("float", [1.5], "type")],
              "include_input": bad_flag(), "n_splits": bad_int(2, 1000),
              "alpha": _bad_penalties(), "seed": bad_seed(),
              "probe": [("list", [4], "type"), ("unknown_setting", {"depth": 2}, "value")]}),
        Spec("ablation.heldout_gaps", A.heldout_gaps,
             {"result": fitted, "models": [0], "layers": [2], "include_input": True,
              "n_splits": 2, "probe": quick_probe},
             {"result": [("None", None, "type"), ("records", fitted.records, "type")],
              "models": [("int", 0, "type"), ("empty", [], "value"), ("twice", [0, 0], "value"),
                         ("out_of_range", [2], "value"), ("float", [0.5], "type"),
                         ("different_unseen_rows", [0, 1], "value")],
              "layers": [("text", "2", "type"), ("beyond_depth", [3], "value")],
              "n_splits": bad_int(2, 1000)},
             {"models": ("models", "i", "model", "models 0 and 1")}),
        Spec("ablation.describe_device", A.describe_device, {"device": "cpu"},
             {"device": [("int", 3, "type"), ("None", None, "type"),
                         ("unknown", "tpu", "value")]}),
        Spec("ablation.provenance", A.provenance, {"command": "python x", "device": "cpu"},
             {"command": [("int", 3, "type"), ("list", ["python"], "type")],
              "device": [("int", 3, "type"), ("unknown", "tpu", "value")]}),
        Spec("ablation.provenance_path", A.provenance_path, {"results_path": RESULTS},
             {"results_path": bad_path()}),
        Spec("ablation.load_provenance", A.load_provenance, {"results_path": RESULTS},
             {"results_path": bad_path() + [("not_an_object", prov_bad, "value"),
                                            ("torn_json", TMP / "torn.jsonl", "value")]},
             {"results_path": ("results_path", "path", "provenance", "JSON")}),
        Spec("ablation.load_stored", A.load_stored, {"path": RESULTS},
             {"path": bad_path() + [("folder", TMP, "value")]},
             {"path": ("path", "results path")}),
        Spec("ablation.group_by_shape", A.group_by_shape,
             {"configs": [A.canonical_config({"seed": s}) for s in (0, 1)]},
             {"configs": [("None", None, "type"), ("dict", {"width": 8}, "type"),
                          ("ints", [3], "type"), ("not_canonical", [{"width": 8}], "value")]}),
        Spec("ablation.run_grid", A.run_grid,
             {"configs": [{"width": 4, "depth": 1, "epochs": 1, "batch_size": 8, "n_val": 5}],
              "dataset": SMALL, "device": "cpu", "sequential": False,
              "results_path": None, "progress": False, "fast": True, "threads": 1,
              "command": None, "executor": "local", "workers": None, "ray_address": None,
              "max_group_size": None},
             {"configs": [("None", None, "type"), ("dict", {"width": 4}, "type"),
                          ("text", "width", "type"), ("empty", [], "value"),
                          ("ints", [3], "type"), ("string_flag", [{"shortcut": "False"}], "type"),
                          ("float_seed", [{"seed": 1.5}], "type"),
                          ("string_width", [{"width": "8"}], "type"),
                          ("unknown_key", [{"widht": 8}], "value")],
              "dataset": [("None", None, "type"), ("int", 3, "type"),
                          ("unknown", "nope", "value"),
                          ("nan", (_poke(X2[:30], np.nan), *SMALL[1:]), "value")],
              "device": [("int", 3, "type"), ("unknown", "tpu", "value")],
              "sequential": bad_flag(), "progress": bad_flag(), "fast": bad_flag(),
              "results_path": _not_none(bad_path()) + [("folder", TMP, "value"),
                                                      ("missing_folder", TMP / "no" / "r.jsonl",
                                                       "value")],
              "threads": _not_none(bad_int(1, 1024)),
              "command": [("int", 3, "type")],
              "executor": [("int", 3, "type"), ("unknown", "dask", "value")],
              "workers": [("with_local", 2, "value"), ("text", "2", "type"), ("zero", 0, "value")],
              "ray_address": [("int", 3, "type"), ("empty", "", "value"),
                              ("with_local", "auto", "value")],
              "max_group_size": _not_none(bad_int(1))},
             {"configs": ("configs", "config", "shortcut", "seed", "width", "widht"),
              "dataset": ("dataset", "data set", "X_train"),
              "results_path": ("path", "results path"),
              "workers": ("workers",), "ray_address": ("address", "Ray address")}),
        *[Spec(f"ablation.{g}", getattr(A, g), {"profile": "quick"},
               {"profile": [("int", 3, "type"), ("unknown", "medium", "value")]})
          for g in ("shortcut_grid", "init_demo_grid", "regularization_grid")],
        # ---- ablation: summaries
        Spec("ablation.t_interval", A.t_interval, {"values": [0.5, 0.6, 0.7], "level": 0.95},
             {"values": bad_array([0.5, 0.6, 0.7]),
              "level": bad_number(0.0, 1.0) + [("zero", 0.0, "value"), ("one", 1.0, "value")]}),
        Spec("ablation.summarize", A.summarize,
             {"records": recs, "by": ["arm"], "metrics": ["test_acc"], "level": 0.95},
             {"records": rec_bad + [("empty", [], "value")],
              "by": [("one_string", "arm", "type"), ("ints", [3], "type"), ("None", None, "type"),
                     ("unknown_field", ["depth2"], "value")],
              "metrics": [("one_string", "test_acc", "type"), ("unknown", ["acc"], "value")],
              "level": bad_number(0.0, 1.0)},
             {"records": rec_names, "by": ("by", "depth2"), "metrics": ("metrics", "acc")}),
        Spec("ablation.did_not_train", A.did_not_train, {"record": recs[0]},
             {"record": [("None", None, "type"), ("text", "x", "type"), ("empty", {}, "value"),
                         ("trained_text", {"trained": "yes"}, "type"),
                         ("acc_text", {"train_acc": "0.5"}, "type"),
                         ("acc_above_one", {"train_acc": 1.5}, "value"),
                         ("one_class", {"train_acc": 0.5, "n_classes": 1}, "value")]},
             {"record": ("record", "trained", "train_acc", "n_classes")}),
        Spec("ablation.pairing_fields", A.pairing_fields, {"factor": "arm", "pair_on": ["seed"]},
             {"factor": [("int", 3, "type"), ("None", None, "type")],
              "pair_on": [("one_string", "seed", "type"), ("ints", [3], "type")]}),
        Spec("ablation.paired_effects", A.paired_effects,
             {"records": recs, "metric": "test_acc", "factor": "arm", "baseline": "plain",
              "within": ["depth"], "pair_on": ["seed"], "level": 0.95},
             {"records": rec_bad + [
                 ("no_baseline", [r for r in recs if r["arm"] == "res"], "value"),
                 ("duplicates", recs + recs[:1], "value"),
                 ("mixed_profiles", [dict(r, profile="full") if i == 0 else r
                                     for i, r in enumerate(recs)], "value")],
              "metric": [("int", 3, "type"), ("unknown", "acc", "value")],
              "factor": [("None", None, "type"), ("unknown", "color", "value")],
              "baseline": [("unhashable", ["plain"], "type"), ("absent", "none", "value")],
              "within": [("one_string", "depth", "type"), ("unknown", ["depth2"], "value")],
              "pair_on": [("one_string", "seed", "type")], "level": bad_number(0.0, 1.0)},
             {"records": (*rec_names, "baseline", "duplicate", "profiles"),
              "metric": ("metric", "acc"), "factor": ("factor", "color"),
              "baseline": ("baseline", "arm"), "within": ("within", "depth2")}),
        Spec("ablation.compare_records", A.compare_records,
             {"rerun": recs, "stored": recs, "metrics": ["test_acc"]},
             {"rerun": [("None", None, "type"), ("ints", [3], "type"),
                        ("no_key", [{"test_acc": 0.5}], "value"),
                        ("metric_text", [dict(recs[0], test_acc="x")], "type")],
              "stored": [("dict", recs[0], "type"), ("no_key", [{"test_acc": 0.5}], "value")],
              "metrics": [("one_string", "test_acc", "type"), ("unknown", ["acc"], "value")]},
             {"rerun": ("rerun", "test_acc"), "metrics": ("metrics", "acc")}),
        Spec("ablation.plateau_summary", A.plateau_summary, {"records": recs},
             {"records": [("None", None, "type"), ("ints", [3], "type"), ("empty", [], "value"),
                          ("no_late_gain", [{"train_acc": 0.9}], "value"),
                          ("gain_text", [dict(recs[0], late_gain="x")], "type"),
                          ("gain_nan", [dict(recs[0], late_gain=float("nan"))], "value")]},
             {"records": ("records", "late_gain")}),
        Spec("ablation.format_table", A.format_table, {"rows": recs, "columns": ["arm", "seed"]},
             {"rows": [("None", None, "type"), ("ints", [3], "type")],
              "columns": [("one_string", "arm", "type"), ("empty", [], "value"),
                          ("ints", [3], "type")]}),
        # ---- claims
        Spec("stats.FamilyResult.count", res.count, {"call": "up"},
             {"call": [("int", 3, "type"), ("unknown", "sideways", "value")]}),
        Spec("stats.one_sided_pvalues", C.one_sided_pvalues,
             {"values": [0.01, 0.02, 0.015], "margin": 0.005},
             {"values": bad_array([0.01, 0.02, 0.015]), "margin": bad_number(0.0)}),
        Spec("stats.holm", C.holm, {"pvalues": pvals, "alpha": 0.05},
             {"pvalues": [b for b in bad_array(pvals) if b[0] != "empty"]
              + [("above_one", [1.5, 0.2], "value"), ("negative", [-0.1, 0.2], "value")],
              "alpha": bad_number(0.0, 1.0) + [("zero", 0.0, "value"), ("one", 1.0, "value")]}),
        *[Spec(f"claims.{fn}", getattr(C, fn),
               {"effects": [[0.02, 0.03, 0.025], [0.0, 0.01, -0.01]], "direction": 1,
                "margin": 0.01, "alpha": 0.05},
               {"effects": [("None", None, "type"), ("text", "abc", "type"), ("int", 3, "type"),
                            ("empty", [], "value"), ("nan", [[0.1, float("nan")]], "value"),
                            ("strings", [["a", "b"]], "type"), ("bool", [[True, False]], "type"),
                            ("ragged_inner", [[[0.1], [0.2, 0.3]]], "value")],
                "direction": bad_int(-1, 1), "margin": bad_number(0.0),
                "alpha": bad_number(0.0, 1.0) + [("zero", 0.0, "value")]},
               {"effects": ("effects", "effects[0]")})
          for fn in ("family_tests", "family_verdict")],
        Spec("stats.family_tests(settings)", C.family_tests,
             {"effects": [[0.02, 0.03], [0.0, 0.01]], "direction": 1, "margin": 0.01,
              "settings": ["a", "b"]},
             {"settings": [("one_string", "ab", "type"), ("one_name", ["a"], "value")]}),
        Spec("stats.verdict", C.verdict, {"lo": 0.01, "hi": 0.03, "direction": 1, "margin": 0.0},
             {"lo": interval_bad + [("above_hi", 0.05, "value")], "hi": interval_bad,
              "direction": bad_int(-1, 1), "margin": bad_number(0.0)},
             {"lo": ("lo",), "hi": ("hi", "lo")}),
        Spec("claims.Claim", C.Claim,
             {"key": "X1", "lesson": "05", "statement": "s", "metric": "test_acc",
              "direction": 1, "margin": 0.01, "status": "empirical"},
             {"key": [("int", 3, "type")], "lesson": [("int", 5, "type")],
              "statement": [("None", None, "type")], "metric": [("None", None, "type")],
              "direction": bad_int(-1, 1), "margin": bad_number(0.0),
              "status": [("int", 3, "type"), ("unknown", "proved", "value")]}),
        Spec("claims.Family", C.Family, {"claim": claim5, "source": "quick"},
             {"claim": [("key", "C5", "type"), ("None", None, "type")],
              "source": [("int", 3, "type")], "settings": [("text", "ab", "type")]}),
        Spec("claims.Family.judge", fam.judge, {"alpha": 0.05},
             {"alpha": bad_number(0.0, 1.0) + [("zero", 0.0, "value")]}),
        Spec("claims.paired_family", C.paired_family,
             {"records": _shortcut_like(), "claim": claim5, "factor": "arm",
              "baseline": "plain", "treatments": ["residual"], "within": ["depth"],
              "source": "quick", "check_fit": True},
             {"records": [("None", None, "type"), ("ints", [3], "type"),
                          ("metric_text", [dict(r, test_acc="0.6") for r in _shortcut_like()],
                           "type")],
              "claim": [("key", "C5", "type")],
              "treatments": [("one_string", "residual", "type"), ("int", 3, "type")],
              "within": [("one_string", "depth", "type")], "source": [("int", 3, "type")],
              "check_fit": bad_flag()},
             {"records": ("records", "test_acc"), "claim": ("claim",)}),
        Spec("claims.interaction_values", C.interaction_values,
             {"records": _shortcut_like(), "metric": "test_acc", "factor": "arm",
              "baseline": "plain", "treatment": "residual", "along": "depth", "low": 2,
              "high": 4, "pair_on": ["seed"], "trained_only": True},
             {"records": [("None", None, "type"), ("dict", {"arm": "plain"}, "type"),
                          ("lacking_a_field", [{"arm": "plain"}], "value"),
                          ("metric_text", [dict(r, test_acc="0.6") for r in _shortcut_like()],
                           "type"),
                          ("duplicates", _shortcut_like() * 2, "value")],
              "metric": [("int", 3, "type")], "factor": [("None", None, "type")],
              "along": [("None", None, "type")], "low": [("absent", 3, "value")],
              "pair_on": [("one_string", "seed", "type")], "trained_only": bad_flag()},
             {"records": ("records", "test_acc", "field", "duplicate", "arm"),
              "low": ("depth", "seed")}),
        Spec("claims.claim", C.claim, {"key": "C5"},
             {"key": [("int", 5, "type"), ("unknown", "C99", "value")]}),
        Spec("claims.shortcut_families", C.shortcut_families,
             {"records": _shortcut_like(), "source": "quick"},
             {"records": [("None", None, "type"), ("empty", [], "value"),
                          ("lacking_fields", [{"kind": "mlp"}], "value"),
                          ("no_he_init", [dict(r, init="uniform") for r in _shortcut_like()],
                           "value")],
              "source": [("int", 3, "type")]},
             {"records": ("records", "init", "records[0]")}),
        Spec("claims.regularization_families", C.regularization_families,
             {"records": _regularization_like(), "source": "quick"},
             {"records": [("None", None, "type"), ("empty", [], "value"),
                          ("lacking_fields", [{"arm": "baseline"}], "value")],
              "source": [("int", 3, "type")]},
             {"records": ("records", "records[0]")}),
        Spec("claims.layer_gap_family", C.layer_gap_family,
             {"gaps_per_model": gaps, "source": "quick", "names": None, "baseline": None},
             {"gaps_per_model": [("None", None, "type"), ("empty", [], "value"),
                                 ("one_layer", [[{"total_gap": 0.1}]], "value"),
                                 ("nan_gap", [[{"total_gap": float("nan")},
                                               {"total_gap": 0.1}]], "value"),
                                 ("no_total_gap", [[{"x": 1}, {"x": 2}]], "value"),
                                 ("strings", ["ab"], "type")],
              "source": [("int", 3, "type")],
              "names": [("one_string", "XT", "type"), ("wrong_count", ["X"], "value")],
              "baseline": [("one_string", "XT", "type"), ("fewer_models", gaps[:1], "value"),
                           ("fewer_layers", [g[:1] for g in gaps], "value"),
                           ("nan_gap", [[{"total_gap": float("nan")} for _ in g] for g in gaps],
                            "value")]},
             {"gaps_per_model": ("gaps_per_model", "total_gap", "layers", "models"),
              "names": ("names",), "baseline": ("baseline",)}),
        Spec("claims.verdict_table", C.verdict_table,
             {"families": [fam], "alpha": 0.05, "claims": list(C.PAPER_CLAIMS),
              "theorem_checks": {"C2": "ok"}},
             {"families": [("None", None, "type"), ("ints", [3], "type")],
              "alpha": bad_number(0.0, 1.0), "claims": [("ints", [3], "type")],
              "theorem_checks": [("list", ["C1"], "type"), ("values_int", {"C1": 3}, "type")]}),
        Spec("claims.format_rows", C.format_rows, {"rows": recs, "columns": ["arm"]},
             {"rows": [("None", None, "type"), ("ints", [3], "type")],
              "columns": [("one_string", "arm", "type"), ("empty", [], "value")]}),
        Spec("claims.family_rows", C.family_rows, {"family": fam, "alpha": 0.05, "digits": 3},
             {"family": [("None", None, "type"), ("result", res, "type")],
              "alpha": bad_number(0.0, 1.0), "digits": bad_int(0, 15)}),
        Spec("claims.format_claims", C.format_claims, {"claims": list(C.PAPER_CLAIMS)},
             {"claims": [("None", None, "type"), ("ints", [3], "type"), ("text", "C1", "type")]}),
        Spec("claims.find_results_dir", C.find_results_dir, {"start": TMP},
             {"start": _not_none(bad_path())}),
        Spec("claims.load_grid", C.load_grid, {"results_dir": TMP, "grid": "shortcut"},
             {"results_dir": bad_path() + [("missing", TMP / "nowhere", "value")],
              "grid": [("int", 3, "type"), ("path", "../x", "value"), ("empty", "", "value")]},
             {"results_dir": ("results_dir", "results folder")}),
        Spec("claims.theorem_summary", C.theorem_summary, {"checks": checks},
             {"checks": [("None", None, "type"), ("ints", [3], "type"), ("text", "C1", "type")]}),
        # ---- executors
        Spec("executors.slice_groups", X.slice_groups, {"groups": groups, "max_group_size": 1},
             {"groups": [("None", None, "type"), ("text", "ab", "type"), ("ints", [3], "type"),
                         ("group_of_ints", [[3]], "type"), ("dict", {"a": 1}, "type")],
              "max_group_size": _not_none(bad_int(1))}),
        Spec("executors.group_cost", X.group_cost,
             {"group": groups[0], "in_dim": 40, "n_classes": 10},
             {"group": [("None", None, "type"), ("empty", [], "value"), ("ints", [3], "type"),
                        ("text", "abc", "type"), ("string_width", [{"width": "8"}], "type")],
              "in_dim": bad_int(1), "n_classes": bad_int(2)},
             {"group": ("group", "width")}),
        Spec("executors.check_executor", X.check_executor,
             {"executor": "local", "workers": None, "address": None, "max_group_size": None},
             {"executor": [("int", 3, "type"), ("None", None, "type"), ("unknown", "dask",
                                                                         "value")],
              "workers": [("with_local", 2, "value"), ("text", "2", "type"),
                          ("zero", 0, "value"), ("bool", True, "type")],
              "address": [("int", 3, "type"), ("empty", "", "value"),
                          ("with_local", "auto", "value")],
              "max_group_size": _not_none(bad_int(1))},
             {"workers": ("workers",), "address": ("address", "Ray address")}),
        Spec("executors.map_groups", lambda **kw: list(X.map_groups(**kw)),
             {"groups": groups, "train": _count_group, "executor": "local",
              "max_group_size": 1, "cpus_per_task": 1, "gpus_per_task": 0, "max_retries": 3,
              "cost": None},
             {"groups": [("None", None, "type"), ("text", "ab", "type"),
                         ("group_of_ints", [[3]], "type")],
              "train": [("None", None, "type"), ("int", 3, "type")],
              "executor": [("int", 3, "type"), ("unknown", "dask", "value")],
              "cpus_per_task": [("zero", 0, "value"), ("text", "1", "type"),
                                ("bool", True, "type"), ("inf", float("inf"), "value")],
              "gpus_per_task": [("negative", -1, "value"), ("text", "1", "type")],
              "max_group_size": [("zero", 0, "value"), ("float", 1.5, "type")],
              "cost": [("text", "x", "type")],
              "max_retries": [("negative", -1, "value"), ("float", 1.5, "type")]}),
    ]


def _count_group(group: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"n": len(group)}]


def _summary_cases() -> list[Case]:
    """Bad-input cases of calls whose valid run is too slow for this suite or needs Ray
    (tested in test_claims and test_executors), the CLI, and hard inputs of the summaries."""
    A, C, X = _abl(), _clm(), _exe()
    from scipy import stats as scipy_stats

    q = scipy_stats.t.ppf(0.975, 1)
    out = [
        *_only_bad("claims.remeasure_theorems", C.remeasure_theorems,
                   {"seeds": [0, 1], "n_population": 2000, "n_eval": 1000, "alpha": 0.01},
                   {"seeds": [("one_seed", [0], "value"), ("text", "01", "type"),
                              ("float", [0, 1.5], "type"), ("negative", [-1, 0], "value"),
                              ("None", None, "type")],
                    "n_population": bad_int(100, 10**8), "n_eval": bad_int(100, 10**8),
                    "alpha": bad_number(0.0) + [("zero", 0.0, "value")]},
                   {"seeds": ("seeds",)}),
        *_only_bad("executors.ray_session", _with_ctx(X.ray_session),
                   {"address": None, "workers": 1, "num_gpus": 0, "ship_library": True},
                   {"address": [("int", 3, "type"), ("empty", "", "value")],
                    "workers": [("text", "2", "type"), ("zero", 0, "value")],
                    "num_gpus": [("negative", -1, "value"), ("float", 1.5, "type")],
                    "ship_library": [("text", "no", "type")]},
                   {"address": ("address", "Ray address")}),
        *_only_bad("executors.warm_up", X.warm_up, {"n": 2},
                   {"n": [("zero", 0, "value"), ("text", "2", "type"), ("bool", True, "type"),
                          ("float", 2.5, "type")]}),
        *_cli_cases(),
        Case("ablation.t_interval", "values_1e300_and_-1e300", lambda: A.t_interval(
            [1e300, -1e300]), "ok",
             check=lambda r: r[0] == 0 and np.isclose(r[2], q * 1e300, rtol=1e-12)
             and np.isclose(r[1], -q * 1e300, rtol=1e-12)),
        Case("ablation.t_interval", "values_1e308_twice", lambda: A.t_interval([1e308, 1e308]),
             "ok", check=lambda r: r == (1e308, 1e308, 1e308)),
        Case("ablation.t_interval", "interval_beyond_float_range",
             lambda: A.t_interval([1.7e308, -1.7e308]), "value", ("values",)),
        Case("ablation.t_interval", "one_value_has_no_interval",
             lambda: A.t_interval([0.5]), "ok", allow_inf=True,
             check=lambda r: r[0] == 0.5 and np.isnan(r[1]) and np.isnan(r[2])),
        Case("stats.one_sided_pvalues", "values_at_1e300_like_at_1",
             lambda: (C.one_sided_pvalues([1e300, 2e300, 4e300], 5e299),
                      C.one_sided_pvalues([1.0, 2.0, 4.0], 0.5)), "ok",
             check=lambda r: np.allclose(r[0], r[1], rtol=1e-9)),
        Case("ablation.compare_records", "diverged_in_one_run_only_differs_by_inf",
             lambda: A.compare_records(
                 [dict(_records()[0], test_acc=None, diverged=True)], _records()[:1],
                 ["test_acc"])["max_diff"], "ok", allow_inf=True, check=lambda d: d == np.inf),
        Case("ablation.compare_records", "diverged_in_both_runs_is_identical",
             lambda: A.compare_records(
                 [dict(_records()[0], test_acc=None, diverged=True)] * 2,
                 [dict(_records()[0], test_acc=None, diverged=True)], ["test_acc"]), "ok",
             check=lambda r: r["identical"] and r["max_diff"] == 0.0),
        Case("stats.holm", "empty_family", lambda: C.holm([]), "ok",
             check=lambda r: r.shape == (0,)),
    ]
    return out


# ------------------------------------------------------------------------------ conditions,
# models, probes, quadrature, coverage

def _cond() -> Any:
    return importlib.import_module("maxent_lib.conditions")


def _mod() -> Any:
    return importlib.import_module("maxent_lib.models")


def _probes() -> Any:
    return importlib.import_module("maxent_lib.conditions.probes")


def _quad() -> Any:
    return importlib.import_module("maxent_lib.quadrature")


def _cov() -> Any:
    return importlib.import_module("maxent_lib.conditions.coverage")


LP3 = np.log(P3)
QUICK_PROBE = {"max_epochs": 3, "patience": 2}


def _probe_fit(**kw: Any) -> Any:
    return _cond().FlexibleProbe(**QUICK_PROBE).fit(**kw)


def _coverage_record() -> dict[str, Any]:
    rec: dict[str, Any] = {"case": "c", "sample": 0}
    for g in ("fc1_gap", "fc2_gap", "total_gap"):
        rec.update({f"exact_{g}": 0.1, f"refit_{g}": 0.12, f"refit_{g}_ci": [0.05, 0.2],
                    f"test_points_{g}": 0.11, f"test_points_{g}_ci": [0.08, 0.14]})
    return rec


def _stacked_probe_inputs() -> dict[str, Any]:
    rng = np.random.default_rng(3)
    Zf, Zv = rng.normal(size=(2, 30, 3)), rng.normal(size=(2, 10, 3))
    Zf[1, :, 2] = Zv[1, :, 2] = 0.0  # probe 1 has 2 inputs: its third column is padding
    return {"Z_fit": Zf, "y_fit": rng.integers(0, 3, (2, 30)), "Z_val": Zv,
            "y_val": rng.integers(0, 3, (2, 10)), "n_classes": 3, "seeds": [0, 1],
            "in_dims": [3, 2], "affine_init": None}


def _b_specs() -> list[Spec]:
    C, M, PR, Q, CV = _cond(), _mod(), _probes(), _quad(), _cov()
    X32 = torch.as_tensor(X2, dtype=torch.float32)
    net = M.MLP(3, 4, 2, 3)
    stacked = M.StackedMLP(3, 4, 2, 3, [0, 1])
    fitted_probe = _probe_fit(T=X2, y=Y3)
    sp_in = _stacked_probe_inputs()
    fitted_sp = PR.StackedProbes(max_epochs=2).fit(**sp_in)
    weights = np.full(40, 1 / 40)
    stored = TMP / "coverage.jsonl"
    stored.write_text(json.dumps(_coverage_record()) + "\n")
    stored.with_suffix(".provenance.json").write_text('{"code": "x"}')
    no_prov = TMP / "coverage_without_provenance.jsonl"
    no_prov.write_text(json.dumps(_coverage_record()) + "\n")
    bad_prov = TMP / "coverage_bad_provenance.jsonl"
    bad_prov.write_text(json.dumps(_coverage_record()) + "\n")
    bad_prov.with_suffix(".provenance.json").write_text("{torn")
    feats = [X2, X2[:, :2]]
    probe_kw = {"width": 4, "max_epochs": 2, "patience": 1}

    def closure(fn: Callable[..., Any]) -> Callable[..., Any]:
        return lambda T_new: fn(T_new)

    lin = C.linear_probe(X2, Y3, 3)
    soft = C.soft_label_softmax(X2, P3, weights)
    far = _poke(X2, 1e200)
    return [
        # ---- conditions
        Spec("conditions.point_losses", C.point_losses, {"log_probs": LP3, "y": Y3},
             {"log_probs": bad_array(LP3) + [("probabilities", P3, "value"),
                                             ("logits", LP3 + 1.0, "value")] + _short(LP3),
              "y": bad_labels(Y3, 3) + _short(Y3)},
             {"log_probs": ("log_probs", "y"), "y": ("y", "log_probs")}),
        Spec("conditions.paired_bootstrap_ci", C.paired_bootstrap_ci,
             {"losses_a": X2[:, 0] ** 2, "losses_b": X2[:, 1] ** 2, "n_bootstrap": 50,
              "confidence": 0.9, "seed": 0},
             {"losses_a": bad_array(X2[:, 0] ** 2) + _short(X2[:, 0]),
              "losses_b": bad_array(X2[:, 1] ** 2),
              "n_bootstrap": bad_int(1, 10**7), "confidence": bad_number(0.0, 1.0)
              + [("one", 1.0, "value")], "seed": bad_seed()},
             {"losses_a": ("losses_a", "losses_b")}),
        Spec("conditions.linear_probe", C.linear_probe,
             {"T_train": X2, "y_train": Y3, "n_classes": 3, "alpha": 1e-4},
             {"T_train": bad_array(X2) + [("beyond_1e150", far, "value")] + _short(X2),
              "y_train": bad_labels(Y3, 3), "n_classes": bad_int(2, _checks.MAX_CLASSES),
              "alpha": bad_number(0.0)},
             {"T_train": ("T_train", "T", "y"), "y_train": ("y", "y_train", "T"),
              "n_classes": ("n_classes", "y")}),
        Spec("conditions.linear_probe(T_new)", closure(lin), {"T_new": X2},
             {"T_new": bad_array(X2) + [("wrong_columns", X2[:, :2], "value"),
                                        ("beyond_1e150", far, "value")]}),
        Spec("conditions.FlexibleProbe", C.FlexibleProbe,
             {"width": 8, "weight_decay": 1e-4, "lr": 3e-3, "max_epochs": 3, "patience": 2,
              "val_fraction": 0.2, "seed": 0},
             {"width": bad_int(1, 65_536), "weight_decay": bad_number(0.0),
              "lr": bad_number(0.0) + [("zero", 0.0, "value")],
              "max_epochs": bad_int(1, 10**6), "patience": bad_int(1),
              "val_fraction": bad_number(0.0, 1.0) + [("zero", 0.0, "value")],
              "seed": bad_seed()}),
        Spec("conditions.FlexibleProbe.fit", _probe_fit, {"T": X2, "y": Y3, "n_classes": 3},
             {"T": bad_array(X2) + [("beyond_1e150", far, "value")] + _short(X2),
              "y": bad_labels(Y3, None) + _short(Y3),
              "n_classes": _not_none(bad_int(2, _checks.MAX_CLASSES))
              + [("below_labels", 2, "value")]},
             {"T": ("T", "y"), "y": ("y", "T"), "n_classes": ("n_classes", "y")}),
        *[Spec(f"conditions.FlexibleProbe.{m}", getattr(fitted_probe, m), {"T": X2},
               {"T": bad_array(X2) + [("wrong_columns", X2[:, :2], "value"),
                                      ("far_from_the_fit", X2 * 1e35, "value")]})
          for m in ("predict_log_proba", "predict_proba")],
        Spec("conditions.feature_condition_gaps", C.feature_condition_gaps,
             {"T_train": X2, "y_train": Y3, "T_test": X2, "y_test": Y3, "X_train": None,
              "X_test": None, "alpha": 1e-4, "n_bootstrap": 20, "seed": 0, "n_classes": 3,
              "confidence": 0.95, "input_losses": None, "priors": None},
             {"T_train": bad_array(X2) + _short(X2) + [("beyond_1e150", far, "value")],
              "y_train": bad_labels(Y3, 3) + [("one_class", np.zeros(40, int), "value")],
              "T_test": bad_array(X2) + [("wrong_columns", X2[:, :2], "value")],
              "y_test": bad_labels(Y3, 3) + _short(Y3),
              "X_train": [("without_X_test", X2, "value")],
              "alpha": bad_number(0.0), "n_bootstrap": bad_int(1, 10**7), "seed": bad_seed(),
              "n_classes": _not_none(bad_int(2, _checks.MAX_CLASSES)),
              "confidence": bad_number(0.0, 1.0),
              "input_losses": _not_none(bad_array(np.ones(40))) + _short(np.ones(40))
              + [("negative", -np.ones(40), "value")],
              "priors": _not_none(bad_array([0.2, 0.3, 0.5]))
              + [("not_summing", [0.2, 0.2, 0.2], "value"), ("two", [0.5, 0.5], "value"),
                 ("zero_for_a_class", [0.0, 0.5, 0.5], "value")]},
             {"T_train": ("T_train", "y_train"), "y_train": ("y_train",),
              "T_test": ("T_test", "T_train"), "y_test": ("y_test", "T_test"),
              "X_train": ("X_train", "X_test"), "n_classes": ("n_classes", "y_train"),
              "input_losses": ("input_losses", "y_test"), "priors": ("priors",)}),
        Spec("conditions.layerwise_condition_gaps", C.layerwise_condition_gaps,
             {"features_train": feats, "features_test": feats, "y_train": Y3, "y_test": Y3,
              "n_bootstrap": 10, "progress": False},
             {"features_train": [("None", None, "type"), ("array", X2, "type"),
                                 ("empty", [], "value"),
                                 ("nan", [_poke(X2, np.nan), X2], "value")],
              "features_test": [("shorter_list", feats[:1], "value")],
              "y_train": bad_labels(Y3, None)[:6], "progress": bad_flag()},
             {"features_train": ("features_train", "features_test", "T_train"),
              "features_test": ("features_train", "features_test")}),
        Spec("conditions.split_t_interval", C.split_t_interval,
             {"values": [0.1, 0.2, 0.15], "test_fraction": 0.3, "confidence": 0.95},
             {"values": bad_array([0.1, 0.2, 0.15]) + [("one", [0.1], "value")],
              "test_fraction": bad_number(0.0, 1.0) + [("one", 1.0, "value")],
              "confidence": bad_number(0.0, 1.0)}),
        Spec("conditions.layerwise_repeated_split_gaps", C.layerwise_repeated_split_gaps,
             {"features": feats, "y": Y3, "X": None, "n_splits": 2, "test_fraction": 0.3,
              "val_fraction": 0.2, "seed": 0, "n_classes": 3, "priors": None,
              "select": True, "probe": probe_kw},
             {"features": [("None", None, "type"), ("array", X2, "type"),
                           ("empty", [], "value"), ("nan", [_poke(X2, np.nan)], "value"),
                           ("short", [X2[:-1]], "value")],
              "y": bad_labels(Y3, 3), "X": bad_array(X2)[1:] + _short(X2),
              "n_splits": bad_int(1, 10_000), "test_fraction": bad_number(0.0, 1.0),
              "val_fraction": bad_number(0.0, 1.0), "seed": bad_seed(),
              "n_classes": _not_none(bad_int(2, _checks.MAX_CLASSES)),
              "priors": [("two", [0.5, 0.5], "value"), ("text", "p", "type")],
              "select": bad_flag(), "alpha": _bad_penalties(),
              "probe": [("list", [4], "type"), ("unknown_setting", {"depth": 3}, "value"),
                        ("bad_width", {"width": 2.5}, "type")]},
             {"features": ("features", "features[0]", "y"), "y": ("y",),
              "X": ("X", "y"), "n_classes": ("n_classes", "y"), "probe": ("probe", "width")}),
        Spec("conditions.repeated_split_gaps",
             lambda **kw: C.repeated_split_gaps(**kw, probe=probe_kw, n_splits=2),
             {"T": X2, "y": Y3, "X": None},
             {"T": bad_array(X2) + [("list_of_arrays", [X2, X2], "value")],
              "y": bad_labels(Y3, None)[:6]}, {"T": ("T",)}),
        Spec("conditions.repeated_split_gaps(options)", C.repeated_split_gaps,
             {"T": X2, "y": Y3, "n_splits": 2, "probe": probe_kw},
             {"n_splits": bad_int(1, 10_000)}),
        Spec("conditions.soft_label_softmax", C.soft_label_softmax,
             {"T": X2, "P": P3, "weights": weights, "alpha": 0.0, "tol": 1e-10,
              "max_iter": 50},
             {"T": bad_array(X2) + _short(X2), "P": bad_prob(P3),
              "weights": bad_array(weights) + [("not_summing", weights * 2, "value"),
                                               ("negative", _poke(weights, -0.1), "value")],
              "alpha": bad_number(0.0), "tol": bad_number(0.0) + [("zero", 0.0, "value")],
              "max_iter": bad_int(1, 10**5)},
             {"T": ("T", "P", "weights"), "P": ("P", "T"), "weights": ("weights", "T")}),
        Spec("conditions.soft_label_softmax(T_new)", closure(soft), {"T_new": X2},
             {"T_new": bad_array(X2) + [("wrong_columns", X2[:, :2], "value")]}),
        Spec("conditions.exact_condition_gaps", C.exact_condition_gaps,
             {"task": TASK, "keep": None, "transform": None, "X_test": None, "y_test": None,
              "n_eval": 500, "n_population": 500, "alpha": 0.0, "seed": 0, "method": "auto",
              "n_nodes": 16},
             {"task": [("None", None, "type"), ("name", "gaussians", "type")],
              "keep": [("text", "0", "type"), ("out_of_range", [2], "value"),
                       ("repeated", [0, 0], "value"), ("empty", [], "value"),
                       ("float", [0.5], "type")],
              "transform": [("text", "square", "type"),
                            ("nan_output", lambda T: T * np.nan, "value"),
                            ("drops_rows", lambda T: T[:-1], "value")],
              "X_test": _not_none(bad_array(X2[:, :2])) + [("wrong_columns", X2, "value")],
              "y_test": [("without_X_test", Y3, "value")],
              "n_eval": bad_int(10, 10**7), "n_population": bad_int(10, 10**7),
              "alpha": bad_number(0.0), "seed": bad_seed(),
              "method": [("int", 3, "type"), ("unknown", "simpson", "value")],
              "n_nodes": [("below_8", 7, "value"), ("float", 8.5, "type"),
                          ("too_many", 10**5, "value")]},
             {"X_test": ("X_test",), "y_test": ("y_test", "X_test"),
              "transform": ("transform", "transform(x)"), "n_nodes": ("n",)}),
        Spec("conditions.log_odds_affine_residual", C.log_odds_affine_residual,
             {"T": X2, "log_probs": LP3},
             {"T": bad_array(X2) + _short(X2),
              "log_probs": bad_array(LP3) + [("probabilities", P3, "value"),
                                             ("one_class", LP3[:, :1], "value")]},
             {"T": ("T", "log_probs"), "log_probs": ("log_probs", "T")}),
        Spec("conditions.feasible_alternative", C.feasible_alternative,
             {"T": X2, "probs": P3, "step": 0.5, "seed": 0, "min_prob": 0.05,
              "max_points": 400},
             {"T": bad_array(X2) + _short(X2), "probs": bad_prob(P3),
              "step": bad_number(0.0, 1.0) + [("one", 1.0, "value")], "seed": bad_seed(),
              "min_prob": bad_number(0.0, 1.0) + [("one", 1.0, "value")],
              "max_points": bad_int(1)},
             {"T": ("T", "probs"), "probs": ("probs", "T")}),
        # ---- models
        Spec("models.MLP", M.MLP,
             {"in_dim": 3, "width": 4, "depth": 2, "n_classes": 3, "activation": "relu",
              "shortcut": False},
             {"in_dim": bad_int(1, 10**6), "width": bad_int(1, 65_536),
              "depth": bad_int(1, 1_024), "n_classes": bad_int(2, _checks.MAX_CLASSES),
              "activation": [("int", 3, "type"), ("unknown", "gelu", "value")],
              "shortcut": bad_flag()}),
        Spec("models.MLP(size)", lambda **kw: M.MLP(3, **kw, n_classes=3),
             {"width": 8, "depth": 2}, {"width": [("too_many_parameters", 65_536, "value")]},
             {"width": ("parameters", "width")}),
        Spec("models.MLP.layer", net.layer, {"index": 0, "t": X32},
             {"index": bad_int(0, 1),
              "t": bad_tensor(X32) + [("wrong_columns", X32[:, :2], "value")]},
             {"index": ("layer index", "index")}),
        *[Spec(f"models.MLP.{m}", getattr(net, m), {"x": X32},
               {"x": bad_tensor(X32) + [("wrong_columns", X32[:, :2], "value")]})
          for m in ("features", "forward")],
        Spec("models.StackedMLP", M.StackedMLP,
             {"in_dim": 3, "width": 4, "depth": 2, "n_classes": 3, "seeds": [0, 1],
              "activation": "tanh", "shortcut": True},
             {"in_dim": bad_int(1, 10**6), "width": bad_int(1, 65_536),
              "n_classes": bad_int(2, _checks.MAX_CLASSES),
              "seeds": _bad_seed_lists(), "activation": [("unknown", "gelu", "value")],
              "shortcut": bad_flag()}),
        Spec("models.StackedMLP.layer", stacked.layer,
             {"index": 0, "t": X32.expand(2, -1, -1)},
             {"index": bad_int(0, 1),
              "t": [("two_dims", X32, "value"), ("nan", _poke_t(X32.expand(2, -1, -1)),
                                                   "value"),
                    ("wrong_models", X32.expand(3, -1, -1), "value"),
                    ("numpy", X2, "type")]},
             {"index": ("layer index", "index")}),
        Spec("models.StackedMLP.forward", stacked.forward, {"x": X32},
             {"x": bad_tensor(X32) + [("wrong_columns", X32[:, :2], "value"),
                                      ("wrong_models", X32.expand(3, -1, -1), "value")]}),
        Spec("models.StackedMLP.unstack", stacked.unstack, {"index": 1},
             {"index": bad_int(0, 1)}),
        Spec("models.train_classifier", lambda **kw: M.train_classifier(
                 **{"model": M.MLP(3, 4, 1, 3), **kw}),
             {"X": X2, "y": Y3, "epochs": 1, "lr": 1e-3, "batch_size": 16,
              "weight_decay": 0.0, "seed": 0, "device": "cpu", "progress": False},
             {"model": [("None", None, "type"), ("linear", torch.nn.Linear(3, 3), "type")],
              "X": bad_array(X2) + _short(X2) + [("wrong_columns", X2[:, :2], "value"),
                                                 ("beyond_float32", X2 * 1e39, "value")],
              "y": bad_labels(Y3, 3), "epochs": bad_int(1, 10**6), "lr": bad_number(0.0),
              "batch_size": bad_int(1, 10**8), "weight_decay": bad_number(0.0),
              "seed": bad_seed(), "device": [("int", 3, "type"), ("unknown", "tpu", "value")],
              "progress": bad_flag()},
             {"X": ("X", "y"), "y": ("y", "X"), "device": ("device",)}),
        Spec("models.grow_layerwise", M.grow_layerwise,
             {"in_dim": 3, "width": 4, "depth": 2, "n_classes": 3, "X": X2, "y": Y3,
              "epochs_per_layer": 1, "batch_size": 16, "seed": 0, "device": "cpu",
              "progress": False},
             {"in_dim": bad_int(1, 10**6), "width": bad_int(1, 65_536),
              "n_classes": bad_int(2, _checks.MAX_CLASSES), "X": bad_array(X2)[:8],
              "y": bad_labels(Y3, 3)[:6], "epochs_per_layer": bad_int(1, 10**6),
              "seed": bad_seed(), "progress": bad_flag()}),
        *[Spec(f"models.{fn}", getattr(M, fn),
               {"model": net, "X": X2, "batch_size": 16},
               {"model": [("None", None, "type"), ("stacked", stacked, "type")],
                "X": bad_array(X2) + [("wrong_columns", X2[:, :2], "value"),
                                      ("beyond_float32", X2 * 1e39, "value")],
                "batch_size": bad_int(1)})
          for fn in ("layer_features", "predict_proba")],
        *[Spec(f"models.{fn}", lambda fn=fn, **kw: getattr(M, fn)(
                   M.StackedMLP(3, 4, 2, 3, [0, 1]), **kw),
               {"X": X2, "y": Y3, ep: 1, "batch_size": 16, "eval_data": (X2, Y3),
                "device": "cpu", "progress": False},
               {"X": bad_array(X2)[:8] + _short(X2), "y": bad_labels(Y3, 3)[:6],
                ep: bad_int(1, 10**6), "lr": bad_number(0.0),
                "eval_data": [("array", X2, "type"), ("nan", (_poke(X2, np.nan), Y3), "value"),
                              ("labels_K", (X2, _poke(Y3, 3)), "value")],
                "device": [("int", 3, "type")], "progress": bad_flag()},
               {"X": ("X", "y"), "eval_data": ("eval_data", "X", "y")})
          for fn, ep in (("train_stacked", "epochs"),
                         ("grow_layerwise_stacked", "epochs_per_layer"))],
        Spec("models.train_stacked(net)", M.train_stacked, {"net": stacked, "X": X2, "y": Y3,
                                                            "epochs": 1, "progress": False,
                                                            "device": "cpu"},
             {"net": [("mlp", net, "type"), ("None", None, "type")]}),
        Spec("models.grow_layerwise_stacked(net)", M.grow_layerwise_stacked,
             {"net": stacked, "X": X2, "y": Y3, "epochs_per_layer": 1, "progress": False,
              "device": "cpu"},
             {"net": [("mlp", net, "type")]}),
        # ---- probes
        Spec("probes.StackedProbes", PR.StackedProbes,
             {"width": 8, "weight_decay": 1e-4, "lr": 3e-3, "max_epochs": 2, "patience": 1,
              "min_delta": 0.0, "device": "cpu", "threads": 1},
             {"width": bad_int(1, 65_536), "weight_decay": bad_number(0.0),
              "lr": bad_number(0.0) + [("zero", 0.0, "value")],
              "max_epochs": bad_int(1, 10**6), "patience": bad_int(1),
              "min_delta": bad_number(0.0), "threads": bad_int(1, 1024),
              "device": [("int", 3, "type"), ("unknown", "tpu", "value")]},
             {"device": ("device",)}),
        Spec("probes.StackedProbes.fit",
             lambda **kw: PR.StackedProbes(max_epochs=2).fit(**kw), sp_in,
             {"Z_fit": bad_array(sp_in["Z_fit"]) + [("beyond_float32",
                                                     sp_in["Z_fit"] * 1e35, "value")],
              "y_fit": [("text", "abc", "type"), ("None", None, "type"),
                        ("wrong_shape", sp_in["y_fit"][:, :5], "value"),
                        ("label_K", sp_in["y_fit"] * 0 + 3, "value"),
                        ("float", sp_in["y_fit"] + 0.5, "value")],
              "Z_val": [("wrong_probes", sp_in["Z_val"][:1], "value"),
                        ("wrong_columns", sp_in["Z_val"][..., :2], "value")],
              "n_classes": bad_int(2, _checks.MAX_CLASSES),
              "seeds": [("None", None, "type"), ("one", [0], "value"), ("float", [0, 1.5], "type"),
                        ("negative", [0, -1], "value"), ("text", "01", "type")],
              "in_dims": [("too_wide", [4, 3], "value"), ("zero", [0, 3], "value"),
                          ("one", [3], "value"), ("text", "33", "type"),
                          ("non_zero_padding", [2, 3], "value")],
              "affine_init": [("one_array", np.zeros((2, 3, 3)), "type"),
                              ("wrong_shapes", (np.zeros((2, 2, 3)), np.zeros((2, 3))),
                               "value")]},
             {"y_fit": ("Z_fit", "labels for Z_fit"), "Z_val": ("Z_val",),
              "affine_init": ("affine_init",)}),
        Spec("probes.StackedProbes.predict_log_proba", fitted_sp.predict_log_proba,
             {"Z": sp_in["Z_val"]},
             {"Z": bad_array(sp_in["Z_val"]) + [("wrong_probes", sp_in["Z_val"][:1], "value"),
                                                 ("beyond_float32", sp_in["Z_val"] * 1e35,
                                                  "value")]}),
        # ---- quadrature
        Spec("quadrature.has_quadrature", Q.has_quadrature, {"task": TASK},
             {"task": [("None", None, "type"), ("name", "circles", "type")]}),
        Spec("quadrature.quadrature_nodes", Q.quadrature_nodes, {"task": CIRCLES, "n": 16},
             {"task": [("None", None, "type"), ("name", "circles", "type"),
                       ("no_rule", data.shared_covariance_gaussians(dim=4, seed=0), "value")],
              "n": _not_none(bad_int(8)) + [("too_many", 10**7, "value")]},
             {"task": ("task", "rule")}),
        Spec("quadrature.coarser_n", Q.coarser_n, {"task": CIRCLES, "n": 16},
             {"task": [("None", None, "type"), ("name", "circles", "type"),
                       ("no_rule", data.shared_covariance_gaussians(dim=4, seed=0), "value")],
              "n": _not_none(bad_int(8)) + [("no_coarser_rule", 8, "value")]},
             {"task": ("task", "rule")}),
        Spec("quadrature.expectation", Q.expectation,
             {"task": TASK, "g": lambda Z: Z[:, 0], "n": 16},
             {"task": [("None", None, "type")],
              "g": [("None", None, "type"), ("nan_values", lambda Z: Z[:, 0] * np.nan, "value"),
                    ("wrong_rows", lambda Z: Z[:3, 0], "value"),
                    ("text_values", lambda Z: np.array(["a"] * len(Z)), "type")],
              "n": _not_none(bad_int(8)) + [("too_many", 10**7, "value")]},
             {"g": ("g", "g(X)")}),
        # ---- coverage
        Spec("coverage.coverage_table", CV.coverage_table, {"records": [_coverage_record()]},
             {"records": [("None", None, "type"), ("empty", [], "value"), ("ints", [3], "type"),
                          ("lacking_fields", [{"case": "c"}], "value"),
                          ("gap_text", [dict(_coverage_record(), exact_fc1_gap="x")], "type"),
                          ("gap_nan", [dict(_coverage_record(), refit_fc2_gap=float("nan"))],
                           "value"),
                          ("interval_one_value",
                           [dict(_coverage_record(), refit_fc1_gap_ci=[0.1])], "value")]},
             {"records": ("records", "records[0]")}),
        Spec("coverage.load_stored", CV.load_stored, {"path": stored},
             {"path": bad_path() + [("missing", TMP / "none.jsonl", "value"),
                                    ("folder", TMP, "value"),
                                    ("no_provenance", no_prov, "value"),
                                    ("damaged_provenance", bad_prov, "value")]},
             {"path": ("path", "coverage simulation", "provenance")}),
        Spec("coverage.provenance", CV.provenance,
             {"command": "python -m maxent_lib.conditions.coverage", "seconds": 3.0,
              "n_records": 4},
             {"command": [("None", None, "type"), ("list", ["python"], "type")],
              "seconds": bad_number(0.0), "n_records": bad_int(0)}),
    ]


def _poke_t(t: torch.Tensor) -> torch.Tensor:
    out = t.clone()
    out.view(-1)[0] = float("nan")
    return out


def _b_cases() -> list[Case]:
    C, Q, CV = _cond(), _quad(), _cov()
    ref = _probe_fit(T=X2, y=Y3).predict_proba(X2)
    out = [
        Case("conditions.FlexibleProbe.predict_log_proba", "not_fitted",
             lambda: C.FlexibleProbe().predict_log_proba(X2), "value", ("fit", "fitted")),
        *_only_bad("coverage.simulate_coverage", CV.simulate_coverage,
                   {"cases": ["shared cov, T=x"], "n_samples": 1, "n_points": 200,
                    "n_splits": 2, "test_fraction": 0.3, "seed": 0, "out": None,
                    "progress": False},
                   {"cases": [("one_string", "shared cov, T=x", "type"), ("int", 3, "type"),
                              ("unknown", ["nope"], "value")],
                    "n_samples": bad_int(1, 100_000), "n_points": bad_int(20, 10**7),
                    "n_splits": bad_int(1, 10_000), "test_fraction": bad_number(0.0, 1.0),
                    "seed": bad_seed(), "out": bad_path()[1:], "progress": bad_flag()}),
        *[Case("conditions.FlexibleProbe.fit", f"feature_scale_{s:g}",
               lambda s=s: _probe_fit(T=X2 * s, y=Y3).predict_proba(X2 * s), "ok",
               check=lambda p: np.allclose(p, ref, atol=1e-5)) for s in (1e-100, 1e-6, 1e100)],
        Case("conditions.split_t_interval", "values_at_1e300_like_at_1",
             lambda: (C.split_t_interval([1e300, 3e300, 2e300], 0.3),
                      C.split_t_interval([1.0, 3.0, 2.0], 0.3)), "ok",
             check=lambda r: np.allclose(np.array(r[0]) / 1e300, r[1], rtol=1e-12)),
        Case("conditions.split_t_interval", "interval_beyond_float_range",
             lambda: C.split_t_interval([1.7e308, -1.7e308], 0.3), "value", ("values",)),
        Case("conditions.linear_probe", "feature_scale_1e-100_and_1e100",
             lambda: (C.linear_probe(X2 * 1e-100, Y3, 3)(X2 * 1e-100),
                      C.linear_probe(X2 * 1e100, Y3, 3)(X2 * 1e100),
                      C.linear_probe(X2, Y3, 3)(X2)), "ok",
             check=lambda r: np.allclose(r[0], r[2], atol=1e-6)
             and np.allclose(r[1], r[2], atol=1e-6)),
        Case("quadrature.expectation", "second_moment_of_the_radius",
             lambda: Q.expectation(CIRCLES, lambda Z: (Z**2).sum(1), 16), "ok",
             check=lambda r: abs(r[0] - (CIRCLES.priors @ np.asarray(CIRCLES.radii)**2
                                         + CIRCLES.noise**2)) <= max(10 * r[1], 1e-9)),
        Case("quadrature.expectation", "too_few_nodes_for_an_error_estimate",
             lambda: Q.expectation(CIRCLES, lambda Z: Z[:, 0], 8), "value", ("n",)),
    ]
    return out


def _plot_specs() -> list[Spec]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from maxent_lib import plots

    fig, ax = plt.subplots()
    bars = ax.bar([0, 1], [0.0, 2.0])
    atexit.register(plt.close, fig)
    return [
        Spec("plots.plain_log_axis", plots.plain_log_axis,
             {"ax": ax, "axis": "x", "ticks": [2, 4, 8]},
             {"ax": [("None", None, "type"), ("figure", fig, "type")],
              "axis": [("int", 0, "type"), ("unknown", "z", "value")],
              "ticks": [("text", "2 4", "type"), ("strings", ["2", "4"], "type"),
                        ("zero", [0, 2], "value"), ("nan", [np.nan, 2], "value"),
                        ("empty", [], "value")]}),
        Spec("plots.wrap_labels", plots.wrap_labels, {"labels": ["a long label", 3], "width": 5},
             {"labels": [("one_string", "abc", "type"), ("None", None, "type"),
                         ("with_None", ["a", None], "type"), ("with_bool", [True], "type")],
              "width": bad_int(1, 1000)}),
        Spec("plots.category_axis", plots.category_axis,
             {"ax": ax, "labels": ["a", "b"], "axis": "y", "width": 8},
             {"ax": [("None", None, "type")], "labels": [("one_string", "ab", "type")],
              "axis": [("unknown", "z", "value")], "width": bad_int(1, 1000)}),
        Spec("plots.annotate_bars", plots.annotate_bars,
             {"ax": ax, "bars": bars, "fmt": "{:.1f}", "zero_tol": 0.1},
             {"ax": [("None", None, "type")],
              "bars": [("None", None, "type"), ("numbers", [1.0, 2.0], "type"),
                       ("text", "bars", "type")],
              "fmt": [("int", 3, "type"), ("bad_spec", "{:.q}", "value"),
                      ("named_field", "{value}", "value")],
              "zero_tol": bad_number(0.0)}),
        Spec("plots.deck_text_px", plots.deck_text_px, {"fig": fig, "shown_width_px": 1200},
             {"fig": [("None", None, "type"), ("axes", ax, "type")],
              "shown_width_px": bad_number(0.0) + [("zero", 0.0, "value")]}),
    ]


def suite_cases() -> list[Case]:
    specs = [*_specs(), *_training_specs(), *_summary_specs(), *_b_specs(), *_plot_specs()]
    cases = [c for spec in specs for c in spec.cases()]
    issue = [c for c, _ in _issue_cases()]
    return (cases + _hard_cases() + _config_cases() + _training_hard_cases()
            + _summary_cases() + _b_cases() + issue)


# ------------------------------------------------------------------------------ phase 2

def _issue_cases() -> list[tuple[Case, str]]:
    """The problems the issue found, as (case, what was wrong); they run with the suite
    (:func:`suite_cases`)."""
    def conditions():
        return importlib.import_module("maxent_lib.conditions")

    def models():
        return importlib.import_module("maxent_lib.models")

    def ensemble():
        return importlib.import_module("maxent_lib.ablation")

    def ablation():
        return importlib.import_module("maxent_lib.ablation")

    def claims():
        return importlib.import_module("maxent_lib.claims")

    X, y = X2.astype(np.float32), Y3
    rows = [
        (Case("ablation.t_interval", "values=[1e300,-1e300]",
              lambda: ablation().t_interval([1e300, -1e300]), "ok",
              check=lambda r: all(np.isfinite(r))), "NaN/inf interval from finite values"),
        (Case("ablation.t_interval", "values=bool", lambda: ablation().t_interval([True, False]),
              "type", ("values",)), "booleans accepted as numbers"),
        (Case("ablation.t_interval", "level=True",
              lambda: ablation().t_interval([1.0, 2.0], level=True), "type", ("level",)),
         "True accepted as a level"),
        (Case("ablation.summarize", "records=[3]",
              lambda: ablation().summarize([3], by=["x"]), "type", ("records",)),
         "AttributeError instead of a TypeError"),
        (Case("ablation.run_grid", "shortcut='False'",
              lambda: ablation().run_grid([{"width": 4, "depth": 1, "epochs": 1,
                                            "shortcut": "False"}], (X, y, X, y),
                                          options=ablation().RunOptions(progress=False)),
              "type", ("shortcut",)), "a string flag builds a residual net"),
        (Case("ablation.canonical_config", "seed=1.5",
              lambda: ablation().canonical_config({"seed": 1.5}), "type", ("seed",)),
         "a float seed truncated"),
        (Case("conditions.linear_probe", "T_new=wrong_columns",
              lambda: conditions().linear_probe(X2, Y3, 3)(X2[:, :2]), "value", ("T", "columns")),
         "features with the wrong number of columns broadcast"),
        (Case("conditions.point_losses", "log_probs=probabilities",
              lambda: conditions().point_losses(P3, Y3), "value", ("log_probs",)),
         "probabilities accepted as log-probabilities (negative losses)"),
        (Case("conditions.FlexibleProbe", "lr=inf",
              lambda: conditions().FlexibleProbe(lr=float("inf")), "value", ("lr",)),
         "lr = inf accepted (NaN outputs)"),
        (Case("conditions.FlexibleProbe.fit", "y=label_1e6",
              lambda: conditions().FlexibleProbe(max_epochs=1).fit(X2, _poke(Y3, 10**6)),
              "value", ("y",)), "a label of 10**6 builds 1,000,001 classes (hang)"),
        (Case("conditions.paired_bootstrap_ci", "n_bootstrap=True",
              lambda: conditions().paired_bootstrap_ci(np.ones(5), np.ones(5), n_bootstrap=True),
              "type", ("n_bootstrap",)), "True accepted as a count"),
        (Case("models.MLP", "shortcut='False'",
              lambda: models().MLP(3, 4, 2, 3, shortcut="False"), "type", ("shortcut",)),
         "a string flag builds a residual net"),
        (Case("models.MLP", "width=2.5", lambda: models().MLP(3, 2.5, 2, 3), "type", ("width",)),
         "a float width accepted or truncated"),
        (Case("models.train_classifier", "X=beyond_float32",
              lambda: models().train_classifier(models().MLP(3, 4, 1, 3), X2 * 1e39, Y3,
                                                epochs=1), "value", ("X",)),
         "float32 cast of |X| > 3.4e38 gives inf silently"),
        (Case("models.train_classifier", "batch_size=-1",
              lambda: models().train_classifier(models().MLP(3, 4, 1, 3), X2, Y3, epochs=1,
                                                batch_size=-1), "value", ("batch_size",)),
         "IndexError/raw error for a negative batch size"),
        (Case("ensemble.train", "55_rows_60_labels",
              lambda: _ensemble_train(ensemble(), 55, 60), "value", ("X_train", "y_train")),
         "trains on 55 rows of X with 60 labels"),
        (Case("ensemble.stacked_loss", "logits=nan",
              lambda: ensemble().stacked_loss(torch.full((1, 4, 3), float("nan")),
                                             torch.zeros(1, 4, dtype=torch.long),
                                             torch.zeros(1), torch.zeros(1)),
              "value", ("logits",)), "NaN tensors pass through"),
        (Case("ensemble.batch_orders", "n=-1",
              lambda: next(iter(ensemble().batch_orders([0], -1, 1))), "value", ("n",)),
         "a negative size gives a raw numpy error"),
        (Case("stats.verdict", "lo=nan",
              lambda: claims().verdict(float("nan"), 1.0, 1), "value", ("lo",)),
         "NaN bounds give a verdict"),
        (Case("stats.holm", "pvalues=1.5", lambda: claims().holm([1.5, 0.2]), "value",
              ("pvalues",)), "p-values above 1 accepted"),
        (Case("conditions.feature_condition_gaps", "y_train=label_1e6",
              lambda: conditions().feature_condition_gaps(X2, _poke(Y3, 10**6), X2, Y3),
              "value", ("y_train", "y")), "a label of 10**6 builds 1,000,001 classes (hang)"),
        (Case("ensemble.predict_log_proba", "chunk=0",
              lambda: ensemble().predict_log_proba(ensemble().StackedNet("mlp", 3, 3, 4, 1, [0]),
                                                   torch.zeros(4, 3), chunk=0),
              "value", ("chunk",)), "range() arg 3 must not be zero"),
        (Case("ablation.canonical_config", "width='8'",
              lambda: ablation().canonical_config({"width": "8"}), "type", ("width",)),
         "numeric strings compared with numbers"),
        (Case("ablation.paired_effects", "records_without_the_metric",
              lambda: ablation().paired_effects([{"seed": 0, "shortcut": False}],
                                                "test_acc", "shortcut", False),
              "value", ("records", "test_acc")), "KeyError from records missing a field"),
    ]
    return rows


def _ensemble_train(ens: Any, n_x: int, n_y: int) -> Any:
    net = ens.StackedNet("mlp", 3, 3, 4, 1, [0])
    Xt = torch.as_tensor(np.resize(X2, (n_x, 3)), dtype=torch.float32)
    yt = torch.as_tensor(np.resize(Y3, n_y))
    return ens.train(net, Xt, yt, ens.TrainSettings(epochs=1, batch_size=8))


#: public callables that need no bad-input cases, and why
EXEMPT: dict[str, str] = {
    "data.cache_dir": "no arguments (reads MAXENT_DATA_DIR)",
    "data.Split.as_tuple": "no arguments",
    "runtime.get_profile": "no arguments (reads MAXENT_PROFILE; tested in test_runtime)",
    "runtime.environment_report": "no arguments",
    "data.SyntheticTask": "abstract base class without parameters",
    "data.Split": "a plain record (dataclass) of arrays; checked where it is consumed",
    "maxent.MaxEntSolution": "a plain record (dataclass) of a solution; made by solve_maxent",
    "envcheck.PackageCheck": "a plain record (dataclass); made by check_package",
    "coursemap.LessonEntry": "a plain record (dataclass); made by read_entry",
    "ensemble.StackedNet.layer_shapes": "no arguments",
    "ensemble.StackedNet.reset_dropout_streams": "no arguments",
    "ablation.PreparedData": "a plain record (dataclass) of arrays; made by prepare_dataset",
    "ablation.GroupResult": "a plain record (dataclass); made by fit_group",
    "ablation.StoredResults": "a plain record (dataclass); made by load_stored",
    "ablation.code_hash": "no arguments",
    "stats.SettingTest": "a plain record (dataclass); made by family_tests",
    "stats.FamilyResult": "a plain record (dataclass); made by family_tests",
    "stats.FamilyResult.summary": "no arguments",
    "claims.Check": "a plain record (dataclass); made by remeasure_theorems",
    "executors.available_cpus": "no arguments",
    "coverage.code_hash": "no arguments",
    "plots.use_course_style": "no arguments",
}

CASES = suite_cases()


# ------------------------------------------------------------------------------ tests

def _covered() -> set[str]:
    return {c.target.split("(")[0] for c in CASES}


def test_every_public_function_has_cases():
    """A public function or method of a module of the suite without bad-input cases fails
    here."""
    public = {name for m in MODULES for name in public_callables(m)}
    missing = sorted(public - _covered() - set(EXEMPT))
    assert not missing, f"public functions without bad-input cases: {missing}"
    stale = sorted(set(EXEMPT) - public)
    assert not stale, f"exemptions for functions that no longer exist: {stale}"


def test_every_module_is_in_the_suite():
    """Every module of maxent_lib is in the suite (or exempted with a reason): a new module's
    public functions cannot escape it."""
    import pkgutil

    import maxent_lib

    found = {m.name for m in pkgutil.iter_modules(maxent_lib.__path__)}
    assert not sorted(found - set(MODULES) - set(EXEMPT_MODULES)), "modules outside the suite"
    assert not sorted((set(MODULES) | set(EXEMPT_MODULES)) - found), "listed modules are gone"
    assert all(public_callables(m) for m in MODULES if m != "_checks")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case):
    outcome, detail = run_case(case)
    assert outcome == "clean", f"{outcome}: {detail}"


def figures(cases: list[Case], timeout: float = TIMEOUT_S) -> dict[str, Any]:
    """Run every case; count the outcomes (valid calls and hard inputs counted apart)."""
    counts: dict[str, dict[str, int]] = {}
    failures = []
    start = time.perf_counter()
    for c in cases:
        group = ("valid calls" if c.label == "valid_call" else
                 "hard inputs" if c.expect == "ok" or "=" not in c.label else "bad inputs")
        outcome, detail = run_case(c, timeout)
        counts.setdefault(group, {}).setdefault(outcome, 0)
        counts[group][outcome] += 1
        if outcome != "clean":
            failures.append((c.id, outcome, detail))
    return {"counts": counts, "failures": failures, "seconds": time.perf_counter() - start,
            "functions": len(_covered())}


if __name__ == "__main__":  # python tests/test_badinput.py: the figures
    result = figures(CASES)
    print(f"{len(CASES)} cases over {result['functions']} public functions and methods of "
          f"{len(MODULES)} modules, {result['seconds']:.1f} s")
    for group, c in result["counts"].items():
        print(f"  {group}: {sum(c.values())} -> " + ", ".join(f"{k} {v}" for k, v in
                                                             sorted(c.items())))
    for f in result["failures"]:
        print("  NOT CLEAN", *f)
    sys.exit(0)


def test_the_harness_can_fail():
    """Each outcome the suite reports is reachable: the classification is not vacuous."""
    def nan_result():
        return np.array([np.nan])

    def raise_plain(exc):
        def f():
            raise exc
        return f

    examples = [
        (Case("x", "sleeps", lambda: time.sleep(5), "value", ("a",)), "hang"),
        (Case("x", "nan", nan_result, "value", ("a",)), "silent_nan"),
        (Case("x", "accepts", lambda: 1.0, "type", ("a",)), "wrong"),
        (Case("x", "keyerror", raise_plain(KeyError("a")), "value", ("a",)), "other"),
        (Case("x", "typeerror_for_value", raise_plain(TypeError("a bad")), "value", ("a",)),
         "other"),
        (Case("x", "unnamed", raise_plain(ValueError("bad input")), "value", ("alpha",)),
         "unclear"),
        (Case("x", "named", raise_plain(ValueError("alpha must be > 0")), "value", ("alpha",)),
         "clean"),
        (Case("x", "wrong_answer", lambda: 2.0, "ok", check=lambda v: v == 1.0), "wrong"),
        (Case("x", "nan_answer", nan_result, "ok"), "silent_nan"),
    ]
    for case, outcome in examples:
        assert run_case(case, timeout=0.3)[0] == outcome, case.label

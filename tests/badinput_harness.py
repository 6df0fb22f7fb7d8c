"""The machinery of the bad-input suite (``tests/test_badinput.py``): a case, the timeout guard
and the classification of what a call did.

Each case runs in-process under a timeout guard (SIGALRM where there is one) and is classified:

- ``clean``: a bad input raised ``TypeError`` (a wrong type) or ``ValueError`` (a wrong value)
  whose message names the argument; a valid or hard input gave the right answer (checked);
- ``unclear``: the right exception class, but the message does not name the argument;
- ``other``: another exception class (AttributeError, IndexError, a torch RuntimeError...);
- ``silent_nan``: it returned NaN or inf without saying so;
- ``wrong``: it accepted bad input, or answered a valid or hard input wrongly;
- ``hang``: it ran past the timeout.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import random
import re
import signal
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

TIMEOUT_S = 20.0
OUTCOMES = ("clean", "unclear", "other", "silent_nan", "wrong", "hang")


@dataclasses.dataclass
class Case:
    """One call. ``expect``: "type" (a TypeError naming one of ``names``), "value" (a
    ValueError, not a TypeError, naming one of ``names``), "error" (either), or "ok" (a result
    that passes ``check``; NaN/inf only where ``allow_inf``). ``group`` says where it comes from
    (for the figures)."""

    target: str
    label: str
    call: Callable[[], Any]
    expect: str
    names: tuple[str, ...] = ()
    check: Callable[[Any], bool] | None = None
    allow_inf: bool = False
    group: str = "hand-written"

    @property
    def id(self) -> str:
        return f"{self.target}[{self.label}]"


def has_nan(x: Any, depth: int = 0) -> bool:
    """NaN or inf anywhere in a result (arrays, tensors, numbers, containers, dataclasses,
    the library's objects' array attributes)."""
    if depth > 4:
        return False
    if isinstance(x, torch.Tensor):
        return x.is_floating_point() and not bool(torch.isfinite(x).all())
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "fc" and not bool(np.all(np.isfinite(x)))
    if isinstance(x, (float, np.floating)):
        return not math.isfinite(x)
    if isinstance(x, dict):
        return any(has_nan(v, depth + 1) for v in x.values())
    if isinstance(x, (list, tuple)):
        return any(has_nan(v, depth + 1) for v in list(x)[:1000])
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return any(has_nan(getattr(x, f.name), depth + 1) for f in dataclasses.fields(x))
    if hasattr(x, "__dict__") and type(x).__module__.startswith("maxent_lib"):
        return any(has_nan(v, depth + 1) for v in vars(x).values()
                   if isinstance(v, (np.ndarray, float, torch.Tensor)))
    return False


class _Timeout(BaseException):
    pass


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    if not hasattr(signal, "setitimer") or threading.current_thread() is not \
            threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise _Timeout

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def names_argument(message: str, names: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message)
               for n in names)


def run_case(case: Case, timeout: float = TIMEOUT_S) -> tuple[str, str]:
    """(outcome, detail) of one case; outcomes as in the module docstring. The global random
    states (some cases seed them) are restored afterwards."""
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    threads = torch.get_num_threads()
    try:
        return _run_case(case, timeout)
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])
        torch.set_num_threads(threads)


def _run_case(case: Case, timeout: float) -> tuple[str, str]:
    try:
        with time_limit(timeout), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = case.call()
    except _Timeout:
        return "hang", f"still running after {timeout:g} s"
    except Exception as exc:  # noqa: BLE001 - classified below
        msg = f"{type(exc).__name__}: {exc}"
        if case.expect == "ok":
            return "wrong", f"a valid input was refused: {msg}"
        if case.expect == "type":
            right = isinstance(exc, TypeError)
        elif case.expect == "value":
            right = isinstance(exc, ValueError) and not isinstance(exc, TypeError)
        else:
            right = isinstance(exc, (TypeError, ValueError))
        if not right:
            return "other", msg
        if case.names and not names_argument(str(exc), case.names):
            return "unclear", msg
        return "clean", msg
    if case.expect != "ok":
        outcome = "silent_nan" if has_nan(result) else "wrong"
        return outcome, f"accepted, returned {result!r:.200}"
    if has_nan(result) and not case.allow_inf:
        return "silent_nan", f"returned {result!r:.200}"
    if case.check is not None:
        try:
            ok = bool(case.check(result))
        except Exception as exc:  # noqa: BLE001
            return "wrong", f"the check of the result raised {type(exc).__name__}: {exc}"
        if not ok:
            return "wrong", f"wrong answer: {result!r:.200}"
    return "clean", "right answer"


def poke(v: Any, value: float) -> np.ndarray:
    """A float copy of ``v`` with its first entry set to ``value``."""
    w = np.array(v, dtype=float, copy=True)
    w.flat[0] = value
    return w

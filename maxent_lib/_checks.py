"""The library's one validation layer: every public function turns bad input into a plain error
through these helpers, with a message that names the argument and says what was expected.

- A wrong *type* (text where a number is meant, ``True`` where a count is meant, a complex array,
  ``None``) raises :class:`InputTypeError`, which is both a ``TypeError`` and a ``ValueError``: the
  right kind for the mistake, and still caught by code written against the library's older
  "every bad input is a ValueError" rule.
- A wrong *value* (NaN or inf, a wrong shape, a label out of range, a probability vector that does
  not sum to one, a number out of its range) raises ``ValueError``.

Nothing is converted silently: numeric strings are refused, not parsed; complex arrays are refused,
not cast to their real part; floats are refused where an integer is meant, not truncated; a string
such as ``"False"`` is refused where a flag is meant.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "MAX_CLASSES",
    "InputTypeError",
    "as_finite_array",
    "check_choice",
    "check_device",
    "check_flag",
    "check_int",
    "check_labels",
    "check_log_probabilities",
    "check_n_classes",
    "check_number",
    "check_path",
    "check_probabilities",
    "check_same_length",
    "check_seed",
    "check_tensor",
]

#: The most classes the library accepts, stated (``n_classes``) or inferred from the labels (the
#: largest label + 1). A stray label such as 10**6 would otherwise build a million-class model.
MAX_CLASSES = 10_000
#: Seeds are non-negative integers below 2**63 (NumPy, torch and Python all accept these).
MAX_SEED = 2**63 - 1


class InputTypeError(TypeError, ValueError):
    """An argument of the wrong type. A ``TypeError``, and also a ``ValueError`` so that code that
    catches the library's ``ValueError`` for every bad input keeps working."""


def _what(x: object) -> str:
    """A short description of a value for error messages: ``'abc' (str)``, ``True (bool)``."""
    text = repr(x)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(x).__name__})"


def _is_torch_tensor(x: object) -> bool:
    return type(x).__module__.split(".")[0] == "torch" and hasattr(x, "detach")


# ------------------------------------------------------------------------------------ scalars

def check_number(x: object, name: str, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False,
                 allow_inf: bool = False) -> float:
    """Return ``x`` as a float after checking it is one real number in the stated range.

    Refused with :class:`InputTypeError`: ``bool``, text (also numeric text such as ``"0.5"``),
    complex numbers, ``None``, arrays with more than one entry. Refused with ``ValueError``: NaN,
    inf (unless ``allow_inf``), and values outside ``[low, high]`` (``low_open``/``high_open``
    make a bound strict).

    Used by the library only.
    """
    if isinstance(x, (bool, np.bool_)):
        raise InputTypeError(f"{name} must be a number, got {_what(x)}")
    if _is_torch_tensor(x) and getattr(x, "ndim", 1) == 0:
        x = x.detach().cpu().numpy()  # type: ignore[attr-defined]
    if isinstance(x, np.ndarray):
        if x.ndim != 0:
            raise InputTypeError(f"{name} must be one number, got an array of shape {x.shape}")
        if x.dtype.kind not in "iuf":
            raise InputTypeError(f"{name} must be a real number, got an array of dtype {x.dtype}")
        x = x.item()
    if isinstance(x, (complex, np.complexfloating)) or not isinstance(x, numbers.Real):
        raise InputTypeError(f"{name} must be a real number, got {_what(x)}")
    try:
        value = float(x)
    except OverflowError as exc:
        raise ValueError(f"{name} is too large for a float ({_what(x)})") from exc
    if np.isnan(value):
        raise ValueError(f"{name} must be a number, got NaN")
    if np.isinf(value) and not allow_inf:
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low:g}, got {value:g}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high:g}, got {value:g}")
    return value


def check_int(x: object, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``x`` as an int after checking it is an integer (Python or NumPy, not ``bool``, not
    a float: 2.5 is not truncated, and 2.0 is refused too) in ``[low, high]``.


    Used by the library only."""
    if isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "iu":
        x = x.item()
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
        raise InputTypeError(f"{name} must be an integer, got {_what(x)}")
    value = int(x)
    if low is not None and value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be an integer <= {high}, got {value}")
    return value


def check_seed(seed: object, name: str = "seed") -> int:
    """A random seed: an integer in 0..2**63 - 1. Used by the library only."""
    return check_int(seed, name, low=0, high=MAX_SEED)


def check_n_classes(n_classes: object, name: str = "n_classes", *, low: int = 2,
                    high: int = MAX_CLASSES) -> int:
    """A number of classes K: an integer in ``low..high`` (default 2..:data:`MAX_CLASSES`).


    Used by the library only."""
    return check_int(n_classes, name, low=low, high=high)


def check_flag(x: object, name: str) -> bool:
    """Return ``x`` if it is ``True`` or ``False`` (also NumPy's bool); refuse anything else with
    :class:`InputTypeError`, in particular the strings ``"False"``/``"True"`` and 0/1.


    Used by the library only."""
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    raise InputTypeError(f"{name} must be True or False, got {_what(x)}")


def check_choice(x: object, name: str, choices: Iterable[str]) -> str:
    """Return ``x`` if it is one of the strings ``choices``. Used by the library only."""
    options = list(choices)
    if not isinstance(x, str):
        raise InputTypeError(f"{name} must be one of {', '.join(map(repr, options))}; "
                             f"got {_what(x)}")
    if x not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {x!r}")
    return x


def check_path(x: object, name: str) -> Path:
    """A file-system path: a non-empty ``str`` or ``os.PathLike``. Used by the library only."""
    if isinstance(x, (bytes, bytearray)) or not isinstance(x, (str, os.PathLike)):
        raise InputTypeError(f"{name} must be a path (str or pathlib.Path), got {_what(x)}")
    path = Path(x)
    if not str(x).strip():
        raise ValueError(f"{name} is an empty path")
    if "\x00" in str(path):
        raise ValueError(f"{name} contains a NUL character")
    return path


# ------------------------------------------------------------------------------------ arrays

def _object_array_to_float(arr: np.ndarray, name: str) -> np.ndarray:
    for v in arr.flat:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise InputTypeError(f"{name} must hold real numbers only, found {_what(v)}")
    try:
        return arr.astype(np.float64)
    except OverflowError as exc:
        raise ValueError(f"{name} holds a number too large for float64") from exc


def as_finite_array(x: object, name: str, ndim: int | tuple[int, ...] | None = None, *,
                    allow_empty: bool = False, allow_bool: bool = False,
                    max_abs: float | None = None) -> np.ndarray:
    """Return ``x`` as a float64 NumPy array after checking it.

    Accepts lists, NumPy arrays and CPU or GPU torch tensors (copied to the CPU, detached).
    Refused with :class:`InputTypeError`: ``None``, text, complex values, booleans (unless
    ``allow_bool``), mixed or non-numeric objects. Refused with ``ValueError``: ragged nested
    lists, a number of dimensions not in ``ndim``, an empty array (unless ``allow_empty``), NaN or
    inf, and, with ``max_abs``, entries larger in magnitude than ``max_abs``.


    Used by the library only.
    """
    if x is None or isinstance(x, (str, bytes, bytearray)):
        raise InputTypeError(f"{name} must be an array of numbers, got {_what(x)}")
    if _is_torch_tensor(x):
        x = x.detach().cpu()  # type: ignore[attr-defined]
        if str(getattr(x, "dtype", "")) == "torch.bfloat16":
            x = x.float()
        x = x.numpy()  # type: ignore[attr-defined]
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} must be a rectangular array of numbers (nested lists of equal "
                         f"length): {exc}") from exc
    kind = arr.dtype.kind
    if kind == "b":
        if not allow_bool:
            raise InputTypeError(f"{name} must hold numbers, got a boolean array; convert it "
                                 f"explicitly (e.g. {name}.astype(float)) if 0/1 is meant")
        arr = arr.astype(np.float64)
    elif kind == "c":
        raise InputTypeError(f"{name} must be real, got a complex array (dtype {arr.dtype})")
    elif kind in "US":
        raise InputTypeError(f"{name} must hold numbers, got text (dtype {arr.dtype}); numeric "
                             "strings are not converted")
    elif kind == "O":
        arr = _object_array_to_float(arr, name)
    elif kind not in "iuf":
        raise InputTypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    else:
        with np.errstate(over="ignore"):
            arr = arr.astype(np.float64, copy=False)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(str(d) for d in allowed)
            raise ValueError(f"{name} must have {want} dimension(s), got shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    finite = np.isfinite(arr)
    if not finite.all():
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(f"{name} contains NaN or inf ({int((~finite).sum())} entries, the first "
                         f"at index {where if arr.ndim != 1 else where[0]})")
    if max_abs is not None and arr.size and float(np.max(np.abs(arr))) > max_abs:
        raise ValueError(f"{name} has entries up to {float(np.max(np.abs(arr))):.3g} in "
                         f"magnitude; values beyond {max_abs:.3g} are not supported here "
                         f"(rescale {name}, e.g. standardise its columns)")
    return arr


def check_probabilities(p: object, name: str, atol: float = 1e-6) -> np.ndarray:
    """Return ``p`` as an array of distributions over its last axis; raise ``ValueError`` if an
    entry is negative or a row does not sum to one (within ``atol``). Used by the library only."""
    arr = as_finite_array(p, name)
    if arr.ndim == 0:
        raise ValueError(f"{name} must have at least one axis (the outcomes), got a scalar")
    if np.any(arr < -atol):
        raise ValueError(f"{name} has negative probabilities (min {arr.min():.3g})")
    sums = arr.sum(axis=-1)
    worst = float(np.max(np.abs(sums - 1.0)))
    if worst > atol:
        raise ValueError(
            f"{name} does not sum to one over its last axis (off by up to {worst:.3g})"
        )
    return np.clip(arr, 0.0, None)


def check_labels(y: object, n_classes: int | None, name: str = "y", *,
                 max_classes: int = MAX_CLASSES) -> np.ndarray:
    """Return ``y`` as a 1-D int64 array of labels in ``0..K-1``.

    K is ``n_classes`` when it is stated (an integer in 1..``max_classes``), else the largest
    label + 1, which must not exceed ``max_classes``: a stray label such as 10**6 is refused rather
    than turned into a million-class problem. Labels may be integers or integral floats; booleans,
    text and complex values are refused with :class:`InputTypeError`, non-integer or non-finite
    values, negative labels and labels out of range with ``ValueError``.


    Used by the library only."""
    if n_classes is not None:
        n_classes = check_n_classes(n_classes, "n_classes", low=1, high=max_classes)
    if y is None or isinstance(y, (str, bytes)):
        raise InputTypeError(f"{name} must be a 1-D array of integer class labels, got {_what(y)}")
    if _is_torch_tensor(y):
        y = y.detach().cpu().numpy()  # type: ignore[attr-defined]
    try:
        arr = np.asarray(y)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} must be a 1-D array of class labels: {exc}") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class labels, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if arr.dtype.kind == "O":
        arr = _object_array_to_float(arr, name)
    if arr.dtype.kind not in "iuf":
        raise InputTypeError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must hold integer class labels, got NaN or inf")
        if np.any(arr != np.round(arr)):
            raise ValueError(f"{name} must hold integer class labels, got non-integer values")
        if np.max(np.abs(arr)) > 2**53:
            raise ValueError(f"{name} has a label beyond 2**53 ({np.max(np.abs(arr)):.3g})")
    if arr.dtype.kind == "u" and arr.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name} has a label too large for int64 ({arr.max()})")
    arr = arr.astype(np.int64)
    if arr.min() < 0:
        raise ValueError(f"{name} has a negative label ({arr.min()}); labels run from 0 to K-1")
    top = int(arr.max())
    if n_classes is not None and top >= n_classes:
        raise ValueError(
            f"{name} has label {top}, out of range for {n_classes} classes "
            f"(0..{n_classes - 1})"
        )
    if n_classes is None and top >= max_classes:
        raise ValueError(
            f"{name} has label {top}, which would make {top + 1} classes (K = largest label + "
            f"1); at most {max_classes} classes are supported. Labels must run from 0 to K-1")
    return arr


def check_same_length(name_a: str, a: Any, name_b: str, b: Any) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same number of rows.


    Used by the library only."""
    if len(a) != len(b):
        raise ValueError(f"{name_a} has {len(a)} rows but {name_b} has {len(b)}; they must match")


# ------------------------------------------------------------------------------------ tensors

def check_tensor(t: object, name: str, *, ndim: int | None = None, floating: bool = True,
                 allow_neg_inf: bool = False) -> Any:
    """Check a torch tensor: of type ``torch.Tensor`` (else :class:`InputTypeError`), with
    ``ndim`` dimensions, a real floating dtype (``floating=True``) or an integer dtype
    (``floating=False``), not empty, and with no NaN or inf (``-inf`` allowed with
    ``allow_neg_inf``, for log-probabilities of impossible outcomes). Returns it detached.

    Used by the library only."""
    import torch

    if not isinstance(t, torch.Tensor):
        raise InputTypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    t = t.detach()
    if ndim is not None and t.dim() != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {tuple(t.shape)}")
    if t.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(t.shape)})")
    if t.is_complex():
        raise InputTypeError(f"{name} must be real, got dtype {t.dtype}")
    if floating and not t.is_floating_point():
        raise InputTypeError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
    if not floating and (t.is_floating_point() or t.dtype == torch.bool):
        raise InputTypeError(f"{name} must be an integer tensor, got dtype {t.dtype}")
    if t.is_floating_point():
        bad = torch.isnan(t) | (t == float("inf"))
        if not allow_neg_inf:
            bad |= t == float("-inf")
        if bool(bad.any()):
            raise ValueError(f"{name} contains NaN or inf ({int(bad.sum())} entries)")
    return t


def check_log_probabilities(log_probs: Any, name: str, atol: float | None = None, *,
                            ndim: int | None = None) -> Any:
    """Check a floating tensor of log-probabilities over its last axis: no NaN or +inf, every
    entry <= 0 (up to rounding) and logsumexp over the last axis = 0 within ``atol`` (default 1e-3
    for float16/32, 1e-6 for float64). Catches probabilities or logits passed by mistake.


    Used by the library only."""
    import torch

    lp = check_tensor(log_probs, name, ndim=ndim, allow_neg_inf=True)
    tol = atol if atol is not None else (1e-6 if lp.dtype == torch.float64 else 1e-3)
    lse = torch.logsumexp(lp.double(), dim=-1).flatten()
    i = int(lse.abs().argmax())
    worst = float(lse[i].abs())
    if not worst <= tol:
        raise ValueError(f"{name} must be log-probabilities (logsumexp over the last axis = 0), "
                         f"but exp({name}) sums to {float(lse[i].exp()):.4g} in a row (off by "
                         f"{worst:.3g} in log space); pass log-probabilities, e.g. "
                         "torch.log_softmax(logits, -1), not probabilities or logits")
    return lp


# ------------------------------------------------------------------------------------ devices

def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def check_device(device: object, name: str = "device") -> Any:
    """The course's one device rule (:func:`maxent_lib.runtime.get_device`): return the
    ``torch.device`` that ``device`` names on this machine.

    ``None`` and ``"auto"`` mean the same: ``MAXENT_DEVICE`` if it is set, else CUDA, then
    Apple's MPS, then the CPU. Otherwise ``device`` is a torch.device or a name (``cpu``,
    ``cuda``, ``cuda:N``, ``mps``; case and surrounding spaces do not matter). A device this
    machine cannot serve (no such GPU, an index beyond the GPUs present, no MPS backend, a
    device type the course does not support) is refused with ``ValueError``; anything that is
    not a device or a name with :class:`InputTypeError`. Messages about an argument other than
    ``device`` start with its ``name``. Used by the library only."""
    import torch

    pre = "" if name == "device" else f"{name}: "
    if isinstance(device, torch.device):
        device = str(device)
    if device is not None and not isinstance(device, str):
        raise InputTypeError(f"{name} must be a device name (str), a torch.device or None, got "
                             f"{type(device).__name__}")
    text = (device or "auto").strip().lower()
    if text == "auto":
        text = os.environ.get("MAXENT_DEVICE", "").strip().lower() or "auto"
    if text == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    try:
        dev = torch.device(text)
    except RuntimeError as exc:
        raise ValueError(f"{pre}unknown device {text!r}; use auto, cpu, cuda, cuda:N or mps"
                         ) from exc
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"{pre}device {text!r} is not supported; use auto, cpu, cuda, cuda:N "
                         "or mps")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{pre}device {text!r} was asked for, but no CUDA GPU is available")
    if dev.type == "cuda" and (dev.index or 0) >= torch.cuda.device_count():
        raise ValueError(f"{pre}device {text!r} was asked for, but this machine has "
                         f"{torch.cuda.device_count()} CUDA GPU(s)")
    if dev.type == "mps" and not _mps_available():
        raise ValueError(f"{pre}device 'mps' was asked for, but Apple's MPS backend is not "
                         "available")
    return dev

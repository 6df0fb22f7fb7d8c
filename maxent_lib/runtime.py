"""Device choice, seeding and the run profile (introduced in lesson 00, used by every lesson).

Profiles: ``MAXENT_PROFILE=quick`` sizes every experiment for a 2-core CPU in minutes;
``MAXENT_PROFILE=full`` runs the sizes reported with GPU results. Without the variable the profile
is ``full`` when a CUDA GPU is present and ``quick`` otherwise. Notebooks read their sizes through
:func:`by_profile`, never from constants scattered in cells.

Device: ``MAXENT_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``) overrides the automatic choice
of CUDA, then Apple's MPS, then the CPU.
"""

from __future__ import annotations

import os
import platform
import random
import sys
from collections.abc import Iterable
from typing import Any, Literal, TypeVar

import numpy as np
import torch

from ._checks import InputTypeError, check_flag, check_int

Profile = Literal["quick", "full"]
PROFILES: tuple[str, ...] = ("quick", "full")
T = TypeVar("T")


def get_profile() -> Profile:
    """The active profile: ``MAXENT_PROFILE`` if set, else ``full`` with a CUDA GPU, else ``quick``.

    Introduced in lesson 00. Raises ``ValueError`` for an unknown profile name.
    """
    name = os.environ.get("MAXENT_PROFILE", "").strip().lower()
    if not name:
        return "full" if torch.cuda.is_available() else "quick"
    if name not in PROFILES:
        raise ValueError(f"MAXENT_PROFILE must be 'quick' or 'full', got {name!r}")
    return name  # type: ignore[return-value]


def by_profile(quick: T, full: T, profile: str | None = None) -> T:
    """Return ``quick`` or ``full`` according to ``profile`` (default: :func:`get_profile`).

    Introduced in lesson 00: ``n_epochs = by_profile(quick=20, full=100)``.
    """
    if profile is not None and not isinstance(profile, str):
        raise InputTypeError(f"profile must be 'quick', 'full' or None, got "
                             f"{type(profile).__name__}")
    chosen = get_profile() if profile is None else profile
    if chosen not in PROFILES:
        raise ValueError(f"profile must be 'quick' or 'full', got {chosen!r}")
    return quick if chosen == "quick" else full


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def get_device(preference: str | None = None) -> torch.device:
    """Pick the device: ``preference`` if given (``"auto"`` means choose), else ``MAXENT_DEVICE``,
    else CUDA, then MPS, then CPU. Introduced in lesson 00.

    Raises ``ValueError`` for a device name torch does not know or a device that is not present.
    """
    if preference is not None and not isinstance(preference, str):
        if isinstance(preference, torch.device):
            preference = str(preference)
        else:
            raise InputTypeError(f"preference must be a device name (str) or None, got "
                                 f"{type(preference).__name__}")
    name = (preference or os.environ.get("MAXENT_DEVICE", "") or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} was asked for, but no CUDA GPU is available")
    if device.type == "cuda" and device.index is not None \
            and device.index >= torch.cuda.device_count():
        raise ValueError(f"device {name!r} was asked for, but this machine has "
                         f"{torch.cuda.device_count()} CUDA GPU(s)")
    if device.type == "mps" and not _mps_available():
        raise ValueError("device 'mps' was asked for, but Apple's MPS backend is not available")
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device {name!r} is not supported; use auto, cpu, cuda, cuda:N or mps")
    return device


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's, NumPy's and torch's global generators and return a fresh
    ``numpy.random.Generator`` for code that prefers an explicit one. Introduced in lesson 00."""
    seed = check_int(seed, "seed", low=0, high=2**64 - 1)  # torch.manual_seed's range
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))
    return np.random.default_rng(int(seed))


def environment_report() -> dict[str, str]:
    """Versions, device, profile and memory, as plain strings for lesson 00's environment check."""
    report = {
        "python": sys.version.split()[0],
        "platform": platform.platform(terse=True),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "device": str(get_device()),
        "profile": get_profile(),
        "cpu cores": str(os.cpu_count()),
    }
    if torch.cuda.is_available():
        report["gpu"] = torch.cuda.get_device_name(0)
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        report["memory"] = f"{pages / 2**30:.1f} GiB"
    except (ValueError, OSError, AttributeError):
        report["memory"] = "unknown"
    return report


def progress_bar(iterable: Iterable[T] | None = None, *, enabled: bool = True,
                 **kwargs: Any) -> Any:
    """A ``tqdm.auto`` progress bar that also honours ``TQDM_DISABLE=1`` (set under tests and when
    storing notebook outputs), which tqdm's own notebook bar ignores when ``disable`` is passed.
    Introduced in lesson 03."""
    from tqdm.auto import tqdm

    enabled = check_flag(enabled, "enabled")
    quiet = os.environ.get("TQDM_DISABLE", "").strip().lower() in ("1", "true", "yes")
    return tqdm(iterable, disable=quiet or not enabled, **kwargs)

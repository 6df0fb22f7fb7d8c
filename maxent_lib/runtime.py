"""Device choice, seeding and the run profile (introduced in lesson 00, used by every lesson).

Profiles: ``MAXENT_PROFILE=quick`` sizes every experiment for a 2-core CPU in minutes;
``MAXENT_PROFILE=full`` runs the sizes reported with GPU results. Without the variable the profile
is ``full`` when a CUDA GPU is present and ``quick`` otherwise. Notebooks read their sizes through
:func:`by_profile`, never from constants scattered in cells.

Device: ``MAXENT_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``, ``mps``) overrides the automatic choice
of CUDA, then Apple's MPS, then the CPU.
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

from ._checks import InputTypeError, check_flag, check_int
from .profiles import PROFILES, Profile, by_profile, get_profile

T = TypeVar("T")

__all__ = ["PROFILES", "Profile", "by_profile", "describe_device", "environment_report",
           "get_device", "get_profile", "progress_bar", "seed_everything"]

def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def get_device(device: str | torch.device | None = None) -> torch.device:
    """The course's one device rule (every module uses it; introduced in lesson 00).

    ``None`` and ``"auto"`` mean the same: ``MAXENT_DEVICE`` if it is set, else CUDA, then
    Apple's MPS, then the CPU. Otherwise ``device`` is a torch.device or a name (``cpu``,
    ``cuda``, ``cuda:N``, ``mps``; case and surrounding spaces do not matter). A device this
    machine cannot serve (no such GPU, an index beyond the GPUs present, no MPS backend, a
    device type the course does not support) is refused with ``ValueError``; anything that is
    not a device or a name with :class:`InputTypeError`."""
    if isinstance(device, torch.device):
        device = str(device)
    if device is not None and not isinstance(device, str):
        raise InputTypeError(f"device must be a device name (str), a torch.device or None, got "
                             f"{type(device).__name__}")
    name = (device or "auto").strip().lower()
    if name == "auto":
        name = os.environ.get("MAXENT_DEVICE", "").strip().lower() or "auto"
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    try:
        dev = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from exc
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device {name!r} is not supported; use auto, cpu, cuda, cuda:N or mps")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} was asked for, but no CUDA GPU is available")
    if dev.type == "cuda" and (dev.index or 0) >= torch.cuda.device_count():
        raise ValueError(f"device {name!r} was asked for, but this machine has "
                         f"{torch.cuda.device_count()} CUDA GPU(s)")
    if dev.type == "mps" and not _mps_available():
        raise ValueError("device 'mps' was asked for, but Apple's MPS backend is not available")
    return dev


def describe_device(device: str | torch.device | None = None) -> str:
    """The device of :func:`get_device` in words: the GPU's name, or the CPU's model and its
    core count. Refuses what :func:`get_device` refuses. Introduced in lesson 05."""
    dev = get_device(device)
    if dev.type == "cuda":
        return f"{dev} ({torch.cuda.get_device_name(dev)})"
    if dev.type == "cpu":
        name = platform.processor() or platform.machine()
        with contextlib.suppress(OSError):
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
        return f"cpu ({name}, {os.cpu_count()} cores)"
    return str(dev)


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

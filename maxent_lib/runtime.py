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

from ._checks import check_device
from .profiles import PROFILES, Profile, by_profile, get_profile
from .validation import Anything, Device, Flag, Integer, validate

T = TypeVar("T")

__all__ = ["PROFILES", "Profile", "by_profile", "describe_device", "environment_report",
           "get_device", "get_profile", "progress_bar", "seed_everything"]


@validate(device=Device())
def get_device(device: str | torch.device | None = None) -> torch.device:
    """The course's one device rule, which every module uses. Introduced in lesson 00.

    ``None`` and ``"auto"`` mean the same: ``MAXENT_DEVICE`` if it is set, else CUDA, then
    Apple's MPS, then the CPU. Otherwise ``device`` is a torch.device or a name (``cpu``,
    ``cuda``, ``cuda:N``, ``mps``; case and surrounding spaces do not matter). A device this
    machine cannot serve (no such GPU, an index beyond the GPUs present, no MPS backend, a
    device type the course does not support) is refused with ``ValueError``; anything that is
    not a device or a name with :class:`InputTypeError` (the rule itself is
    :func:`maxent_lib._checks.check_device`, which the :class:`~maxent_lib.validation.Device`
    constraint applies)."""
    return check_device(device)


@validate(device=Device())
def describe_device(device: str | torch.device | None = None) -> str:
    """The device of :func:`get_device` in words: the GPU's name, or the CPU's model, its core
    count and the instruction set torch chose its kernels for (``AVX2``, ``AVX512``, ...: two
    CPUs of one model name may differ there, and then round differently). Refuses what
    :func:`get_device` refuses. Introduced in lesson 05."""
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
        return f"cpu ({name}, {os.cpu_count()} cores, {torch.backends.cpu.get_cpu_capability()})"
    return str(dev)


@validate(seed=Integer(low=0, high=2**64 - 1))  # torch.manual_seed's range
def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python's, NumPy's and torch's global generators and return a fresh
    ``numpy.random.Generator`` for code that prefers an explicit one. Introduced in lesson 03."""
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))
    return np.random.default_rng(int(seed))


@validate()
def environment_report() -> dict[str, str]:
    """Versions, device, profile and memory, as plain strings for lesson 00's environment check.
    Introduced in lesson 00."""
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


@validate(iterable=Anything("any iterable, or None with total= (tqdm's own arguments)"),
          enabled=Flag())
def progress_bar(iterable: Iterable[T] | None = None, *, enabled: bool = True,
                 **kwargs: Any) -> Any:
    """A ``tqdm.auto`` progress bar that also honours ``TQDM_DISABLE=1`` (set under tests and when
    storing notebook outputs), which tqdm's own notebook bar ignores when ``disable`` is passed.
    Introduced in lesson 03."""
    from tqdm.auto import tqdm

    quiet = os.environ.get("TQDM_DISABLE", "").strip().lower() in ("1", "true", "yes")
    return tqdm(iterable, disable=quiet or not enabled, **kwargs)

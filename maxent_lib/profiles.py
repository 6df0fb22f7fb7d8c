"""The run profile: ``quick`` or ``full`` (introduced in lesson 00, used by every lesson).

``MAXENT_PROFILE=quick`` sizes every experiment for a 2-core CPU in minutes;
``MAXENT_PROFILE=full`` runs the sizes reported with GPU results. Without the variable the profile
is ``full`` when a CUDA GPU is present and ``quick`` otherwise. Notebooks read their sizes through
:func:`by_profile`, never from constants scattered in cells.
"""

from __future__ import annotations

import os
from typing import Literal, TypeVar

from .validation import Anything, Choice, validate

__all__ = ["PROFILES", "Profile", "by_profile", "get_profile"]

Profile = Literal["quick", "full"]
PROFILES: tuple[str, ...] = ("quick", "full")
T = TypeVar("T")


@validate()
def get_profile() -> Profile:
    """The active profile: ``MAXENT_PROFILE`` if set, else ``full`` with a CUDA GPU, else ``quick``.

    Introduced in lesson 00. Raises ``ValueError`` for an unknown profile name.
    """
    name = os.environ.get("MAXENT_PROFILE", "").strip().lower()
    if not name:
        import torch  # only when the profile is not set: importing torch takes seconds

        return "full" if torch.cuda.is_available() else "quick"
    if name not in PROFILES:
        raise ValueError(f"MAXENT_PROFILE must be 'quick' or 'full', got {name!r}")
    return name  # type: ignore[return-value]


@validate(quick=Anything("the value for the quick profile: any value"),
          full=Anything("the value for the full profile: any value"),
          profile=Choice(PROFILES, optional=True))
def by_profile(quick: T, full: T, profile: str | None = None) -> T:
    """Return ``quick`` or ``full`` according to ``profile`` (default: :func:`get_profile`).

    Introduced in lesson 00: ``n_epochs = by_profile(quick=20, full=100)``.
    """
    chosen = get_profile() if profile is None else profile
    return quick if chosen == "quick" else full

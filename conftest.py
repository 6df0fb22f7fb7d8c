"""Test-wide settings: the quick profile, the CPU, no progress bars. Set before any notebook
kernel starts, so nbval's kernels inherit them."""

import os

os.environ.setdefault("MAXENT_PROFILE", "quick")
os.environ.setdefault("MAXENT_DEVICE", "cpu")
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

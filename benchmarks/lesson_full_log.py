"""Run one lesson top to bottom from a fresh kernel (every cell, every assert) and write a text
log of its outputs with a header: command, date, commit, machine, load average, wall time.

Usage (from the repository root)::

    MAXENT_PROFILE=full MAXENT_DEVICE=cpu python benchmarks/lesson_full_log.py \\
        notebooks/04_recursive_dnn.ipynb results/04_recursive_dnn_full_cpu.log

The notebook itself is not written (its stored outputs stay those of the quick profile). Lesson 04
reads the verdict lines of its full-profile log from ``results/``.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import time

import nbformat
from nbclient import NotebookClient


def main(path: str, out: str) -> None:
    os.environ.setdefault("MAXENT_PROFILE", "full")
    os.environ.setdefault("MAXENT_DEVICE", "cpu")
    os.environ["TQDM_DISABLE"] = "1"
    nb = nbformat.read(path, as_version=4)
    load0 = os.getloadavg()
    start = time.perf_counter()
    NotebookClient(nb, timeout=3600, kernel_name="python3",
                   resources={"metadata": {"path": os.path.dirname(path)}}).execute()
    wall = time.perf_counter() - start
    load1 = os.getloadavg()
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", path, "maxent_lib"],
                           capture_output=True, text=True).stdout.strip()
    import torch

    profile, device = os.environ["MAXENT_PROFILE"], os.environ["MAXENT_DEVICE"]
    lines = [
        f"# {os.path.basename(path)} run top to bottom in the {profile.upper()} profile "
        f"on device {device}",
        f"# command: MAXENT_PROFILE={profile} MAXENT_DEVICE={device} python "
        f"benchmarks/lesson_full_log.py {path} {out}",
        f"# date: {datetime.datetime.now().isoformat(timespec='seconds')}; commit {commit}"
        + (" (with uncommitted edits of: " + dirty.replace("\n", ", ") + ")" if dirty else ""),
        f"# machine: {platform.platform(terse=True)}, {os.cpu_count()} CPU cores shared with "
        f"other jobs (load average {load0[0]:.1f} at start, {load1[0]:.1f} at end); python "
        f"{platform.python_version()}, torch {torch.__version__}",
        f"# wall time: {wall:.0f} s, finished without error", ""]
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        lines.append(">>> " + cell.source.replace("\n", "\n... "))
        for o in cell.outputs:
            if o.output_type == "stream":
                lines.append(o.text.rstrip())
            elif "data" in o and "image/png" in o.data:
                lines.append("[figure]")
            elif "data" in o and "text/plain" in o.data:
                lines.append(o.data["text/plain"])
        lines.append("")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print(f"{path}: {wall:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""Execute notebooks top to bottom from a fresh kernel in the quick profile and store the outputs.

Usage::

    python tools/run_notebooks.py                         # every lesson, then every solution
    python tools/run_notebooks.py notebooks/03_*.ipynb    # some notebooks
    python tools/run_notebooks.py --profile full --device cuda notebooks/05_shortcuts.ipynb

For each notebook: a fresh kernel (this Python's ``python3`` kernel) is started in the notebook's
folder, so paths in outputs are relative; ``MAXENT_PROFILE`` (default ``quick``),
``MAXENT_DEVICE`` (default ``cpu``) and ``TQDM_DISABLE=1`` (clean stored outputs: no progress bars)
are set for it; every cell runs with a time limit. Afterwards machine paths that leaked into
outputs (the repository, the home folder, the temp folder, the Python installation) are replaced by
neutral names and the notebook is written in place, as Jupyter writes it. A cell that raises stops
that notebook: it is not written, and the script exits with status 1 after the others.

Prints one line per notebook: wall time, peak resident memory of the kernel process (Linux:
``VmHWM`` from ``/proc``, exact; elsewhere: sampled with psutil after each cell) and the number of
code cells; then a table to paste into the README.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|tmp|root|home|Users)/[^\s'\"<>)\]]*")


@dataclass
class RunResult:
    """What one notebook's run took."""

    notebook: str
    ok: bool
    seconds: float
    peak_mib: float | None
    cells: int
    error: str = ""


def default_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    """Lessons (``NN_*.ipynb``) in order, then their solutions."""
    return sorted(folder.glob("[0-9][0-9]_*.ipynb")) + sorted(
        (folder / "solutions").glob("[0-9][0-9]_*.ipynb"))


def _peak_rss_mib(pid: int) -> float | None:
    """The process's peak resident memory so far (Linux ``VmHWM``), else its current RSS."""
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        match = re.search(r"^VmHWM:\s+(\d+)\s+kB", status.read_text(), flags=re.MULTILINE)
        if match:
            return int(match.group(1)) / 1024
    try:
        import psutil

        proc = psutil.Process(pid)
        rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(True))
        return rss / 2**20
    except Exception:  # noqa: BLE001 - memory is reported when it can be measured
        return None


def _replacements(notebook: Path) -> list[tuple[str, str]]:
    """Machine paths to neutral names, longest first."""
    names = {
        str(notebook.parent.resolve()): ".",
        str(ROOT): ".",
        sys.prefix: "<python>",
        sys.base_prefix: "<python>",
        tempfile.gettempdir(): "<tmp>",
        str(Path.home()): "~",
    }
    pairs = {}
    for old, new in names.items():
        pairs[old + os.sep] = "" if new == "." else new + "/"
        pairs[old] = new
    return sorted(pairs.items(), key=lambda kv: -len(kv[0]))


def _clean(text: str, pairs: list[tuple[str, str]]) -> str:
    for old, new in pairs:
        if old not in ("/", os.sep):
            text = text.replace(old, new)
    return text


def strip_machine_paths(nb: nbformat.NotebookNode, notebook: Path) -> list[str]:
    """Replace machine paths in every output of ``nb`` (in place); return any that remain."""
    pairs = _replacements(notebook)
    left: list[str] = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if "text" in out:
                out["text"] = _clean(out["text"], pairs)
                left += MACHINE_PATH.findall(out["text"])
            if "traceback" in out:
                out["traceback"] = [_clean(line, pairs) for line in out["traceback"]]
            for mime, value in out.get("data", {}).items():
                if isinstance(value, str) and (mime.startswith("text/") or mime.endswith("json")):
                    out["data"][mime] = _clean(value, pairs)
                    if not mime.startswith("text/html"):
                        left += MACHINE_PATH.findall(out["data"][mime])
    return left


def run(notebook: Path, timeout: int, env: dict[str, str], write: bool = True) -> RunResult:
    """Execute ``notebook`` in a fresh kernel with ``env`` set; store its outputs if it ran."""
    nb = nbformat.read(notebook, as_version=4)
    old_env = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits this process's environment
    peak: list[float] = []
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", record_timing=False,
        resources={"metadata": {"path": str(notebook.parent)}},
    )

    def sample(**_: object) -> None:
        proc = getattr(getattr(client.km, "provisioner", None), "process", None)
        if proc is not None:
            value = _peak_rss_mib(proc.pid)
            if value is not None:
                peak.append(value)

    client.on_cell_executed = sample
    start = time.perf_counter()
    error = ""
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as exc:
        error = str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else type(exc).__name__
    finally:
        for key, value in old_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    seconds = time.perf_counter() - start
    cells = sum(c.cell_type == "code" for c in nb.cells)
    result = RunResult(notebook.name, not error, seconds, max(peak) if peak else None, cells, error)
    if error:
        return result
    left = strip_machine_paths(nb, notebook)
    if left:
        print(f"  warning: machine paths left in {notebook.name}: {sorted(set(left))[:5]}")
    if write:
        text = nbformat.writes(nb, version=4)
        notebook.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return result


def table(results: list[RunResult], profile: str) -> str:
    """Markdown table of the runs (for the README's timings)."""
    rows = [f"| Notebook | Wall time ({profile}, s) | Peak kernel memory (MiB) | Status |",
            "|---|---|---|---|"]
    for r in results:
        mem = f"{r.peak_mib:.0f}" if r.peak_mib is not None else "n/a"
        rows.append(f"| {r.notebook} | {r.seconds:.1f} | {mem} | {'ok' if r.ok else 'FAILED'} |")
    return "\n".join(rows)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: lessons, then solutions")
    parser.add_argument("--profile", default="quick", choices=["quick", "full"])
    parser.add_argument("--device", default="cpu", help="MAXENT_DEVICE for the kernel (cpu)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (600)")
    parser.add_argument("--no-write", action="store_true", help="run only; keep the files as is")
    args = parser.parse_args(list(argv) if argv is not None else None)
    notebooks = [p.resolve() for p in args.notebooks] or default_notebooks()
    env = {"MAXENT_PROFILE": args.profile, "MAXENT_DEVICE": args.device, "TQDM_DISABLE": "1",
           "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    import platform

    print(f"profile {args.profile}, device {args.device}, {os.cpu_count()} cores, "
          f"{platform.processor() or platform.machine()}")
    results = []
    for path in notebooks:
        res = run(path, args.timeout, env, write=not args.no_write)
        mem = f"{res.peak_mib:.0f} MiB" if res.peak_mib is not None else "n/a"
        status = "ok" if res.ok else f"FAILED: {res.error}"
        print(f"{res.notebook:<32} {res.seconds:7.1f} s  peak {mem:>9}  {res.cells:3d} code cells"
              f"  {status}", flush=True)
        results.append(res)
    print()
    print(table(results, args.profile))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

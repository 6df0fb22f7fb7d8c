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

Prints first the CPUs and memory the run is GIVEN (the limits of its cgroup, v2 then v1, and the
CPUs it may run on; the host's count and physical memory only where there is no limit), then one
line per notebook: wall time, peak resident memory of the kernel process (Linux: ``VmHWM`` from
``/proc``, exact; elsewhere: sampled with psutil after each cell) and the number of code cells.

``--no-write`` runs the notebooks and writes nothing at all: no notebook, no
``results/timings.json``, no README table, no header. ``--times-only`` keeps the notebooks as they
are but records the times (``results/timings.json`` and the README's table), e.g. for a
full-profile run whose outputs must not replace the stored quick ones.

**The timing table.** Every successful run is also recorded in ``results/timings.json`` (per
notebook and profile: seconds, peak MiB, the machine, the date, the command), and the README's
timing table (between ``<!-- timings:start -->`` and ``<!-- timings:end -->``) and each lesson
header's ``**Time:**`` line are rewritten from that file, so they cannot disagree
(``tests/test_run_notebooks.py`` checks it). A header's ``**Study time:**`` line, where there is
one, is rewritten too: the estimate of ``maxent_lib.coursemap.study_minutes`` (the lesson's
words, equations, code cells and exercises, and its quick run time). A header's Time line is
one line (or list item) that starts with ``**Time:**``; write
``- **Time:** (measured by tools/run_notebooks.py)`` in a new lesson and the next run fills it
in. Other commands::

    python tools/run_notebooks.py --sync-docs          # rewrite README and headers from the file
    python tools/run_notebooks.py --sync-docs notebooks/05_shortcuts.ipynb   # README + one header
    python tools/run_notebooks.py --check-docs         # exit 1 if they disagree with it
    python tools/run_notebooks.py --import-log results/05_shortcuts_full_h200.log
        # record a script run's time from its log (the /usr/bin/time line at its end); README

When the whole course is run, lesson 00 runs last, so that its course map (read from the
lesson headers) shows the times just measured.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TIMINGS = ROOT / "results" / "timings.json"
README = ROOT / "README.md"
TABLE_START = "<!-- timings:start -->"
TABLE_END = "<!-- timings:end -->"
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|tmp|root|home|Users)/[^\s'\"<>)\]]*")
#: A lesson header's Time line: an optional list marker, then ``**Time:**``.
TIME_LINE = re.compile(r"^(?P<prefix>[ \t]*(?:[-*+][ \t]+)?)\*\*Time:?\*\*:?", flags=re.I)
#: A lesson header's (optional) Study time line, rewritten like the Time line.
STUDY_LINE = re.compile(r"^(?P<prefix>[ \t]*(?:[-*+][ \t]+)?)\*\*Study time:?\*\*:?",
                        flags=re.I)
#: The line ``/usr/bin/time -f "NAME: %e s wall, %M KB max RSS"`` writes at the end of a log.
TIME_LOG = re.compile(r"^(?P<name>\d\d_[\w-]+): (?P<s>[\d.]+) s wall, (?P<kb>\d+) KB max RSS",
                      flags=re.M)


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
    """Lessons 01-07 in order, their solutions, then lesson 00 (its course map shows the lesson
    headers' times, so it runs after them)."""
    lessons = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    first = [p for p in lessons if p.name.startswith("00_")]
    rest = [p for p in lessons if p not in first]
    return rest + sorted((folder / "solutions").glob("[0-9][0-9]_*.ipynb")) + first


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


# ---- the timing table -----------------------------------------------------------------------

@dataclass
class Resources:
    """The CPUs and memory a run is given, and where each number comes from."""

    cpus: float
    cpus_from: str
    memory_bytes: int | None
    memory_from: str
    host_cpus: int | None = None

    def describe(self) -> str:
        cpus = f"{self.cpus:g} CPU{'s' if self.cpus != 1 else ''}"
        mem = (f"{self.memory_bytes / 2**30:.1f} GiB memory" if self.memory_bytes is not None
               else "memory unknown")
        host = (f"; the host has {self.host_cpus} cores"
                if self.host_cpus and self.host_cpus != self.cpus else "")
        return f"given {cpus} ({self.cpus_from}), {mem} ({self.memory_from}){host}"


#: cgroup v1 reports "no limit" as a huge number (PAGE_COUNTER_MAX pages, about 2**63 bytes).
_V1_UNLIMITED = 2**60


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None


def _cgroup_dirs(base: Path, path: str) -> list[Path]:
    """``base/path`` and each folder above it up to ``base`` (a limit may be set on any)."""
    parts = [p for p in path.strip("/").split("/") if p and p != ".."]
    dirs = [base.joinpath(*parts[:i]) for i in range(len(parts), -1, -1)]
    return list(dict.fromkeys(dirs))


def _proc_cgroups(text: str) -> dict[str, str]:
    """``/proc/self/cgroup`` as {controller: path}; the cgroup v2 entry under ``""``."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for name in controllers.split(",") if controllers else [""]:
            found[name.removeprefix("name=")] = path
    return found


def given_resources(cgroup_root: Path = Path("/sys/fs/cgroup"),
                    proc_cgroup: Path = Path("/proc/self/cgroup"),
                    cpu_count: int | None = None,
                    physical_memory: int | None = None,
                    affinity: int | None = None) -> Resources:
    """The CPUs and memory this process is given: the cgroup v2 limits (``cpu.max``,
    ``memory.max``), else the cgroup v1 limits (``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``,
    ``memory.limit_in_bytes``), on its own cgroup or any above it (the smallest wins); the CPUs
    are also capped by the CPUs it may run on (its affinity). Where nothing is limited: the
    host's ``os.cpu_count()`` and physical memory. The arguments replace what is read from the
    system (tests); ``affinity=0`` means unknown."""
    host_cpus = cpu_count if cpu_count is not None else os.cpu_count()
    if physical_memory is None:
        try:
            physical_memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            physical_memory = None
    paths = _proc_cgroups(_read(proc_cgroup) or "")
    cpu_limits: list[tuple[float, str]] = []
    mem_limits: list[tuple[int, str]] = []
    # cgroup v2: one hierarchy, mounted at the root
    if (cgroup_root / "cgroup.controllers").exists() or (cgroup_root / "cpu.max").exists() \
            or (cgroup_root / "memory.max").exists():
        for folder in _cgroup_dirs(cgroup_root, paths.get("", "/")):
            cpu = (_read(folder / "cpu.max") or "").split()
            if len(cpu) == 2 and cpu[0] != "max":
                try:
                    cpu_limits.append((int(cpu[0]) / int(cpu[1]), "cgroup v2 cpu.max"))
                except (ValueError, ZeroDivisionError):
                    pass
            mem = _read(folder / "memory.max")
            if mem and mem != "max" and mem.isdigit():
                mem_limits.append((int(mem), "cgroup v2 memory.max"))
    # cgroup v1: one hierarchy per controller
    if not cpu_limits:
        for name in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
            base = cgroup_root / name
            if not base.is_dir():
                continue
            for folder in _cgroup_dirs(base, paths.get("cpu", "/")):
                quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder /
                                                                         "cpu.cfs_period_us")
                try:
                    if quota and period and int(quota) > 0 and int(period) > 0:
                        cpu_limits.append((int(quota) / int(period), "cgroup v1 cpu quota"))
                except ValueError:
                    pass
            break
    if not mem_limits and (cgroup_root / "memory").is_dir():
        for folder in _cgroup_dirs(cgroup_root / "memory", paths.get("memory", "/")):
            value = _read(folder / "memory.limit_in_bytes")
            if value and value.isdigit() and int(value) < _V1_UNLIMITED:
                mem_limits.append((int(value), "cgroup v1 memory.limit_in_bytes"))
    if affinity is None:
        try:
            affinity = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            affinity = 0
    if cpu_limits:
        cpus, cpus_from = min(cpu_limits)
        if affinity and affinity < cpus:
            cpus, cpus_from = float(affinity), "the CPUs this process may use"
    elif affinity and host_cpus and affinity < host_cpus:
        cpus, cpus_from = float(affinity), "the CPUs this process may use"
    else:
        cpus, cpus_from = float(host_cpus or 1), "no limit: the host's cores"
    if mem_limits:
        memory, memory_from = min(mem_limits)
        if physical_memory is not None and physical_memory < memory:
            memory, memory_from = physical_memory, "no lower limit: the host's memory"
    else:
        memory, memory_from = physical_memory, "no limit: the host's memory"
    return Resources(cpus, cpus_from, memory, memory_from, host_cpus)


def machine_description(device: str, resources: Resources | None = None) -> str:
    """How a table names the machine: "a 2-core CPU" (the CPUs the run is given), or the GPU's
    name ("one NVIDIA H200")."""
    if device.startswith("cuda"):
        try:
            import torch

            if torch.cuda.is_available():
                return "one " + torch.cuda.get_device_name(torch.device(device))
        except Exception:  # noqa: BLE001 - the description falls back to the CPU
            pass
    if device == "mps":
        return "Apple silicon (MPS)"
    cpus = (resources or given_resources()).cpus
    return f"a {cpus:g}-core CPU" if cpus == int(cpus) else f"a {cpus:g}-CPU share of a machine"


def load_timings(path: Path = TIMINGS) -> dict[str, Any]:
    """The timing table (``{"runs": {notebook: {profile: entry}}}``); empty if there is none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data.setdefault("runs", {})
    return data


def save_timings(data: dict[str, Any], path: Path = TIMINGS) -> None:
    data["about"] = ("Wall time (kernel start included) and peak memory of each notebook run "
                     "top to bottom, per profile, written by tools/run_notebooks.py; the README "
                     "table and the lesson headers' Time lines are generated from this file.")
    data["runs"] = {k: data["runs"][k] for k in sorted(data["runs"])}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def record(data: dict[str, Any], result: RunResult, profile: str, machine: str,
           command: str) -> None:
    """Store one successful run in the table ``data`` (in place)."""
    if not result.ok:
        return
    data["runs"].setdefault(result.notebook, {})[profile] = {
        "seconds": round(result.seconds, 1),
        "peak_mib": round(result.peak_mib) if result.peak_mib is not None else None,
        "machine": machine,
        "complete": True,
        "how": "tools/run_notebooks.py",
        "command": command,
        "date": datetime.date.today().isoformat(),
    }


def import_log(path: Path) -> tuple[str, str, dict[str, Any]]:
    """A script run's (notebook, profile, entry) from its log: the notebook, seconds and max
    RSS from the ``/usr/bin/time`` line at its end, the profile, machine and date from its header,
    and whether it finished (a ``timeout`` exit, status 124, means it was cut)."""
    text = path.read_text(encoding="utf-8")
    match = list(TIME_LOG.finditer(text))
    if not match:
        raise ValueError(f"{path}: no '/usr/bin/time' line (NAME: S s wall, KB KB max RSS)")
    last = match[-1]
    profile = re.search(r"\b(quick|full) profile", text)
    machine = re.search(r"\bon (one NVIDIA [A-Z0-9]+[\w-]*)", text)
    date = re.search(r"\b(\d{4}-\d{2}-\d{2})\b", text)
    entry = {
        "seconds": float(last.group("s")),
        "peak_mib": round(int(last.group("kb")) / 1024),
        "machine": machine.group(1) if machine else "unknown machine",
        "complete": "non-zero status 124" not in text,
        "how": "script run (see the log)",
        "command": f"python tools/run_notebooks.py --import-log {path.relative_to(ROOT)}"
        if path.resolve().is_relative_to(ROOT) else f"--import-log {path.name}",
        "log": path.relative_to(ROOT).as_posix() if path.resolve().is_relative_to(ROOT)
        else path.name,
        "date": date.group(1) if date else "",
    }
    return last.group("name") + ".ipynb", profile.group(1) if profile else "full", entry


def describe(entry: dict[str, Any] | None, memory: bool = False) -> str:
    """One run as a table cell or header phrase: "30 s on a 2-core CPU"; a cut run reads
    "over 90 s on ... (stopped at 90 s)"."""
    if not entry:
        return "not measured yet"
    seconds = f"{entry['seconds']:.0f} s"
    text = (f"{seconds} on {entry['machine']}" if entry.get("complete", True)
            else f"over {seconds} on {entry['machine']} (stopped at {seconds})")
    if entry.get("how", "").startswith("script"):
        text += ", as a script"
    if memory and entry.get("peak_mib"):
        text += f", {entry['peak_mib']} MiB peak"
    return text


def _lesson_title(notebook: Path) -> str:
    try:
        nb = nbformat.read(notebook, as_version=4)
    except (OSError, ValueError):
        return notebook.stem
    for cell in nb.cells:
        match = re.search(r"^#\s+(.+)$", cell.source, flags=re.M) if cell.cell_type == "markdown" \
            else None
        if match:
            return " ".join(match.group(1).replace("·", " ").split())
    return notebook.stem


def readme_table(data: dict[str, Any], folder: Path = NOTEBOOKS) -> str:
    """The README's timing table: one row per lesson, quick and full profile."""
    rows = ["| Lesson | quick profile | peak memory (quick) | full profile |",
            "|---|---|---|---|"]
    for nb in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        runs = data["runs"].get(nb.name, {})
        quick = runs.get("quick")
        mem = f"{quick['peak_mib']} MiB" if quick and quick.get("peak_mib") else "-"
        rows.append(f"| {_lesson_title(nb)} | {describe(quick)} | {mem} | "
                    f"{describe(runs.get('full'))} |")
    return "\n".join(rows)


def header_text(data: dict[str, Any], name: str) -> str:
    """A lesson header's Time line (without its list marker), from the table."""
    runs = data["runs"].get(name, {})
    return (f"**Time:** quick profile: {describe(runs.get('quick'), memory=True)}; "
            f"full profile: {describe(runs.get('full'))} (measured: `results/timings.json`).")


def study_text(notebook: Path, data: dict[str, Any]) -> str:
    """A lesson header's Study time line (without its list marker): the estimate of
    :func:`maxent_lib.coursemap.study_minutes` from the lesson's text and its quick-profile
    run time in the table."""
    from maxent_lib import coursemap

    quick = data["runs"].get(notebook.name, {}).get("quick")
    minutes = coursemap.study_minutes(coursemap.study_counts(notebook),
                                      float(quick["seconds"]) if quick else 0.0)
    return (f"**Study time:** about {minutes} minutes to read and run, exercises included "
            "(estimated by `maxent_lib.coursemap.study_minutes`; the rule is in lesson 00).")


def _header_cells(nb: nbformat.NotebookNode, n: int = 6) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "markdown"][:n]


def stated_time(notebook: Path) -> str | None:
    """The Time line of a lesson's header (its first line only), or None if it has none."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in _header_cells(nb):
        for line in cell.source.splitlines():
            match = TIME_LINE.match(line)
            if match:
                return line[len(match.group("prefix")):].rstrip()
    return None


def _replace_time_line(source: str, text: str, pattern: re.Pattern[str] = TIME_LINE) -> str:
    """``source`` with its Time line (or the line ``pattern`` finds, and the lines that continue
    it) replaced by ``text``."""
    lines = source.split("\n")
    for i, line in enumerate(lines):
        match = pattern.match(line)
        if not match:
            continue
        j = i + 1
        while j < len(lines) and lines[j].strip() and not re.match(
                r"^\s*([-*+]\s|\*\*|#|>)", lines[j]):
            j += 1
        return "\n".join(lines[:i] + [match.group("prefix") + text] + lines[j:])
    return source


def sync_header(notebook: Path, data: dict[str, Any], write: bool = True) -> bool:
    """Rewrite the Time line of ``notebook``'s header from the table, and its Study time line
    (where it has one) from :func:`study_text`; True if either changed (or, with
    ``write=False``, would change). A header without a Time line is left alone."""
    nb = nbformat.read(notebook, as_version=4)
    changed = False
    for pattern, text in ((TIME_LINE, header_text(data, notebook.name)),
                          (STUDY_LINE, study_text(notebook, data))):
        for cell in _header_cells(nb):
            if any(pattern.match(line) for line in cell.source.splitlines()):
                new = _replace_time_line(cell.source, text, pattern)
                changed |= new != cell.source
                cell.source = new
                break
    if changed and write:
        out = nbformat.writes(nb, version=4)
        notebook.write_text(out if out.endswith("\n") else out + "\n", encoding="utf-8")
    return changed


def sync_readme(data: dict[str, Any], readme: Path = README, write: bool = True,
                folder: Path = NOTEBOOKS) -> bool:
    """Rewrite the README's table between the timing markers; True if it changed."""
    text = readme.read_text(encoding="utf-8")
    if TABLE_START not in text or TABLE_END not in text:
        raise ValueError(f"{readme.name} has no {TABLE_START} ... {TABLE_END} markers")
    head, rest = text.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    new = f"{head}{TABLE_START}\n{readme_table(data, folder)}\n{TABLE_END}{tail}"
    if new != text and write:
        readme.write_text(new, encoding="utf-8")
    return new != text


def docs_out_of_date(data: dict[str, Any], notebooks: Iterable[Path], readme: Path = README,
                     folder: Path = NOTEBOOKS) -> list[str]:
    """The README and the lesson headers that disagree with the table (nothing is written);
    a lesson whose header has no Time line is listed too."""
    stale = ["README.md"] if sync_readme(data, readme, write=False, folder=folder) else []
    for nb in notebooks:
        if stated_time(nb) is None:
            stale.append(f"{nb.name} (its header has no **Time:** line)")
        elif sync_header(nb, data, write=False):
            stale.append(nb.name)
    return stale


def shows_headers(notebook: Path) -> bool:
    """True if the notebook's output shows the lessons' headers (it builds the course map)."""
    nb = nbformat.read(notebook, as_version=4)
    return any(c.cell_type == "code" and "course_map(" in c.source for c in nb.cells)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: lessons, then solutions")
    parser.add_argument("--profile", default="quick", choices=["quick", "full"])
    parser.add_argument("--device", default="cpu", help="MAXENT_DEVICE for the kernel (cpu)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (600)")
    parser.add_argument("--no-write", action="store_true",
                        help="run only; write nothing (no notebook, timings file, README or "
                             "header)")
    parser.add_argument("--times-only", action="store_true",
                        help="keep the notebooks as they are, but record the times in "
                             "results/timings.json and the README's table")
    parser.add_argument("--machine", help="how the timing table names this machine "
                                          "(default: 'a N-core CPU' or the GPU's name)")
    parser.add_argument("--sync-docs", action="store_true",
                        help="only rewrite the README table and lesson headers from the file")
    parser.add_argument("--check-docs", action="store_true",
                        help="only check that README and lesson headers agree with the file")
    parser.add_argument("--import-log", type=Path, action="append", default=[],
                        help="record the time of a script run from its log, then sync")
    argv_list = list(argv) if argv is not None else sys.argv[1:]
    args = parser.parse_args(argv_list)
    lessons = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if args.check_docs:
        stale = docs_out_of_date(load_timings(), args.notebooks or lessons)
        for name in stale:
            print(f"out of date with results/timings.json: {name}")
        return 1 if stale else 0
    if args.import_log:  # record, and refresh the README table (headers: --sync-docs)
        data = load_timings()
        for log in args.import_log:
            name, profile, entry = import_log(log.resolve())
            data["runs"].setdefault(name, {})[profile] = entry
            print(f"{name} ({profile}): {describe(entry, memory=True)}")
        save_timings(data)
        print("README.md " + ("rewritten" if sync_readme(data) else "up to date"))
        return 0
    if args.sync_docs:  # the README, and the headers of the given lessons (default: all)
        data = load_timings()
        changed = ["README.md"] if sync_readme(data) else []
        changed += [nb.name for nb in (args.notebooks or lessons) if sync_header(nb, data)]
        print("rewrote " + (", ".join(changed) if changed else "nothing (all up to date)"))
        return 0
    notebooks = [p.resolve() for p in args.notebooks] or default_notebooks()
    env = {"MAXENT_PROFILE": args.profile, "MAXENT_DEVICE": args.device, "TQDM_DISABLE": "1",
           "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    import platform

    resources = given_resources()
    print(f"profile {args.profile}, device {args.device}, {resources.describe()}, "
          f"{platform.processor() or platform.machine()}")
    if args.no_write:
        print("--no-write: nothing is written (notebooks, timings, README and headers unchanged)")
    machine = args.machine or machine_description(args.device, resources)
    store_outputs = not (args.no_write or args.times_only)
    command = "python tools/run_notebooks.py " + " ".join(
        a if not Path(a).is_absolute() else Path(a).name for a in argv_list)
    results = []
    for path in notebooks:
        res = run(path, args.timeout, env, write=store_outputs)
        mem = f"{res.peak_mib:.0f} MiB" if res.peak_mib is not None else "n/a"
        status = "ok" if res.ok else f"FAILED: {res.error}"
        print(f"{res.notebook:<32} {res.seconds:7.1f} s  peak {mem:>9}  {res.cells:3d} code cells"
              f"  {status}", flush=True)
        results.append(res)
        if args.no_write:
            continue
        if res.ok and path.parent.resolve() == NOTEBOOKS.resolve():  # lessons, not solutions
            data = load_timings()
            record(data, res, args.profile, machine, command)
            save_timings(data)
            if store_outputs and sync_header(path, data) and shows_headers(path):
                # its output shows the lesson headers (lesson 00's course map), its own Time
                # line included: run it once more so the map shows the time just recorded
                again = run(path, args.timeout, env, write=True)
                print(f"{path.name:<32} re-run for its course map: "
                      f"{'ok' if again.ok else 'FAILED: ' + again.error}", flush=True)
            if README.exists() and TABLE_START in README.read_text(encoding="utf-8"):
                sync_readme(data)
    print()
    print(table(results, args.profile))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

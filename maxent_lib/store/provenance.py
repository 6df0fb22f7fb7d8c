"""Provenance of stored results, and whether a stored result is current (lessons 03 and 05-07).

Every stored result is a JSON-lines file ``NAME.jsonl`` (one record per line, see
:mod:`maxent_lib.store.files`) with ``NAME_provenance.json`` beside it, written by code:

- ``kind`` (what made it, e.g. "ablation grid" or "coverage simulation") and ``code_entry_points``
  (the functions that compute its records);
- ``code_hash`` of the code reached from them (:func:`maxent_lib.store.codehash.code_hash`) and
  ``code_files`` (the files that code lives in);
- ``commit`` of the checkout, ``dirty`` (tracked files differ from it) and ``code_dirty`` (the
  code files do);
- ``versions`` (python, numpy, scipy, torch, mnist1d), ``device``, ``command``, ``created``;
- ``runs``: every run that wrote to the file (command, device, started, finished, status:
  ``running``, ``finished``, ``interrupted`` or ``failed``), and ``records``.

:func:`load_stored` reads a stored result and says whether it is **current**: its provenance's
hash equals the hash of the same entry points in the code now, every record carries that hash,
and its last run finished. Anything else is **stale**, with the reason; lessons draw no verdict
from stale results. ``python -m maxent_lib stored`` prints that for every file under
``results/``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..runtime import describe_device
from ..validation import (
    Choice,
    Device,
    Dict,
    Integer,
    Items,
    PathArg,
    Text,
    validate,
)
from . import locking
from .codehash import code_hash, reached_files
from .files import append_records, read_records

__all__ = ["RUN_STATUSES", "StoredResults", "begin_run", "end_run", "load_provenance",
           "load_stored", "merge_stored", "provenance", "provenance_path", "stored_report"]

#: How a run that wrote to a results file ended.
RUN_STATUSES: tuple[str, ...] = ("running", "finished", "interrupted", "failed")


def _git(*args: str) -> str | None:
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                             timeout=20, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout


def _git_state(code_files: Sequence[str]) -> dict[str, Any]:
    """The commit of the checkout (None outside git), whether tracked files differ from it, and
    whether the files of the hashed code do."""
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None, "code_dirty": None}
    status = _git("status", "--porcelain", "--untracked-files=no") or ""
    code = _git("status", "--porcelain", "--", *code_files) or ""
    return {"commit": commit.strip(), "dirty": bool(status.strip()),
            "code_dirty": bool(code.strip())}


def _versions() -> dict[str, str | None]:
    def version(pkg: str) -> str | None:
        try:
            return importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            return None

    return {"python": platform.python_version(),
            **{pkg: version(pkg) for pkg in ("numpy", "scipy", "torch", "mnist1d")}}


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


#: The path of a stored results file (a regular file, or a name that does not exist yet).
_RESULTS_PATH = PathArg(file=True)


@validate(kind=Text(empty=False), entry_points=Items(Text(empty=False), min_len=1),
          command=Text(optional=True), device=Device())
def provenance(kind: str, entry_points: Sequence[str], *, command: str | None = None,
               device: Any = "cpu") -> dict[str, Any]:
    """The provenance of results made now by this code (see the module docstring): ``kind``,
    ``code_entry_points``, ``code_hash``, ``code_files``, git state, versions, ``device`` in
    words, ``command`` (default: this process's command line) and ``created``.
    Introduced in lesson 05."""
    eps = list(entry_points)
    files = reached_files(eps)
    return {"kind": kind, "code_entry_points": eps, "code_hash": code_hash(eps),
            "code_files": files, **_git_state(files), "versions": _versions(),
            "device": describe_device(device),
            "command": command if command is not None else " ".join([sys.executable,
                                                                     *sys.argv]),
            "created": _now()}


@validate(results_path=PathArg())
def provenance_path(results_path: str | os.PathLike[str]) -> Path:
    """``NAME_provenance.json`` beside ``NAME.jsonl``. Introduced in lesson 05."""
    p = results_path
    return p.with_name(p.stem + "_provenance.json")


@validate(results_path=PathArg())
def load_provenance(results_path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The provenance stored beside a results file, or None if there is none.
    Raises ``ValueError`` if it is not a JSON object. Introduced in lesson 05."""
    path = provenance_path(results_path)
    if not path.is_file():
        return None
    try:
        out = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path.name} is not a JSON object: {exc}") from exc
    if not isinstance(out, dict):
        raise ValueError(f"{path.name} is not a JSON object")
    return out


def _write_json(path: Path, obj: dict[str, Any]) -> None:
    payload = (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode("utf-8")
    locking.atomic_write(path, lambda f: f.write(payload))


def _host_id() -> str:
    """This machine, as a run records it: a short hash of its network name (the name itself is
    not stored, the results files being published)."""
    return hashlib.sha256(platform.node().encode("utf-8")).hexdigest()[:12]


def _process_gone(pid: int) -> bool:
    """Whether no process ``pid`` runs on this machine (POSIX only: elsewhere, False)."""
    if os.name != "posix":   # on Windows os.kill would end the process, not probe it
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:          # it exists, owned by someone else
        return False
    return False


def _if_gone(run: dict[str, Any]) -> dict[str, Any]:
    """``run``, marked ``interrupted`` when it still reads ``running`` but its process, on this
    machine, no longer exists (a killed run never records its end). Runs of other machines,
    and runs written before runs recorded their process, are left as they are."""
    pid = run.get("pid")
    if run.get("status") != "running" or run.get("host") != _host_id() \
            or not isinstance(pid, int) or pid == os.getpid() or not _process_gone(pid):
        return run
    return {**run, "status": "interrupted", "ended": None,
            "note": "its process was gone when a later run began (killed)"}


@validate(results_path=_RESULTS_PATH,
          prov=Dict(required=("code_hash", "command", "device", "created")),
          n_records=Integer(low=0))
def begin_run(results_path: str | os.PathLike[str], prov: dict[str, Any], n_records: int
              ) -> str:
    """Record in the provenance beside ``results_path`` that a run (``prov``, from
    :func:`provenance`) starts writing to it, with status ``running``, this machine (a hash of its
    name) and this process's id; return the run's id. An earlier run of this machine still marked
    ``running`` whose process is gone was killed: it is marked ``interrupted``. A provenance of
    other code is replaced; the first run's ``created`` is kept otherwise.
    Used by the library only."""
    path = provenance_path(results_path)
    old = load_provenance(results_path) or {}
    if old.get("code_hash") != prov["code_hash"]:
        old = {}
    run = os.urandom(6).hex()
    runs = [_if_gone(r) for r in old.get("runs", []) if isinstance(r, dict)]
    runs.append({"run": run, "command": prov["command"], "device": prov["device"],
                 "started": prov["created"], "finished": None, "status": "running",
                 "host": _host_id(), "pid": os.getpid()})
    _write_json(path, {**prov, "created": old.get("created", prov["created"]), "runs": runs,
                       "records": int(n_records)})
    return run


@validate(results_path=_RESULTS_PATH, run=Text(empty=False), status=Choice(RUN_STATUSES[1:]),
          n_records=Integer(low=0))
def end_run(results_path: str | os.PathLike[str], run: str, status: str, n_records: int
            ) -> None:
    """Mark run ``run`` as ended with ``status`` (finished, interrupted or failed) and store the
    file's record count. Only a finished last run makes the file current.
    Used by the library only."""
    path = provenance_path(results_path)
    prov = load_provenance(results_path)
    if prov is None:
        return
    for r in prov.get("runs", []):
        if isinstance(r, dict) and r.get("run") == run:
            r["status"] = status
            r["finished"] = _now() if status == "finished" else None
            r["ended"] = _now()
    prov["records"] = int(n_records)
    _write_json(path, prov)


@dataclass
class StoredResults:
    """A stored results file read with its provenance: ``current`` is True when the code that
    made it is the code now (see :func:`load_stored`); ``why`` says why or why not.
    Introduced in lesson 03."""

    path: Path
    records: list[dict[str, Any]]
    provenance: dict[str, Any] | None
    current: bool
    why: str

    @property
    def status(self) -> str:
        """``"current"`` or ``"stale"``."""
        return "current" if self.current else "stale"


def _staleness(records: list[dict[str, Any]], prov: dict[str, Any] | None) -> str | None:
    """Why a stored result is stale, or None when it is current."""
    if not records:
        return "no records"
    if prov is None:
        return "no provenance file"
    eps = prov.get("code_entry_points")
    if not isinstance(eps, list) or not eps:
        return "its provenance names no code entry points (an older provenance format)"
    try:
        now = code_hash(eps)
    except ValueError as exc:
        return f"its code no longer exists ({exc})"
    if prov.get("code_hash") != now:
        return f"made by other code (hash {prov.get('code_hash')}, current {now})"
    if {r.get("code_hash") for r in records} != {now}:
        return "some records carry another code hash"
    runs = [r for r in prov.get("runs", []) if isinstance(r, dict)]
    last = runs[-1] if runs else {}
    if last.get("status") != "finished":
        state = last.get("status", "of unknown status")
        return (f"its last run (started {last.get('started')}) is {state}, not finished: "
                f"{len(records)} records so far; rerun its command to complete it")
    return None


@validate(path=_RESULTS_PATH)
def load_stored(path: str | os.PathLike[str]) -> StoredResults:
    """Read a stored results file and its provenance and decide whether they are current: the
    provenance's ``code_hash`` equals the hash of its ``code_entry_points`` in the code now,
    every record carries that hash, and the last run that wrote the file finished (a run still
    writing, interrupted or failed leaves only some records). Stale results are for display
    only: lessons draw no verdict from them. Introduced in lesson 03."""
    p = path
    records = read_records(p)
    prov = load_provenance(p)
    why = _staleness(records, prov)
    return StoredResults(p, records, prov, why is None, why or "made by the current code")


@validate(paths=Items(_RESULTS_PATH, min_len=2), out=_RESULTS_PATH, command=Text(optional=True))
def merge_stored(paths: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str], *,
                 command: str | None = None) -> StoredResults:
    """Join results files made in parallel (one process per training-set size, or one per
    machine) into a new file ``out``. Every input must be current (:func:`load_stored`), of one
    ``kind`` and one code hash, and no record ``key`` may be in two inputs. ``out`` gets the
    records in input order and a provenance of the same code: the first input's, with every
    input's runs in order of their start (each naming the file it wrote, ``file``), then a
    finished run for the merge itself (``command``), and ``merged_from`` naming the inputs; so
    ``out`` is current. Raises ``ValueError`` (naming the input) for a stale input, inputs of
    different code, a key in two inputs, or an ``out`` that exists or is an input. Introduced in
    lesson 06."""
    target = Path(out)
    inputs = [Path(x) for x in paths]
    if target.exists() or provenance_path(target).exists():
        raise ValueError(f"{target} exists already: merge into a new file")
    if any(target.resolve() == x.resolve() for x in inputs):
        raise ValueError(f"{target} is one of the inputs")
    stored = [load_stored(x) for x in inputs]
    for st in stored:
        if not st.current:
            raise ValueError(f"{st.path} is stale ({st.why}): only current files are merged")
    first = stored[0].provenance or {}
    for st in stored[1:]:
        prov = st.provenance or {}
        for field in ("kind", "code_hash"):
            if prov.get(field) != first.get(field):
                raise ValueError(f"{st.path} has {field} {prov.get(field)!r}, "
                                 f"{stored[0].path} {first.get(field)!r}: not one result")
    seen: dict[str, Path] = {}
    for st in stored:
        for r in st.records:
            if r["key"] in seen:
                raise ValueError(f"the record {r['key']} is in both {seen[r['key']]} and "
                                 f"{st.path}")
            seen[r["key"]] = st.path
    runs = sorted(({**r, "file": st.path.name} for st in stored
                   for r in (st.provenance or {}).get("runs", []) if isinstance(r, dict)),
                  key=lambda r: str(r.get("started")))
    now = _now()
    command = command if command is not None else " ".join([sys.executable, *sys.argv])
    runs.append({"run": os.urandom(6).hex(), "command": command, "device": "-",
                 "started": now, "finished": now, "ended": now, "status": "finished",
                 "host": _host_id(), "pid": os.getpid(), "file": target.name})
    append_records(target, [r for st in stored for r in st.records])
    _write_json(provenance_path(target),
                {**first, "command": command, "runs": runs, "records": len(seen),
                 "merged_from": [st.path.name for st in stored]})
    return load_stored(target)


@validate(folder=PathArg())
def stored_report(folder: str | os.PathLike[str] = "results") -> list[str]:
    """One line per results file (``*.jsonl``) in ``folder``: its name and ``current`` or
    ``stale`` (and why). Used by the library only."""
    root = folder
    if not root.is_dir():
        raise ValueError(f"{str(root)!r} is not a folder")
    lines = []
    for f in sorted(root.glob("*.jsonl")):
        s = load_stored(f)
        lines.append(f"{f.name}: {s.status}" + ("" if s.current else f" ({s.why})"))
    return lines

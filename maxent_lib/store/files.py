"""Results files: JSON lines, one record (a JSON object) per line, safe under concurrent writers
and damage (lessons 05-06: the ablation grids write their records here and resume from them).

- **Writers** (:func:`append_records`) take an exclusive lock on ``<file>.lock`` beside the
  results file, read what is there, drop the new records that the file already holds (same
  ``key`` and at least the same fields: two runs of one grid into one file store each row once),
  and atomically replace the file with the old content plus the new lines (a uniquely named
  temporary file, fsynced, then renamed). Temporary files that a killed writer left behind are
  removed under the lock. A full disk or a permission change mid-run raises
  :class:`ResultsFileError` with a plain message, and the file keeps every earlier record.
- **Readers** (:func:`read_records`) never crash on a damaged file: a line that is not JSON (a
  torn write) or valid JSON of the wrong type (``3``, ``null``, a list) is skipped with a
  :class:`ResultsFileWarning` that names the file and the line number. If several records share a
  key, one is kept: the most complete (most fields), then the latest.
- :func:`is_complete` says whether a record has every field a finished row needs; a row whose key
  matches but that lacks its metrics is treated as not done, so a resumed grid recomputes it.

Introduced in lesson 05.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from .._checks import InputTypeError, check_path
from ..validation import (
    Anything,
    Dict,
    Function,
    Items,
    PathArg,
    Real,
    Text,
    check_regular_file,
    validate,
)
from . import locking

__all__ = [
    "ResultsFileError",
    "ResultsFileWarning",
    "ResultsPathNotWritable",
    "append_records",
    "check_writable",
    "is_complete",
    "read_records",
]


class ResultsFileError(OSError):
    """A results file could not be written (full disk, permissions, a lock held too long). The
    message says what happened; the file still holds every record it held before."""


class ResultsPathNotWritable(ResultsFileError, ValueError):
    """The results path's folder or file is not writable (permissions, a read-only file system),
    found before a run starts. A :class:`ResultsFileError` (an ``OSError``: the command line
    exits with status 1, as for a write that fails mid-run) and a ``ValueError`` (code that
    checks a path before a run catches it with the other bad paths)."""


class ResultsFileWarning(UserWarning):
    """A line of a results file was skipped (damaged, or not a record), or duplicates merged."""


class _ResultsPath(PathArg):
    """A results path: a regular file, or a name that does not exist yet (never a folder, a
    device, a named pipe or a socket); passed on as a ``Path``. Messages call it the results
    path."""

    def check(self, value: Any, name: str, args: dict[str, Any]) -> Path:
        path = check_path(value, name)
        check_regular_file(path, "results path")
        return path


_RESULTS_PATH = _ResultsPath(file=True)
#: The name of the field that keys a record.
_KEY = Text(empty=False)


class _Record(Dict):
    """A record: a dict (of JSON values, checked when it is written)."""

    def describe(self) -> str:
        return "dicts (records)"


@validate(record=Anything("any value: what is not a dict holding every field is not complete"),
          required_fields=Items(Text()))
def is_complete(record: object, required_fields: Iterable[str]) -> bool:
    """True if ``record`` is a dict holding every field of ``required_fields`` with a value other
    than None. ``run_grid`` treats a stored row that is not complete as not done.
    Used by the library only."""
    return isinstance(record, dict) and all(record.get(f) is not None for f in required_fields)


def _parse_lines(text: str, where: str | None, key: str) -> list[tuple[int, dict[str, Any]]]:
    """(line number, record) for every valid record; a warning per skipped line when ``where``
    names the file (None: silent)."""
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            if where is not None:
                warnings.warn(f"skipping malformed line {i} of {where}: not valid JSON (a torn "
                              "or damaged write?)", ResultsFileWarning, stacklevel=4)
            continue
        if not isinstance(value, dict):
            if where is not None:
                warnings.warn(f"skipping malformed line {i} of {where}: expected a JSON object "
                              f"(one record), got {type(value).__name__}", ResultsFileWarning,
                              stacklevel=4)
            continue
        if key in value and not isinstance(value[key], str):
            if where is not None:
                warnings.warn(f"skipping malformed line {i} of {where}: its {key!r} is "
                              f"{type(value[key]).__name__}, not a string", ResultsFileWarning,
                              stacklevel=4)
            continue
        out.append((i, value))
    return out


def _filled(record: dict[str, Any]) -> set[str]:
    return {k for k, v in record.items() if v is not None}


def _read_text(p: Path) -> str | None:
    """The file's text (undecodable bytes replaced, so that line is skipped as malformed), or
    None if it does not exist. Opened without waiting (``O_NONBLOCK``) and refused unless it is
    a regular file: a named pipe put in the file's place is never read (that would wait
    forever), nor a folder, a device or a socket."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
    except FileNotFoundError:
        return None
    except (IsADirectoryError, PermissionError) as exc:
        if p.is_dir():
            raise ValueError(f"results path {str(p)!r} is a folder; give a file name (.jsonl)"
                             ) from exc
        raise
    except OSError as exc:  # a socket (ENXIO) and the like
        raise ValueError(f"results path {str(p)!r} cannot be opened as a file: {exc}") from exc
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            check_regular_file(p, "results path")
            raise ValueError(f"results path {str(p)!r} is not a regular file")
        data = f.read()
    return data.decode("utf-8", errors="replace")


@validate(path=_RESULTS_PATH, key=_KEY)
def read_records(path: str | os.PathLike[str], *, key: str = "key") -> list[dict[str, Any]]:
    """The records of a JSON-lines results file, in file order (empty if it does not exist).

    Damaged lines and lines that are valid JSON but not an object are skipped with a
    :class:`ResultsFileWarning` naming the file and line; so are records whose ``key`` is not a
    string. Records sharing a ``key`` are merged into one: the one with most fields (not None),
    then the latest, at the place of the key's first line (a warning says how many).
    A path that names a folder, a device, a named pipe or a socket raises ``ValueError``.
    Introduced in lesson 05."""
    p = path
    text = _read_text(p)
    if text is None:
        return []
    parsed = _parse_lines(text, str(p), key)
    best: dict[str, tuple[int, int, dict[str, Any]]] = {}  # key -> (n fields, line, record)
    order: list[tuple[str | None, dict[str, Any] | None]] = []
    n_dup = 0
    for line, rec in parsed:
        k = rec.get(key)
        if k is None:
            order.append((None, rec))
            continue
        rank = (len(_filled(rec)), line)
        if k in best:
            n_dup += 1
            if rank >= best[k][:2]:
                best[k] = (*rank, rec)
        else:
            best[k] = (*rank, rec)
            order.append((k, None))
    if n_dup:
        warnings.warn(f"{str(p)} holds {n_dup} duplicate record(s) of the same {key!r}; kept one "
                      "per key (the most complete, then the latest)", ResultsFileWarning,
                      stacklevel=2)
    return [rec if k is None else best[k][2] for k, rec in order]  # type: ignore[misc]


def _explain(exc: OSError, p: Path, n: int) -> ResultsFileError:
    reasons = {
        errno.ENOSPC: "the disk is full; free some space and rerun (finished work resumes)",
        getattr(errno, "EDQUOT", -2): "the disk quota is exceeded; free some space and rerun",
        errno.EACCES: "permission denied: the file or its folder is not writable (were the "
                      "permissions changed?)",
        errno.EPERM: "operation not permitted: the file or its folder is not writable",
        errno.EROFS: "the file system is read-only",
    }
    reason = reasons.get(exc.errno or -1, exc.strerror or str(exc))
    err = ResultsFileError(exc.errno or errno.EIO,
                           f"could not write {n} record(s) to {str(p)!r}: {reason}. The file is "
                           "unchanged: it still holds every record it held before")
    err.filename = str(p)
    return err


@validate(path=_RESULTS_PATH, records=Items(_Record()), key=_KEY,
          lock_timeout=Real(low=0.0, optional=True),
          trusted=Function("trusted(record) -> bool: may a stored record block a new one",
                           optional=True))
def append_records(path: str | os.PathLike[str], records: Sequence[dict[str, Any]], *,
                   key: str = "key", lock_timeout: float | None = 120.0,
                   trusted: Callable[[dict[str, Any]], bool] | None = None) -> int:
    """Append ``records`` (dicts of JSON values) to a JSON-lines results file, safely.

    Under an exclusive lock on ``<path>.lock``: read the file, skip each new record whose
    ``key`` the file (or this batch) already holds in a record with at least the same fields
    (with ``trusted``, only stored records that ``trusted`` accepts count: a damaged row never
    blocks its replacement; the reader keeps the latest of equally complete rows), and
    atomically replace the file with its old content (damaged lines included, untouched)
    plus the remaining records, one JSON object per line. Returns how many records were written.

    Raises :class:`~maxent_lib._checks.InputTypeError` (a ``TypeError``) if ``records`` is not a
    list of dicts of JSON values, ``ValueError`` if the folder does not exist or the path names
    a folder, a device, a named pipe or a socket (never replaced), and :class:`ResultsFileError`
    (an ``OSError``) when writing fails (full disk, permissions, the lock held by another
    process for more than ``lock_timeout`` seconds); the file then keeps every record it held
    before. Introduced in lesson 05."""
    p = path
    lines = []
    for i, r in enumerate(records):
        if key in r and not isinstance(r[key], str):
            raise InputTypeError(f"records[{i}][{key!r}] must be a string, got "
                                 f"{type(r[key]).__name__}")
        try:
            lines.append(json.dumps(r, sort_keys=True))
        except (TypeError, ValueError) as exc:
            raise InputTypeError(f"records[{i}] is not JSON-serialisable: {exc}") from exc
    if not lines:
        return 0
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"the folder of the results path {str(p)!r} does not exist")
    target = Path(os.path.realpath(p))  # write through a symlink, do not replace it
    check_regular_file(target, "results path")  # the symlink's target too
    try:
        with locking.file_lock(target, timeout=lock_timeout):
            locking.remove_stale_temps(target)
            old = _read_text(target) or ""
            held: dict[str, list[set[str]]] = {}
            for _, rec in _parse_lines(old, None, key):
                if isinstance(rec.get(key), str) and (trusted is None or trusted(rec)):
                    held.setdefault(rec[key], []).append(_filled(rec))
            new = []
            for r, line in zip(records, lines, strict=True):
                k = r.get(key)
                if isinstance(k, str):
                    fields = _filled(r)
                    if any(fields <= have for have in held.get(k, [])):
                        continue  # already stored, at least as complete
                    held.setdefault(k, []).append(fields)
                new.append(line + "\n")
            if not new:
                return 0
            if old and not old.endswith("\n"):
                old += "\n"  # a torn last line stays on its own line
            payload = (old + "".join(new)).encode("utf-8")
            locking.atomic_write(target, lambda f: f.write(payload))
            return len(new)
    except locking.LockTimeout as exc:
        raise ResultsFileError(errno.EAGAIN, f"could not write {len(lines)} record(s) to "
                               f"{str(p)!r}: {exc}. The file is unchanged") from exc
    except ResultsFileError:
        raise
    except OSError as exc:
        raise _explain(exc, p, len(lines)) from exc


@validate(path=_RESULTS_PATH)
def check_writable(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` as a ``Path`` if a results file can be written there: its folder exists
    and the path names a regular file or nothing (``ValueError`` for a folder, a device, a named
    pipe, a socket or a missing folder), and the folder, the file and its lock file
    ``<path>.lock`` are writable (:class:`ResultsPathNotWritable`, a ``ValueError`` and a
    :class:`ResultsFileError`, otherwise: permissions or a read-only file system, not a bad
    argument). Introduced in lesson 05."""
    p = path
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"the folder of the results path {str(p)!r} does not exist")
    check_regular_file(Path(os.path.realpath(p)), "results path")
    lock = locking.lock_path(p)
    if (not os.access(folder, os.W_OK) or (p.exists() and not os.access(p, os.W_OK))
            or (lock.exists() and not os.access(lock, os.W_OK))):
        err = ResultsPathNotWritable(errno.EACCES, f"cannot write the results path {str(p)!r}: "
                                     "permission denied (its folder or the file is not "
                                     "writable, or the file system is read-only)")
        err.filename = str(p)
        raise err
    return p

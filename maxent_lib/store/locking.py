"""Safe file writing shared by the results files and the data cache: an inter-process lock on a
lock file beside the target, and atomic replacement through a uniquely named temporary file.

- :func:`file_lock` holds an exclusive lock on ``<target>.lock`` (POSIX ``fcntl.flock``, which
  Linux and macOS both have, and which the kernel releases when the process dies, so a killed
  writer never leaves a stale lock; ``msvcrt.locking`` on Windows; elsewhere an exclusively
  created lock file with a stale-lock timeout).
- :func:`atomic_write` writes a new version of a file to a temporary file created with
  ``O_CREAT | O_EXCL`` and a random name in the same folder (so a planted symlink cannot redirect
  the write), flushes and fsyncs it, and renames it over the target (``os.replace``: readers see
  the old or the new file, never a mix). On any error the temporary file is removed and the
  target is left as it was.
- :func:`remove_stale_temps` removes temporary files that a writer killed between writing and
  renaming left behind; call it while holding the lock, when no other writer can be mid-write.

The temporary files of a target ``NAME`` are named ``.NAME.maxent-XXXXXXXXXXXXXXXX.tmp`` (16
random hexadecimal digits; :func:`temp_name`, :func:`is_temp_of`). No other target's temporary
file has such a name: the name's length fixes the length of ``NAME``, and with it ``NAME``
itself. So the cleanup of one target (``a.jsonl``) never touches the live temporary files of
another one in the same folder (``a.jsonl.b.jsonl``), which takes its own lock.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from ..validation import Function, PathArg, Real, Text, validate

try:  # POSIX: Linux, macOS, the BSDs
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
try:  # pragma: no cover - Windows only
    import msvcrt
except ImportError:
    msvcrt = None  # type: ignore[assignment]

#: seconds after which a fallback lock file (no fcntl, no msvcrt) is considered abandoned
STALE_LOCK_SECONDS = 600.0


class LockTimeout(TimeoutError):
    """The lock on a file could not be taken within the allowed time."""


@validate(target=PathArg())
def lock_path(target: str | os.PathLike[str]) -> Path:
    """The lock file of ``target``: ``<target>.lock`` in the same folder.
    Used by the library only."""
    p = Path(target)
    return p.with_name(p.name + ".lock")


#: What follows a target's name in the names of its temporary files (before the random part).
TEMP_MARKER = ".maxent-"
#: The end of every temporary file's name.
TEMP_SUFFIX = ".tmp"
#: Random hexadecimal digits in a temporary file's name.
_TEMP_DIGITS = 16


@validate(target=PathArg())
def temp_prefix(target: str | os.PathLike[str]) -> str:
    """The name prefix of ``target``'s temporary files: ``.<name>.maxent-`` (hidden, in its
    folder); the full name adds 16 random hexadecimal digits and ``.tmp``.
    Used by the library only."""
    return f".{Path(target).name}{TEMP_MARKER}"


@validate(target=PathArg())
def temp_name(target: str | os.PathLike[str]) -> str:
    """A new random name for a temporary file of ``target`` (see the module docstring).
    Used by the library only."""
    return temp_prefix(target) + secrets.token_hex(_TEMP_DIGITS // 2) + TEMP_SUFFIX


@validate(target=PathArg(), name=Text())
def is_temp_of(target: str | os.PathLike[str], name: str) -> bool:
    """True if ``name`` (a file name) is the name of one of ``target``'s temporary files: this
    version's (:func:`temp_name`) or an earlier version's (``.NAME.`` and the 8 characters of
    ``tempfile.mkstemp``, which no other target's temporary file can match either: the length
    argument of the module docstring holds for them too). Used by the library only."""
    base = re.escape(f".{Path(target).name}.")
    marker = re.escape(TEMP_MARKER[1:])
    pattern = (base + f"(?:{marker}[0-9a-f]{{{_TEMP_DIGITS}}}|[a-z0-9_]{{8}})"
               + re.escape(TEMP_SUFFIX))
    return re.fullmatch(pattern, name) is not None


@validate(target=PathArg(), timeout=Real(low=0.0, optional=True),
          poll=Real(low=0.0, low_open=True))
@contextlib.contextmanager
def file_lock(target: str | os.PathLike[str], timeout: float | None = 120.0,
              poll: float = 0.05) -> Iterator[Path]:
    """Hold an exclusive inter-process lock for ``target`` (on ``<target>.lock``).

    Waits up to ``timeout`` seconds (None: forever) and raises :class:`LockTimeout` after that.
    Raises ``OSError`` if the lock file cannot be created (e.g. a read-only folder).
    Used by the library only."""
    lp = lock_path(target)
    deadline = None if timeout is None else time.monotonic() + timeout
    if fcntl is not None or msvcrt is not None:
        fd = os.open(lp, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            while True:
                try:
                    if fcntl is not None:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    else:  # pragma: no cover - Windows
                        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                    break
                except (BlockingIOError, PermissionError, OSError) as exc:
                    if fcntl is not None and not isinstance(exc, BlockingIOError):
                        raise
                    if deadline is not None and time.monotonic() > deadline:
                        raise LockTimeout(f"could not lock {lp} within {timeout:g} s: another "
                                          "process holds it") from None
                    time.sleep(poll)
            try:
                yield lp
            finally:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                else:  # pragma: no cover - Windows
                    os.lseek(fd, 0, os.SEEK_SET)
                    msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        finally:
            os.close(fd)
        return
    # pragma: no cover - neither fcntl nor msvcrt: an exclusively created lock file
    while True:  # pragma: no cover
        try:
            fd = os.open(lp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            break
        except FileExistsError:
            with contextlib.suppress(OSError):
                if time.time() - lp.stat().st_mtime > STALE_LOCK_SECONDS:
                    lp.unlink()
                    continue
            if deadline is not None and time.monotonic() > deadline:
                raise LockTimeout(f"could not lock {lp} within {timeout:g} s") from None
            time.sleep(poll)
    try:  # pragma: no cover
        yield lp
    finally:  # pragma: no cover
        with contextlib.suppress(OSError):
            lp.unlink()


@validate(target=PathArg())
def remove_stale_temps(target: str | os.PathLike[str]) -> list[Path]:
    """Delete temporary files of ``target`` left by a writer killed between write and rename
    (exactly the names :func:`is_temp_of` recognises, in its folder: never another target's).
    Only call it while holding :func:`file_lock`. Used by the library only."""
    p = Path(target)
    folder = p.parent if str(p.parent) else Path(".")
    removed = []
    for stale in folder.glob(glob_escape(f".{p.name}.") + "*" + TEMP_SUFFIX):
        if not is_temp_of(p, stale.name):
            continue
        with contextlib.suppress(OSError):
            stale.unlink()
            removed.append(stale)
    return removed


@validate(text=Text())
def glob_escape(text: str) -> str:
    """``text`` with the glob metacharacters ``*?[`` escaped. Used by the library only."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _new_file_mode(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _replace(src: str, dst: Path) -> None:
    """``os.replace``; on Windows, where a file open in another process cannot be replaced,
    retried for up to about 2 s before the error is raised."""
    for attempt in range(40):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if os.name != "nt" or attempt == 39:
                raise
            time.sleep(0.05)


def _create_temp(target: Path, folder: Path) -> tuple[int, str]:
    """A new temporary file of ``target`` in ``folder``, created with ``O_EXCL`` (never an
    existing file or a planted symlink): its descriptor and path."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(
        os, "O_NOFOLLOW", 0)
    for _ in range(100):
        path = os.path.join(folder, temp_name(target))
        try:
            return os.open(path, flags, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file for {target} in {folder}")


@validate(target=PathArg(), write=Function("write(f) writes the new content to a binary file"))
def atomic_write(target: str | os.PathLike[str], write: Callable[[IO[bytes]], None]) -> None:
    """Replace ``target`` atomically by what ``write(f)`` writes to a binary file object.

    The new content goes to a fresh temporary file in the same folder (``O_EXCL``, random name),
    is flushed and fsynced, gets the target's permissions (or the umask's default), and is renamed
    over ``target``; the folder is then fsynced. On any error (a full disk, a permission change,
    an exception in ``write``) the temporary file is removed, ``target`` is unchanged and the
    error is raised. Used by the library only."""
    p = Path(target)
    folder = p.parent if str(p.parent) else Path(".")
    fd, tmp = _create_temp(p, folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _new_file_mode(p))
        _replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError, AttributeError):  # durability of the rename itself
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

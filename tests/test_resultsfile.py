"""Results files under concurrency and damage: locked appends that store each record once,
readers that skip damaged lines with a warning naming the file and line, incomplete rows, stale
temporary files, a full disk and a permission change mid-run."""

import errno
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

from maxent_lib import ablation as A
from maxent_lib.store import files as R
from maxent_lib.store import locking

#: train on the CPU without a progress bar
CPU = A.RunOptions(device="cpu", progress=False)

ROOT = Path(__file__).resolve().parents[1]

WRITER = textwrap.dedent("""
    import sys
    from maxent_lib.store.files import append_records
    path, name, n, n_shared = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    for i in range(max(n, n_shared)):
        batch = []
        if i < n:
            batch.append({"key": f"{name}-{i}", "writer": name, "i": i, "test_acc": 0.5})
        if i < n_shared:
            batch.append({"key": f"shared-{i}", "writer": name, "i": i, "test_acc": 0.5})
        append_records(path, batch)
""")


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _run_writers(path: Path, n: int, n_shared: int, writers=("a", "b")) -> None:
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), w, str(n), str(n_shared)],
                              cwd=ROOT, stderr=subprocess.PIPE, text=True) for w in writers]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err


def test_two_writers_at_once_store_every_record_exactly_once(tmp_path):
    path = tmp_path / "res.jsonl"
    _run_writers(path, n=250, n_shared=100)
    rows = _lines(path)  # every line is valid JSON: no torn or interleaved writes
    keys = [r["key"] for r in rows]
    expected = {f"{w}-{i}" for w in "ab" for i in range(250)} | {f"shared-{i}" for i in range(100)}
    assert len(keys) == len(set(keys)) == len(expected) == 600
    assert set(keys) == expected
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no duplicates, no damaged lines to warn about
        assert len(R.read_records(path)) == 600
    assert not list(tmp_path.glob("*.tmp"))


def test_unlocked_writers_would_lose_rows_so_the_lock_is_what_protects_them(tmp_path,
                                                                             monkeypatch):
    """The same two-writer run with the lock disabled loses or duplicates records (a control
    showing the concurrency test can fail), run in threads to stay in one process."""
    import contextlib

    @contextlib.contextmanager
    def no_lock(target, timeout=None, poll=0.05):
        yield locking.lock_path(target)

    monkeypatch.setattr(locking, "file_lock", no_lock)
    path = tmp_path / "res.jsonl"
    real_write = locking.atomic_write
    barrier = threading.Barrier(2)

    def slow_write(target, write):
        barrier.wait(timeout=10)  # both writers have read the same old content
        real_write(target, write)

    monkeypatch.setattr(locking, "atomic_write", slow_write)
    threads = [threading.Thread(target=R.append_records, args=(path, [{"key": k}]))
               for k in ("x", "y")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert len(_lines(path)) == 1  # one of the two records was lost without the lock


def test_two_grid_runs_into_one_file_store_each_row_once(tmp_path):
    script = textwrap.dedent("""
        import sys
        import numpy as np
        from maxent_lib import ablation
        rng = np.random.default_rng(0)
        means = rng.normal(size=(3, 8))
        y = rng.integers(0, 3, 1200)
        X = (means[y] + rng.normal(size=(1200, 8))).astype(np.float32)
        grid = [{"width": 8, "depth": 2, "epochs": 2, "batch_size": 64, "seed": s}
                for s in range(3)]
        ablation.run_grid(grid, (X[:1000], y[:1000], X[1000:], y[1000:]),
                          results_path=sys.argv[1],
                          options=ablation.RunOptions(device="cpu", progress=False))
    """)
    path = tmp_path / "grid.jsonl"
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path)], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    keys = [r["key"] for r in _lines(path)]
    assert len(keys) == 3 and len(set(keys)) == 3


@pytest.mark.parametrize("bad_line, what", [
    ("3", "got int"),
    ("null", "got NoneType"),
    ("[1, 2]", "got list"),
    ('"text"', "got str"),
    ('{"key": "b", "x":', "not valid JSON"),
    ('{"key": ["not", "a", "string"]}', "not a string"),
    ("\udcff\udcfe garbage", "not valid JSON"),
])
def test_reader_skips_damaged_lines_with_file_and_line(tmp_path, bad_line, what):
    path = tmp_path / "r.jsonl"
    R.append_records(path, [{"key": "a", "x": 1}])
    with open(path, "a", encoding="utf-8", errors="surrogateescape") as f:
        f.write(bad_line + "\n")
    R.append_records(path, [{"key": "c", "x": 3}])
    with pytest.warns(R.ResultsFileWarning,
                      match=rf"malformed line 2 of {re.escape(str(path))}: .*{what}"):
        records = R.read_records(path)
    assert [r["key"] for r in records] == ["a", "c"]
    # the ablation entry point reads the same way and never crashes
    with pytest.warns(UserWarning, match="line 2"):
        assert [r["key"] for r in A.read_records(path)] == ["a", "c"]
    # the damaged line is kept (nothing is thrown away), the file stays readable
    assert path.read_bytes().count(b"\n") == 3


def test_torn_last_line_stays_on_its_own_line(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"key": "a"}\n{"key": "b", "x":')  # a torn write with no newline
    assert R.append_records(path, [{"key": "c"}]) == 1
    with pytest.warns(R.ResultsFileWarning, match="line 2"):
        assert [r["key"] for r in R.read_records(path)] == ["a", "c"]


def test_duplicates_are_not_stored_twice_and_incomplete_rows_are_superseded(tmp_path):
    path = tmp_path / "r.jsonl"
    row = {"key": "k1", "test_acc": 0.9, "train_acc": 1.0}
    assert R.append_records(path, [row, {"key": "k2", "test_acc": 0.8}]) == 2
    assert R.append_records(path, [row]) == 0  # already there
    assert R.append_records(path, [row, row]) == 0
    # an incomplete row (no metrics) for a new key, then its complete version
    assert R.append_records(path, [{"key": "k3", "test_acc": None}]) == 1
    stored = {r["key"]: r for r in R.read_records(path)}
    required = ("key", "test_acc")
    assert not R.is_complete(stored["k3"], required)  # run_grid must recompute it
    assert R.is_complete(stored["k1"], required)
    assert R.append_records(path, [{"key": "k3", "test_acc": 0.7}]) == 1
    with pytest.warns(R.ResultsFileWarning, match="1 duplicate"):
        records = R.read_records(path)
    assert [r["key"] for r in records] == ["k1", "k2", "k3"]
    assert records[2]["test_acc"] == 0.7
    # a file already holding duplicates (from before the lock) is read with one row per key
    with open(path, "a") as f:
        f.write(json.dumps({"key": "k1", "test_acc": 0.1, "train_acc": 0.2}) + "\n")
    with pytest.warns(R.ResultsFileWarning, match="duplicate"):
        records = R.read_records(path)
    assert [r["key"] for r in records] == ["k1", "k2", "k3"]
    assert records[0]["test_acc"] == 0.1  # equally complete: the latest wins


def test_is_complete():
    assert R.is_complete({"key": "a", "m": 0.0}, ["key", "m"])
    assert not R.is_complete({"key": "a"}, ["key", "m"])
    assert not R.is_complete({"key": "a", "m": None}, ["key", "m"])
    for bad in (3, None, [1], "x"):
        assert not R.is_complete(bad, ["key"])
    with pytest.raises(TypeError, match="required_fields"):
        R.is_complete({"key": "a"}, "key")


def test_stale_temp_files_are_removed(tmp_path):
    path = tmp_path / "r.jsonl"
    R.append_records(path, [{"key": "a"}])
    # left by writers killed between write and rename (this version's and the earlier naming)
    stale = [tmp_path / locking.temp_name(path), tmp_path / ".r.jsonl.abc12345.tmp"]
    for s in stale:
        s.write_text('{"key": "half')
    # other files' temporaries (live ones of a writer of r.jsonl.b.jsonl, say): not ours
    others = [tmp_path / "other.jsonl.abc.tmp", tmp_path / "r.jsonl.xyz789.tmp",
              tmp_path / locking.temp_name(tmp_path / "r.jsonl.b.jsonl"),
              tmp_path / ".r.jsonl.b.jsonl.abc12345.tmp", tmp_path / ".r.jsonl.abc123.tmp"]
    for o in others:
        o.write_text("")
    R.append_records(path, [{"key": "b"}])
    assert not any(s.exists() for s in stale) and all(o.exists() for o in others)
    assert [r["key"] for r in R.read_records(path)] == ["a", "b"]


def _append_many(path: Path, n: int, errors: list[str]) -> None:
    for i in range(n):
        try:
            R.append_records(path, [{"key": f"{path.name}-{i}", "i": i}])
        except Exception as exc:  # noqa: BLE001 - every failure is counted
            errors.append(f"{path.name} append {i}: {exc!r}")


def test_concurrent_appends_to_files_whose_names_extend_each_other(tmp_path):
    """Two writers append to ``a.jsonl`` and ``a.jsonl.b.jsonl`` in one folder at once (each
    file under its own lock): the cleanup of one file's stale temporaries never deletes the
    other's live ones, so no append fails and no record is lost (before the fix, 93 of 600
    appends failed)."""
    paths = [tmp_path / "a.jsonl", tmp_path / "a.jsonl.b.jsonl"]
    errors: list[str] = []
    n = 200
    threads = [threading.Thread(target=_append_many, args=(p, n, errors)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, f"{len(errors)} of {2 * n} appends failed, e.g. {errors[:3]}"
    for p in paths:
        assert [r["i"] for r in R.read_records(p)] == list(range(n))
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def _special(tmp_path: Path, kind: str) -> Path:
    """A path that names something other than a regular file."""
    if kind == "device":
        return Path(os.devnull)
    path = tmp_path / f"{kind}.jsonl"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "socket":
        import socket

        sock = socket.socket(socket.AF_UNIX)
        sock.bind(str(path))
        sock.close()
    return path


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes and sockets are POSIX")
@pytest.mark.parametrize("kind", ["device", "fifo", "folder", "socket"])
def test_a_results_path_that_is_not_a_regular_file_is_refused(tmp_path, kind):
    """A device (/dev/null), a named pipe (reading it would wait forever), a folder or a socket
    is refused with a plain ValueError by every function that takes a results path, and
    nothing is written, replaced or locked there."""
    import signal

    path = _special(tmp_path, kind)
    before = sorted(p.name for p in path.parent.iterdir())
    signal.alarm(20)  # a hang fails the test instead of stopping the suite
    try:
        for call in (lambda: R.read_records(path), lambda: R.check_writable(path),
                     lambda: R.append_records(path, [{"key": "a"}]),
                     lambda: A.load_stored(path)):
            with pytest.raises(ValueError, match="regular file|folder") as info:
                call()
            assert not isinstance(info.value, TypeError) and str(path) in str(info.value)
        if kind == "fifo":  # the reader itself never waits on a pipe put in a file's place
            with pytest.raises(ValueError, match="not a regular file|named pipe"):
                R._read_text(path)
    finally:
        signal.alarm(0)
    assert sorted(p.name for p in path.parent.iterdir()) == before
    if kind == "device":
        assert Path(os.devnull).is_char_device()


def _fail_on(monkeypatch, where: str, err: int) -> None:
    def boom(*args, **kwargs):
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr({"fsync": os, "_create_temp": locking, "replace": os}[where], where,
                        boom)


@pytest.mark.parametrize("where, err, message", [
    ("fsync", errno.ENOSPC, "disk is full"),
    ("_create_temp", errno.ENOSPC, "disk is full"),
    ("_create_temp", errno.EACCES, "permission denied"),
    ("replace", errno.EACCES, "permission denied"),
    ("replace", errno.EROFS, "read-only"),
])
def test_full_disk_or_permission_change_gives_a_clear_error_and_loses_nothing(
        tmp_path, monkeypatch, where, err, message):
    path = tmp_path / "r.jsonl"
    R.append_records(path, [{"key": f"k{i}", "v": i} for i in range(5)])
    before = path.read_bytes()
    _fail_on(monkeypatch, where, err)
    with pytest.raises(R.ResultsFileError, match=message) as info:
        R.append_records(path, [{"key": "new"}])
    assert isinstance(info.value, OSError) and info.value.errno == err
    assert "still holds every record" in str(info.value) and str(path) in str(info.value)
    monkeypatch.undo()
    assert path.read_bytes() == before  # nothing lost, nothing half-written
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))
    assert R.append_records(path, [{"key": "new"}]) == 1  # and it recovers once space is back


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="permissions do not bind the superuser")
def test_folder_made_read_only_mid_run(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / "r.jsonl"
    R.append_records(path, [{"key": "a"}])
    folder.chmod(0o555)
    try:
        with pytest.raises(R.ResultsFileError, match="permission denied"):
            R.append_records(path, [{"key": "b"}])
        with pytest.raises(ValueError, match="cannot write"):
            R.check_writable(path)
    finally:
        folder.chmod(0o755)
    assert [r["key"] for r in R.read_records(path)] == ["a"]


def test_lock_held_too_long_is_a_clear_error(tmp_path):
    path = tmp_path / "r.jsonl"
    with locking.file_lock(path):
        with pytest.raises(R.ResultsFileError, match="could not lock"):
            R.append_records(path, [{"key": "a"}], lock_timeout=0.2)
    assert not path.exists()
    assert R.append_records(path, [{"key": "a"}]) == 1


def test_symlinked_results_file_is_written_through(tmp_path):
    real = tmp_path / "real.jsonl"
    R.append_records(real, [{"key": "a"}])
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    R.append_records(link, [{"key": "b"}])
    assert link.is_symlink()
    assert [r["key"] for r in R.read_records(real)] == ["a", "b"]


def test_permissions_of_an_existing_file_are_kept(tmp_path):
    path = tmp_path / "r.jsonl"
    R.append_records(path, [{"key": "a"}])
    path.chmod(0o640)
    R.append_records(path, [{"key": "b"}])
    assert path.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("records, exc, message", [
    ({"key": "a"}, TypeError, "list of dicts"),
    ("abc", TypeError, "list of dicts"),
    ([3], TypeError, r"records\[0\] must be a dict"),
    ([{"key": 5}], TypeError, "must be a string"),
    ([{"key": "a", "x": object()}], TypeError, "JSON-serialisable"),
    ([{"key": "a", "x": np.float32(1.0)}], TypeError, "JSON-serialisable"),
])
def test_bad_records(tmp_path, records, exc, message):
    path = tmp_path / "r.jsonl"
    with pytest.raises(exc, match=message):
        R.append_records(path, records)
    assert not path.exists()


def test_bad_paths(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        R.append_records(tmp_path / "missing" / "r.jsonl", [{"key": "a"}])
    with pytest.raises(ValueError, match="folder"):
        R.append_records(tmp_path, [{"key": "a"}])
    with pytest.raises(ValueError, match="folder"):
        R.read_records(tmp_path)
    with pytest.raises(TypeError, match="path"):
        R.read_records(3)
    with pytest.raises(ValueError, match="folder"):
        A.check_writable(tmp_path)
    assert R.read_records(tmp_path / "nothing.jsonl") == []
    assert R.append_records(tmp_path / "r.jsonl", []) == 0


def test_fallback_lock_without_fcntl(tmp_path, monkeypatch):
    """Where neither fcntl nor msvcrt exists, an exclusively created lock file serialises the
    writers, and a lock file abandoned longer than STALE_LOCK_SECONDS is taken over."""
    monkeypatch.setattr(locking, "fcntl", None)
    monkeypatch.setattr(locking, "msvcrt", None)
    path = tmp_path / "r.jsonl"
    errors = []

    def writer(name):
        try:
            for i in range(40):
                R.append_records(path, [{"key": f"{name}-{i}"}])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    keys = [r["key"] for r in _lines(path)]
    assert len(keys) == len(set(keys)) == 80
    assert not locking.lock_path(path).exists()  # released
    stale = locking.lock_path(path)
    stale.write_text("12345")
    old = stale.stat().st_mtime - locking.STALE_LOCK_SECONDS - 10
    os.utime(stale, (old, old))
    assert R.append_records(path, [{"key": "after-stale"}]) == 1
    stale.write_text("12345")  # a fresh lock held by someone else: wait, then a clear error
    with pytest.raises(R.ResultsFileError, match="could not lock"):
        R.append_records(path, [{"key": "blocked"}], lock_timeout=0.2)


def test_writer_killed_between_write_and_rename(tmp_path):
    """A writer SIGKILLed after writing its temporary file and before renaming it: the lock is
    released by the kernel, the results file is intact, and the next append removes the stale
    temporary file."""
    import signal
    import time

    path = tmp_path / "r.jsonl"
    R.append_records(path, [{"key": "a"}])
    before = path.read_bytes()
    script = textwrap.dedent("""
        import os, sys, time
        os.replace = lambda *args: time.sleep(600)  # hang between write and rename
        from maxent_lib.store.files import append_records
        append_records(sys.argv[1], [{"key": "b"}])
    """)
    child = subprocess.Popen([sys.executable, "-c", script, str(path)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".r.jsonl.*.tmp")):
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert list(tmp_path.glob(".r.jsonl.*.tmp"))  # the kill left a temporary file
    assert path.read_bytes() == before
    assert R.append_records(path, [{"key": "c"}], lock_timeout=5) == 1
    assert not list(tmp_path.glob(".r.jsonl.*.tmp"))
    assert [r["key"] for r in R.read_records(path)] == ["a", "c"]

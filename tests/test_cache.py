"""The MNIST-1D cache checks what it serves: damaged, planted or mismatched files are regenerated,
writes cannot be redirected by a planted symlink, and processes generating the cache at once all
get identical data."""

import hashlib
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

from maxent_lib import data
from maxent_lib.store import locking

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"n_train": 90, "n_test": 10, "seed": 3}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MAXENT_DATA_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def reference():
    """The split generated without any cache."""
    return data.mnist1d(**SIZES, cache=False)


def _cache_file(folder: Path) -> Path:
    files = list(folder.glob("mnist1d_*.npz"))
    assert len(files) == 1, files
    return files[0]


def _same(a, b) -> bool:
    return all(np.array_equal(getattr(a, k), getattr(b, k))
               for k in ("X_train", "y_train", "X_test", "y_test"))


def _no_warning_call(**kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return data.mnist1d(**kwargs)


def test_cache_round_trip_without_warnings(cache, reference, monkeypatch):
    first = _no_warning_call(**SIZES)
    assert _same(first, reference)
    import mnist1d.data

    def no_generation(*args, **kwargs):
        raise AssertionError("the cached copy should have been used")

    monkeypatch.setattr(mnist1d.data, "make_dataset", no_generation)
    assert _same(_no_warning_call(**SIZES), reference)
    assert not list(cache.glob("*.tmp")) and not list(cache.glob(".*.tmp"))


def _plant(path: Path, **overrides) -> None:
    """Write a file with the valid layout, then override some arrays or metadata."""
    with np.load(path, allow_pickle=False) as f:
        content = {k: f[k] for k in f.files}
    content.update(overrides)
    path.unlink()
    np.savez(path, **content)


@pytest.mark.parametrize("damage, message", [
    ("nan_and_labels", "not valid"),
    ("labels_only", "labels outside 0..9"),
    ("truncated", "cannot be read"),
    ("empty", "cannot be read"),
    ("wrong_shape", "shape"),
    ("wrong_dtype", "dtype"),
    ("other_params", "other parameters"),
    ("checksum", "checksum"),
    ("pickle", "cannot be read"),
])
def test_damaged_or_planted_cache_is_regenerated(cache, reference, damage, message):
    data.mnist1d(**SIZES)
    path = _cache_file(cache)
    with np.load(path) as f:
        X, y = f["X_train"], f["y_train"]
    if damage == "nan_and_labels":  # the planted file of the report: NaN features, labels 99/-5
        bad_X, bad_y = X.copy(), y.copy()
        bad_X[0, 0] = np.nan
        bad_y[:2] = [99, -5]
        _plant(path, X_train=bad_X, y_train=bad_y)
    elif damage == "labels_only":
        bad_y = y.copy()
        bad_y[0] = 99
        _plant(path, y_train=bad_y)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "wrong_shape":
        _plant(path, X_train=X[:, :20])
    elif damage == "wrong_dtype":
        _plant(path, X_train=X.astype(np.float64))
    elif damage == "other_params":
        _plant(path, params=np.array('{"seed": 999}'))
    elif damage == "checksum":  # plausible values, but not what was generated
        _plant(path, X_train=X[::-1].copy())
    elif damage == "pickle":
        path.unlink()
        np.savez(path, X_train=np.array([object()], dtype=object))
    with pytest.warns(UserWarning, match=message):
        again = data.mnist1d(**SIZES)
    assert _same(again, reference)
    assert _same(_no_warning_call(**SIZES), reference)  # the file was repaired


def test_planted_symlinks_do_not_redirect_the_write(cache, reference, tmp_path_factory):
    victim_dir = tmp_path_factory.mktemp("victim")
    victim = victim_dir / "important.txt"
    victim.write_text("keep me")
    # a symlink at the cache file's own name, and at the old fixed temporary name
    params = data._mnist1d_params(SIZES["n_train"], SIZES["n_test"], SIZES["seed"])
    path = cache / f"mnist1d_{data._params_hash(params)[:16]}.npz"
    path.symlink_to(victim)
    path.with_suffix(".tmp.npz").symlink_to(victim)
    with pytest.warns(UserWarning, match="not valid"):
        split = data.mnist1d(**SIZES)
    assert _same(split, reference)
    assert victim.read_text() == "keep me"
    assert path.is_file() and not path.is_symlink()


def test_stale_temp_files_are_cleaned_on_the_next_write(cache, reference):
    params = data._mnist1d_params(SIZES["n_train"], SIZES["n_test"], SIZES["seed"])
    name = f"mnist1d_{data._params_hash(params)[:16]}.npz"
    stale = cache / locking.temp_name(cache / name)  # a writer killed between write and rename
    stale.write_bytes(b"half a file")
    assert _same(data.mnist1d(**SIZES), reference)
    assert not stale.exists()


def test_unwritable_cache_folder_still_serves_the_data(cache, reference, monkeypatch):
    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(locking, "file_lock", read_only)
    with pytest.warns(UserWarning, match="without caching"):
        assert _same(data.mnist1d(**SIZES), reference)
    assert not list(cache.glob("mnist1d_*.npz"))


def test_full_disk_while_writing_the_cache_still_serves_the_data(cache, reference, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(locking, "atomic_write", full)
    with pytest.warns(UserWarning, match="could not write the data cache"):
        assert _same(data.mnist1d(**SIZES), reference)


def test_cache_flag_and_seed_are_checked(cache):
    with pytest.raises(TypeError, match="cache must be True or False"):
        data.mnist1d(**SIZES, cache="False")
    with pytest.raises(TypeError, match="seed must be an integer"):
        data.mnist1d(n_train=90, n_test=10, seed=1.5)
    with pytest.raises(ValueError, match="seed"):
        data.mnist1d(n_train=90, n_test=10, seed=2**40)
    split = data.mnist1d(**SIZES, cache=False)
    assert split.X_train.shape == (90, 40) and not list(cache.iterdir())


CONCURRENT = textwrap.dedent("""
    import hashlib, sys
    import numpy as np
    from maxent_lib import data
    s = data.mnist1d(n_train=90, n_test=10, seed=3)
    h = hashlib.sha256()
    for a in (s.X_train, s.y_train, s.X_test, s.y_test):
        h.update(np.ascontiguousarray(a).tobytes())
    print(h.hexdigest())
""")


def test_concurrent_first_time_generation(cache, reference):
    env = {**__import__("os").environ, "MAXENT_DATA_DIR": str(cache)}
    procs = [subprocess.Popen([sys.executable, "-W", "error", "-c", CONCURRENT], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    digests = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err  # none crashes (and none warns: -W error)
        digests.append(out.strip())
    h = hashlib.sha256()
    for a in (reference.X_train, reference.y_train, reference.X_test, reference.y_test):
        h.update(np.ascontiguousarray(a).tobytes())
    assert set(digests) == {h.hexdigest()}  # all identical, and equal to a fresh generation
    _cache_file(cache)
    assert not list(cache.glob("*.tmp")) and not list(cache.glob(".*.tmp"))


def test_planted_default_cache_with_a_recomputed_checksum_is_refused(cache):
    """For the course's own parameters (the defaults) the expected checksum is kept in the
    library, not only in the file: a planted file that carries the checksum of its own (wrong)
    arrays is still refused and regenerated."""
    reference = data.mnist1d(cache=False)
    data.mnist1d()
    path = _cache_file(cache)
    with np.load(path) as f:
        content = {k: f[k] for k in f.files}
    X = content["X_train"].copy()
    X[0, 0] += 1.0
    content["X_train"] = X
    content["sha256"] = np.array(data._arrays_hash({k: content[k] for k in data._SPLIT_ARRAYS}))
    path.unlink()
    np.savez(path, **content)
    with pytest.warns(UserWarning, match="library's own checksum"):
        again = data.mnist1d()
    assert _same(again, reference)
    assert _same(_no_warning_call(), reference)  # the file was repaired

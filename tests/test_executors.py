"""Tests of maxent_lib.executors: slicing and ordering of groups, the local executor, and (when
Ray is installed) the Ray executor on one local Ray instance shared by the module: the same
records as the local executor, a killed worker process retried, errors raised in the driver, and
an interrupted run cancelling what is left."""

import functools
import os
import signal
import sys
import time

import pytest

from maxent_lib import executors as E


def _toy_train(group, scale=1):
    """A stand-in for training: one record per config, depending only on the config."""
    return [{**c, "score": c["seed"] * scale + c["width"], "pid": os.getpid()} for c in group]


def _die_once(group, marker):
    """Kill this worker process the first time it runs (as a crashed or killed worker would)."""
    if not os.path.exists(marker):
        with open(marker, "w") as f:
            f.write(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)
    return _toy_train(group)


def _fail_on_width_8(group):
    if group[0]["width"] == 8:
        raise ValueError("width 8 is refused by this toy trainer")
    return _toy_train(group)


def _slow(group):
    time.sleep(0.2 * len(group))
    return _toy_train(group)


def _groups():
    return [[{"width": w, "seed": s} for s in range(n)] for w, n in ((4, 5), (8, 2), (16, 3))]


def _strip(records):
    return sorted(tuple(sorted((k, v) for k, v in r.items() if k != "pid")) for r in records)


# ---------------------------------------------------------------------- without Ray

def test_slice_groups_sizes_and_order():
    g = [[{"seed": s} for s in range(7)], [{"seed": 9}]]
    assert E.slice_groups(g, None) == g
    parts = E.slice_groups(g, 3)
    assert [len(p) for p in parts] == [3, 2, 2, 1]  # 7 -> 3 slices as even as possible
    assert [c for p in parts for c in p] == [c for grp in g for c in grp]
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="max_group_size"):
            E.slice_groups(g, bad)


def test_local_executor_yields_in_order():
    out = list(E.map_groups(_groups(), _toy_train))
    assert [[r["width"] for r in recs] for recs in out] == [[4] * 5, [8] * 2, [16] * 3]
    assert {r["pid"] for recs in out for r in recs} == {os.getpid()}
    sliced = list(E.map_groups(_groups(), _toy_train, max_group_size=2))
    assert [len(recs) for recs in sliced] == [2, 2, 1, 2, 2, 1]


@pytest.mark.parametrize("kwargs, message", [
    ({"executor": "dask"}, "executor must be one of"),
    ({"workers": 0}, "workers"),
    ({"cpus_per_task": -1}, "cpus_per_task"),
    ({"gpus_per_task": -0.5}, "gpus_per_task"),
    ({"max_retries": -1}, "max_retries"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        list(E.map_groups(_groups(), _toy_train, **kwargs))
    with pytest.raises(TypeError, match="callable"):
        list(E.map_groups(_groups(), "train"))


def test_group_cost_orders_larger_work_first():
    small = [{"kind": "mlp", "width": 32, "depth": 2, "epochs": 20}] * 6
    deep = [{"kind": "cnn", "width": 8, "depth": 8, "epochs": 20}] * 6
    assert E.group_cost(deep) > E.group_cost(small) > E.group_cost(small[:3]) > 0


# ---------------------------------------------------------------------- on a local Ray instance

@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    # the test module is not importable from Ray's workers: send its functions by value
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with E.ray_session(workers=2) as r:
        yield r
    assert not ray.is_initialized()  # the session started here was shut down


def test_ray_matches_local(ray_local):
    local = [r for recs in E.map_groups(_groups(), _toy_train) for r in recs]
    ordered = []
    remote = []
    for recs in E.map_groups(_groups(), functools.partial(_toy_train, scale=1), executor="ray",
                             workers=2, cost=len):
        ordered.append(len(recs))
        remote += recs
    assert _strip(remote) == _strip(local)
    assert os.getpid() not in {r["pid"] for r in remote}  # trained in Ray's worker processes
    assert ray_local.is_initialized()  # an instance it did not start is left running


def test_ray_retries_a_killed_worker(ray_local, tmp_path):
    marker = tmp_path / "killed"
    train = functools.partial(_die_once, marker=str(marker))
    remote = [r for recs in E.map_groups(_groups(), train, executor="ray", workers=2)
              for r in recs]
    assert marker.exists()  # one worker process was killed while training a group
    assert _strip(remote) == _strip([r for g in _groups() for r in _toy_train(g)])


def test_ray_error_reaches_the_driver(ray_local):
    with pytest.raises(ValueError, match="width 8 is refused"):
        list(E.map_groups(_groups(), _fail_on_width_8, executor="ray", workers=1, max_retries=0))


def test_ray_interrupted_keeps_finished_groups(ray_local):
    groups = [[{"width": w, "seed": 0}] for w in range(6)]
    got = []
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        for recs in E.map_groups(groups, _slow, executor="ray", workers=1):
            got += recs
            raise KeyboardInterrupt  # Ctrl-C in the driver after the first finished group
    assert [r["width"] for r in got] == [0]
    assert time.perf_counter() - start < 5
    # nothing of the interrupted run is left: the next run gets every slot
    assert len(list(E.map_groups(groups[:2], _toy_train, executor="ray", workers=2))) == 2

"""Tests of maxent_lib.executors: slicing and ordering of groups, the local executor, and (when
Ray is installed) the Ray executor on one local Ray instance shared by the module: the same
records as the local executor, a killed worker process retried, errors raised in the driver, and
an interrupted run cancelling what is left."""

import functools
import os
import signal
import sys
import time

import numpy as np
import pytest

from maxent_lib import ablation as A
from maxent_lib.ablation import executors as E

#: train on the CPU without a progress bar
CPU = A.RunOptions(device="cpu", progress=False)



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
    sliced = list(E.map_groups(_groups(), _toy_train, E.Execution(max_group_size=2)))
    assert [len(recs) for recs in sliced] == [2, 2, 1, 2, 2, 1]


@pytest.mark.parametrize("execution, message", [
    ({"kind": "dask"}, "kind must be one of"),
    ({"kind": "ray", "workers": 0}, "workers"),
    ({"kind": "local", "workers": 2}, "executor='ray' only"),
    ({"max_group_size": 0}, "max_group_size"),
])
def test_bad_executions(execution, message):
    with pytest.raises(ValueError, match=message):
        E.Execution(**execution)


@pytest.mark.parametrize("kwargs, message", [
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
    if os.environ.get("MAXENT_REQUIRE_RAY"):  # CI installs the extra: no silent skip there
        import ray
    else:
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
    for recs in E.map_groups(_groups(), functools.partial(_toy_train, scale=1),
                             E.Execution("ray", 2), cost=len):
        ordered.append(len(recs))
        remote += recs
    assert _strip(remote) == _strip(local)
    assert os.getpid() not in {r["pid"] for r in remote}  # trained in Ray's worker processes
    assert ray_local.is_initialized()  # an instance it did not start is left running


def test_ray_retries_a_killed_worker(ray_local, tmp_path):
    marker = tmp_path / "killed"
    train = functools.partial(_die_once, marker=str(marker))
    remote = [r for recs in E.map_groups(_groups(), train, E.Execution("ray", 2))
              for r in recs]
    assert marker.exists()  # one worker process was killed while training a group
    assert _strip(remote) == _strip([r for g in _groups() for r in _toy_train(g)])


def test_ray_error_reaches_the_driver(ray_local):
    with pytest.raises(ValueError, match="width 8 is refused"):
        list(E.map_groups(_groups(), _fail_on_width_8, E.Execution("ray", 1), max_retries=0))


def test_ray_interrupted_keeps_finished_groups(ray_local):
    groups = [[{"width": w, "seed": 0}] for w in range(6)]
    got = []
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        for recs in E.map_groups(groups, _slow, E.Execution("ray", 1)):
            got += recs
            raise KeyboardInterrupt  # Ctrl-C in the driver after the first finished group
    assert [r["width"] for r in got] == [0]
    assert time.perf_counter() - start < 5
    # nothing of the interrupted run is left: the next run gets every slot
    assert len(list(E.map_groups(groups[:2], _toy_train, E.Execution("ray", 2)))) == 2


# ---------------------------------------------------------------------- run_grid and the CLI on Ray

TIMINGS = {"seconds", "group_seconds"}


def _toy_data():
    rng = np.random.default_rng(0)
    means = rng.normal(size=(3, 16))

    def sample(n):
        y = rng.integers(0, 3, n)
        return (means[y] + rng.normal(size=(n, 16))).astype(np.float32), y

    return (*sample(300), *sample(200))


def _toy_grid():
    base = {"width": 16, "depth": 2, "epochs": 3, "batch_size": 32, "lr": 3e-3, "n_val": 60}
    cfgs = [{**base, "seed": s, "shortcut": sc, "dropout": 0.2 * sc} for s in (0, 1)
            for sc in (False, True)]
    cfgs += [{**base, "seed": s, "depth": 3, "weight_decay": 0.1} for s in (0, 1)]
    cfgs += [{**base, "seed": 0, "kind": "cnn", "width": 4}]
    return cfgs  # three shape groups: 4 + 2 + 1


def _without(records, skip=TIMINGS):
    return [{k: v for k, v in r.items() if k not in skip} for r in records]


def test_run_grid_on_ray_equals_local(ray_local, tmp_path):
    data = _toy_data()
    local = A.run_grid(_toy_grid(), data, options=CPU)
    path = tmp_path / "grid.jsonl"
    remote = A.run_grid(_toy_grid(), data, results_path=path, options=CPU,
                        execution=A.Execution(kind="ray", workers=2))
    assert _without(remote) == _without(local)  # every field but the timings, dropout included
    stored = A.read_records(path)
    assert sorted(r["key"] for r in stored) == sorted(r["key"] for r in local)
    assert A.load_provenance(path)["records"] == 7
    # resume: a rerun trains nothing and appends nothing
    text = path.read_text()
    again = A.run_grid(_toy_grid(), data, results_path=path, options=CPU,
                       execution=A.Execution(kind="ray", workers=2))
    assert path.read_text() == text and _without(again) == _without(local)
    # groups sliced into one-model tasks: the same numbers (models do not depend on their stack)
    sliced = A.run_grid(_toy_grid(), data, options=CPU,
                        execution=A.Execution(kind="ray", workers=2, max_group_size=1))
    assert _without(sliced, TIMINGS | {"group_size"}) == _without(local, TIMINGS | {"group_size"})


def test_run_grid_interrupted_driver_resumes(ray_local, tmp_path, monkeypatch):
    data = _toy_data()
    path = tmp_path / "grid.jsonl"
    from maxent_lib.ablation import runner

    append = runner.files.append_records

    def append_then_interrupt(p, records, **kw):  # Ctrl-C right after the first group is written
        append(p, records, **kw)
        raise KeyboardInterrupt

    monkeypatch.setattr(runner.files, "append_records", append_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        A.run_grid(_toy_grid(), data, results_path=path, options=CPU,
                   execution=A.Execution(kind="ray", workers=2))
    monkeypatch.setattr(runner.files, "append_records", append)
    assert A.load_provenance(path)["runs"][-1]["status"] == "interrupted"
    assert not A.load_stored(path).current
    first = A.read_records(path)
    assert 0 < len(first) < 7  # one finished group kept, the others lost with the driver
    resumed = A.run_grid(_toy_grid(), data, results_path=path, options=CPU,
                         execution=A.Execution(kind="ray", workers=2))
    assert len(A.read_records(path)) == 7
    local = A.run_grid(_toy_grid(), data, options=CPU)
    assert _without(resumed) == _without(local)
    assert len(A.load_provenance(path)["runs"]) == 2


def test_cli_on_ray(ray_local, tmp_path, monkeypatch, capsys):
    from maxent_lib.__main__ import main

    monkeypatch.setitem(A.GRIDS, "tiny", lambda profile=None: _toy_grid()[:4])
    monkeypatch.setitem(A.GRID_SUMMARY, "tiny", ("shortcut",))
    out = tmp_path / "tiny.jsonl"
    argv = ["ablate", "--grid", "tiny", "--dataset", "gaussians", "--device", "cpu",
            "--out", str(out), "--no-progress"]
    assert main([*argv, "--executor", "ray", "--workers", "2"]) == 0
    assert len(out.read_text().splitlines()) == 4
    assert "--executor ray" in A.load_provenance(out)["command"]
    local = tmp_path / "local.jsonl"
    assert main([*argv[:-2], str(local), "--no-progress"]) == 0
    def by_key(path):  # Ray appends groups in the order they finish
        return sorted(_without(A.read_records(path)), key=lambda r: r["key"])

    assert by_key(out) == by_key(local)


def _group_fails_in_the_worker(configs, data, dev, fast, threads):
    """A stand-in for runner._group_records whose Ray task raises (sent by value)."""
    raise ValueError(f"deliberate failure of a task of {len(configs)} config(s)")


def _worker_dies(configs, data, dev, fast, threads):
    """A stand-in for runner._group_records whose Ray worker process dies every time."""
    os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.parametrize("train, message", [
    (_group_fails_in_the_worker, "deliberate failure of a task"),
    (_worker_dies, "")])
def test_cli_failed_ray_task_exits_1(train, message, ray_local, tmp_path, monkeypatch, capsys):
    """A Ray task that raises (a ValueError too: it is not a bad argument of the command) or
    whose worker dies every time it is retried ends in the one-line error naming the results
    file, with exit status 1, and leaves the provenance's last run marked "failed"."""
    from maxent_lib.__main__ import main
    from maxent_lib.ablation import runner

    monkeypatch.setitem(A.GRIDS, "tiny", lambda profile=None: _toy_grid()[:2])
    monkeypatch.setitem(A.GRID_SUMMARY, "tiny", ("shortcut",))
    monkeypatch.setattr(runner, "_group_records", train)
    out = tmp_path / "tiny.jsonl"
    with pytest.raises(SystemExit) as exc:
        main(["ablate", "--grid", "tiny", "--dataset", "gaussians", "--device", "cpu",
              "--out", str(out), "--no-progress", "--executor", "ray", "--workers", "1"])
    err = capsys.readouterr().err
    assert exc.value.code == 1 and "Traceback" not in err
    assert "error:" in err and f"[results file: {out}]" in err and message in err
    assert A.load_provenance(out)["runs"][-1]["status"] == "failed"
    assert not A.load_stored(out).current


@pytest.mark.parametrize("extra, message", [
    (["--workers", "2"], "need --executor ray"),
    (["--ray-address", "auto"], "need --executor ray"),
    (["--executor", "ray", "--workers", "0"], "--workers must be an integer >= 1"),
    (["--executor", "dask"], "invalid choice"),
])
def test_cli_executor_errors(extra, message, tmp_path, capsys):
    from maxent_lib.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(["ablate", "--grid", "shortcut", "--out", str(tmp_path / "r.jsonl"), *extra])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err

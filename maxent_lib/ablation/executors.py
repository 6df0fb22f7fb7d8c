"""Where the groups of an ablation grid are trained: in this process, or as tasks on Ray
(introduced in the speed section of the README; used by lessons 05-06's grids through
:func:`maxent_lib.ablation.run_grid`).

A grid is trained as *groups* (lists of configs that share a shape, see
:func:`maxent_lib.ablation.group_by_shape`); a picklable function ``train(group) -> records``
trains one group. :func:`map_groups` yields each group's records as soon as that group is done:

- ``executor="local"``: one group after another, in the given order, in this process.
- ``executor="ray"``: each group (or each slice of at most ``max_group_size`` configs) is one
  Ray task with its resources: ``gpus_per_task`` GPUs (1 on GPU machines, so that each task
  has a GPU of its own) or ``cpus_per_task`` CPUs otherwise. Groups are submitted largest
  estimated cost first (``cost``), at most one task per free slot, so that a few large groups
  do not finish last on one worker while the others idle. A task whose worker process dies is
  retried by Ray (``max_retries``) and trains its group again from the start.

Only the caller (the driver) sees records, so the driver stays the only writer of a results
file: resume and the file format do not depend on the executor, a killed worker loses at most
the group it was training, and an interrupted driver loses at most the groups still in flight.
A model's records do not depend on which process trains it: initialisation, batch order and the
arithmetic are the same in every worker (the test compares a Ray run with a local one).

Ray is optional (``pip install -e ".[ray]"``). With ``address=None`` a local Ray instance is
started for the call and shut down after it (about 10 s of start-up on a 2-core CPU); with an
address (``"ray://head:10001"`` or ``"auto"``) an existing cluster is used, with this library
shipped to it as a runtime-environment module (its nodes need the course's requirements).
When Ray is already initialised in this process (for example by :func:`ray_session`), it is
used as it is and left running.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._checks import check_int
from ..validation import (
    Choice,
    Dict,
    Flag,
    Function,
    Instance,
    Integer,
    Items,
    Real,
    Text,
    validate,
)

Config = dict[str, Any]
Group = list[Config]
Train = Callable[[Group], list[dict[str, Any]]]
EXECUTORS: tuple[str, ...] = ("local", "ray")
#: The note an error raised while a group trained carries (:func:`failed_in_a_task`).
TASK_FAILED = "raised while training a group (a failed task)"

#: A list of groups, each a list of config dicts.
_GROUPS = Items(Items(Dict()))
#: A number of workers (None: as many as the machine or the cluster holds).
_WORKERS = Integer(low=1, optional=True)
#: A Ray cluster's address (None: a local Ray instance).
_ADDRESS = Text(empty=False, optional=True)
#: At most this many configs per task (None: the groups as they are).
_GROUP_SIZE = Integer(low=1, optional=True)


@validate(kind=Choice(EXECUTORS), workers=_WORKERS, address=_ADDRESS,
          max_group_size=_GROUP_SIZE)
@dataclass(frozen=True)
class Execution:
    """Where a grid's groups train: ``kind`` "local" (in this process, one group after another)
    or "ray" (Ray tasks, ``workers`` at a time, on a local instance or the cluster at
    ``address``; groups sliced to at most ``max_group_size`` configs). Checked when made (see
    :func:`check_executor`). Introduced in lesson 05."""

    kind: str = "local"
    workers: int | None = None
    address: str | None = None
    max_group_size: int | None = None

    def __post_init__(self) -> None:
        check_executor(self.kind, self.workers, self.address, self.max_group_size)


# ---------------------------------------------------------------------- helpers

def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ImportError("executor='ray' needs Ray, an optional extra of the course: "
                          "pip install -e \".[ray]\" (from the course folder)") from exc
    return ray


@validate()
def available_cpus() -> int:
    """CPU cores this process may run on (its affinity mask where the system has one).
    Used by the library only."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows
        return os.cpu_count() or 1


@validate(groups=_GROUPS, max_group_size=_GROUP_SIZE)
def slice_groups(groups: Sequence[Sequence[Config]], max_group_size: int | None
                 ) -> list[Group]:
    """Each group cut into consecutive slices of at most ``max_group_size`` configs (None: the
    groups as they are). Slices of one group have sizes that differ by at most one.
    Used by the library only."""
    if max_group_size is None:
        return [list(g) for g in groups]
    out: list[Group] = []
    for g in groups:
        g = list(g)
        parts = -(-len(g) // max_group_size)
        base, extra = divmod(len(g), parts)
        start = 0
        for i in range(parts):  # the first `extra` slices hold one config more
            stop = start + base + (i < extra)
            out.append(g[start:stop])
            start = stop
    return out


@validate(group=Items(Dict(), min_len=1), in_dim=Integer(low=1), n_classes=Integer(low=2))
def group_cost(group: Sequence[Config], in_dim: int = 40, n_classes: int = 10) -> float:
    """A rough relative training cost of a group of ablation configs (same shape), used only to
    order Ray tasks largest first: models x optimizer steps x (FLOPs per model-step + a fixed
    per-step overhead equal to the FLOPs of a width-32, depth-2 MLP step, because small models on
    a CPU are bound by per-operation overhead rather than arithmetic). Used by the library
    only."""
    from .stacked import flops_per_model_step

    c = group[0]
    n = check_int(c.get("n_train") or 4000, "n_train", low=1)
    bs = min(check_int(c.get("batch_size", 128), "batch_size", low=1), n)
    steps = check_int(c.get("epochs", 20), "epochs", low=1) * max(1, n // bs)
    flops = flops_per_model_step(c.get("kind", "mlp"), in_dim, n_classes, c.get("width", 64),
                                 c.get("depth", 2), bs)
    overhead = flops_per_model_step("mlp", in_dim, n_classes, 32, 2, bs)
    return len(group) * steps * (flops + overhead)


@validate(executor=Choice(EXECUTORS), workers=_WORKERS, address=_ADDRESS,
          max_group_size=_GROUP_SIZE)
def check_executor(executor: str, workers: int | None = None, address: str | None = None,
                   max_group_size: int | None = None) -> None:
    """Raise ``TypeError`` for an argument of the wrong type (an executor name that is not a
    string, ``workers="2"``, ``True`` as a count), ``ValueError`` on an unknown executor, a
    ``workers`` or ``max_group_size`` below 1, or Ray-only options (``workers``, ``address``)
    given to the local executor; ``ImportError`` with the install command when
    ``executor="ray"`` and Ray is missing. Used by the library only."""
    if executor == "local" and (workers is not None or address is not None):
        raise ValueError("workers and the Ray address apply to executor='ray' only")
    if executor == "ray":
        _ray()


# ---------------------------------------------------------------------- Ray session

@validate(address=_ADDRESS, workers=_WORKERS, num_gpus=Integer(low=0, optional=True),
          ship_library=Flag())
@contextlib.contextmanager
def ray_session(address: str | None = None, workers: int | None = None, *,
                num_gpus: int | None = None, ship_library: bool = True) -> Iterator[Any]:
    """Make sure Ray is running in this process for the block, and yield the ``ray`` module.

    If Ray is already initialised, it is used as it is and left running. Otherwise, with
    ``address=None`` a local instance is started with ``workers`` CPUs (default: the cores this
    process may use) and ``num_gpus`` GPUs (default: those Ray detects), without dashboard and
    with quiet logs, and it is shut down at the end of the block; with an address the existing
    cluster is joined (and left at the end), shipping this library to it when ``ship_library``.
    Used by the library only.
    """
    ray = _ray()
    if ray.is_initialized():
        yield ray
        return
    kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.ERROR,
                              "log_to_driver": True}
    if address is None:  # "local": a new instance, never a cluster that `ray start` left here
        kwargs.update(address="local", num_cpus=workers or available_cpus(), num_gpus=num_gpus)
    else:
        kwargs["address"] = address
        if ship_library:
            kwargs["runtime_env"] = {"py_modules": [str(Path(__file__).resolve().parent)]}
    # no usage reports (the course runs offline); Ray would hide GPUs from tasks with num_gpus=0
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    if address is None:  # Ray runs its workers at niceness +15 by default: on a machine shared
        # with other work they then get almost no CPU; here they run at the driver's priority
        os.environ.setdefault("RAY_worker_niceness", "0")
    try:
        ray.init(**kwargs)
    except ConnectionError as exc:
        if address is None:
            raise
        raise ConnectionError(f"{exc}. If the cluster uses Ray's token authentication (on by "
                              "default in recent Ray), set RAY_AUTH_MODE=token here, with "
                              "the cluster's token in ~/.ray/auth_token") from exc
    try:
        yield ray
    finally:
        ray.shutdown()


def _task_slots(ray: Any, workers: int | None, cpus_per_task: float, gpus_per_task: float
                ) -> int:
    """How many tasks may run at once: ``workers`` if given, else what the cluster holds."""
    if workers is not None:
        return workers
    res = ray.cluster_resources()
    if gpus_per_task:
        return max(1, int(res.get("GPU", 0) // gpus_per_task))
    return max(1, int(res.get("CPU", 1) // cpus_per_task))


def _run_task(train: Train, group: Group) -> list[dict[str, Any]]:
    # Ray hands arrays over read-only (shared memory); training only reads them
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return train(group)


@validate(n=Integer(low=1, high=10_000))
def warm_up(n: int) -> list[int]:
    """Run ``n`` tasks that import torch and the library on Ray (already initialised) and return
    their process ids: the workers' start-up, paid here instead of inside a timed run.
    Used by the library only."""
    ray = _ray()
    if not ray.is_initialized():
        raise ValueError("warm_up needs a running Ray: call it inside ray_session()")

    def _ping(delay: float) -> int:
        import maxent_lib.ablation  # noqa: F401  (the import is the point)

        time.sleep(delay)
        return os.getpid()

    ping = ray.remote(num_cpus=1)(_ping)
    return ray.get([ping.remote(0.5) for _ in range(n)])


# ---------------------------------------------------------------------- the executors

@validate(exc=Instance((BaseException,)))
def failed_in_a_task(exc: BaseException) -> bool:
    """True if ``exc`` was raised while a group trained (in this process or in a Ray task) and
    reached the caller through :func:`map_groups`: a failed task, not a bad argument (the
    command line exits with status 1 for it). Used by the library only."""
    return any(TASK_FAILED in str(note) for note in getattr(exc, "__notes__", ()))


def _failed(exc: BaseException, group: Group) -> BaseException:
    """``exc`` marked as raised while ``group`` trained (:func:`failed_in_a_task`)."""
    if not failed_in_a_task(exc):
        exc.add_note(f"{TASK_FAILED}: {len(group)} config(s), the first {group[0]!r:.160}")
    return exc


def _map_local(tasks: list[Group], train: Train) -> Iterator[list[dict[str, Any]]]:
    for g in tasks:
        try:
            records = train(g)
        except Exception as exc:
            _failed(exc, g)
            raise
        yield records


@validate(groups=_GROUPS, train=Function("train(group) -> list of records"),
          execution=Instance((Execution,), optional=True), cpus_per_task=Real(low=0.0,
                                                                                low_open=True),
          gpus_per_task=Real(low=0.0),
          cost=Function("cost(group) -> a number: larger groups are submitted first",
                        optional=True),
          max_retries=Integer(low=0))
def map_groups(groups: Sequence[Sequence[Config]], train: Train,
               execution: Execution | None = None, *, cpus_per_task: float = 1,
               gpus_per_task: float = 0, cost: Callable[[Group], float] | None = None,
               max_retries: int = 3) -> Iterator[list[dict[str, Any]]]:
    """Train every group (after :func:`slice_groups` with ``max_group_size``) with ``train`` and
    yield each one's records as soon as it is done: in order with ``executor="local"``, in order
    of completion on Ray (see the module docstring and :class:`Execution`). ``train`` must
    be picklable for Ray (a module-level function or a ``functools.partial`` of one).

    Stopping the iteration early (an exception in the caller, Ctrl-C) cancels the Ray tasks
    still queued or running; records already yielded are the caller's. An error raised inside
    ``train`` is raised here, for Ray too (the worker's exception, chained to Ray's task
    error). The arguments are checked when it is called, before any group is trained:
    ``TypeError`` for a wrong type, ``ValueError`` for an unknown executor or a bad number. An
    error raised while a group trains carries a note (:func:`failed_in_a_task`).
    Used by the library only.
    """
    execution = Execution() if execution is None else execution
    tasks = [g for g in slice_groups(groups, execution.max_group_size) if g]
    if execution.kind == "local":
        return _map_local(tasks, train)
    return _map_ray(tasks, train, execution.address, execution.workers, cpus_per_task,
                    gpus_per_task, cost, max_retries)


def _map_ray(tasks: list[Group], train: Train, address: str | None, workers: int | None,
             cpus_per_task: float, gpus_per_task: float,
             cost: Callable[[Group], float] | None, max_retries: int
             ) -> Iterator[list[dict[str, Any]]]:
    local_cpus = None if address is not None or workers is None else \
        max(1, int(workers * cpus_per_task))
    with ray_session(address, local_cpus) as ray:
        slots = _task_slots(ray, workers, cpus_per_task, gpus_per_task)
        order = sorted(range(len(tasks)), key=lambda i: -cost(tasks[i])) if cost \
            else list(range(len(tasks)))
        remote = ray.remote(_run_task).options(num_cpus=cpus_per_task, num_gpus=gpus_per_task,
                                               max_retries=max_retries,
                                               retry_exceptions=False)
        train_ref = ray.put(train)
        queue, pending = deque(order), {}
        try:
            while queue or pending:
                while queue and len(pending) < slots:
                    i = queue.popleft()
                    pending[remote.remote(train_ref, tasks[i])] = i
                # short waits, so that Ctrl-C reaches the driver at once
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
                for ref in ready:
                    i = pending.pop(ref)
                    try:
                        records = ray.get(ref)
                    except ray.exceptions.RayTaskError as exc:  # raise what train raised
                        cause = getattr(exc, "cause", None)
                        if isinstance(cause, Exception):
                            raise _failed(cause, tasks[i]) from exc
                        raise _failed(exc, tasks[i]) from None
                    except ray.exceptions.RayError as exc:  # a worker that died, and the like
                        raise _failed(exc, tasks[i]) from None
                    yield records
        finally:
            for ref in pending:  # queued tasks are dropped, running ones interrupted
                ray.cancel(ref)

"""The same ablation grid on Ray with 1 and N workers, side by side in one run: wall seconds of
each, their ratio and whether the records agree.

    python benchmarks/bench_scaling.py                        # CPU: quick shortcut grid, 1 vs 2
    python benchmarks/bench_scaling.py --device cuda --workers 1,4 --profile full   # 4 GPUs
    python benchmarks/bench_scaling.py --address auto --workers 1,8 ...   # an existing cluster

Method. One Ray session serves every run (a local instance with max(workers) CPUs, or the
cluster at ``--address``). Its start-up and the workers' start-up (``executors.warm_up``: each
worker imports torch and the library) are timed and printed apart, not inside the runs. Each run
is ``ablation.run_grid(grid, execution=ablation.Execution("ray", w))`` with no results file; the
runs are interleaved A B B A (``--repeats`` runs of each) so that a drift in the machine's load
falls on both counts, and the ratio is median(1 worker) / median(N workers). With ``--local``
the local executor (this process, no Ray) is timed too, as the reference. Records of every run
are compared with the first run's (all fields but timings): stacking and initialisation do not
depend on the worker, so they must be identical. The load average before and after is printed,
since on a shared machine it decides the figures."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

import torch

from maxent_lib import ablation
from maxent_lib.ablation import executors
from maxent_lib.runtime import get_device

TIMING_FIELDS = ("seconds", "group_seconds")


def _comparable(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in TIMING_FIELDS} for r in records]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--grid", default="shortcut", choices=sorted(ablation.GRIDS))
    p.add_argument("--profile", default="quick", help="quick or full (default quick)")
    p.add_argument("--device", default="cpu", help="cpu, or cuda (one GPU per task)")
    p.add_argument("--workers", default="1,2", help="two worker counts, e.g. 1,2 or 1,4")
    p.add_argument("--repeats", type=int, default=2,
                   help="runs of each count, interleaved A B B A ... (default 2)")
    p.add_argument("--address", default=None, help="an existing Ray cluster (default: start a "
                   "local instance)")
    p.add_argument("--max-group-size", type=int, default=None,
                   help="slice shape groups into tasks of at most this many models")
    p.add_argument("--limit", type=int, default=None, help="only the first N configs (smoke)")
    p.add_argument("--local", action="store_true",
                   help="also time the local executor (no Ray) once, as a reference")
    p.add_argument("--json", default=None, help="also write the figures as JSON here")
    args = p.parse_args()
    counts = [int(v) for v in args.workers.split(",")]
    if len(counts) != 2 or min(counts) < 1 or counts[0] == counts[1]:
        p.error("--workers takes two different positive counts, e.g. 1,2")
    if args.repeats < 1:
        p.error("--repeats must be a positive integer")
    dev = get_device(args.device)
    grid = ablation.GRIDS[args.grid](args.profile)[: args.limit]
    n_groups = len(ablation.group_by_shape([ablation.canonical_config(c) for c in grid]))
    load0 = os.getloadavg()
    print(f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; {platform.node()}: "
          f"{executors.available_cpus()} CPU cores, device {dev}"
          f"{' (' + torch.cuda.get_device_name(dev) + ')' if dev.type == 'cuda' else ''}; "
          f"torch {torch.__version__}; load average {load0[0]:.2f} {load0[1]:.2f} "
          f"{load0[2]:.2f}", flush=True)
    print(f"grid {args.grid!r} ({args.profile}): {len(grid)} configs in {n_groups} shape groups"
          f"{'' if args.max_group_size is None else f', sliced to <= {args.max_group_size}'}",
          flush=True)

    def run(executor: str, w: int | None) -> tuple[float, list[dict]]:
        t = time.perf_counter()
        address = args.address if executor == "ray" else None
        execution = ablation.Execution(kind=executor, workers=w, address=address,
                                       max_group_size=args.max_group_size)
        recs = ablation.run_grid(grid, options=ablation.RunOptions(device=dev, progress=False),
                                 execution=execution)
        return time.perf_counter() - t, recs

    out: dict = {"command": "python " + " ".join(sys.argv),
                 "date": f"{datetime.datetime.now(datetime.UTC):%Y-%m-%dT%H:%M:%SZ}",
                 "grid": args.grid, "profile": args.profile, "configs": len(grid),
                 "groups": n_groups, "device": str(dev), "torch": torch.__version__,
                 "cores": executors.available_cpus(), "load_before": load0}
    reference = None
    if args.local:
        out["local_s"], reference = run("local", None)
        print(f"local executor (this process): {out['local_s']:.1f} s", flush=True)
    t = time.perf_counter()
    with executors.ray_session(args.address, None if args.address else max(counts)) as ray:
        out["ray_start_s"] = time.perf_counter() - t
        t = time.perf_counter()
        executors.warm_up(max(counts))
        out["warm_up_s"] = time.perf_counter() - t
        print(f"Ray {ray.__version__}: start-up {out['ray_start_s']:.1f} s, workers' start-up "
              f"{out['warm_up_s']:.1f} s (neither is inside the timed runs)", flush=True)
        times: dict[int, list[float]] = {c: [] for c in counts}
        same = True
        pattern = [counts[0], counts[1], counts[1], counts[0]]
        for i in range(2 * args.repeats):
            c = pattern[i % 4]
            seconds, recs = run("ray", c)
            times[c].append(seconds)
            reference = recs if reference is None else reference
            same &= _comparable(recs) == _comparable(reference)
            print(f"  {c} worker(s): {seconds:.1f} s", flush=True)
    load1 = os.getloadavg()
    med = {c: statistics.median(v) for c, v in times.items()}
    ratio = med[counts[0]] / med[counts[1]]
    out.update(times=times, median=med, ratio=ratio, records_identical=same, load_after=load1)
    print(f"{counts[0]} worker(s): {med[counts[0]]:.1f} s, {counts[1]} workers: "
          f"{med[counts[1]]:.1f} s (medians of {len(times[counts[0]])} run(s) each); "
          f"ratio {ratio:.2f}x; records identical across runs (timings aside): {same}; "
          f"load average after {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()

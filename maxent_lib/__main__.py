"""Command line of the course library (lessons 05-06):

    python -m maxent_lib ablate --grid shortcut --profile quick --out results/x.jsonl
    python -m maxent_lib ablate --grid shortcut --out results/x.jsonl --executor ray --workers 2

Runs a predefined ablation grid (lessons 05-06) with a progress bar, appends every finished group
to the results file (a rerun skips finished configs), writes ``NAME_provenance.json`` beside
``NAME.jsonl`` (commit, hash of the training code, versions, device, this command, date) and
prints a summary table: mean and 95% t-interval over seeds of test accuracy, with the training
accuracy beside it, per arm.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from . import ablation, executors
from .runtime import PROFILES, get_device


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m maxent_lib",
                                description="Tools of the maximum-entropy course.")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("ablate", help="run a predefined ablation grid (lessons 05-06)")
    a.add_argument("--grid", required=True, help="one of: " + ", ".join(ablation.GRIDS))
    a.add_argument("--profile", default=None, help="quick or full (default: MAXENT_PROFILE, "
                   "else full with a GPU and quick without)")
    a.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    a.add_argument("--dataset", default="mnist1d", help="data set name (default mnist1d)")
    a.add_argument("--out", required=True, help="results file (JSON lines); reruns resume it")
    a.add_argument("--sequential", action="store_true",
                   help="train one model at a time (the slow reference path)")
    a.add_argument("--no-fast", action="store_true",
                   help="on a GPU, use plain eager fp32 instead of TF32 + CUDA graphs")
    a.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    a.add_argument("--limit", type=int, default=None,
                   help="run only the first N configs of the grid (a smoke test)")
    a.add_argument("--executor", default="local", choices=executors.EXECUTORS,
                   help="local: train the groups in this process (default); ray: as Ray tasks "
                   "(needs the extra: pip install -e \".[ray]\")")
    a.add_argument("--ray-address", default=None,
                   help="an existing Ray cluster (e.g. ray://head:10001, or auto); default: "
                   "start a local Ray instance for the run")
    a.add_argument("--workers", type=int, default=None,
                   help="Ray tasks at once (default: every CPU core, or one per GPU)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point. Argument errors exit with status 2 and a plain message; a results file that
    cannot be written (full disk, permissions, its lock held too long: any ``OSError``) exits
    with status 1 and a plain message, never a traceback; Ctrl-C exits with status 130. In
    both cases the finished groups are in the results file and a rerun resumes."""
    parser = _parser()
    try:
        return _main(parser, argv)
    except OSError as exc:  # ResultsFileError and any other failure to read or write files
        parser.exit(1, f"{parser.prog}: error: {exc}\nEvery group finished before the error is "
                       "stored; fix the cause and rerun the same command to resume.\n")
    except KeyboardInterrupt:
        parser.exit(130, f"{parser.prog}: interrupted. Every finished group is stored; rerun "
                         "the same command to resume.\n")
    return 1  # not reached: parser.exit raises SystemExit


def _main(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    """The ``ablate`` command (see :func:`main`)."""
    args = parser.parse_args(argv)
    command = " ".join(["python -m maxent_lib", *(sys.argv[1:] if argv is None else argv)])
    if args.grid not in ablation.GRIDS:
        parser.error(f"unknown grid {args.grid!r}; choose one of {', '.join(ablation.GRIDS)}")
    if args.profile is not None and args.profile not in PROFILES:
        parser.error(f"unknown profile {args.profile!r}; choose quick or full")
    try:
        device = get_device(args.device)
        ablation.check_writable(args.out)
    except ValueError as exc:
        parser.error(str(exc))
    if args.limit is not None and args.limit < 1:
        parser.error(f"--limit must be a positive integer, got {args.limit}")
    if args.executor == "local" and (args.workers is not None or args.ray_address is not None):
        parser.error("--workers and --ray-address need --executor ray")
    try:
        executors.check_executor(args.executor, args.workers, args.ray_address)
    except (ValueError, ImportError) as exc:
        parser.error(str(exc).replace("workers must", "--workers must"))
    configs = ablation.GRIDS[args.grid](args.profile)[: args.limit]
    print(f"grid {args.grid!r}: {len(configs)} configs on {device}; results -> {args.out}",
          flush=True)
    start = time.perf_counter()
    try:
        records = ablation.run_grid(configs, args.dataset, device=device,
                                    sequential=args.sequential, results_path=args.out,
                                    progress=not args.no_progress, fast=not args.no_fast,
                                    command=command, executor=args.executor,
                                    workers=args.workers, ray_address=args.ray_address)
    except ValueError as exc:
        parser.error(str(exc))
    wall = time.perf_counter() - start
    by = ablation.GRID_SUMMARY[args.grid]
    rows = ablation.summarize(records, by, ("test_acc", "train_acc"))
    cols = [*by, "n", "test_acc_mean", "test_acc_lo", "test_acc_hi", "train_acc_mean"]
    if any(r["n_diverged"] for r in rows):  # models whose training blew up (no metrics)
        cols.append("n_diverged")
    print(ablation.format_table(rows, cols))
    print(f"done: {len(records)} configs in {wall:.1f} s wall (finished ones skipped); "
          f"provenance: {ablation.provenance_path(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

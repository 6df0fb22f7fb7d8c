"""Command line of the course library:

    python -m maxent_lib ablate --grid shortcut --profile quick --out results/x.jsonl
    python -m maxent_lib ablate --grid shortcut --out results/x.jsonl --executor ray --workers 2
    python -m maxent_lib stored                      # current or stale, for every stored result
    python -m maxent_lib coverage --samples 40 --out results/fc_gap_coverage.jsonl
    python -m maxent_lib budget --grid shortcut --profile quick   # the budget check
    python -m maxent_lib merge --out results/x.jsonl part1.jsonl part2.jsonl

``ablate`` runs a predefined ablation grid (lessons 05-06) with a progress bar, appends every
finished group to the results file (a rerun resumes), writes ``NAME_provenance.json`` beside
``NAME.jsonl`` and prints a summary table (mean and 95% t-interval over seeds of test accuracy,
with the training accuracy beside it, per arm). ``coverage`` runs lesson 03's coverage
simulation the same way. ``stored`` prints one line per results file under ``results/``: its
name and ``current`` or ``stale`` (and why). ``budget`` compares a stored grid with the same
grid trained with twice the epochs (``ablate ... --budget 2 --out NAME_budget.jsonl``), prints
the budget check (:mod:`maxent_lib.ablation.budget`) and stores it as ``NAME_budget_check.json``
beside the grid; ``budget --second`` checks the next doubling the same way (``NAME_budget.jsonl``
against ``ablate ... --budget 4 --out NAME_budget4.jsonl``) and stores ``NAME_budget4_check.json``;
``budget --best-epoch`` (regularisation grid) reads every net at its best validation epoch
(:func:`maxent_lib.regularization.read_at_best_epoch`) and stores ``NAME_budget_best_check.json``.
``merge`` joins results files made in parallel (e.g. ``ablate ... --where n_train=250`` and
``--where n_train=1000`` into two files, or on two machines) into one new file, with their
provenance (:func:`maxent_lib.store.provenance.merge_stored`).

Errors end in one line: bad arguments exit with status 2 (among them a results path that names a
folder, a device such as /dev/null, a named pipe or a socket, or whose folder does not exist); a
results file that cannot be written (full disk, a read-only folder or file system, permissions,
a lock held too long) or a failed training task (in this process or a Ray task that raised or
whose worker died) exits with status 1, naming the results file; Ctrl-C or SIGTERM (`kill`)
exits with status 130.
In every case the finished groups are in the results file, the provenance marks the run as
interrupted or failed, and a rerun of the same command resumes.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Sequence

from . import ablation
from .ablation import executors
from .runtime import PROFILES, get_device
from .store.files import ResultsFileError
from .validation import Items, Text, validate


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
    a.add_argument("--budget", type=float, default=1.0,
                   help="train with this multiple of the grid's epochs (the budget check "
                        "uses 2); default 1")
    a.add_argument("--seeds", type=int, default=None,
                   help="train only the first N seeds of every setting")
    a.add_argument("--where", action="append", default=[], metavar="FIELD=V1,V2",
                   help="train only the configs whose FIELD is one of the values (repeatable; "
                        "e.g. --where depth=2,32 for a sample of settings)")
    a.add_argument("--sequential", action="store_true",
                   help="train one model at a time (the slow reference path)")
    a.add_argument("--no-fast", action="store_true",
                   help="on a GPU, use plain eager fp32 instead of TF32 + CUDA graphs")
    a.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    a.add_argument("--save-nets", action="store_true",
                   help="also keep every net's final weights in OUT with the suffix .pt "
                        "(lesson 06 reads a few; stacked, local executor only)")
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
    s = sub.add_parser("stored", help="say whether each stored result is current or stale")
    s.add_argument("--dir", default="results", help="the folder of results (default results)")
    b = sub.add_parser("budget", help="the budget check of a stored grid (lessons 05-07)")
    b.add_argument("--grid", required=True, help="shortcut or regularization")
    b.add_argument("--profile", required=True, help="quick or full")
    b.add_argument("--dir", default="results", help="the folder of results (default results)")
    b.add_argument("--second", action="store_true",
                   help="check the second doubling instead: NAME_budget.jsonl against "
                        "NAME_budget4.jsonl (made with --budget 4)")
    b.add_argument("--best-epoch", action="store_true",
                   help="read every net at its best validation epoch (the regularisation grid: "
                        "its claims on test accuracy, C7 and C10); stores NAME_budget_best_"
                        "check.json (with --second, NAME_budget4_best_check.json)")
    m = sub.add_parser("merge", help="join results files made in parallel into a new file")
    m.add_argument("--out", required=True, help="the new results file")
    m.add_argument("inputs", nargs="+", help="current results files of the same code")
    c = sub.add_parser("coverage", help="coverage of the FC-gap intervals (lesson 03)")
    c.add_argument("--samples", type=int, default=40)
    c.add_argument("--points", type=int, default=2000)
    c.add_argument("--splits", type=int, default=10)
    c.add_argument("--cases", nargs="*", default=None)
    c.add_argument("--out", default="results/fc_gap_coverage.jsonl")
    c.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p


def _failed_run(exc: BaseException) -> bool:
    """True for an error that is not a bad argument: a results file that cannot be written, or
    a training task that failed."""
    return isinstance(exc, ResultsFileError) or executors.failed_in_a_task(exc)


@validate(argv=Items(Text(), optional=True))
def main(argv: Sequence[str] | None = None) -> int:
    """Entry point (see the module docstring for the exit statuses). Introduced in lesson 05."""
    parser = _parser()
    args = parser.parse_args(argv)
    command = " ".join(["python -m maxent_lib", *(sys.argv[1:] if argv is None else argv)])
    on_main_thread = threading.current_thread() is threading.main_thread()
    old_handler = signal.signal(signal.SIGTERM, _interrupt) if on_main_thread else None
    try:
        if args.command == "stored":
            return _stored(parser, args)
        if args.command == "coverage":
            return _coverage(parser, args, command)
        if args.command == "budget":
            return _budget(parser, args)
        if args.command == "merge":
            return _merge(parser, args, command)
        return _ablate(parser, args, command)
    except KeyboardInterrupt:
        parser.exit(130, f"{parser.prog}: interrupted. Every finished group is stored; rerun "
                         "the same command to resume.\n")
    except Exception as exc:  # a file that cannot be written, a failed task
        if not (isinstance(exc, (OSError, RuntimeError)) or _failed_run(exc)):
            raise
        where = f" [results file: {args.out}]" if getattr(args, "out", None) else ""
        parser.exit(1, f"{parser.prog}: error: {_one_line(exc)}{where}\nEvery group finished "
                       "before the error is stored; fix the cause and rerun the same command "
                       "to resume.\n")
    finally:
        if old_handler is not None:
            signal.signal(signal.SIGTERM, old_handler)
    return 1  # not reached: parser.exit raises SystemExit


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM (``kill``, a scheduler's stop, a closing session) stops a run as Ctrl-C does:
    the run is recorded as interrupted and its finished groups are kept."""
    raise KeyboardInterrupt(f"signal {signum}")


def _select(parser: argparse.ArgumentParser, configs: list[dict], where: list[str]
            ) -> list[dict]:
    """The configs whose fields match every ``FIELD=V1,V2`` filter (values compared as text)."""
    for spec in where:
        field, _, values = spec.partition("=")
        if not field or not values:
            parser.error(f"--where needs FIELD=V1,V2, got {spec!r}")
        wanted = set(values.split(","))
        configs = [c for c in configs if str(c.get(field)) in wanted]
        if not configs:
            parser.error(f"--where {spec}: no config of the grid matches")
    return configs


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 400 else text[:397] + "..."


def _stored(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .store.provenance import stored_report

    try:
        lines = stored_report(args.dir)
    except ValueError as exc:
        parser.error(str(exc))
    print("\n".join(lines) if lines else f"no results files (*.jsonl) in {args.dir}")
    return 0


def _budget(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from . import verdicts
    from .regularization import grid_state
    from .store.provenance import load_stored

    if args.grid not in ("shortcut", "regularization") or args.profile not in PROFILES:
        parser.error("--grid must be shortcut or regularization and --profile quick or full")
    grid = Path(args.dir) / f"{args.grid}_{args.profile}.jsonl"
    longer = grid.with_name(grid.stem + "_budget.jsonl")
    if args.second:
        grid, longer = longer, grid.with_name(grid.stem + "_budget4.jsonl")
    stored, twice = load_stored(grid), load_stored(longer)
    for s in (stored, twice):
        if not s.current:
            parser.error(f"{s.path} is {s.status} ({s.why}); make it with the current code")
    if args.best_epoch:
        if args.grid != "regularization":
            parser.error("--best-epoch is for the regularisation grid (the shortcut grid reads "
                         "every net at its best validation epoch already)")
        state = grid_state(stored, twice, reading="best validation epoch")
        if state.check is None:
            parser.error(f"no budget check read at the best validation epoch: {state.reason}")
        check = state.check
    else:
        key, shared = verdicts.GRID_ITEMS[args.grid]
        check = ablation.budget_check(stored.records, twice.records,
                                      verdicts=lambda r: verdicts.grid_verdicts(args.grid, r),
                                      item_key=key, shared=shared)
    print(ablation.format_budget_check(check))
    out = grid.with_name(grid.stem + ("4" if args.second else "_budget")
                         + ("_best" if args.best_epoch else "") + "_check.json")
    name = grid.name + (" read at the best validation epoch" if args.best_epoch else "")
    out.write_text(json.dumps({"grid": name, "longer": longer.name, "passed": check.passed,
                               "tolerance": check.tolerance, "max_move": check.max_move,
                               "summary": check.summary(), "rows": check.rows,
                               "verdicts": check.verdicts, "items": check.items,
                               "chance_of_failing_on_noise":
                                   ablation.chance_of_failing_on_noise(check),
                               "code_hash": stored.provenance["code_hash"]}, indent=1,
                              sort_keys=True) + "\n")
    print(f"stored: {out}")
    return 0


def _merge(parser: argparse.ArgumentParser, args: argparse.Namespace, command: str) -> int:
    from .store.provenance import merge_stored

    if len(args.inputs) < 2:
        parser.error("merge needs two or more input files")
    try:
        merged = merge_stored(args.inputs, args.out, command=command)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"{merged.path}: {len(merged.records)} records from {len(args.inputs)} files, "
          f"{merged.status}")
    return 0


def _coverage(parser: argparse.ArgumentParser, args: argparse.Namespace, command: str) -> int:
    from .conditions import coverage

    try:
        records = coverage.simulate_coverage(args.cases, args.samples, args.points, args.splits,
                                             out=args.out, progress=not args.no_progress,
                                             command=command)
    except ValueError as exc:
        if _failed_run(exc):
            raise
        parser.error(str(exc))
    for row in coverage.coverage_table(records):
        print(f"{row['case']:22s} {row['gap']:9s} {row['interval']:11s} "
              f"{row['covered']:3d}/{row['samples']} width {row['mean_width']:.4f} "
              f"bias {row['bias']:+.4f} sd {row['sd']:.4f}")
    return 0


def _ablate(parser: argparse.ArgumentParser, args: argparse.Namespace, command: str) -> int:
    if args.grid not in ablation.GRIDS:
        parser.error(f"unknown grid {args.grid!r}; choose one of {', '.join(ablation.GRIDS)}")
    if args.profile is not None and args.profile not in PROFILES:
        parser.error(f"unknown profile {args.profile!r}; choose quick or full")
    for flag, value in (("--limit", args.limit), ("--seeds", args.seeds)):
        if value is not None and value < 1:
            parser.error(f"{flag} must be a positive integer, got {value}")
    if not args.budget > 0:
        parser.error(f"--budget must be a positive number, got {args.budget}")
    if args.executor == "local" and (args.workers is not None or args.ray_address is not None):
        parser.error("--workers and --ray-address need --executor ray")
    try:
        device = get_device(args.device)
        ablation.check_writable(args.out)
        execution = executors.Execution(args.executor, args.workers, args.ray_address)
        options = ablation.RunOptions(device=device, sequential=args.sequential,
                                      fast=not args.no_fast, progress=not args.no_progress,
                                      save_nets=args.save_nets)
    except (ValueError, ImportError) as exc:
        if _failed_run(exc):  # a read-only folder: status 1, not a bad argument
            raise
        parser.error(str(exc).replace("workers must", "--workers must"))
    configs = _select(parser, ablation.GRIDS[args.grid](args.profile), args.where)
    configs = ablation.budget_configs(configs, args.budget, args.seeds)[: args.limit]
    print(f"grid {args.grid!r}: {len(configs)} configs on {device}; results -> {args.out}",
          flush=True)
    start = time.perf_counter()
    try:
        records = ablation.run_grid(configs, args.dataset, results_path=args.out,
                                    options=options, execution=execution, command=command,
                                    code=[ablation.GRID_CODE[args.grid]]
                                    if args.grid in ablation.GRID_CODE else [])
    except ValueError as exc:
        if _failed_run(exc):
            raise
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

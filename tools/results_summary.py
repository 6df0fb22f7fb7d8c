"""Summarise the stored results in results/README.md, from the files themselves.

    python tools/results_summary.py           # print the summary
    python tools/results_summary.py --write   # rewrite results/README.md between its markers
    python tools/results_summary.py --check   # exit 1 if results/README.md differs from it

For every stored results file (``results/*.jsonl``): whether it is current, its records, the
device and the CPU time its runs took (the sum of its groups' training seconds, and the wall
time of its runs from the provenance); for every grid, its budget (epochs per setting) and its
budget check (``NAME_budget_check.json``, written by ``python -m maxent_lib budget``; the next
doubling's in ``NAME_budget4_check.json``, by ``budget --second``), and the
MNIST-1D test accuracies of its baseline arms beside the published references (logistic 0.32,
MLP 0.68, CNN 0.94). Nothing here is typed by hand: the section is regenerated after each run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from maxent_lib.ablation import summarize  # noqa: E402
from maxent_lib.store.provenance import load_stored  # noqa: E402
from maxent_lib.tables import format_table  # noqa: E402

BEGIN, END = "<!-- summary:start -->", "<!-- summary:end -->"
REFERENCES = "published MNIST-1D test accuracies: logistic 0.32, MLP 0.68, CNN 0.94"


def _wall(prov: dict | None) -> float | None:
    """Seconds between each run's start and end, summed over the runs."""
    total = 0.0
    for run in (prov or {}).get("runs", []):
        end = run.get("finished") or run.get("ended")
        if run.get("started") and end:
            total += (dt.datetime.fromisoformat(end)
                      - dt.datetime.fromisoformat(run["started"])).total_seconds()
    return total or None


def _files(folder: Path) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("*.jsonl")):
        s = load_stored(path)
        groups = {(r.get("kind"), r.get("width"), r.get("depth"), r.get("n_train"),
                   r.get("epochs"), r.get("group_seconds")) for r in s.records}
        cpu = sum(g[-1] or 0.0 for g in groups)
        wall = _wall(s.provenance)
        rows.append({"file": path.name, "status": s.status, "records": len(s.records),
                     "device": (s.provenance or {}).get("device", "-"),
                     "training time": f"{cpu / 3600:.2f} h" if cpu else "-",
                     "wall time of its runs": f"{wall / 3600:.2f} h" if wall else "-"})
    return rows


def _chance(p: float | None) -> str:
    """How often a grid with no true move would fail its check, as a percentage."""
    return "-" if p is None or p != p else f"{100 * p:.0f}%"


def _budgets(folder: Path) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("*_budget*_check.json")):
        check = json.loads(path.read_text())
        rows.append({"grid": check["grid"], "against": check["longer"],
                     "check": "passed" if check["passed"] else "FAILED",
                     "settings": len(check["rows"]),
                     "seeds each": ", ".join(sorted({str(r["n"]) for r in check["rows"]})),
                     "largest absolute move": f"{check['max_move']:.3f}",
                     "verdicts changed": sum(a != b for a, b in check["verdicts"].values()),
                     "fails on noise alone": _chance(check.get("chance_of_failing_on_noise")),
                     "items passing on their own": ", ".join(
                         f"{item} {'yes' if ok else 'no'}"
                         for item, ok in check.get("items", {}).items()) or "-"})
    return rows


def _accuracies(folder: Path) -> list[dict]:
    rows = []
    for name, by in (("shortcut", ("kind", "depth", "arm")), ("regularization",
                                                              ("n_train", "arm"))):
        for profile in ("quick", "full"):
            s = load_stored(folder / f"{name}_{profile}.jsonl")
            if not s.records:
                continue
            for r in summarize(s.records, by, ("test_acc", "train_acc")):
                if name == "regularization" and r["arm"] != "baseline":
                    continue
                epochs = sorted({x["epochs"] for x in s.records
                                 if all(x[k] == r[k] for k in by)})
                rows.append({"grid": f"{name} {profile}",
                             "setting": ", ".join(f"{k} {r[k]}" for k in by),
                             "epochs": ", ".join(map(str, epochs)), "seeds": r["n"],
                             "test acc": f"{r['test_acc_mean']:.3f}",
                             "train acc": f"{r['train_acc_mean']:.3f}"})
    return rows


def summary(folder: Path) -> str:
    parts = ["### Every stored results file", "",
             format_table(_files(folder), ["file", "status", "records", "device",
                                           "training time", "wall time of its runs"],
                          markdown=True), "",
             "Training time: the sum of the file's groups' training seconds (one CPU core "
             "each); wall time: from each run's start to its end.", "",
             "### Budget checks", "",
             format_table(_budgets(folder), ["grid", "against", "check", "settings", "seeds each",
                                             "largest absolute move", "verdicts changed",
                                             "fails on noise alone",
                                             "items passing on their own"],
                          markdown=True), "",
             "Fails on noise alone: how often the check would fail if no setting truly moved, "
             "simulated from each setting's seed-to-seed spread "
             "(`ablation.chance_of_failing_on_noise`; a plug-in estimate).", "",
             "### Budgets and accuracies", "",
             f"Mean test and training accuracy of each setting's baseline arms ({REFERENCES}).",
             "", format_table(_accuracies(folder), ["grid", "setting", "epochs", "seeds",
                                                    "test acc", "train acc"], markdown=True)]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite results/README.md")
    parser.add_argument("--check", action="store_true", help="exit 1 if it is out of date")
    args = parser.parse_args(argv)
    text = summary(ROOT / "results")
    readme = ROOT / "results" / "README.md"
    old = readme.read_text()
    if BEGIN not in old:
        print(text)
        return 0 if not args.check else 1
    head, rest = old.split(BEGIN, 1)
    new = head + BEGIN + "\n" + text + END + rest.split(END, 1)[1]
    if args.check:
        return 0 if new == old else 1
    if args.write:
        readme.write_text(new)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

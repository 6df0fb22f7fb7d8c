"""Stacked vs one-by-one training of the same models: microseconds per model-step, the ratio and
effective TFLOP/s; optionally the stacked step under torch.compile, with its compile time.

    python benchmarks/bench_ensemble.py                 # CPU defaults, about 1-2 minutes
    python benchmarks/bench_ensemble.py --device cuda   # GPU sizes (M = 512 ... 4096)
    python benchmarks/bench_ensemble.py --modes eager,compile --epochs 5   # CPU: eager vs compile

Both paths train on MNIST-1D (4000 examples, batch 128) from the same initialisation and batches.
The one-by-one baseline is timed on the first ``--baseline-models`` models of the grid (reported
per model-step, so the ratio compares like with like); the same models are then compared with their
stacked twins (test accuracy and largest parameter difference).

Paths of the stacked run (``--modes``, comma-separated): ``eager``, ``graph`` (one CUDA graph per
training step, GPU only), ``compile`` (the stacked model under ``torch.compile``, default mode:
forward and backward fused by Inductor; optimizer eager) and ``compile-ro`` (``torch.compile``
with ``mode="reduce-overhead"``, i.e. Inductor plus CUDA graphs, GPU only); a ``+tf32`` suffix
allows TF32 on the GPU. For the compiled paths the compile time is measured apart: Dynamo's cache
is reset, one epoch is trained on a fresh stack (compile + 1 epoch), and ``compile_s`` is that
time minus one epoch of the timed run; ``breakeven_steps`` is how many optimizer steps of the
whole stack it takes for the faster steps to pay the compile time back (inf if they are not
faster than the eager row of the same case). A grid compiles once per shape group.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

# compile times are measured cold: no Inductor/Triton cache from an earlier run or case
os.environ.setdefault("TORCHINDUCTOR_FORCE_DISABLE_CACHES", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from maxent_lib import ablation  # noqa: E402
from maxent_lib.metrics import stacked_metrics  # noqa: E402
from maxent_lib.runtime import get_device  # noqa: E402


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


COMPILE_MODES = {"compile": "default", "compile-ro": "reduce-overhead"}


def _train(seeds: list[int], width: int, depth: int, kind: str, data, dev: torch.device,
           epochs: int, bs: int, mode: str, tf32: bool) -> tuple[ablation.StackedNet, float]:
    model = ablation.StackedNet(kind, data.X_train.shape[1], data.n_classes, width, depth,
                                seeds, device=dev)
    if mode in COMPILE_MODES:  # the stack's forward under torch.compile; the trainer runs eager
        # the training step calls the unchecked forward `_run` (see ablation.StackedTrainer)
        if hasattr(model, "_run"):
            model._run = torch.compile(model._run, mode=COMPILE_MODES[mode])
        else:
            model.compile(mode=COMPILE_MODES[mode])
        mode = "eager"
    X = torch.as_tensor(data.X_train, device=dev)
    y = torch.as_tensor(data.y_train, device=dev)
    _sync(dev)
    t = time.perf_counter()
    ablation.train(model, X, y, ablation.TrainSettings(epochs=epochs, batch_size=bs, mode=mode,
                                                       tf32=tf32))
    _sync(dev)
    return model, time.perf_counter() - t


def _acc(model: ablation.StackedNet, data, dev: torch.device) -> np.ndarray:
    X = torch.as_tensor(data.X_test, device=dev)
    y = torch.as_tensor(data.y_test, device=dev)
    return stacked_metrics(ablation.predict_log_proba(model, X), y)["acc"]


def run_case(data, dev, kind, width, depth, m, n_base, epochs, bs, modes) -> list[dict]:
    steps = epochs * (len(data.X_train) // bs)
    flops = ablation.flops_per_model_step(kind, data.X_train.shape[1], data.n_classes, width,
                                          depth, bs)
    _train([10**6], width, depth, kind, data, dev, 1, bs, "eager", False)  # warm-up, untimed
    base_models, base_t = [], 0.0
    for s in range(n_base):
        mdl, t = _train([s], width, depth, kind, data, dev, epochs, bs, "eager", False)
        base_models.append(mdl)
        base_t += t
    base_us = base_t / (n_base * steps) * 1e6
    base_acc = np.concatenate([_acc(b, data, dev) for b in base_models])
    rows = []
    for mode, tf32 in modes:
        compile_s = float("nan")
        if mode in COMPILE_MODES:
            torch._dynamo.reset()
            _, first = _train(list(range(m)), width, depth, kind, data, dev, 1, bs, mode, tf32)
            if not torch._dynamo.utils.counters["stats"]["unique_graphs"]:
                raise RuntimeError("torch.compile did not reach the training step")
        model, t = _train(list(range(m)), width, depth, kind, data, dev, epochs, bs, mode, tf32)
        if mode in COMPILE_MODES:
            compile_s = max(0.0, first - t / epochs)
        us = t / (m * steps) * 1e6
        acc = _acc(model, data, dev)
        diff = max(float((p[:n_base].detach() - torch.cat([b.params[i].detach()
                                                           for b in base_models])).abs().max())
                   for i, p in enumerate(model.params))
        rows.append({"kind": kind, "width": width, "depth": depth, "models": m,
                     "baseline_models": n_base, "epochs": epochs, "steps": steps,
                     "mode": mode + ("+tf32" if tf32 else ""), "stacked_us": us,
                     "loop_us": base_us, "ratio": base_us / us,
                     "tflops": flops * m * steps / t / 1e12, "seconds": t,
                     "compile_s": compile_s,
                     "acc_stacked_subset": float(acc[:n_base].mean()),
                     "acc_loop": float(base_acc.mean()), "acc_stacked_all": float(acc.mean()),
                     "max_param_diff": diff})
    eager = {r["mode"].partition("+")[2]: r for r in rows if r["mode"].startswith("eager")}
    for r in rows:  # steps of the whole stack after which compiling has paid for itself
        ref = eager.get(r["mode"].partition("+")[2])
        r["breakeven_steps"] = float("nan")
        if ref is not None and math.isfinite(r["compile_s"]):
            gain_s = (ref["stacked_us"] - r["stacked_us"]) * m * 1e-6  # seconds saved per step
            r["breakeven_steps"] = r["compile_s"] / gain_s if gain_s > 0 else float("inf")
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--kind", default="mlp", choices=ablation.KINDS)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--cases", default=None,
                   help="width:M pairs, e.g. 64:16,256:16 (default depends on the device)")
    p.add_argument("--baseline-models", type=int, default=None)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1, as the ablation grids use on a CPU)")
    p.add_argument("--modes", default=None,
                   help="stacked paths, e.g. eager,compile (CPU default: eager; GPU default: "
                        "eager,eager+tf32,graph+tf32); see the module docstring")
    p.add_argument("--json", default=None, help="also write the rows as JSON here (rewritten "
                   "after every case, so a run stopped by a time limit keeps what it measured)")
    args = p.parse_args()
    dev = get_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    gpu = dev.type == "cuda"
    cases = args.cases or ("256:512,256:1024,64:1024,64:4096" if gpu else "64:16,256:16")
    n_base = args.baseline_models or (8 if gpu else 16)
    epochs = args.epochs or (5 if gpu else 1)
    names = args.modes or ("eager,eager+tf32,graph+tf32" if gpu else "eager")
    modes = []
    for name in names.split(","):
        mode, _, extra = name.partition("+")
        if mode not in ("eager", "graph", *COMPILE_MODES) or extra not in ("", "tf32"):
            p.error(f"unknown mode {name!r}; use eager, graph, compile or compile-ro, "
                    "each optionally with +tf32")
        if not gpu and (mode in ("graph", "compile-ro") or extra):
            p.error(f"mode {name!r} needs a CUDA device")
        modes.append((mode, extra == "tf32"))
    data = ablation.prepare_dataset("mnist1d")
    print(f"device {dev} ({torch.cuda.get_device_name(dev) if gpu else 'CPU'}), torch "
          f"{torch.__version__}, threads {torch.get_num_threads()}; {args.kind} depth "
          f"{args.depth}, batch {args.batch_size}, {epochs} epoch(s); one-by-one baseline: "
          f"eager fp32, timed on the first {n_base} models, reported per model-step", flush=True)
    rows = []
    for case in cases.split(","):
        width, m = (int(v) for v in case.split(":"))
        rows += run_case(data, dev, args.kind, width, args.depth, m, min(n_base, m), epochs,
                         args.batch_size, modes)
        r = rows[-1]
        print(f"  width {width} M {m}: done ({r['seconds']:.1f} s stacked)", flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"command": "python " + " ".join(sys.argv),
                           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                           "load_average": os.getloadavg(), "device": str(dev),
                           "torch": torch.__version__, "threads": torch.get_num_threads(),
                           "rows": rows}, f, indent=1)
    cols = ["width", "models", "mode", "loop_us", "stacked_us", "ratio", "tflops",
            "acc_loop", "acc_stacked_subset", "max_param_diff"]
    if any(mode in COMPILE_MODES for mode, _ in modes):
        cols += ["compile_s", "breakeven_steps"]
    print(ablation.format_table(rows, cols))
    print("us = microseconds per model-step; ratio = loop_us / stacked_us; tflops = effective "
          "TFLOP/s of the stacked run (6 x batch x multiply-adds per step)")
    if any(mode in COMPILE_MODES for mode, _ in modes):
        print("compile_s = first epoch of a fresh compiled stack minus one timed epoch; "
              "breakeven_steps = stack steps for the faster steps to repay it (vs eager)")


if __name__ == "__main__":
    main()

"""Stacked vs one-by-one training of the same models: microseconds per model-step, the ratio and
effective TFLOP/s.

    python benchmarks/bench_ensemble.py                 # CPU defaults, about 1-2 minutes
    python benchmarks/bench_ensemble.py --device cuda   # GPU sizes (M = 512 ... 4096)

Both paths train on MNIST-1D (4000 examples, batch 128) from the same initialisation and batches.
The one-by-one baseline is timed on the first ``--baseline-models`` models of the grid (reported
per model-step, so the ratio compares like with like); the same models are then compared with their
stacked twins (test accuracy and largest parameter difference).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from maxent_lib import ablation, ensemble
from maxent_lib.metrics import stacked_metrics
from maxent_lib.runtime import get_device


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _train(seeds: list[int], width: int, depth: int, kind: str, data, dev: torch.device,
           epochs: int, bs: int, mode: str, tf32: bool) -> tuple[ensemble.StackedNet, float]:
    model = ensemble.StackedNet(kind, data.X_train.shape[1], data.n_classes, width, depth,
                                seeds, device=dev)
    X = torch.as_tensor(data.X_train, device=dev)
    y = torch.as_tensor(data.y_train, device=dev)
    _sync(dev)
    t = time.perf_counter()
    ensemble.train(model, X, y, ensemble.TrainSettings(epochs=epochs, batch_size=bs, mode=mode,
                                                       tf32=tf32))
    _sync(dev)
    return model, time.perf_counter() - t


def _acc(model: ensemble.StackedNet, data, dev: torch.device) -> np.ndarray:
    X = torch.as_tensor(data.X_test, device=dev)
    y = torch.as_tensor(data.y_test, device=dev)
    return stacked_metrics(ensemble.predict_log_proba(model, X), y)["acc"]


def run_case(data, dev, kind, width, depth, m, n_base, epochs, bs, modes) -> list[dict]:
    steps = epochs * (len(data.X_train) // bs)
    flops = ensemble.flops_per_model_step(kind, data.X_train.shape[1], data.n_classes, width,
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
        model, t = _train(list(range(m)), width, depth, kind, data, dev, epochs, bs, mode, tf32)
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
                     "acc_stacked_subset": float(acc[:n_base].mean()),
                     "acc_loop": float(base_acc.mean()), "acc_stacked_all": float(acc.mean()),
                     "max_param_diff": diff})
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--kind", default="mlp", choices=ensemble.KINDS)
    p.add_argument("--depth", type=int, default=4)
    p.add_argument("--cases", default=None,
                   help="width:M pairs, e.g. 64:16,256:16 (default depends on the device)")
    p.add_argument("--baseline-models", type=int, default=None)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1, as the ablation grids use on a CPU)")
    p.add_argument("--json", default=None, help="also write the rows as JSON here")
    args = p.parse_args()
    dev = get_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    gpu = dev.type == "cuda"
    cases = args.cases or ("256:512,256:1024,64:1024,64:4096" if gpu else "64:16,256:16")
    n_base = args.baseline_models or (8 if gpu else 16)
    epochs = args.epochs or (5 if gpu else 1)
    modes = [("eager", False), ("eager", True), ("graph", True)] if gpu else [("eager", False)]
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
    cols = ["width", "models", "mode", "loop_us", "stacked_us", "ratio", "tflops",
            "acc_loop", "acc_stacked_subset", "max_param_diff"]
    print(ablation.format_table(rows, cols))
    print("us = microseconds per model-step; ratio = loop_us / stacked_us; tflops = effective "
          "TFLOP/s of the stacked run (6 x batch x multiply-adds per step)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": str(dev), "torch": torch.__version__, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()

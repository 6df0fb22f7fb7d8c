"""Parity of the training paths after 20 steps on MNIST-1D (fp32, TF32 off, cosine learning rate):
stacked vs one-by-one from the same seeds, with and without dropout (bitwise on the CPU), and on a
GPU also CUDA graph vs eager (no dropout: the graph path does not take dropout) and GPU vs CPU.
Prints the largest parameter difference relative to the parameters' scale.

    python benchmarks/parity.py --device cpu
    python benchmarks/parity.py --device cuda
"""

from __future__ import annotations

import argparse

import torch

from maxent_lib import ablation
from maxent_lib.runtime import get_device

SEEDS = [0, 1, 2, 3]
SHORTCUT = [0, 1, 0, 1]
WD = [0.0, 0.1, 0.0, 0.5]
LS = [0.0, 0.0, 0.1, 0.0]
CP = [0.0, 0.2, 0.0, 0.0]
DROPOUT = [0.0, 0.3, 0.0, 0.5]
TOL = 1e-4


def train_stack(kind: str, idx: list[int], data, dev: torch.device, mode: str,
                dropout: bool) -> list[torch.Tensor]:
    model = ablation.StackedNet(kind, 40, data.n_classes, 16, 3, [SEEDS[i] for i in idx],
                                shortcut=[SHORTCUT[i] for i in idx],
                                dropout=[DROPOUT[i] if dropout else 0.0 for i in idx], device=dev)
    X = torch.as_tensor(data.X_train[:640], device=dev)
    y = torch.as_tensor(data.y_train[:640], device=dev)
    settings = ablation.TrainSettings(epochs=1, batch_size=32, lr=1e-2, mode=mode,
                                      weight_decay=[WD[i] for i in idx],
                                      label_smoothing=[LS[i] for i in idx],
                                      confidence_penalty=[CP[i] for i in idx],
                                      lr_schedule="cosine")
    ablation.train(model, X, y, settings)
    return [p.detach().cpu() for p in model.params]


def rel_diff(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    return max(float((x - y).abs().max() / y.abs().max()) for x, y in zip(a, b, strict=True))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    dev = get_device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    data = ablation.prepare_dataset("mnist1d")
    ok = True
    with ablation.torch_threads(1):
        for kind in ablation.KINDS:
            for dropout in (False, True):
                stacked = train_stack(kind, list(range(4)), data, dev, "eager", dropout)
                alone = [train_stack(kind, [i], data, dev, "eager", dropout) for i in range(4)]
                worst = max(rel_diff([s[i:i + 1] for s in stacked], alone[i]) for i in range(4))
                ok &= worst < TOL
                print(f"{kind}: stacked vs one-by-one (20 steps, mixed shortcut/wd/ls/cp"
                      f"{'/dropout' if dropout else ''}) max rel diff {worst:.2e}"
                      f"{' (bitwise)' if worst == 0 else ''} {'PASS' if worst < TOL else 'FAIL'}",
                      flush=True)
            if dev.type == "cuda":
                eager = train_stack(kind, list(range(4)), data, dev, "eager", False)
                graph = train_stack(kind, list(range(4)), data, dev, "graph", False)
                d = rel_diff(graph, eager)
                ok &= d < TOL
                print(f"{kind}: CUDA graph vs eager max rel diff {d:.2e} "
                      f"{'PASS' if d < TOL else 'FAIL'}", flush=True)
                cpu = train_stack(kind, list(range(4)), data, torch.device("cpu"), "eager", False)
                print(f"{kind}: GPU vs CPU (eager fp32) max rel diff {rel_diff(eager, cpu):.2e} "
                      "(floating-point order only)", flush=True)
    print("parity:", "ALL PASS" if ok else "SOME FAIL")


if __name__ == "__main__":
    main()

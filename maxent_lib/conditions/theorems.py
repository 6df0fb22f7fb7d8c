"""Lesson 07's re-measurement of the theorems C1-C4 (true by construction: checks of the code
and of the sampling error, not evidence)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..claims import Check  # CROSS
from ..validation import Integer, Items, Real, Seed, validate


@validate(seeds=Items(Seed(), min_len=2), n_population=Integer(low=100, high=10**8),
          n_eval=Integer(low=100, high=10**8), alpha=Real(low=0.0, low_open=True))
def remeasure_theorems(seeds: Sequence[int] = range(5), n_population: int = 20_000,
                       n_eval: int = 10_000, alpha: float = 1e-2) -> list[Check]:
    """Numerical checks of the theorems C1-C4 (a few seconds on a CPU); they are true by
    construction, so these are checks of the code and of the sampling error, not evidence.

    C1: softmax regression with penalty ``alpha`` on the 8x8 digits and MNIST-1D; the number is
    max |R + alpha W| with R the moment residuals (zero in exact arithmetic; holds if < 1e-6).
    C2-C4: the exact FC gaps (:func:`maxent_lib.conditions.exact_condition_gaps`) on one random
    task per seed: shared-covariance Gaussians (C2: |gap| < 5e-3), class-specific covariances
    (C3: gap > 0) and 3-D shared-covariance Gaussians with the last coordinate dropped (C4: gap
    > 0); value is the mean over tasks, lo and hi the smallest and largest.
    Introduced in lesson 07.
    """
    from .. import data
    from ..softmax import SoftmaxRegression, moment_residuals
    from . import exact as conditions

    out = []
    for name in ("digits", "mnist1d"):
        split = data.load(name)
        model = SoftmaxRegression(alpha=alpha).fit(split.X_train, split.y_train)
        R = moment_residuals(split.X_train, split.y_train, model.predict_proba(split.X_train))
        v = float(np.max(np.abs(R + alpha * model.coef_)))
        out.append(Check("C1", f"{split.name}, alpha {alpha:g}", 1, v, v, v, v < 1e-6))
    gaps: dict[str, list[float]] = {"C2": [], "C3": [], "C4": []}
    for s in seeds:
        kw = {"n_population": n_population, "n_eval": n_eval, "seed": s}
        gaps["C2"].append(conditions.exact_condition_gaps(
            data.shared_covariance_gaussians(seed=s), **kw)["fc2_gap"])
        gaps["C3"].append(conditions.exact_condition_gaps(
            data.class_covariance_gaussians(seed=s), **kw)["fc2_gap"])
        gaps["C4"].append(conditions.exact_condition_gaps(
            data.shared_covariance_gaussians(dim=3, seed=s), keep=[0, 1], **kw)["fc1_gap"])
    names = {"C2": "shared-covariance Gaussians", "C3": "class-covariance Gaussians",
             "C4": "3-D Gaussians, x3 dropped"}
    for key, values in gaps.items():
        v = np.asarray(values)
        holds = bool(np.all(np.abs(v) < 5e-3)) if key == "C2" else bool(np.all(v > 0))
        out.append(Check(key, f"{names[key]}, {len(v)} random tasks", len(v), float(v.mean()),
                         float(v.min()), float(v.max()), holds))
    return out

"""The two feature conditions, measured (lessons 03-07).

- :mod:`~maxent_lib.conditions.measured`  FC gaps on one train/test split: CE_lin(T),
  CE_flex(T), CE_flex(X) and paired-bootstrap intervals over test points;
- :mod:`~maxent_lib.conditions.probes`    the flexible probe, and many probes trained as one;
- :mod:`~maxent_lib.conditions.refit`     repeated sample splitting with probe refits and the
  corrected t interval (what the lessons' intervals use);
- :mod:`~maxent_lib.conditions.exact`     the exact gaps of synthetic tasks, by quadrature; the
  log-odds residual and the feasible alternative of lesson 03's theorem;
- :mod:`~maxent_lib.conditions.coverage`  coverage of the intervals, checked by simulation;
- :mod:`~maxent_lib.conditions.theorems`  lesson 07's re-measurement of the theorems C1-C4.

The names lessons use are importable from here (``conditions.exact_condition_gaps``, ...).
"""

from __future__ import annotations

from ._common import DEFAULT_ALPHA, point_losses
from .exact import (
    exact_condition_gaps,
    feasible_alternative,
    log_odds_affine_residual,
    soft_label_softmax,
)
from .measured import (
    feature_condition_gaps,
    layerwise_condition_gaps,
    linear_probe,
)
from .probes import FlexibleProbe, StackedProbes
from .refit import layerwise_repeated_split_gaps, repeated_split_gaps

__all__ = ["DEFAULT_ALPHA", "FlexibleProbe", "StackedProbes", "exact_condition_gaps",
           "feasible_alternative", "feature_condition_gaps", "layerwise_condition_gaps",
           "layerwise_repeated_split_gaps", "linear_probe", "log_odds_affine_residual",
           "point_losses", "repeated_split_gaps", "soft_label_softmax"]

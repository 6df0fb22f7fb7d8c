"""FC gaps of trained networks, measured on data they never saw (lessons 05-07): the training-
pool rows a model did not train or validate on, plus the test set; and the same nets at
initialisation, the baseline of lesson 07's claim C0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .._checks import check_int
from ..conditions.refit import PENALTIES, PROBE_SETTINGS, layerwise_repeated_split_gaps
from ..validation import Dict, Flag, Instance, Integer, Items, Seed, validate
from .fit import GroupResult
from .stacked import StackedNet
from .training import features

#: A fitted group (from :func:`~maxent_lib.ablation.fit.fit_group`).
_RESULT = Instance((GroupResult,))
#: The settings of the flexible probes (:class:`maxent_lib.conditions.StackedProbes`).
_PROBE = Dict(fields=PROBE_SETTINGS, closed=True, optional=True)


@validate(result=_RESULT, i=Integer(low=0))
def unseen_rows(result: GroupResult, i: int) -> np.ndarray:
    """The rows of the training pool that model ``i`` of a fitted group never saw (neither its
    training set nor its validation split). With the test set they are the points the feature
    probes of lessons 05-07 are fitted and scored on (:func:`heldout_gaps`).
    Introduced in lesson 05."""
    i = _check_model_index(result, i)
    tr, va = result.splits[i]
    return np.setdiff1d(np.arange(len(result.data.X_train)), np.concatenate([tr, va]))


#: Candidate L2 penalties of the linear read-out (on standardised features) in
#: :func:`heldout_gaps`: on every refit split and for every feature set the one with the lowest
#: cross-entropy on the split's validation part is used (the test part selects nothing). Lesson
#: 03's default (``DEFAULT_ALPHA`` = 1e-4) suits its low-dimensional tasks; read from
#: about 2000 points, 128 hidden units over-fit at 1e-4, and one fixed penalty for every layer
#: would compare penalties rather than features.
HELDOUT_ALPHAS: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1)


#: Refit splits of :func:`heldout_gaps` (lesson 03's coverage simulation used 10).
HELDOUT_SPLITS = 10


#: A hidden unit whose standard deviation over the probe points is below this fraction of the
#: median (over units that vary) is left out of the probes' features (:func:`_live_units`).
DEAD_UNIT_SD = 1e-2


def _live_units(T: np.ndarray) -> np.ndarray:
    """The columns of ``T`` whose standard deviation is at least :data:`DEAD_UNIT_SD` times the
    median of the columns that vary (all of ``T`` if none varies). ReLU units that fire on a
    handful of points (sd 1e-3-1e-4 of a typical unit's, in deep plain nets) carry almost no
    information, and standardising them turns their rare non-zero values into inputs of
    hundreds of standard deviations, which wreck the linear read-out of whichever split gets
    them in its test part."""
    sd = T.std(axis=0)
    if not (sd > 0).any():
        return T
    return T[:, sd >= DEAD_UNIT_SD * np.median(sd[sd > 0])]


@validate(result=_RESULT, models=Items(Integer(low=0), min_len=1, unique=True),
          layers=Items(Integer(low=1), min_len=1), include_input=Flag(),
          n_splits=Integer(low=2, high=1000), alpha=PENALTIES, seed=Seed(), probe=_PROBE)
def heldout_gaps(result: GroupResult, models: Sequence[int], layers: Sequence[int],
                 include_input: bool = False, *, n_splits: int = HELDOUT_SPLITS,
                 alpha: float | Sequence[float] = HELDOUT_ALPHAS, seed: int = 0,
                 probe: dict[str, Any] | None = None) -> list[list[dict[str, Any]]]:
    """FC1, FC2 and total gaps of the hidden layers ``layers`` (1-based) of the models
    ``models`` of a fitted group, measured on points none of them saw, with intervals that
    include the probes' refits.

    The points: the training-pool rows the models never saw (:func:`unseen_rows`; the models
    must share them, i.e. have the same seed, ``n_train`` and ``n_val``) together with the test
    set, which selects nothing in training either. On them,
    :func:`maxent_lib.layerwise_repeated_split_gaps` draws ``n_splits`` random
    70/30 splits (seed ``[seed, j]``), refits softmax regression (penalty ``alpha``, or the
    best of the candidates :data:`HELDOUT_ALPHAS` on each split's validation part) and the
    flexible probe on every layer of every model and one
    flexible probe on the raw input X on each split's 70%, and scores them on its 30%:
    FC2 gap = CE_lin(T_l) - CE_flex(T_l), FC1 gap = CE_flex(T_l) - CE_flex(X), total gap =
    CE_lin(T_l) - CE_flex(X) (nats). All models share the splits and the probe on X, so their
    gaps are paired. Each gap is the mean over the splits with the corrected repeated-split t
    interval (Nadeau & Bengio 2003; :func:`maxent_lib.stats.t_interval`), whose
    coverage lesson 03 measures by simulation.

    What the interval covers: which points fit the probes and which score them, and the
    probes' refits, for these trained nets. What it does not: the nets' own training seed
    (initialisation, batch order, training subset); a claim about nets in general varies them
    across seeds (lesson 07's C0). What no interval removes: the probes' excess cross-entropy
    over the Bayes read-out, a bias. The probe on X is far from Bayes on MNIST-1D, so a
    negative FC1 gap means the features are easier for these probes than the raw input, not
    that a layer created information.

    Hidden units that are (almost) constant on the points are left out (:func:`_live_units`);
    ``units`` says how many each layer kept. ``include_input`` prepends the raw input as
    layer 0 (its FC1 gap is 0 by definition). ``probe`` passes settings of
    :class:`maxent_lib.StackedProbes`. Returns, per model, one dict per layer with the
    keys of ``layerwise_repeated_split_gaps`` (``fc1_gap``, ``fc2_gap``, ``total_gap``, each
    with ``*_ci``; ``ce_linear``, ``ce_flexible``, ``ce_flexible_input``, ``mlp_chosen``,
    ``splits``, ``n_splits``, ``n_train``, ``n_test``, ``interval``, ...) and ``layer``,
    ``units``, ``n_points`` (unseen rows + test points) and ``points``.
    Deterministic for a given ``seed``. Raises ``ValueError`` on bad layers or models, models
    with different unseen rows, too few points or a diverged model. Introduced in lesson 05."""
    models = [_check_model_index(result, i) for i in models]
    layers = [check_int(layer, "layers", low=1, high=result.model.depth) for layer in layers]
    rows = unseen_rows(result, models[0])
    for i in models[1:]:
        if not np.array_equal(unseen_rows(result, i), rows):
            raise ValueError(f"models {models[0]} and {i} did not leave the same training rows "
                             "unseen (different seed, n_train or n_val): measure them apart")
    d = result.data
    X = np.concatenate([d.X_train[rows], d.X_test])
    y = np.concatenate([d.y_train[rows], d.y_test])
    if len(rows) < 20:
        raise ValueError(f"model {models[0]} left only {len(rows)} unseen training rows; the "
                         "probes need more points the net never saw")
    f = features(result.model, torch.as_tensor(X, device=result.model.params[0].device))
    feats = []
    for i in models:
        own = [f[layer - 1][i].cpu().numpy() for layer in layers]
        if not all(np.isfinite(t).all() for t in own):
            raise ValueError(f"model {i} diverged in training (its features are NaN or inf): "
                             "its features have no condition gaps")
        feats += [_live_units(t) for t in own]
    # the input first when it is a layer: the function then uses that one probe on X as the
    # reference of every model and layer, and as every model's layer 0
    res = layerwise_repeated_split_gaps(
        [X, *feats] if include_input else feats, y, X, n_splits=n_splits, alpha=alpha,
        seed=seed, n_classes=d.n_classes, probe=probe)
    points = (f"{len(rows)} training rows the net never saw and the {len(d.y_test)} test "
              "points")
    L, out = len(layers), []
    for m in range(len(models)):
        per = res[1 + m * L:1 + (m + 1) * L] if include_input else res[m * L:(m + 1) * L]
        rows_m = [{**g, "layer": layer, "units": t.shape[1]}
                  for g, layer, t in zip(per, layers, feats[m * L:(m + 1) * L], strict=True)]
        if include_input:
            rows_m.insert(0, {**res[0], "layer": 0, "units": X.shape[1]})
        out.append([{**g, "n_points": len(y), "points": points} for g in rows_m])
    return out


@validate(result=_RESULT, i=Integer(low=0), layers=Items(Integer(low=1), min_len=1),
          include_input=Flag(), n_splits=Integer(low=2, high=1000), alpha=PENALTIES,
          seed=Seed(), probe=_PROBE)
def heldout_layer_gaps(result: GroupResult, i: int, layers: Sequence[int],
                       include_input: bool = False, *, n_splits: int = HELDOUT_SPLITS,
                       alpha: float | Sequence[float] = HELDOUT_ALPHAS, seed: int = 0,
                       probe: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """:func:`heldout_gaps` of one model ``i``: one dict per layer (layer 0, the raw input,
    first when ``include_input``), each gap the mean over ``n_splits`` refit splits of the
    points the model never saw, with the corrected repeated-split t interval.
    Introduced in lesson 07."""
    i = _check_model_index(result, i)
    return heldout_gaps(result, [i], layers, include_input, n_splits=n_splits, alpha=alpha,
                        seed=seed, probe=probe)[0]


@validate(result=_RESULT)
def at_initialisation(result: GroupResult) -> GroupResult:
    """The stack of ``result`` as it was before training: every model re-created from its own
    seed, initialisation, shortcut and dropout settings (the same random draws it started
    from), with ``result``'s records, data and splits. Its features are the untrained baseline
    of a layer-by-layer claim: a linear read-out of random ReLU features of x is already a
    richer model than one of x itself, so a drop of the read-out's excess from x to T_1 shows
    what training did only against the same drop at initialisation. Introduced in lesson 07."""
    m = result.model
    fresh = StackedNet(m.kind, m.in_dim, m.n_classes, m.width, m.depth, m.seeds,
                                shortcut=m.shortcut.view(-1).tolist(), dropout=m.rates,
                                init=m.inits, dtype=m.params[0].dtype,
                                device=m.params[0].device)
    return GroupResult(fresh, result.records, result.data, result.splits, result.model_of)


def _check_model_index(result: GroupResult, i: int) -> int:
    """``i`` as the index of one of ``result``'s models."""
    return check_int(i, "i", low=0, high=len(result.splits) - 1)

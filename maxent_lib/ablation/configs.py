"""What an ablation config is, and the predefined grids (lessons 05-06). No torch.

A *config* is a dict with the keys of :data:`DEFAULTS` (missing ones take the default):
``kind`` ("mlp" or "cnn"), ``width``, ``depth``, ``shortcut``, ``init`` ("he" or "uniform",
see :mod:`maxent_lib.ablation.stacked`), ``weight_decay`` (decoupled, AdamW), ``dropout``,
``label_smoothing``, ``confidence_penalty`` (beta of ``loss - beta H(p)``), ``early_stopping``
(report the model at the epoch of best validation accuracy instead of the last one), ``seed``,
``epochs``, ``batch_size``, ``lr``, ``lr_schedule``, ``n_train`` and ``n_val`` (see
:func:`maxent_lib.ablation.fit.data_split`), ``arm`` (a free label for summaries) and
``profile`` (the profile of the grid it belongs to). :func:`canonical_config` fills the
defaults and checks every value; :func:`config_key` is the resume key of a config on a data set.

The grids (:data:`GRIDS`) and their training budgets: the budget of each profile was chosen by
the budget-sensitivity check of :mod:`maxent_lib.ablation.budget` (``results/README.md`` has
the comparison).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._checks import InputTypeError, check_int
from ..profiles import PROFILES, by_profile
from ..validation import Choice, Constraint, Dict, Flag, Integer, Real, Seed, Text, validate

KINDS: tuple[str, ...] = ("mlp", "cnn")
INITS: tuple[str, ...] = ("he", "uniform")
SCHEDULES: tuple[str, ...] = ("constant", "cosine")
#: Upper bounds of a stack's shape: beyond them one model alone would not fit in memory.
MAX_WIDTH, MAX_DEPTH, MAX_IN_DIM = 65_536, 1_024, 10**6

#: The functions that compute an ablation record: its code hash
#: (:func:`maxent_lib.store.codehash.code_hash`) covers everything they reach. A grid made by
#: the command line adds its grid's function (:data:`GRID_CODE`): a change to one grid's
#: configs or budgets makes that grid's stored files stale, not the others'.
ABLATION_CODE: tuple[str, ...] = ("maxent_lib.ablation.fit:fit_group",
                                  "maxent_lib.ablation.fit:prepare_dataset",
                                  "maxent_lib.ablation.configs:canonical_config")
#: The entry point of each predefined grid's definition (its configs and budgets).
GRID_CODE: dict[str, str] = {"shortcut": "maxent_lib.ablation.configs:shortcut_grid",
                             "regularization": "maxent_lib.ablation.configs:regularization_grid",
                             "init_demo": "maxent_lib.ablation.configs:init_demo_grid"}
DEFAULTS: dict[str, Any] = {
    "kind": "mlp", "width": 64, "depth": 2, "shortcut": False, "init": "he",
    "weight_decay": 0.0, "dropout": 0.0, "label_smoothing": 0.0, "confidence_penalty": 0.0,
    "early_stopping": False, "seed": 0, "epochs": 20, "batch_size": 128, "lr": 1e-3,
    "lr_schedule": "cosine", "n_train": None, "n_val": 400, "arm": "", "profile": "custom",
}


#: Fields that must be equal for configs to share a stack.
SHAPE_KEYS: tuple[str, ...] = ("kind", "width", "depth", "epochs", "batch_size", "lr",
                               "lr_schedule", "n_train", "n_val")


#: Fields an arm of a grid may set (the treatment); all other config fields describe the setting.
TREATMENT_KEYS: tuple[str, ...] = ("shortcut", "weight_decay", "dropout", "label_smoothing",
                                   "confidence_penalty", "early_stopping")


#: Labels that do not change training.
LABEL_KEYS: tuple[str, ...] = ("arm", "profile")


METRICS: tuple[str, ...] = ("train_acc", "val_acc", "test_acc", "train_loss", "val_loss",
                            "test_loss", "test_loss_calibrated", "test_entropy", "test_ece",
                            "gen_gap", "loss_gap")


Dataset = str | tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

#: What each key of a config must be (:func:`canonical_config` checks the relations between
#: them: ``lr * weight_decay < 1``, ``n_train + n_val`` within the pool).
CONFIG_FIELDS: dict[str, Constraint] = {
    "kind": Choice(KINDS), "width": Integer(low=1, high=MAX_WIDTH),
    "depth": Integer(low=1, high=MAX_DEPTH), "shortcut": Flag(), "init": Choice(INITS),
    "weight_decay": Real(low=0.0), "dropout": Real(low=0.0, high=1.0, high_open=True),
    "label_smoothing": Real(low=0.0, high=1.0, high_open=True),
    "confidence_penalty": Real(low=0.0), "early_stopping": Flag(), "seed": Seed(),
    "epochs": Integer(low=1, high=10**6), "batch_size": Integer(low=1, high=10**8),
    "lr": Real(low=0.0, low_open=True), "lr_schedule": Choice(SCHEDULES),
    "n_train": Integer(low=2, high=10**8, optional=True), "n_val": Integer(low=1, high=10**8),
    "arm": Text(), "profile": Text()}
#: A config: a dict of some of the keys of :data:`DEFAULTS`, each value as
#: :data:`CONFIG_FIELDS` says (the missing keys take their defaults).
CONFIG = Dict(fields=CONFIG_FIELDS, closed=True)


@validate(config=CONFIG, n_available=Integer(low=2, optional=True))
def canonical_config(config: dict[str, Any], n_available: int | None = None) -> dict[str, Any]:
    """``config`` with defaults filled in, types normalised and values checked; ``n_train=None``
    becomes ``n_available - n_val`` when ``n_available`` (the training pool's size) is given.
    Raises ``TypeError`` for a value of the wrong type (text where a number is meant, a float
    seed, ``"False"`` for a flag: nothing is converted) and ``ValueError`` on unknown keys or
    values out of range, including a decoupled weight decay with ``lr * weight_decay >= 1``
    (each step would flip or blow up the weights instead of shrinking them).
    Introduced in lesson 05."""
    c = {**DEFAULTS, **config}
    if c["lr"] * c["weight_decay"] >= 1:
        raise ValueError(f"lr * weight_decay = {c['lr']:g} * {c['weight_decay']:g} >= 1: the "
                         "decoupled decay multiplies the weights by 1 - lr * weight_decay each "
                         "step, which must lie in (0, 1]")
    if n_available is not None and c["n_val"] >= n_available:
        raise ValueError(f"n_val = {c['n_val']} leaves no training examples in a pool of "
                         f"{n_available}")
    if c["n_train"] is None and n_available is not None:
        c["n_train"] = int(n_available) - c["n_val"]
    if c["n_train"] is not None:
        v = c["n_train"] = check_int(c["n_train"], "n_train", low=2, high=10**8)
        if n_available is not None and v + c["n_val"] > n_available:
            raise ValueError(f"n_train + n_val = {v} + {c['n_val']} but the training pool has "
                             f"only {n_available} examples")
    return c


@validate(config=Dict(), dataset_id=Text())
def config_key(config: dict[str, Any], dataset_id: str) -> str:
    """A 16-hex-digit hash of the canonical config and the data set: the resume key.
    Introduced in lesson 05."""
    try:
        payload = json.dumps({"config": config, "dataset": dataset_id}, sort_keys=True,
                             allow_nan=False)
    except TypeError as exc:
        raise InputTypeError(f"config must hold JSON values only (numbers, strings, "
                             f"booleans, None): {exc}") from exc
    except ValueError as exc:
        raise ValueError(f"config holds NaN or inf, which has no JSON form: {exc}") from exc
    return hashlib.sha1(payload.encode()).hexdigest()[:16]


#: Training budgets (epochs) of the shortcut grid, per profile, kind and depth, chosen by the
#: budget check (:mod:`maxent_lib.ablation.budget`): with twice these epochs no setting's mean
#: test accuracy moves by more than 0.01 (see results/README.md). Both arms of a setting (plain
#: and residual at one kind and depth) always get the same budget. Shallow CNNs fit slowest. The
#: plain MLP of depth 8 kept gaining past 240 epochs (+0.013 at 480, 8 seeds), and at 480 the
#: residual one still moved with twice the epochs (-0.012 [-0.024, +0.001] at 960, 8 seeds), so
#: MLPs of depth 8 and more get 960. Read at its last epoch, the residual one kept drifting down
#: after fitting its training set (-0.020 from 960 to 1920 epochs, 4 seeds): no budget settles a
#: net read at its end, so every net of the grid is read at its best validation epoch, and with
#: that reading the quick grid passes the check (largest move +0.008, 4 seeds per setting).
SHORTCUT_EPOCHS: dict[str, dict[tuple[str, int], int]] = {
    "quick": {("mlp", 2): 240, ("mlp", 4): 240, ("mlp", 8): 960,
              ("cnn", 2): 480, ("cnn", 4): 240, ("cnn", 8): 240},
    "full": {("mlp", 2): 240, ("mlp", 4): 240, ("mlp", 8): 960, ("mlp", 16): 960,
             ("mlp", 32): 960, ("cnn", 2): 480, ("cnn", 4): 240, ("cnn", 8): 240,
             ("cnn", 16): 240, ("cnn", 32): 240},
}


@validate(profile=Choice(PROFILES, optional=True))
def shortcut_grid(profile: str | None = None) -> list[dict[str, Any]]:
    """Lesson 05's grid: plain vs residual, MLP and 1-D CNN, several depths, He initialisation,
    8 seeds, on MNIST-1D (each seed its own validation split of 400 and the other 3600 training
    examples), MLP width 128, CNN 16 channels. Quick: depths 2, 4, 8; full: depths 2-32.
    Epochs per setting from :data:`SHORTCUT_EPOCHS`; cosine learning rate from 3e-3, batch
    128. Every net is trained for its whole schedule and read at its best validation epoch
    (``early_stopping``: the snapshot with the highest validation accuracy of the 30 checked),
    so that a net that keeps fitting after its test accuracy peaked (the deep MLPs) is not
    judged on its late drift. (The full profile keeps the quick profile's widths so that its
    grid can be made without a GPU: its groups took 3.7 hours in all, each on one core of a
    2-core CPU that other jobs shared.)
    Introduced in lesson 05."""
    name = by_profile("quick", "full", profile)
    depths = by_profile((2, 4, 8), (2, 4, 8, 16, 32), profile)
    widths = {"mlp": 128, "cnn": 16}
    epochs = SHORTCUT_EPOCHS[name]
    return [{"kind": kind, "width": widths[kind], "depth": d, "shortcut": s, "seed": seed,
             "epochs": epochs[(kind, d)], "batch_size": 128, "lr": 3e-3,
             "lr_schedule": "cosine", "init": "he", "arm": ("residual" if s else "plain"),
             "early_stopping": True, "profile": name}
            for kind in ("mlp", "cnn") for d in depths for s in (False, True)
            for seed in range(8)]


@validate(profile=Choice(PROFILES, optional=True))
def init_demo_grid(profile: str | None = None) -> list[dict[str, Any]]:
    """Lesson 05's separate demonstration of initialisation: plain and residual MLPs of depth 32
    (width 64), initialised "uniform" (torch's default) or "he", 2 seeds (quick, 15 epochs) or
    4 (full, 30 epochs). Not part of any verdict. Introduced in lesson 05."""
    name = by_profile("quick", "full", profile)
    return [{"kind": "mlp", "width": 64, "depth": 32, "shortcut": s, "init": init,
             "seed": seed, "epochs": by_profile(15, 30, profile), "batch_size": 128,
             "lr": 3e-3, "lr_schedule": "cosine",
             "arm": f"{'residual' if s else 'plain'}, {init}", "profile": name}
            for init in ("uniform", "he") for s in (False, True)
            for seed in range(by_profile(2, 4, profile))]


REGULARIZATION_ARMS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "weight decay 0.5": {"weight_decay": 0.5},
    "dropout 0.3": {"dropout": 0.3},
    "label smoothing 0.1": {"label_smoothing": 0.1},
    "confidence penalty 0.3": {"confidence_penalty": 0.3},
    "early stopping": {"early_stopping": True},
}


@validate(profile=Choice(PROFILES, optional=True))
def regularization_grid(profile: str | None = None) -> list[dict[str, Any]]:
    """Lesson 06's grid: each regulariser of :data:`REGULARIZATION_ARMS` against the baseline, at
    several training-set sizes, 8 seeds (each seed its own random training subset and
    validation split of 400), MLP with 2 hidden layers, cosine learning rate from 3e-3, batch
    64, and the same number of optimizer steps at every size (:data:`REG_STEPS`: the epochs are
    chosen for it). Quick: width 128, sizes 250 and 1000; full: width 256, sizes 250, 1000 and
    3600, more arms. Introduced in lesson 06."""
    name = by_profile("quick", "full", profile)
    arms = dict(REGULARIZATION_ARMS)
    if by_profile(False, True, profile):
        arms.update({"weight decay 0.1": {"weight_decay": 0.1}, "dropout 0.1": {"dropout": 0.1},
                     "label smoothing 0.2": {"label_smoothing": 0.2},
                     "confidence penalty 1": {"confidence_penalty": 1.0}})
    sizes = by_profile((250, 1000), (250, 1000, 3600), profile)
    width = by_profile(128, 256, profile)
    steps = by_profile(*REG_STEPS, profile)
    bs = 64
    return [{"kind": "mlp", "width": width, "depth": 2, "seed": seed,
             "epochs": math.ceil(steps / (n // bs)), "batch_size": bs, "lr": 3e-3,
             "lr_schedule": "cosine", "n_train": n, "n_val": 400, "arm": arm, "profile": name,
             **extra}
            for n in sizes for arm, extra in arms.items() for seed in range(8)]


#: Optimizer steps of the regularisation grid at every training-set size (quick, full), chosen
#: by the budget check (:mod:`maxent_lib.ablation.budget`): the regularisers keep gaining long
#: after the training set is fitted. At 9600 steps the quick grid failed it (label smoothing at
#: n = 250 gained +0.016 [+0.004, +0.028] mean test accuracy from 9600 to 19200 steps, the
#: confidence penalty +0.014); at 19200 it failed again (label smoothing +0.019, the confidence
#: penalty +0.022 and +0.025, 8 seeds); at 38400 again (label smoothing +0.032 and the
#: confidence penalty +0.025 at n = 1000, 4 seeds), so the grid trains 76800. There it fails
#: once more, though the label-side gains shrank (label smoothing +0.013, the confidence penalty
#: +0.000 at n = 1000): the largest move is now the baseline's, -0.018 [-0.043, +0.008] at
#: n = 1000, a drift of a net that has fitted its training set, within the noise of 4 seeds. With
#: all 8 seeds it failed narrowly (label smoothing +0.011 [+0.000, +0.022] at n = 1000; every
#: other setting within 0.01), so the grid trains 153600. Its check at 307200 steps (2 seeds,
#: 4 at n = 1000) fails too: the baseline at n = 1000 +0.020 [+0.012, +0.028], dropout -0.018
#: [-0.029, -0.008]; with so few seeds noise alone would fail it 83% of the time. A further
#: doubling does not settle it either: the first two seeds trained with 614400 steps
#: (``regularization_quick_budget4.jsonl``) move by up to 0.030 from 307200; at n = 1000 four of
#: the six settings moved by at most 0.008, while at n = 250 label smoothing (0.316, 0.299, 0.270
#: at 153600, 307200, 614400) and the confidence penalty (0.309, 0.283, 0.264) kept falling on
#: both seeds. So this grid has no budget within CPU reach at which every setting settles.
REG_STEPS: tuple[int, int] = (153600, 153600)


GRIDS: dict[str, Callable[[str | None], list[dict[str, Any]]]] = {
    "shortcut": shortcut_grid, "regularization": regularization_grid,
    "init_demo": init_demo_grid}


GRID_SUMMARY: dict[str, tuple[str, ...]] = {
    "shortcut": ("kind", "depth", "arm"), "regularization": ("n_train", "arm"),
    "init_demo": ("arm",)}

"""Ablation grids (lessons 05-07): many configurations, trained stacked by shape, with resumable
results, provenance and the summaries the lessons draw their verdicts from.

The package's modules, in the order a grid flows through them:

- :mod:`~maxent_lib.ablation.configs`    what a config is, the canonical form, the predefined
  grids and their budgets (no torch);
- :mod:`~maxent_lib.ablation.stacked`    many same-shape networks as one stacked module;
- :mod:`~maxent_lib.ablation.training`   one Adam over the stack: the training loop;
- :mod:`~maxent_lib.ablation.fit`        the data, each model's split, training one group and
  its records;
- :mod:`~maxent_lib.ablation.heldout`    FC gaps of trained nets on data they never saw;
- :mod:`~maxent_lib.ablation.runner`     a whole grid, resumably, into a results file;
- :mod:`~maxent_lib.ablation.executors`  where the groups train: this process or Ray;
- :mod:`~maxent_lib.ablation.summaries`  per-arm summaries, paired effects, re-run checks (no
  torch);
- :mod:`~maxent_lib.ablation.budget`     the budget-sensitivity check (no torch);
- :mod:`~maxent_lib.ablation.livecheck`  stored nets trained again live: bit for bit on the
  machine that made them, within their seeds' range on another (no torch);
- :mod:`~maxent_lib.ablation.replay`     the first evaluations of stored runs trained again
  and compared with their stored curves;
- :mod:`~maxent_lib.ablation.nets`       the final weights of a few stored nets, kept beside
  their results file.

The names lessons use are importable from here (``ablation.run_grid``, ``ablation.GRIDS``, ...);
they are loaded on first use, so ``import maxent_lib.ablation.summaries`` does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> the module of this package (or of the store) that defines it
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(["ABLATION_CODE", "DEFAULTS", "GRIDS", "GRID_CODE", "GRID_SUMMARY", "INITS",
                     "KINDS",
                     "LABEL_KEYS", "METRICS", "REGULARIZATION_ARMS", "REG_STEPS",
                     "SCHEDULES", "SHAPE_KEYS", "TREATMENT_KEYS", "canonical_config",
                     "config_key", "init_demo_grid", "regularization_grid", "shortcut_grid"],
                    "configs"),
    **dict.fromkeys(["DivergenceWarning", "StackedNet", "flops_per_model_step", "stream_seed"],
                    "stacked"),
    **dict.fromkeys(["StackedTrainer", "TrainSettings", "batch_orders", "features", "lr_at",
                     "predict_log_proba", "stacked_loss", "tf32_enabled", "train"],
                    "training"),
    **dict.fromkeys(["EVAL_POINTS", "GroupResult", "PreparedData", "data_split",
                     "eval_epochs", "fit_group", "prepare_dataset", "torch_threads",
                     "train_group"], "fit"),
    **dict.fromkeys(["HELDOUT_ALPHAS", "HELDOUT_SPLITS", "at_initialisation", "heldout_gaps",
                     "heldout_layer_gaps", "unseen_rows"], "heldout"),
    **dict.fromkeys(["RunOptions", "group_by_shape", "is_trustworthy", "run_grid"], "runner"),
    **dict.fromkeys(["Execution"], "executors"),
    **dict.fromkeys(["TRAINED_AT", "compare_records", "did_not_train", "paired_effects",
                     "pairing_fields", "summarize"], "summaries"),
    **dict.fromkeys(["OTHER_MACHINE_TOLERANCE", "format_live_check", "live_check",
                     "within_seed_range"],
                    "livecheck"),
    **dict.fromkeys(["format_replay_check", "replay_check", "replay_start"], "replay"),
    **dict.fromkeys(["format_nets_check", "load_nets", "nets_check", "nets_path", "save_nets"],
                    "nets"),
    **dict.fromkeys(["format_table"], "..tables"),
    **dict.fromkeys(["at_best_validation", "budget_check", "budget_configs", "budget_path",
                     "budget_path_lines", "chance_of_failing_on_noise", "format_budget_check"],
                    "budget"),
    **dict.fromkeys(["StoredResults", "load_provenance", "load_stored", "provenance_path"],
                    "..store.provenance"),
    **dict.fromkeys(["check_writable", "read_records"], "..store.files"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    target = module[2:] if module.startswith("..") else f"ablation.{module}"
    value = getattr(importlib.import_module(f"maxent_lib.{target}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})

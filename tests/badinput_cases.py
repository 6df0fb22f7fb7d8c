"""The hand-written cases of the bad-input suite (``tests/test_badinput.py`` generates the rest
from the declarations):

- the check primitives of :mod:`maxent_lib._checks`, called directly with the bad values of the
  matching constraints;
- numerically hard but valid inputs: solved right, or refused with a message that says why;
- bad inputs that only a relation between arguments reveals (one row short, the wrong number
  of columns, labels beyond a fitted model's classes, a model not fitted yet...);
- the command line;
- the regression cases of earlier issues (:func:`issue_cases`).
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from badinput_harness import Case, poke

RNG = np.random.default_rng(0)
X2 = RNG.normal(size=(40, 3))
Y3 = np.r_[np.arange(3), RNG.integers(0, 3, 37)]
P3 = np.exp(X2) / np.exp(X2).sum(1, keepdims=True)
LP3 = np.log(P3)
LP = torch.log_softmax(torch.as_tensor(RNG.normal(size=(2, 40, 3))), -1)
YT = torch.as_tensor(Y3)
XF = torch.as_tensor(X2, dtype=torch.float32)
FACES = np.arange(1.0, 7.0)
SMALL = (X2[:30], Y3[:30], X2[30:], Y3[30:])


def _task() -> Any:
    from maxent_lib import data

    return data.shared_covariance_gaussians(n_classes=3, dim=2, seed=0)


def _circles() -> Any:
    from maxent_lib import data

    return data.CirclesTask()


def _net(m: int = 2) -> Any:
    from maxent_lib.ablation.stacked import StackedNet

    return StackedNet("mlp", 3, 3, 4, 1, list(range(m)), device="cpu")


def _settings(**kw: Any) -> Any:
    from maxent_lib.ablation.training import TrainSettings

    return TrainSettings(**{"epochs": 1, "batch_size": 8, **kw})


# ------------------------------------------------------------------------------ the primitives

def check_primitive_cases() -> list[Case]:
    """Each check primitive, called with the bad values of the constraint built on it."""
    from maxent_lib import _checks as K
    from maxent_lib import validation as V

    rows: list[tuple[str, Callable[[Any], Any], Any, V.Constraint, str]] = [
        ("as_finite_array", lambda v: K.as_finite_array(v, "X", ndim=2), X2, V.Array(ndim=2),
         "X"),
        ("check_probabilities", lambda v: K.check_probabilities(v, "probs"), P3,
         V.Probabilities(), "probs"),
        ("check_labels", lambda v: K.check_labels(v, None), Y3, V.Labels(), "y"),
        ("check_number", lambda v: K.check_number(v, "alpha", low=0.0, high=1.0), 0.5,
         V.Real(low=0.0, high=1.0), "alpha"),
        ("check_int", lambda v: K.check_int(v, "n", low=1, high=9), 3, V.Integer(low=1, high=9),
         "n"),
        ("check_seed", K.check_seed, 3, V.Seed(), "seed"),
        ("check_n_classes", K.check_n_classes, 3, V.Integer(low=2, high=K.MAX_CLASSES),
         "n_classes"),
        ("check_flag", lambda v: K.check_flag(v, "shortcut"), True, V.Flag(), "shortcut"),
        ("check_choice", lambda v: K.check_choice(v, "activation", ["relu", "tanh"]), "relu",
         V.Choice(("relu", "tanh")), "activation"),
        ("check_path", lambda v: K.check_path(v, "path"), "r.jsonl", V.PathArg(), "path"),
        ("check_tensor", lambda v: K.check_tensor(v, "log_probs", ndim=3), LP,
         V.Tensor(ndim=3), "log_probs"),
        ("check_log_probabilities", lambda v: K.check_log_probabilities(v, "log_probs", ndim=3),
         LP, V.LogProbabilities(ndim=3), "log_probs"),
        ("check_device", K.check_device, "cpu", V.Device(), "device"),
    ]
    out = []
    for name, fn, valid, constraint, arg in rows:
        out.append(Case(f"_checks.{name}", "valid_call", lambda fn=fn, v=valid: fn(v), "ok"))
        for label, bad, kind in constraint.bad_values(valid):
            if bad is None and name == "check_device":
                continue  # None is the automatic choice
            out.append(Case(f"_checks.{name}", f"{arg}={label}",
                            lambda fn=fn, b=bad: fn(b), kind, (arg,)))
    out.append(Case("_checks.check_same_length", "one_row_short",
                    lambda: K.check_same_length("X", X2, "y", Y3[:-1]), "value", ("X", "y")))
    return out


# ------------------------------------------------------------------------------ hard inputs

def hard_cases() -> list[Case]:
    """Numerically hard but valid inputs: solved right, or (where the answer is not
    representable) refused with a message that says why."""
    from maxent_lib import conditions, info, maxent, metrics, quadrature, softmax
    from maxent_lib.ablation import fit, stacked, training

    ref_die = maxent.solve_maxent(FACES, 4.5).p
    ref_fit = softmax.SoftmaxRegression().fit(X2, Y3).predict_proba(X2)
    out = []
    for s in (1e-300, 1e-12, 1e-6, 1e6, 1e15, 1e300):
        out.append(Case("maxent.solve_maxent", f"scale_{s:g}",
                        lambda s=s: maxent.solve_maxent(FACES * s, 4.5 * s).p, "ok",
                        check=lambda p: np.allclose(p, ref_die, atol=1e-9)))
    for off in (1e6, 1e12, 1e15):
        out.append(Case("maxent.solve_maxent", f"offset_{off:g}",
                        lambda off=off: maxent.solve_maxent(FACES + off, 4.5 + off).p, "ok",
                        check=lambda p: np.allclose(p, ref_die, atol=1e-9)))
    mixed = np.c_[FACES * 1e-9, (FACES % 2) * 1e9]  # columns at very different scales
    q = np.array([0.05, 0.1, 0.15, 0.2, 0.2, 0.3])
    out.append(Case("maxent.solve_maxent", "mixed_column_scales",
                    lambda: maxent.solve_maxent(mixed, mixed.T @ q), "ok",
                    check=lambda sol: np.allclose(sol.p @ mixed[:, 0] / 1e-9, q @ FACES,
                                                  atol=1e-9)
                    and np.allclose(sol.p @ mixed[:, 1] / 1e9, q @ (FACES % 2), atol=1e-9)))
    for lam in (50.0, 1e5, 1e300):
        out.append(Case("maxent.gibbs", f"large_lambda_{lam:g}",
                        lambda lam=lam: maxent.gibbs(FACES, [lam]), "ok",
                        check=lambda r, lam=lam: np.isclose(r[0].sum(), 1.0)
                        and r[0][-1] > 0.99 and np.isclose(r[1], 6 * lam, rtol=1e-12)))
        out.append(Case("maxent.dual", f"large_lambda_{lam:g}",
                        lambda lam=lam: maxent.dual(FACES, 4.5, [lam]), "ok",
                        check=lambda r, lam=lam: np.isclose(r[0], 1.5 * lam, rtol=1e-12)
                        and np.isclose(r[1][0], 1.5)))
    out.append(Case("maxent.gibbs", "scores_overflow", lambda: maxent.gibbs(FACES, [1e308]),
                    "value", ("lambda", "lambdas")))
    for s in (1e-150, 1e-12, 1e12, 1e150):
        out.append(Case("softmax.SoftmaxRegression.fit", f"feature_scale_{s:g}",
                        lambda s=s: softmax.SoftmaxRegression().fit(X2 * s, Y3)
                        .predict_proba(X2 * s), "ok",
                        check=lambda p: np.allclose(p, ref_fit, atol=1e-7)))
    for a in (1e12, 1e100):  # a huge penalty: the weights vanish, the biases still fit
        freq = np.bincount(Y3) / len(Y3)
        out.append(Case("softmax.SoftmaxRegression.fit", f"alpha_{a:g}",
                        lambda a=a: softmax.SoftmaxRegression(alpha=a).fit(X2, Y3)
                        .predict_proba(X2), "ok",
                        check=lambda p, f=freq: np.allclose(p, f, atol=1e-6)))
    out += [
        Case("softmax.softmax", "large_scores", lambda: softmax.softmax([[1e300, 0.0]]), "ok",
             check=lambda p: np.allclose(p, [[1.0, 0.0]])),
        Case("softmax.log_softmax", "scores_spread_beyond_float64",
             lambda: softmax.log_softmax([[1e308, -1e308]]), "value", ("z",)),
        Case("softmax.mean_cross_entropy", "zero_probability_of_true_label_is_inf",
             lambda: softmax.mean_cross_entropy([[1.0, 0.0]], [1]), "ok",
             check=lambda v: v == np.inf, allow_inf=True),
        Case("info.kl_divergence", "q_zero_where_p_positive_is_inf",
             lambda: info.kl_divergence([0.5, 0.5], [1.0, 0.0]), "ok",
             check=lambda v: v == np.inf, allow_inf=True),
        Case("info.entropy", "tiny_probabilities",
             lambda: info.entropy([1 - 2e-300, 1e-300, 1e-300]), "ok",
             check=lambda h: 0 <= h < 1e-290),
        Case("data.SyntheticTask.posterior", "far_points_1e3",
             lambda: _task().posterior(X2[:, :2] * 1e3), "ok",
             check=lambda p: np.allclose(p.sum(1), 1.0)),
        Case("data.SyntheticTask.posterior", "far_beyond_float64",
             lambda: _task().posterior(X2[:, :2] * 1e160), "value", ("X",)),
        Case("data.CirclesTask.log_joint", "far_points_are_finite",
             lambda: _circles().posterior(np.array([[100.0, 0.0]])), "ok",
             check=lambda p: p[0, 1] > 0.999),
        Case("data.quadratic_features", "products_overflow",
             lambda: __import__("maxent_lib.data").data.quadratic_features(X2 * 1e200),
             "value", ("X",)),
        Case("metrics.stacked_metrics", "float32_log_probs",
             lambda: metrics.stacked_metrics(LP.float(), YT), "ok",
             check=lambda r: 0 <= r["acc"].min() <= 1),
        Case("ablation.training.train", "one_model_diverges_the_other_is_unchanged",
             lambda: _one_model_diverges(training), "ok", check=lambda r: all(r)),
        Case("ablation.fit.fit_group", "lr_1e30_every_model_diverges_no_nan",
             lambda: _all_diverge(fit), "ok",
             check=lambda rs: all(r["diverged"] and r["test_acc"] is None
                                  and r["diverged_epoch"] == 1 for r in rs)),
        Case("ablation.fit.prepare_dataset", "X_scale_1e100_standardised",
             lambda: fit.prepare_dataset((X2[:30] * 1e100, Y3[:30], X2[30:] * 1e100,
                                          Y3[30:])).X_train, "ok",
             check=lambda x: np.allclose(x, fit.prepare_dataset(SMALL).X_train, atol=1e-5)),
        Case("ablation.stacked.StackedNet", "too_many_parameters",
             lambda: stacked.StackedNet("mlp", 3, 3, 65_536, 3, [0], device="cpu"), "value",
             ("parameters", "width")),
        Case("conditions.linear_probe", "feature_scale_1e-100_and_1e100",
             lambda: (conditions.linear_probe(X2 * 1e-100, Y3, 3)(X2 * 1e-100),
                      conditions.linear_probe(X2 * 1e100, Y3, 3)(X2 * 1e100),
                      conditions.linear_probe(X2, Y3, 3)(X2)), "ok",
             check=lambda r: np.allclose(r[0], r[2], atol=1e-6)
             and np.allclose(r[1], r[2], atol=1e-6)),
        Case("quadrature.expectation", "second_moment_of_the_radius",
             lambda: quadrature.expectation(_circles(), lambda Z: (Z**2).sum(1), 16), "ok",
             check=lambda r: abs(r[0] - (_circles().priors @ np.asarray(_circles().radii)**2
                                         + _circles().noise**2)) <= max(10 * r[1], 1e-9)),
        Case("quadrature.expectation", "too_few_nodes_for_an_error_estimate",
             lambda: quadrature.expectation(_circles(), lambda Z: Z[:, 0], 8), "value", ("n",)),
    ]
    ref = conditions.FlexibleProbe(max_epochs=3, patience=2).fit(X2, Y3).predict_proba(X2)
    out += [Case("conditions.FlexibleProbe.fit", f"feature_scale_{s:g}",
                 lambda s=s: conditions.FlexibleProbe(max_epochs=3, patience=2)
                 .fit(X2 * s, Y3).predict_proba(X2 * s), "ok",
                 check=lambda p: np.allclose(p, ref, atol=1e-5)) for s in (1e-100, 1e-6, 1e100)]
    out += _statistics_hard_cases()
    return out


def _statistics_hard_cases() -> list[Case]:
    from scipy import stats as scipy_stats

    from maxent_lib import stats

    q = scipy_stats.t.ppf(0.975, 1)
    return [
        Case("stats.t_interval", "values_1e300_and_-1e300",
             lambda: stats.t_interval([1e300, -1e300]), "ok",
             check=lambda r: r[0] == 0 and np.isclose(r[2], q * 1e300, rtol=1e-12)
             and np.isclose(r[1], -q * 1e300, rtol=1e-12)),
        Case("stats.t_interval", "values_1e308_twice", lambda: stats.t_interval([1e308, 1e308]),
             "ok", check=lambda r: tuple(r) == (1e308, 1e308, 1e308)),
        Case("stats.t_interval", "interval_beyond_float_range",
             lambda: stats.t_interval([1.7e308, -1.7e308]), "value", ("values",)),
        Case("stats.t_interval", "one_value_has_no_interval", lambda: stats.t_interval([0.5]),
             "ok", allow_inf=True,
             check=lambda r: r[0] == 0.5 and np.isnan(r[1]) and np.isnan(r[2])),
        Case("stats.one_sided_pvalues", "values_at_1e300_like_at_1",
             lambda: (stats.one_sided_pvalues([1e300, 2e300, 4e300], 5e299),
                      stats.one_sided_pvalues([1.0, 2.0, 4.0], 0.5)), "ok",
             check=lambda r: np.allclose(r[0], r[1], rtol=1e-9)),
        Case("stats.holm", "empty_family", lambda: stats.holm([]), "ok",
             check=lambda r: np.shape(r) == (0,)),
    ]


def _one_model_diverges(training: Any) -> tuple[bool, ...]:
    """Model 1 of a stack diverges: model 0 trains exactly as it does alone."""
    from maxent_lib.ablation import fit, stacked

    net, alone = _net(2), _net(1)
    with torch.no_grad():
        net.params[0][1] = float("nan")
    with warnings.catch_warnings(record=True) as caught, fit.torch_threads(1):
        warnings.simplefilter("always")
        training.train(net, XF, YT, _settings(epochs=2))
        training.train(alone, XF, YT, _settings(epochs=2))
    same = all(torch.equal(p[0], q[0]) for p, q in zip(net.params, alone.params, strict=True))
    return (same, not bool(torch.isfinite(net.params[0][1]).any()),
            any(issubclass(w.category, stacked.DivergenceWarning) for w in caught))


def _all_diverge(fit: Any) -> list[dict[str, Any]]:
    from maxent_lib.ablation.configs import canonical_config

    cfg = {"width": 4, "depth": 1, "epochs": 2, "batch_size": 8, "n_val": 5, "lr": 1e30}
    configs = [canonical_config({**cfg, "seed": s}, 30) for s in (0, 1)]
    return fit.fit_group(configs, fit.prepare_dataset(SMALL), "cpu").records


# ------------------------------------------------------------------------------ relations

def relation_cases() -> list[Case]:
    """Bad inputs that a single argument's constraint cannot see: the relations the bodies
    check (one row short, the wrong number of columns, labels beyond the classes...)."""
    from maxent_lib import conditions, data, info, maxent, metrics, models, softmax
    from maxent_lib.ablation import configs, fit, stacked, training

    fitted = softmax.SoftmaxRegression(alpha=1e-2).fit(X2, Y3)
    rows: list[tuple[str, str, Callable[[], Any], tuple[str, ...]]] = [
        ("softmax.moment_residuals", "T_one_row_short",
         lambda: softmax.moment_residuals(X2[:-1], Y3, P3), ("T", "y")),
        ("softmax.moment_residuals", "y_label_K", lambda: softmax.moment_residuals(
            X2, poke(Y3, 3).astype(int), P3), ("y",)),
        ("softmax.mean_cross_entropy", "y_one_short",
         lambda: softmax.mean_cross_entropy(P3, Y3[:-1]), ("probs", "y")),
        ("softmax.log_softmax", "axis_out_of_range", lambda: softmax.log_softmax(X2, 5),
         ("axis",)),
        ("softmax.SoftmaxRegression.fit", "n_classes_below_labels",
         lambda: softmax.SoftmaxRegression().fit(X2, Y3, n_classes=2), ("y", "n_classes")),
        ("softmax.SoftmaxRegression.fit", "init_of_another_shape",
         lambda: softmax.SoftmaxRegression().fit(X2, Y3, init=softmax.SoftmaxRegression()
                                                 .fit(X2[:, :2], Y3)), ("init",)),
        ("softmax.SoftmaxRegression.fit", "init_not_fitted",
         lambda: softmax.SoftmaxRegression().fit(X2, Y3, init=softmax.SoftmaxRegression()),
         ("init",)),
        ("softmax.SoftmaxRegression.predict_proba", "wrong_columns",
         lambda: fitted.predict_proba(X2[:, :2]), ("T",)),
        ("softmax.SoftmaxRegression.predict_proba", "not_fitted",
         lambda: softmax.SoftmaxRegression().predict_proba(X2), ("fit",)),
        ("softmax.SoftmaxRegression.log_loss", "y_beyond_the_classes",
         lambda: fitted.log_loss(X2, poke(Y3, 3).astype(int)), ("y",)),
        ("info.cross_entropy", "other_number_of_outcomes",
         lambda: info.cross_entropy(P3, P3[:, :2] / P3[:, :2].sum(1, keepdims=True)),
         ("p", "q")),
        ("info.kl_divergence", "rows_do_not_broadcast", lambda: info.kl_divergence(P3, P3[:7]),
         ("p", "q")),
        ("maxent.solve_maxent", "target_infeasible", lambda: maxent.solve_maxent(FACES, 7.0),
         ("target", "infeasible")),
        ("maxent.solve_maxent", "target_on_the_boundary",
         lambda: maxent.solve_maxent(FACES, 6.0), ("target", "boundary")),
        ("maxent.solve_maxent", "target_two_entries_one_feature",
         lambda: maxent.solve_maxent(FACES, [4.5, 1.0]), ("target", "F")),
        ("maxent.gibbs", "lambdas_two_entries_one_feature",
         lambda: maxent.gibbs(FACES, [0.3, 0.1]), ("lambdas",)),
        ("metrics.expected_calibration_error", "y_one_short",
         lambda: metrics.expected_calibration_error(P3, Y3[:-1]), ("probs", "y")),
        ("metrics.stacked_metrics", "y_label_K",
         lambda: metrics.stacked_metrics(LP, torch.as_tensor(poke(Y3, 3).astype(int))),
         ("y",)),
        ("metrics.apply_temperature", "one_temperature_for_two_models",
         lambda: metrics.apply_temperature(LP, [1.0]), ("temperature",)),
        ("metrics.fit_temperature", "high_below_low",
         lambda: metrics.fit_temperature(LP, YT, low=1.0, high=0.5), ("high",)),
        ("data.SyntheticTask.posterior", "wrong_columns",
         lambda: _task().posterior(X2), ("X",)),
        ("data.GaussianMixtureTask.marginal", "coordinate_beyond_the_task",
         lambda: _task().marginal([2]), ("keep",)),
        ("data.GaussianMixtureTask", "priors_of_three_classes_for_two",
         lambda: data.GaussianMixtureTask([[(1.0, [0.0], [[1.0]])], [(1.0, [1.0], [[1.0]])]],
                                          [0.2, 0.3, 0.5]), ("priors",)),
        ("data.mnist1d", "sizes_not_a_multiple_of_10",
         lambda: data.mnist1d(n_train=181, n_test=20, cache=False), ("n_train", "n_test")),
        ("ablation.configs.canonical_config", "lr_times_weight_decay_1",
         lambda: configs.canonical_config({"lr": 0.01, "weight_decay": 100.0}),
         ("lr", "weight_decay")),
        ("ablation.configs.canonical_config", "n_val_fills_the_pool",
         lambda: configs.canonical_config({"n_val": 500}, 500), ("n_val",)),
        ("ablation.configs.canonical_config", "n_train_beyond_the_pool",
         lambda: configs.canonical_config({"n_train": 200, "n_val": 50}, 100), ("n_train",)),
        ("ablation.fit.prepare_dataset", "X_test_other_columns",
         lambda: fit.prepare_dataset((X2[:30], Y3[:30], X2[30:, :2], Y3[30:])),
         ("X_train", "X_test")),
        ("ablation.fit.prepare_dataset", "y_train_one_short",
         lambda: fit.prepare_dataset((X2[:30], Y3[:29], X2[30:], Y3[30:])),
         ("X_train", "y_train")),
        ("ablation.fit.prepare_dataset", "one_class",
         lambda: fit.prepare_dataset((X2[:30], np.zeros(30, int), X2[30:], np.zeros(10, int))),
         ("class", "labels")),
        ("ablation.fit.data_split", "n_train_and_n_val_beyond_the_pool",
         lambda: fit.data_split(0, 100, 90, 20), ("n_train",)),
        ("ablation.fit.fit_group", "shapes_differ",
         lambda: fit.fit_group([{"width": 4}, {"width": 8}], fit.prepare_dataset(SMALL),
                               "cpu"), ("configs", "width")),
        ("ablation.stacked.StackedNet", "cnn_with_too_few_inputs",
         lambda: stacked.StackedNet("cnn", 4, 3, 4, 1, [0], device="cpu"), ("in_dim",)),
        ("ablation.stacked.StackedNet", "dropout_for_three_models_of_two",
         lambda: stacked.StackedNet("mlp", 3, 3, 4, 1, [0, 1], dropout=[0.1, 0.1, 0.1],
                                    device="cpu"), ("dropout",)),
        ("ablation.stacked.StackedNet.forward", "wrong_columns",
         lambda: _net()(XF[:, :2]), ("x",)),
        ("ablation.training.train", "55_rows_60_labels",
         lambda: training.train(_net(1), XF[:35].repeat(2, 1)[:55], YT.repeat(2)[:60],
                                _settings()), ("X_train", "y_train")),
        ("ablation.training.train", "labels_beyond_the_model",
         lambda: training.train(_net(), XF, torch.as_tensor(poke(Y3, 3).astype(int)),
                                _settings()), ("y_train",)),
        ("ablation.training.train", "subsets_for_three_models_of_two",
         lambda: training.train(_net(), XF, YT, _settings(), subsets=np.zeros((3, 5), int)),
         ("subsets",)),
        ("ablation.training.train", "subsets_beyond_the_rows",
         lambda: training.train(_net(), XF, YT, _settings(), subsets=np.full((2, 5), 40)),
         ("subsets",)),
        ("ablation.training.train", "X_of_another_dtype",
         lambda: training.train(_net(), XF.double(), YT, _settings()), ("X_train",)),
        ("ablation.training.StackedTrainer.step", "idx_beyond_the_rows",
         lambda: training.StackedTrainer(_net(), XF, YT, _settings())
         .step(torch.full((2, 4), 40)), ("idx",)),
        ("ablation.training.StackedTrainer.step", "idx_for_three_models",
         lambda: training.StackedTrainer(_net(), XF, YT, _settings())
         .step(torch.zeros((3, 4), dtype=torch.long)), ("idx",)),
        ("ablation.training.lr_at", "step_beyond_the_last",
         lambda: training.lr_at(_settings(), 11, 10), ("step",)),
        ("ablation.training.stacked_loss", "labels_beyond_the_classes",
         lambda: training.stacked_loss(torch.zeros(1, 4, 3), torch.full((1, 4), 3),
                                       torch.zeros(1), torch.zeros(1)), ("y",)),
        ("conditions.linear_probe(T_new)", "wrong_columns",
         lambda: conditions.linear_probe(X2, Y3, 3)(X2[:, :2]), ("T", "columns")),
        ("conditions.feature_condition_gaps", "X_train_without_X_test",
         lambda: conditions.feature_condition_gaps(X2, Y3, X2, Y3, X2), ("X_train", "X_test")),
        ("conditions.feature_condition_gaps", "y_train_one_class",
         lambda: conditions.feature_condition_gaps(X2, np.zeros(40, int), X2, Y3),
         ("y_train",)),
        ("conditions.feature_condition_gaps", "priors_of_two_classes",
         lambda: conditions.feature_condition_gaps(X2, Y3, X2, Y3, priors=[0.5, 0.5]),
         ("priors",)),
        ("conditions.FlexibleProbe.predict_log_proba", "not_fitted",
         lambda: conditions.FlexibleProbe().predict_log_proba(X2), ("fit", "fitted")),
        ("conditions.exact_condition_gaps", "y_test_without_X_test",
         lambda: conditions.exact_condition_gaps(_task(), y_test=Y3), ("y_test", "X_test")),
        ("conditions.exact_condition_gaps", "transform_drops_rows",
         lambda: conditions.exact_condition_gaps(_task(), transform=lambda T: T[:-1],
                                                 n_nodes=16), ("transform",)),
        ("models.MLP", "too_many_parameters", lambda: models.MLP(3, 65_536, 2, 3),
         ("parameters", "width")),
        ("models.train_classifier", "X_wrong_columns",
         lambda: models.train_classifier(models.MLP(3, 4, 1, 3), X2[:, :2], Y3, epochs=1,
                                         progress=False), ("X",)),
        ("models.StackedMLP.unstack", "index_beyond_the_models",
         lambda: models.StackedMLP(3, 4, 1, 3, [0, 1]).unstack(2), ("index",)),
    ]
    return [Case(target, label, call, "error", names) for target, label, call, names in rows]


# ------------------------------------------------------------------------------ the CLI

def _cli(*argv: str) -> int:
    """The CLI's answer to ``argv``: its return value, or, where it exits with an error
    (status 1 or 2, a message and no traceback), ValueError(message)."""
    from maxent_lib.__main__ import main

    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            return main(list(argv))
    except SystemExit as exc:
        text = err.getvalue()
        if exc.code in (1, 2) and "Traceback" not in text and "error:" in text:
            raise ValueError(text.strip().splitlines()[-1]) from None
        raise AssertionError(f"exit status {exc.code}: {text}") from None


def _cli_tiny(*argv: str) -> int:
    from maxent_lib import ablation as A

    A.GRIDS["badinput_tiny"] = lambda profile=None: [
        {"width": 4, "depth": 1, "epochs": 1, "batch_size": 32, "seed": s, "arm": "a"}
        for s in (0, 1)]
    A.GRID_SUMMARY["badinput_tiny"] = ("arm",)
    try:
        return _cli(*argv)
    finally:
        del A.GRIDS["badinput_tiny"], A.GRID_SUMMARY["badinput_tiny"]


def cli_cases(tmp: Any) -> list[Case]:
    out_ok = str(tmp / "cli.jsonl")
    base = ["ablate", "--grid", "badinput_tiny", "--dataset", "gaussians", "--device", "cpu",
            "--no-progress"]
    rows = [
        ("valid_call", [*base, "--out", out_ok], "ok", ()),
        ("grid=unknown", ["ablate", "--grid", "nope", "--out", out_ok], "value", ("grid",)),
        ("profile=unknown", [*base, "--profile", "huge", "--out", out_ok], "value",
         ("profile",)),
        ("device=unknown", [*base[:-3], "--device", "tpu", "--out", out_ok], "value",
         ("device",)),
        ("limit=0", [*base, "--limit", "0", "--out", out_ok], "value", ("--limit",)),
        ("limit=text", [*base, "--limit", "ten", "--out", out_ok], "value", ("--limit",)),
        ("workers=local", [*base, "--workers", "2", "--out", out_ok], "value", ("--workers",)),
        ("executor=unknown", [*base, "--executor", "dask", "--out", out_ok], "value",
         ("--executor",)),
        ("out=folder", [*base, "--out", str(tmp)], "value", ("results path",)),
        ("out=device", [*base, "--out", os.devnull], "value", ("results path",)),
        ("out=missing_folder", [*base, "--out", str(tmp / "no" / "r.jsonl")], "value",
         ("results path", "folder")),
        ("out=empty", [*base, "--out", ""], "value", ("path",)),
        ("dataset=unknown", [*base[:4], "nope", *base[5:], "--out", out_ok], "value",
         ("dataset",)),
    ]
    return [Case("__main__.main", label, lambda a=argv: _cli_tiny(*a), expect, names,
                 check=(lambda r: r == 0) if expect == "ok" else None)
            for label, argv, expect, names in rows]


# ------------------------------------------------------------------------------ earlier issues

def issue_cases() -> list[tuple[Case, str]]:
    """The problems earlier issues found, as (case, what was wrong)."""
    from maxent_lib import ablation as A
    from maxent_lib import conditions, models, stats
    from maxent_lib.ablation import training

    X = X2.astype(np.float32)
    return [
        (Case("stats.t_interval", "values=[1e300,-1e300]",
              lambda: stats.t_interval([1e300, -1e300]), "ok",
              check=lambda r: all(np.isfinite(r))), "NaN/inf interval from finite values"),
        (Case("stats.t_interval", "values=bool", lambda: stats.t_interval([True, False]),
              "type", ("values",)), "booleans accepted as numbers"),
        (Case("ablation.run_grid", "shortcut='False'",
              lambda: A.run_grid([{"width": 4, "depth": 1, "epochs": 1, "shortcut": "False"}],
                                 (X, Y3, X, Y3), options=A.RunOptions(progress=False)),
              "type", ("shortcut",)), "a string flag builds a residual net"),
        (Case("ablation.canonical_config", "seed=1.5",
              lambda: A.canonical_config({"seed": 1.5}), "type", ("seed",)),
         "a float seed truncated"),
        (Case("conditions.linear_probe", "T_new=wrong_columns",
              lambda: conditions.linear_probe(X2, Y3, 3)(X2[:, :2]), "value",
              ("T", "columns")), "features with the wrong number of columns broadcast"),
        (Case("conditions.point_losses", "log_probs=probabilities",
              lambda: conditions.point_losses(P3, Y3), "value", ("log_probs",)),
         "probabilities accepted as log-probabilities (negative losses)"),
        (Case("conditions.FlexibleProbe", "lr=inf",
              lambda: conditions.FlexibleProbe(lr=float("inf")), "value", ("lr",)),
         "lr = inf accepted (NaN outputs)"),
        (Case("conditions.FlexibleProbe.fit", "y=label_1e6",
              lambda: conditions.FlexibleProbe(max_epochs=1).fit(X2, poke(Y3, 10**6)),
              "value", ("y",)), "a label of 10**6 builds 1,000,001 classes (hang)"),
        (Case("stats.paired_bootstrap_ci", "n_bootstrap=True",
              lambda: stats.paired_bootstrap_ci(np.ones(5), np.ones(5), n_bootstrap=True),
              "type", ("n_bootstrap",)), "True accepted as a count"),
        (Case("models.MLP", "shortcut='False'",
              lambda: models.MLP(3, 4, 2, 3, shortcut="False"), "type", ("shortcut",)),
         "a string flag builds a residual net"),
        (Case("models.MLP", "width=2.5", lambda: models.MLP(3, 2.5, 2, 3), "type", ("width",)),
         "a float width accepted or truncated"),
        (Case("models.train_classifier", "X=beyond_float32",
              lambda: models.train_classifier(models.MLP(3, 4, 1, 3), X2 * 1e39, Y3,
                                              epochs=1), "value", ("X",)),
         "float32 cast of |X| > 3.4e38 gives inf silently"),
        (Case("models.train_classifier", "batch_size=-1",
              lambda: models.train_classifier(models.MLP(3, 4, 1, 3), X2, Y3, epochs=1,
                                              batch_size=-1), "value", ("batch_size",)),
         "IndexError/raw error for a negative batch size"),
        (Case("models.train_classifier", "lr=1e300",
              lambda: models.train_classifier(models.MLP(3, 4, 1, 3), X2, Y3, epochs=1,
                                              lr=1e300, progress=False), "value", ("lr",)),
         "torch's RuntimeError for a learning rate beyond float32"),
        (Case("models.train_classifier", "lr=1e30",
              lambda: models.train_classifier(models.MLP(3, 4, 1, 3), X2, Y3, epochs=3,
                                              lr=1e30, progress=False), "value", ("lr",)),
         "a history of NaN losses for a learning rate that makes training diverge"),
        (Case("ablation.training.stacked_loss", "logits=nan",
              lambda: training.stacked_loss(torch.full((1, 4, 3), float("nan")),
                                            torch.zeros(1, 4, dtype=torch.long),
                                            torch.zeros(1), torch.zeros(1)),
              "value", ("logits",)), "NaN tensors pass through"),
        (Case("ablation.training.batch_orders", "n=-1",
              lambda: next(iter(training.batch_orders([0], -1, 1))), "value", ("n",)),
         "a negative size gives a raw numpy error"),
        (Case("stats.verdict", "lo=nan", lambda: stats.verdict(float("nan"), 1.0, 1), "value",
              ("lo",)), "NaN bounds give a verdict"),
        (Case("stats.holm", "pvalues=1.5", lambda: stats.holm([1.5, 0.2]), "value",
              ("pvalues",)), "p-values above 1 accepted"),
        (Case("conditions.feature_condition_gaps", "y_train=label_1e6",
              lambda: conditions.feature_condition_gaps(X2, poke(Y3, 10**6), X2, Y3),
              "value", ("y_train", "y")), "a label of 10**6 builds 1,000,001 classes (hang)"),
        (Case("ablation.predict_log_proba", "chunk=0",
              lambda: training.predict_log_proba(_net(1), torch.zeros(4, 3), chunk=0),
              "value", ("chunk",)), "range() arg 3 must not be zero"),
        (Case("ablation.canonical_config", "width='8'",
              lambda: A.canonical_config({"width": "8"}), "type", ("width",)),
         "numeric strings compared with numbers"),
        (Case("store.files.read_records", "path=named_pipe", lambda: _read_a_pipe(), "value",
              ("path", "results path")), "reading a named pipe as a results file hangs"),
    ]


def _read_a_pipe() -> Any:
    import tempfile
    from pathlib import Path

    from maxent_lib.store import files

    folder = Path(tempfile.mkdtemp(prefix="maxent_badinput_pipe_"))
    pipe = folder / "r.jsonl"
    os.mkfifo(pipe)
    try:
        return files.read_records(pipe)
    finally:
        pipe.unlink()
        folder.rmdir()


def cases(tmp: Any) -> list[Case]:
    """Every hand-written case, with its group for the figures."""
    out = []
    for group, made in (("check primitives", check_primitive_cases()),
                        ("hard inputs", hard_cases()),
                        ("relations between arguments", relation_cases()),
                        ("command line", cli_cases(tmp)),
                        ("earlier issues", [c for c, _ in issue_cases()])):
        for c in made:
            c.group = group
            out.append(c)
    return out

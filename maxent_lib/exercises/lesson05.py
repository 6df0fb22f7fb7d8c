"""Answer checks for lesson 05 (shortcuts, the full verdict rule, stacked training). Worked
answers: ``notebooks/solutions/05_solutions.ipynb``.

1. :func:`check_c5_prediction`: the sign predicted for claim C5 at the MLP's deepest depth;
2. :func:`check_t_interval`: a 95% interval over seeds;
3. :func:`check_tost`: TOST p-values of two settings (negligible or not);
4. :func:`check_residual_inverse`: inverting a residual layer with a contraction branch;
5. :func:`check_residual_fc1`: the FC1 gap of a plain and a residual net's last layer on XOR;
6. :func:`check_stacked_param_count`: the parameters of a stacked grid.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from ..stats import one_sided_pvalues, t_interval
from . import Feedback, Mistake, as_numbers, check, exercise, is_placeholder, scalar

__all__ = ["check_c5_prediction", "check_residual_fc1", "check_residual_inverse",
           "check_stacked_param_count", "check_t_interval", "check_tost", "residual_map"]

#: Exercise 5 accepts an answer within this many standard errors (of the mean pointwise
#: difference CE_flex - CE_Bayes) of the reference, and never closer than :data:`FC1_MIN_TOL`
#: nats: another split, probe or seed gives another sample estimate.
FC1_SE = 4.0
FC1_MIN_TOL = 0.03
#: The sign a setting's call gives (an "unclear" call gives none).
_CALL_SIGN = {"for": 1, "against": -1, "negligible": 0}


def check_t_interval(values: object, answer: object) -> Feedback:
    """Exercise 2: (mean, lo, hi), the mean of ``values`` and its two-sided 95% Student-t
    interval mean -+ t_{0.975, n-1} * sd / sqrt(n) (sd with ddof=1)."""
    v = np.asarray(values, dtype=float)
    expected = np.array(t_interval(v))
    n, m = len(v), float(v.mean())
    ex = exercise(
        "Lesson 05, exercise 2", "give (mean, lo, hi), an array of shape (3,).",
        hints=["the interval is the mean plus or minus a quantile times the standard error of "
               "the mean.",
               "with few seeds the quantile is Student-t's with n - 1 degrees of freedom, and "
               "the standard error is sd / sqrt(n) with the sample sd (ddof=1).",
               "half = stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n); answer "
               "(mean, mean - half, mean + half)."],
        success="this is the interval every table of lessons 05-07 reports over seeds.")

    def interval(half: float) -> list[float]:
        return [m, m - half, m + half]

    sd1, sd0 = v.std(ddof=1), v.std(ddof=0)
    t = stats.t.ppf(0.975, n - 1)
    mistakes = [
        Mistake(f"that is the normal (z = 1.96) interval; with only {n} seeds use the Student-t "
                "quantile stats.t.ppf(0.975, n - 1), which is wider.",
                value=interval(1.96 * sd1 / np.sqrt(n)), rtol=1e-4),
        Mistake("use the sample standard deviation with ddof=1 (np.std(values, ddof=1)); ddof=0 "
                "underestimates the spread.", value=interval(t * sd0 / np.sqrt(n)), rtol=1e-4),
        Mistake("the degrees of freedom are n - 1, not n.",
                value=interval(stats.t.ppf(0.975, n) * sd1 / np.sqrt(n)), rtol=1e-4),
        Mistake("that is a 90% interval (quantile 0.95); a two-sided 95% interval uses the "
                "0.975 quantile.", value=interval(stats.t.ppf(0.95, n - 1) * sd1 / np.sqrt(n)),
                rtol=1e-4),
        Mistake("that interval is for one seed's value; the mean's interval divides the sd by "
                "sqrt(n).", value=interval(t * sd1), rtol=1e-4),
        Mistake("the order is (mean, lo, hi).", value=[m - t * sd1 / np.sqrt(n),
                                                       m + t * sd1 / np.sqrt(n), m], rtol=1e-4),
    ]
    return check(ex, answer, expected, mistakes=mistakes, rtol=1e-6, atol=1e-9)


def residual_map(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The residual layer f(x) = x + 0.5 * tanh(W x) used in exercise 4."""
    return x + 0.5 * np.tanh(W @ x)


def check_residual_inverse(W: object, z: object, answer: object) -> Feedback:
    """Exercise 4: the x with f(x) = x + 0.5 tanh(W x) = z (unique when ||W||_2 <= 1, since the
    residual branch is then a contraction)."""
    W, z = np.asarray(W, dtype=float), np.asarray(z, dtype=float)
    ex = exercise(
        "Lesson 05, exercise 4", f"give x, an array of shape {z.shape}, with "
                                 "x + 0.5 tanh(W x) = z.",
        hints=["there is no closed form; but x = z - 0.5 tanh(W x) is a fixed-point equation.",
               "the branch 0.5 tanh(W x) has Lipschitz constant at most 0.5, so iterating "
               "x <- z - 0.5 tanh(W x) converges.",
               "start from x = z and iterate x = z - 0.5 * np.tanh(W @ x) about 50 times."])
    try:
        if is_placeholder(answer):
            return ex.not_answered()
        x = as_numbers(answer)
        if isinstance(x, str):
            return Feedback(ex.name, False, f"{x}. {ex.task}")
        if x.shape != z.shape:
            return Feedback(ex.name, False, f"expected an array of shape {z.shape}, got "
                                            f"{x.shape}.")
        if not np.all(np.isfinite(x)):
            return Feedback(ex.name, False, "x contains NaN or inf: part of it is still the "
                                            "placeholder, or the iteration diverged.")
        err = float(np.max(np.abs(residual_map(W, x) - z)))
        if err < 1e-6:
            return ex.right(f"f(x) = z to {err:.1e}: the residual layer lost no information, "
                            "since its input can be recovered from its output.")
        if np.allclose(x, z):
            return ex.wrong("that is z itself: it would be the answer if the branch were zero. "
                            f"f(z) misses z by {err:.2e}; iterate.", x)
        if np.max(np.abs(x - 0.5 * np.tanh(W @ x) - z)) < 1e-6:
            return ex.wrong("the sign of the branch is flipped: you solved x - 0.5 tanh(W x) = z; "
                            "the layer is f(x) = x + 0.5 tanh(W x).", x)
        if err < 1e-2:
            return ex.wrong(f"close: f(x) misses z by {err:.2e}. Run more iterations (the error "
                            "halves at least with each).", x)
        return ex.hint(x, f"f(x) misses z by {err:.2e}.")
    except Exception as exc:  # noqa: BLE001 - never crash the lesson
        return Feedback(ex.name, False, f"this answer could not be checked ({exc}). {ex.task}")


def check_stacked_param_count(in_dim: int, width: int, depth: int, n_classes: int, models: int,
                              answer: object) -> Feedback:
    """Exercise 6: the number of trainable numbers in a StackedNet("mlp", in_dim, n_classes,
    width, depth, seeds) with ``models`` seeds."""
    weights = in_dim * width + (depth - 1) * width * width + width * n_classes
    biases = width + (depth - 1) * width + n_classes
    per_model = weights + biases
    ex = exercise(
        "Lesson 05, exercise 6", "give the number of trainable numbers, one whole number.",
        hints=["count one model first, layer by layer, then the stack.",
               "one model: the input layer (in_dim -> width), depth - 1 hidden-to-hidden layers "
               "(width -> width) and the head (width -> n_classes), each with weights and "
               "biases.",
               "per model: in_dim*width + width + (depth-1)*(width*width + width) + "
               "width*n_classes + n_classes; then multiply by the number of models."],
        success="the whole grid is one set of tensors with a leading model dimension.")
    per_depth = in_dim * width + width + depth * (width * width + width) + width * n_classes \
        + n_classes
    mistakes = [
        Mistake("that is one model; the stack holds `models` of them.", value=per_model,
                atol=0.5),
        Mistake("the biases are missing (one per output unit of every layer).",
                value=models * weights, atol=0.5),
        Mistake("there are depth - 1 hidden-to-hidden layers, not depth: the first of the "
                "`depth` hidden layers takes the input.", value=models * per_depth, atol=0.5),
        Mistake("the head (width -> n_classes, with its biases) is missing.",
                value=models * (per_model - width * n_classes - n_classes), atol=0.5),
    ]
    value = scalar(answer)
    if value is not None and abs(value - round(value)) > 1e-9:
        return Feedback(ex.name, False, "a count of parameters is a whole number.")
    return check(ex, answer, float(models * per_model), mistakes=mistakes, rtol=0, atol=0.5)


def _c5_setting(grid: Any, kind: str) -> tuple[str, Any, str]:
    """(label, the setting's test or None, why it has none) of C5's deepest depth for ``kind``."""
    fam = next(f for f in grid.families if f.claim.key == "C5" and f.item == kind)
    depths = [int(label.split()[-1]) for label in [*fam.settings, *(e for e, _ in fam.excluded)]]
    label = f"depth {max(depths)}"
    res = fam.judge()
    for s in res.settings if res else ():
        if s.setting == label:
            return label, s, ""
    return label, None, dict(fam.excluded).get(label, "left out")


def check_c5_prediction(grid: Any, answer: object, kind: str = "mlp") -> Feedback:
    """Exercise 1 (predict first): the sign, -1, 0 or +1, predicted for claim C5's setting at the
    deepest depth of ``kind`` (residual minus plain test accuracy; 0: within the margin) before
    seeing the grid. ``grid``: the stored grid's :class:`maxent_lib.shortcuts.GridVerdicts`.
    The answer is compared with the setting's call (for: +1, against: -1, negligible: 0); an
    unclear call refutes no prediction; a grid without a verdict records the prediction only.
    Never raises."""
    ex = exercise(
        "Lesson 05, exercise 1", "give the sign you predict: -1, 0 or +1 (one number).",
        hints=["the max-ent argument of section 1 says what a residual layer keeps; what does "
               "it predict for a deep net's test accuracy?",
               "compare the two arms at the deepest depth in the figure of this section: the "
               "solid lines (test) and the dotted ones (training)."])
    try:
        if is_placeholder(answer):
            return ex.not_answered()
        got = scalar(answer)
        if got is None:
            return Feedback(ex.name, False, f"give one number. {ex.task}")
        if got not in (-1.0, 0.0, 1.0):
            return Feedback(ex.name, False, f"give the sign only, -1, 0 or +1 (got {got:g}).")
        if not getattr(grid, "judged", False):
            return Feedback(ex.name, True, f"prediction {got:+.0f} recorded. The stored grid "
                                           f"gives no verdict yet ({getattr(grid, 'why', '')}); "
                                           "compare with section 5 once it does.")
        label, s, why = _c5_setting(grid, kind)
        if s is None:
            return Feedback(ex.name, True, f"prediction {got:+.0f} recorded; C5 leaves the "
                                           f"{kind.upper()} at {label} out ({why}), so no "
                                           "measurement can refute it.")
        text = (f"residual minus plain test accuracy at {label}: {s.effect:+.3f} "
                f"[{s.lo:+.3f}, {s.hi:+.3f}] over {s.n} seeds, called '{s.call}'")
        truth = _CALL_SIGN.get(s.call)
        if truth is None:
            return Feedback(ex.name, True, f"the grid could not tell the sign ({text}): no "
                                           "prediction is refuted. More seeds would decide.")
        if got == truth:
            return ex.right(f"the grid agrees: {text}.")
        if got == 1:
            why = ("the shortcut's guarantee is about information (FC1); a deep plain MLP "
                   "that trains well loses little of it, so there is little to gain.")
        elif got == -1:
            why = ("a residual net contains the plain net's function class and trains at "
                   "least as easily here, so a loss was the least likely outcome.")
        else:
            why = "the effect clears the margin of 0.01 (10 test points) after Holm."
        return ex.wrong(f"the grid says otherwise: {text}. {why[0].upper() + why[1:]}",
                        np.array([got]))
    except Exception as exc:  # noqa: BLE001 - never crash the lesson
        return Feedback(ex.name, False, f"this answer could not be checked ({exc}). {ex.task}")


def check_tost(values: object, margin: float, answer: object) -> Feedback:
    """Exercise 3: for each setting of ``values`` (a list of arrays of per-seed differences),
    the TOST p-value of "the effect lies inside (-margin, +margin)": the larger of the
    one-sided t-test p-values of H0: mu <= -margin and H0: mu >= +margin, with n - 1 degrees of
    freedom (:func:`maxent_lib.stats.one_sided_pvalues`). Never raises."""
    try:
        sets = [np.asarray(v, dtype=float) for v in values]
        margin = float(margin)
    except Exception as exc:  # noqa: BLE001 - the exercise's data cannot be read
        return Feedback("Lesson 05, exercise 3", False, f"the exercise's data could not be "
                                                       f"read ({exc}).")
    k = len(sets)
    ex = exercise(
        "Lesson 05, exercise 3", f"give an array of shape ({k},): the TOST p-value of each "
                                 "setting.",
        hints=["TOST asks two one-sided questions: is the mean above -margin, and is it below "
               "+margin? Each is a t test with n - 1 degrees of freedom.",
               "t_low = (mean + margin) / se and t_high = (margin - mean) / se, se = sd / "
               "sqrt(n) with ddof=1; each p-value is stats.t.sf(t, n - 1).",
               "the TOST p-value is the larger of the two: both questions must be answered "
               "'yes'."],
        success="the tight setting is negligible (p < 0.05): its effect lies inside the margin. "
                "The wide one is not, yet its interval covers 0: that is no evidence of an "
                "effect either way, a different thing from 'negligible'.")

    def tost(fn: Any) -> np.ndarray:
        return np.array([fn(v) for v in sets])

    def one_sided(v: np.ndarray, ddof: int = 1, dist: Any = None) -> tuple[float, float]:
        n, m = len(v), v.mean()
        se = v.std(ddof=ddof) / np.sqrt(n)
        d = dist if dist is not None else stats.t(n - 1)
        return float(d.sf((m + margin) / se)), float(d.sf((margin - m) / se))

    expected = tost(lambda v: one_sided_pvalues(v, margin)[2])
    mistakes = [
        Mistake("that is the two-sided test of 'no effect' (mu = 0): it asks whether there is "
                "an effect, not whether the effect is small. TOST tests against -margin and "
                "+margin.", value=tost(lambda v: stats.ttest_1samp(v, 0.0).pvalue), rtol=1e-3),
        Mistake("that is the smaller of the two one-sided p-values; both hypotheses must be "
                "rejected, so TOST takes the larger.", value=tost(lambda v: min(one_sided(v))),
                rtol=1e-3),
        Mistake("the margin is missing: TOST asks whether the mean lies above -margin and "
                "below +margin, not whether it is 0.",
                value=tost(lambda v: max(stats.t(len(v) - 1).sf(v.mean() / (
                    v.std(ddof=1) / np.sqrt(len(v)))), stats.t(len(v) - 1).cdf(v.mean() / (
                        v.std(ddof=1) / np.sqrt(len(v)))))), rtol=1e-3),
        Mistake(f"that uses the normal distribution; with {len(sets[0])} seeds use Student-t "
                "with n - 1 degrees of freedom.",
                value=tost(lambda v: max(one_sided(v, dist=stats.norm))), rtol=1e-3),
        Mistake("use the sample standard deviation with ddof=1.",
                value=tost(lambda v: max(one_sided(v, ddof=0))), rtol=1e-3),
    ]
    return check(ex, answer, expected, mistakes=mistakes, rtol=1e-4, atol=1e-9)


#: Exercise 5's references, by a fingerprint of the features, points and labels (a checker
#: called again with the same nets does not refit its probes).
_FC1_CACHE: dict[str, tuple[float, float]] = {}


def _fc1_reference(task: Any, T: np.ndarray, X: np.ndarray, y: np.ndarray
                   ) -> tuple[float, float]:
    """(FC1 gap estimate, its standard error) of features ``T``: the flexible probe fitted on the
    first half of the points and scored on the second, minus the exact Bayes cross-entropy
    there (paired point by point)."""
    import hashlib

    from ..conditions import FlexibleProbe

    key = hashlib.sha1(b"".join(np.ascontiguousarray(a).tobytes() for a in (T, X, y))
                       + repr(task).encode()).hexdigest()
    if key in _FC1_CACHE:
        return _FC1_CACHE[key]

    half = len(y) // 2
    probe = FlexibleProbe(seed=0).fit(T[:half], y[:half], n_classes=2)
    idx = np.arange(len(y) - half)
    p_flex = np.clip(probe.predict_proba(T[half:])[idx, y[half:]], 1e-300, 1)
    p_bayes = np.clip(task.posterior(X[half:])[idx, y[half:]], 1e-300, 1)
    d = np.log(p_bayes) - np.log(p_flex)
    _FC1_CACHE[key] = (float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d))))
    return _FC1_CACHE[key]


def check_residual_fc1(task: Any, net_plain: Any, net_residual: Any, X: object, y: object,
                       answer: object) -> Feedback:
    """Exercise 5: the FC1 gap of the last layer of a plain and of a residual net on a task with
    known P(Y|X) (XOR), as (plain, residual), in nats: FC1 ~ CE_flex(T_L) - CE_Bayes, the
    flexible probe (:class:`maxent_lib.conditions.FlexibleProbe`) fitted on the first half of
    (``X``, ``y``) and scored on the second half, minus the exact Bayes cross-entropy
    -mean log P(y | x) of the scoring half. Any split or probe seed is accepted within
    :data:`FC1_SE` standard errors (at least :data:`FC1_MIN_TOL` nats). Never raises."""
    ex = exercise(
        "Lesson 05, exercise 5",
        "give an array of shape (2,): (FC1 gap of the plain net's last layer, FC1 gap of the "
        "residual net's last layer), in nats.",
        hints=["the FC1 gap is what the features have lost about Y: the best read-out of T_L "
               "against the best read-out of x, on points the nets never saw.",
               "T_L = models.layer_features(net, X)[-1]; fit conditions.FlexibleProbe() on the "
               "first half, take -mean log q(y | T_L) on the second half; the Bayes term uses "
               "task.posterior(X) on the same half.",
               "FC1 = CE_flex(T_L) - CE_Bayes for each net; put the plain net first."])
    try:
        from ..models import layer_features

        X_arr = np.asarray(X, dtype=float)
        y_arr = np.asarray(y).astype(int)
        feats = {k: layer_features(net, X_arr) for k, net in (("plain", net_plain),
                                                              ("residual", net_residual))}
    except Exception as exc:  # noqa: BLE001 - the exercise's nets or data cannot be read
        return Feedback(ex.name, False, f"the exercise's nets could not be read ({exc}).")
    if is_placeholder(answer):
        return ex.not_answered()
    try:
        ref = {k: _fc1_reference(task, t[-1], X_arr, y_arr) for k, t in feats.items()}
        first = {k: _fc1_reference(task, t[0], X_arr, y_arr)[0] for k, t in feats.items()}
    except Exception as exc:  # noqa: BLE001 - a reference that cannot be computed
        return Feedback(ex.name, False, f"the reference could not be computed ({exc}).")
    want = np.array([ref["plain"][0], ref["residual"][0]])
    tol = np.array([max(FC1_MIN_TOL, FC1_SE * ref[k][1]) for k in ("plain", "residual")])
    layer1 = np.array([first["plain"], first["residual"]])
    ex.success = (f"FC1 of the last layer: {want[0]:.3f} nats for the plain net, {want[1]:.3f} "
                  f"for the residual one (their first layers: {layer1[0]:.3f} and "
                  f"{layer1[1]:.3f}). A plain layer can throw information away for good; the "
                  "residual layers above layer 1 keep what layer 1 kept.")

    def near(target: np.ndarray) -> Any:
        return lambda g: bool(np.all(np.abs(g - target) <= tol))

    mistakes = [
        Mistake("the order is (plain, residual): swap the two numbers.",
                test=lambda g: near(want[::-1])(g) and not near(want)(g)),
        Mistake("the sign is flipped: FC1 = CE_flex(T_L) - CE_Bayes, and no read-out beats "
                "the Bayes posterior on average, so it is (about) positive.", test=near(-want)),
        Mistake("that is in bits; the course measures in nats (natural log).",
                test=lambda g: near(want)(g * np.log(2)) and not near(want)(g)),
        Mistake("those are the first layer's gaps: use the last layer, "
                "models.layer_features(net, X)[-1].",
                test=lambda g: near(layer1)(g) and not near(want)(g)),
    ]
    return check(ex, answer, want, mistakes=mistakes, accept=near(want))

"""Lesson 05's answer checks: the right answer passes, each common mistake gets its own
message, the placeholder says only what to give."""

import numpy as np
import pytest
from scipy import stats

from maxent_lib import ablation as ensemble
from maxent_lib import exercises
from maxent_lib.exercises import lesson05

ACCS = np.array([0.612, 0.598, 0.641, 0.623, 0.605])


@pytest.fixture(autouse=True)
def fresh_attempts():
    exercises.reset_attempts()


def test_t_interval():
    n, m, sd = len(ACCS), ACCS.mean(), ACCS.std(ddof=1)
    t = stats.t.ppf(0.975, n - 1)
    half = t * sd / np.sqrt(n)
    right = [m, m - half, m + half]
    assert lesson05.check_t_interval(ACCS, right).correct is True

    def iv(h):
        return [m, m - h, m + h]

    cases = [(iv(half / 2), "Hint 1"), (iv(1.96 * sd / np.sqrt(n)), "Student-t"),
             (iv(t * ACCS.std(ddof=0) / np.sqrt(n)), "ddof=1"),
             (iv(stats.t.ppf(0.975, n) * sd / np.sqrt(n)), "n - 1, not n"),
             (iv(stats.t.ppf(0.95, n - 1) * sd / np.sqrt(n)), "90%"),
             (iv(t * sd), "sqrt(n)"), ([m - half, m + half, m], "order"), ([m, half], "shape")]
    for answer, words in cases:
        fb = lesson05.check_t_interval(ACCS, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    blank = lesson05.check_t_interval(ACCS, exercises.placeholder((3,)))
    assert blank.correct is None and "ppf" not in blank.message and "ddof" not in blank.message


def test_residual_inverse():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(8, 8))
    W /= np.linalg.norm(W, 2)
    z = np.linspace(-1, 1, 8)
    x = z.copy()
    for _ in range(80):
        x = z - 0.5 * np.tanh(W @ x)
    assert lesson05.check_residual_inverse(W, z, x).correct is True
    few = z.copy()
    for _ in range(6):
        few = z - 0.5 * np.tanh(W @ few)
    flipped = z.copy()
    for _ in range(80):
        flipped = z + 0.5 * np.tanh(W @ flipped)
    cases = [(z + 5, "Hint 1"), (z, "z itself"), (few, "more iterations"),
             (flipped, "sign of the branch"), (z[:3], "shape"), ([np.nan] * 7 + [1.0], "NaN")]
    for answer, words in cases:
        fb = lesson05.check_residual_inverse(W, z, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    blank = lesson05.check_residual_inverse(W, z, exercises.placeholder((8,)))
    assert blank.correct is None and "iterat" not in blank.message


def test_param_count():
    net = ensemble.StackedNet("mlp", 40, 10, 128, 4, list(range(64)))
    count = sum(p.numel() for p in net.params)
    check = lesson05.check_stacked_param_count
    assert check(40, 128, 4, 10, 64, count).correct is True
    weights = 40 * 128 + 3 * 128 * 128 + 128 * 10
    cases = [(count + 1000, "Hint 1"), (count // 64, "one model"), (64 * weights, "biases"),
             (count + 64 * (128 * 128 + 128), "depth - 1"),
             (count - 64 * (128 * 10 + 10), "head"), (count + 0.5, "whole number")]
    for answer, words in cases:
        fb = check(40, 128, 4, 10, 64, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    assert check(40, 128, 4, 10, 64, exercises.placeholder()).correct is None


# ------------------------------------------------------------ exercise 1: predict first

def _grid_records(effect8: float, noise: float = 0.002, plain_train: float = 0.95,
                  epochs: int = 10) -> list[dict]:
    rng = np.random.default_rng(0)
    out = []
    for kind in ("mlp", "cnn"):
        for depth, eff in ((2, 0.0), (4, 0.03), (8, effect8)):
            for seed in range(6):
                base = 0.6 + 0.01 * seed
                for arm, acc, train in (("plain", base, plain_train),
                                        ("residual", base + eff + noise * rng.normal(), 0.96)):
                    out.append({"kind": kind, "depth": depth, "seed": seed, "arm": arm,
                                "shortcut": arm == "residual", "width": 8, "init": "he",
                                "epochs": epochs, "profile": "quick", "dataset": "mnist1d",
                                "n_classes": 10, "test_acc": acc, "train_acc": train,
                                "gen_gap": train - acc})
    return out


def _judged(effect8: float, **kw):
    from maxent_lib import shortcuts
    from maxent_lib.store.provenance import StoredResults

    recs = _grid_records(effect8, **kw)
    longer = _grid_records(effect8, epochs=20, **{k: v for k, v in kw.items() if k != "epochs"})
    return shortcuts.judge_grid(StoredResults(None, recs, {}, True, ""),
                                StoredResults(None, longer, {}, True, ""), "quick")


def test_c5_prediction():
    grid = _judged(0.05)
    check = lesson05.check_c5_prediction
    assert check(grid, 1).correct is True and "the grid agrees" in check(grid, 1).message
    assert "+0.05" in check(grid, 1).message and "depth 8" in check(grid, 1).message
    for answer, words in [(0, "clears the margin"), (-1, "contains the plain net")]:
        fb = check(grid, answer)
        assert fb.correct is False and words in fb.message, (answer, fb.message)
    for answer, words in [(2, "sign only"), ("up", "one number"), ([1, 1], "one number")]:
        fb = check(grid, answer)
        assert fb.correct is False and words in fb.message, (answer, fb.message)
    blank = check(grid, exercises.placeholder())
    assert blank.correct is None and "margin" not in blank.message
    assert check(_judged(0.0, noise=0.0004), 0).correct is True          # negligible
    assert "more than the margin" not in check(_judged(0.0, noise=0.0004), 1).message
    wrong = check(_judged(0.0, noise=0.0004), 1)
    assert wrong.correct is False and "little to gain" in wrong.message
    unclear = check(_judged(0.01, noise=0.05), 1)
    assert unclear.correct is True and "could not tell" in unclear.message
    left_out = check(_judged(0.05, plain_train=0.80), 1)
    assert left_out.correct is True and "leaves" in left_out.message
    from maxent_lib import shortcuts

    none = check(shortcuts.judge_grid(None, None, "quick"), -1)
    assert none.correct is True and "no verdict yet" in none.message


# ----------------------------------------------------------------------- exercise 3: TOST

TIGHT = np.array([0.002, -0.003, 0.001, 0.000, -0.002, 0.003, -0.001, 0.001])
WIDE = np.array([0.03, -0.02, 0.01, -0.03, 0.04, -0.01, 0.02, -0.025])


def test_tost():
    from maxent_lib.stats import one_sided_pvalues

    sets, margin = [TIGHT, WIDE], 0.01
    right = [one_sided_pvalues(v, margin)[2] for v in sets]
    assert right[0] < 0.05 < right[1]
    check = lesson05.check_tost
    assert check(sets, margin, right).correct is True

    def one_sided(v, ddof=1, dist=None):
        n, m = len(v), v.mean()
        se = v.std(ddof=ddof) / np.sqrt(n)
        d = dist if dist is not None else stats.t(n - 1)
        return d.sf((m + margin) / se), d.sf((margin - m) / se)

    def z0(v):
        t = v.mean() / (v.std(ddof=1) / np.sqrt(len(v)))
        return max(stats.t(len(v) - 1).sf(t), stats.t(len(v) - 1).cdf(t))

    cases = [([0.5, 0.9], "Hint 1"), ([stats.ttest_1samp(v, 0).pvalue for v in sets],
                                       "two-sided"),
             ([min(one_sided(v)) for v in sets], "larger"), ([z0(v) for v in sets], "margin"),
             ([max(one_sided(v, dist=stats.norm)) for v in sets], "normal"),
             ([max(one_sided(v, ddof=0)) for v in sets], "ddof=1"), ([0.1], "shape")]
    for answer, words in cases:
        fb = check(sets, margin, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    blank = check(sets, margin, exercises.placeholder((2,)))
    assert blank.correct is None and "sf" not in blank.message
    assert check(None, margin, right).correct is False      # never raises


# ------------------------------------------------------- exercise 5: FC1 of a residual layer

def test_residual_fc1():
    import torch

    from maxent_lib import data, models

    xor = data.xor_task()
    X, y = xor.sample(400, seed=1)
    torch.manual_seed(0)
    plain = models.MLP(2, 4, 3, 2)
    with torch.no_grad():            # the last plain layer switches every unit off: all lost
        plain.layers[2].weight.zero_()
        plain.layers[2].bias.fill_(-1.0)
    torch.manual_seed(0)
    residual = models.MLP(2, 4, 3, 2, shortcut=True)
    check = lesson05.check_residual_fc1
    blank = check(xor, plain, residual, X, y, exercises.placeholder((2,)))
    assert blank.correct is None and "FlexibleProbe" not in blank.message
    ref = {k: lesson05._fc1_reference(xor, models.layer_features(n, X)[-1], X, y)[0]
           for k, n in (("plain", plain), ("residual", residual))}
    first = lesson05._fc1_reference(xor, models.layer_features(plain, X)[0], X, y)[0]
    want = np.array([ref["plain"], ref["residual"]])
    assert want[0] > 0.5 and abs(want[1] - first) < 0.3
    fb = check(xor, plain, residual, X, y, want + 0.01)
    assert fb.correct is True and "plain net" in fb.message
    cases = [(want[::-1], "order"), (-want, "sign"), (want / np.log(2), "bits"),
             (np.array([first, lesson05._fc1_reference(
                 xor, models.layer_features(residual, X)[0], X, y)[0]]), "first layer"),
             (want + 0.5, "Hint"), (want[:1], "shape")]
    for answer, words in cases:
        got = check(xor, plain, residual, X, y, answer)
        assert got.correct is False and words in got.message, (words, got.message)
    assert check(xor, "not a net", residual, X, y, want).correct is False


def test_t_interval_names_each_mistake_and_only_it():
    v = np.array([0.61, 0.64, 0.58, 0.66, 0.60])
    n, m, sd1, sd0 = len(v), v.mean(), v.std(ddof=1), v.std(ddof=0)
    t = stats.t.ppf(0.975, n - 1)

    def ci(half):
        return [m, m - half, m + half]

    cases = [(ci(1.96 * sd1 / np.sqrt(n)), "normal (z = 1.96)"),
             (ci(t * sd0 / np.sqrt(n)), "ddof=1"),
             (ci(stats.t.ppf(0.975, n) * sd1 / np.sqrt(n)), "n - 1, not n"),
             (ci(stats.t.ppf(0.95, n - 1) * sd1 / np.sqrt(n)), "90% interval"),
             (ci(t * sd1), "for one seed's value"),
             ([m - t * sd1 / np.sqrt(n), m + t * sd1 / np.sqrt(n), m], "(mean, lo, hi)")]
    for answer, words in cases:
        exercises.reset_attempts()
        assert words in lesson05.check_t_interval(v, answer).message, words
        exercises.reset_attempts()
        far = lesson05.check_t_interval(v, [m, m - 5 * t * sd1, m + 5 * t * sd1])
        assert "Hint" in far.message
    exact = lesson05.check_t_interval(v, ci(t * sd1 / np.sqrt(n)) + np.array([0, 1e-7, 0]))
    assert exact.correct is True


def _contraction(seed: int):
    """(W, z, x): a residual layer's W with ||W||_2 = 1, a target z and its inverse x."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(4, 4))
    W /= np.linalg.norm(W, 2)
    z = rng.normal(size=4)
    x = z.copy()
    for _ in range(200):
        x = z - 0.5 * np.tanh(W @ x)
    return W, z, x


def test_residual_inverse_says_how_far_off_an_answer_is():
    W, z, x = _contraction(0)
    assert lesson05.check_residual_inverse(W, z, x).correct is True
    assert lesson05.check_residual_inverse(W, z, x + 1e-7).correct is True
    assert "close" in lesson05.check_residual_inverse(W, z, x + 1e-3).message
    assert "misses z by" in lesson05.check_residual_inverse(W, z, x + 0.5).message
    assert "Hint" in lesson05.check_residual_inverse(W, z, x + 0.5).message
    y = z.copy()
    for _ in range(200):
        y = z + 0.5 * np.tanh(W @ y)
    assert "sign of the branch" in lesson05.check_residual_inverse(W, z, y).message
    fb = lesson05.check_residual_inverse(W, z, np.r_[x[:3], np.inf])
    assert fb.correct is False and "NaN or inf" in fb.message


def test_residual_inverse_that_cannot_be_checked_says_so(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("map down")

    monkeypatch.setattr(lesson05, "residual_map", broken)
    fb = lesson05.check_residual_inverse(np.eye(2) * 0.5, np.ones(2), np.ones(2))
    assert fb.correct is False and "could not be checked (map down)" in fb.message


_NET = (40, 8, 3, 10, 5)      # in_dim, width, depth, n_classes, models


def _counts():
    """The stack's count and each named mistake's count for _NET."""
    in_dim, width, depth, k, models = _NET
    weights = in_dim * width + (depth - 1) * width * width + width * k
    per_model = weights + width + (depth - 1) * width + k
    per_depth = in_dim * width + width + depth * (width * width + width) + width * k + k
    mistakes = {"one model": per_model, "biases are missing": models * weights,
                "depth - 1 hidden-to-hidden": models * per_depth,
                "head": models * (per_model - width * k - k)}
    return models * per_model, mistakes


def test_param_count_names_each_mistake():
    right, mistakes = _counts()
    for words, answer in mistakes.items():
        fb = lesson05.check_stacked_param_count(*_NET, answer)
        assert words in fb.message, (words, fb.message)
    assert lesson05.check_stacked_param_count(*_NET, right).correct
    assert "Hint" in lesson05.check_stacked_param_count(*_NET, right + 1).message
    assert "whole number" in lesson05.check_stacked_param_count(*_NET, right + 0.5).message
    assert "whole number" not in lesson05.check_stacked_param_count(*_NET,
                                                                    right + 1e-12).message


def test_c5_prediction_of_a_loss_is_right_when_the_grid_calls_against():
    grid = _judged(-0.05)
    fb = lesson05.check_c5_prediction(grid, -1)
    assert fb.correct is True and "the grid agrees" in fb.message
    assert lesson05.check_c5_prediction(grid, 1).correct is False


def test_residual_inverse_needs_every_coordinate():
    W, z, x = _contraction(1)
    off = x + np.array([0.0, 0.5, -0.5, 0.5])
    fb = lesson05.check_residual_inverse(W, z, off)
    assert fb.correct is False and "sign of the branch" not in fb.message


def test_param_count_mistakes_are_exact_counts():
    for answer in _counts()[1].values():
        exercises.reset_attempts()
        fb = lesson05.check_stacked_param_count(*_NET, answer + 1)
        assert "Hint" in fb.message, (answer, fb.message)


def test_tost_names_each_mistake_and_only_it():
    """Each mistake by its own words (not words the hints share), on settings whose effects
    range from negligible to clearly non-zero, of either sign (t about +2.3 and -1.9, where the
    degrees of freedom matter); an answer 50% off is no named mistake."""
    sets, margin = [TIGHT, WIDE, WIDE + 0.02, WIDE - 0.02], 0.01
    n = len(TIGHT)

    def one_sided(v, ddof=1, dist=None):
        se = v.std(ddof=ddof) / np.sqrt(len(v))
        d = dist if dist is not None else stats.t(len(v) - 1)
        return d.sf((v.mean() + margin) / se), d.sf((margin - v.mean()) / se)

    def no_margin(v):
        t = v.mean() / (v.std(ddof=1) / np.sqrt(len(v)))
        return max(stats.t(len(v) - 1).sf(t), stats.t(len(v) - 1).cdf(t))

    right = np.array([max(one_sided(v)) for v in sets])
    words = {"two-sided test of 'no effect'": [stats.ttest_1samp(v, 0).pvalue for v in sets],
             "the smaller of the two one-sided p-values": [min(one_sided(v)) for v in sets],
             "the margin is missing": [no_margin(v) for v in sets],
             f"uses the normal distribution; with {n} seeds":
                 [max(one_sided(v, dist=stats.norm)) for v in sets],
             "use the sample standard deviation with ddof=1.":
                 [max(one_sided(v, ddof=0)) for v in sets]}
    for said, answer in words.items():
        exercises.reset_attempts()
        fb = lesson05.check_tost(sets, margin, answer)
        assert fb.correct is False and said in fb.message, (said, fb.message)
    exercises.reset_attempts()
    assert lesson05.check_tost(sets, margin, right).correct is True
    fb = lesson05.check_tost(sets, margin, 1.5 * right)
    assert fb.correct is False and "Hint 1" in fb.message, fb.message
    wide = sets[1:]         # settings whose normal and ddof=0 p-values are near the right ones
    exercises.reset_attempts()
    fb = lesson05.check_tost(wide, margin, 1.5 * right[1:])
    assert fb.correct is False and "Hint 1" in fb.message, fb.message


def _judged_by_kind(mlp_effect8: float, cnn_effect8: float):
    """A judged grid whose MLP and CNN disagree at depth 8."""
    from maxent_lib import shortcuts
    from maxent_lib.store.provenance import StoredResults

    def records(epochs):
        return [r for eff, kind in ((mlp_effect8, "mlp"), (cnn_effect8, "cnn"))
                for r in _grid_records(eff, epochs=epochs) if r["kind"] == kind]

    return shortcuts.judge_grid(StoredResults(None, records(10), {}, True, ""),
                                StoredResults(None, records(20), {}, True, ""), "quick")


def test_c5_prediction_reads_the_asked_kind():
    grid = _judged_by_kind(0.05, -0.05)
    check = lesson05.check_c5_prediction
    assert check(grid, 1, kind="mlp").correct is True
    assert check(grid, -1, kind="cnn").correct is True
    fb = check(grid, 1, kind="cnn")
    assert fb.correct is False and "-0.05" in fb.message, fb.message


def test_c5_prediction_explains_a_wrong_sign_in_a_sentence():
    gain, none = _judged(0.05), _judged(0.0, noise=0.0004)
    for grid, answer, sentence in [
            (gain, -1, ". A residual net contains the plain net's function class"),
            (gain, 0, ". The effect clears the margin of 0.01"),
            (none, 1, ". The shortcut's guarantee is about information")]:
        exercises.reset_attempts()
        fb = lesson05.check_c5_prediction(grid, answer)
        assert fb.correct is False and sentence in fb.message, (answer, fb.message)


def test_c5_prediction_without_a_verdict_records_it_and_says_why():
    from types import SimpleNamespace

    from maxent_lib import shortcuts

    grid = shortcuts.judge_grid(None, None, "quick")
    fb = lesson05.check_c5_prediction(grid, 1)
    assert fb.correct is True and f"no verdict yet ({grid.why})" in fb.message
    fb = lesson05.check_c5_prediction(None, -1)        # no grid at all: nothing to read
    assert fb.correct is True and "prediction -1 recorded" in fb.message
    assert "no verdict yet ()" in fb.message
    no_c5 = SimpleNamespace(judged=True, families=[])  # a grid without claim C5
    fb = lesson05.check_c5_prediction(no_c5, 1)
    assert fb.correct is False and "could not be checked" in fb.message


@pytest.fixture(scope="module")
def residual_nets():
    """Lesson 05's exercise 5 set-up (see test_residual_fc1), the two nets' first layers
    drawn apart."""
    import torch

    from maxent_lib import data, models

    xor = data.xor_task()
    X, y = xor.sample(400, seed=1)
    torch.manual_seed(0)
    plain = models.MLP(2, 4, 3, 2)
    with torch.no_grad():
        plain.layers[2].weight.zero_()
        plain.layers[2].bias.fill_(-1.0)
    torch.manual_seed(1)            # another first layer than the plain net's
    residual = models.MLP(2, 4, 3, 2, shortcut=True)
    return xor, plain, residual, X, y


def _probe_gap(task, T, X, y):
    """(FC1 gap, its standard error) as the statement says: FlexibleProbe() fitted on the first
    half, scored on the second, minus the exact Bayes cross-entropy there (ddof=1)."""
    from maxent_lib.conditions import FlexibleProbe

    half = len(y) // 2
    q = FlexibleProbe().fit(T[:half], y[:half]).predict_proba(T[half:])
    rows = np.arange(len(y) - half)
    d = np.log(task.posterior(X[half:])[rows, y[half:]]) - np.log(q[rows, y[half:]])
    return d.mean(), d.std(ddof=1) / np.sqrt(len(d))


def test_residual_fc1_success_shows_both_layers_of_both_nets(residual_nets, monkeypatch):
    from maxent_lib import models

    monkeypatch.setattr(lesson05, "_FC1_CACHE", {})     # the checker's own fits, not kept ones
    task, plain, residual, X, y = residual_nets
    feats = [models.layer_features(net, X) for net in (plain, residual)]
    last = [_probe_gap(task, f[-1], X, y)[0] for f in feats]
    first = [_probe_gap(task, f[0], X, y)[0] for f in feats]
    fb = lesson05.check_residual_fc1(task, plain, residual, X, y, last)
    assert fb.correct is True
    assert (f"FC1 of the last layer: {last[0]:.3f} nats for the plain net, {last[1]:.3f} for "
            f"the residual one (their first layers: {first[0]:.3f} and {first[1]:.3f})"
            in fb.message), fb.message


def test_residual_fc1_accepts_each_value_within_its_own_tolerance(residual_nets, monkeypatch):
    """The documented tolerance: FC1_SE standard errors of each net's own estimate (ddof=1),
    at least FC1_MIN_TOL nats."""
    from maxent_lib import models

    monkeypatch.setattr(lesson05, "_FC1_CACHE", {})     # the checker's own fits, not kept ones
    task, plain, residual, X, y = residual_nets
    ref = [_probe_gap(task, models.layer_features(net, X)[-1], X, y) for net in (plain, residual)]
    want = np.array([r[0] for r in ref])
    tol = np.array([max(lesson05.FC1_MIN_TOL, lesson05.FC1_SE * r[1]) for r in ref])
    assert np.all(tol > 2 * lesson05.FC1_MIN_TOL)
    for off, right in [([0.9995, -0.9995], True), ([1.0005, 0.0], False),
                       ([0.0, -1.0005], False)]:
        exercises.reset_attempts()
        fb = lesson05.check_residual_fc1(task, plain, residual, X, y, want + np.array(off) * tol)
        assert fb.correct is right, (off, fb.message)


def test_residual_fc1_without_a_task_says_the_reference_failed(residual_nets):
    _, plain, residual, X, y = residual_nets
    fb = lesson05.check_residual_fc1(None, plain, residual, X, y, [0.5, 0.0])
    assert fb.correct is False and "reference could not be computed" in fb.message


def test_residual_inverse_with_units_that_do_not_mix_needs_every_coordinate():
    """A diagonal W: each coordinate is its own equation, so an answer can solve one coordinate
    exactly (or its flipped-sign equation) and miss the others; neither is right or flipped."""
    W, z = np.diag([0.9, -0.5, 0.7, 0.3]), np.array([0.4, -1.0, 0.8, 0.2])
    x, flipped = z.copy(), z.copy()
    for _ in range(200):
        x, flipped = z - 0.5 * np.tanh(W @ x), z + 0.5 * np.tanh(W @ flipped)
    assert lesson05.check_residual_inverse(W, z, x).correct is True
    for answer in (x + np.array([0.0, 0.5, -0.5, 0.5]), np.r_[flipped[0], x[1:] + 0.5]):
        exercises.reset_attempts()
        fb = lesson05.check_residual_inverse(W, z, answer)
        assert fb.correct is False and "sign of the branch" not in fb.message, fb.message
        assert "misses z by" in fb.message

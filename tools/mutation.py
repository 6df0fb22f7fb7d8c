"""Mutation testing of the library's computing modules: do the tests notice a bug?

    python tools/mutation.py                       # every module, results/mutation.json
    python tools/mutation.py --modules info stats  # some modules (others kept from the file)
    python tools/mutation.py --list info           # the mutants of a module, without running
    python tools/mutation.py --modules info --ids 'info:entropy:...'   # rerun chosen mutants

Each mutant is one small change to one module's syntax tree (an operator, a comparison's
boundary, a number, a boolean, a string, max/min, a sign, break/continue; see ``_variants``).
No source file is written: a forked child imports the mutated module from memory and runs only
the tests that execute the mutated line (found by one run of the module's test files under
coverage, with one coverage context per test), fastest first, stopping at the first failure
(``pytest -x -q -p no:cacheprovider -o addopts=""``) under a per-mutant limit of CPU time
(``_over_time``). A mutant is *killed* when a test fails (or the module no longer imports),
*survived* when they all pass, *timeout* when they run past the limit (counted as killed, as
mutmut does: the change made the code hang). Mutants listed in ``EQUIVALENT`` change nothing a
caller can observe; each has its reason and is left out of the score, killed / (mutants -
equivalent).

Not generated (they cannot change a computed result, or are out of scope): docstrings,
annotations, argument declarations (``@validate(...)`` and every decorator, the constraints of
maxent_lib/validation and classes built on them: validation is tested by tests/test_badinput.py),
``raise`` statements' arguments and warnings' messages (wording), the ``name`` argument of the
``check_*`` helpers (it appears only in messages), ``__all__``, the literal text and format
specifications of f-strings (the expressions inside them are mutated), ``stacklevel``, and
string constants of four or more words (prose for the reader: the claims' statements and
caveats, the sentences of the verdict text; its wording is not a computation).

Run it with one worker, niced, on a busy machine: ``nice -n 10 python tools/mutation.py``.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import hashlib
import importlib.abc
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: module (short name) -> (file, the test files that exercise it)
_LESSONS = [f"lesson0{i}" for i in range(1, 8)]
MODULES: dict[str, tuple[str, list[str]]] = {
    "info": ("maxent_lib/info.py", ["tests/test_info.py", "tests/test_maxent.py",
                                    "tests/test_properties.py",
                                    "tests/test_exercises_lesson01.py"]),
    "maxent": ("maxent_lib/maxent.py", ["tests/test_maxent.py", "tests/test_maxent_boundaries.py",
                                        "tests/test_properties.py",
                                        "tests/test_exercises_lesson01.py"]),
    "softmax": ("maxent_lib/softmax.py", ["tests/test_softmax.py", "tests/test_softmax_solver.py",
                                          "tests/test_maxent.py",
                                          "tests/test_properties.py",
                                          "tests/test_exercises_lesson02.py",
                                          "tests/test_exercises_lesson04.py"]),
    "metrics": ("maxent_lib/metrics.py", ["tests/test_metrics.py", "tests/test_properties.py",
                                          "tests/test_exercises_lesson06.py"]),
    "stats": ("maxent_lib/stats.py", ["tests/test_stats.py", "tests/test_stats_boundaries.py",
                                      "tests/test_stats_edges.py",
                                      "tests/test_properties.py",
                                      "tests/test_claims.py", "tests/test_verdicts.py",
                                      "tests/test_exercises_lesson05.py",
                                      "tests/test_exercises_lesson07.py"]),
    "claims": ("maxent_lib/claims.py", ["tests/test_claims.py", "tests/test_claims_edges.py",
                                        "tests/test_claims_table.py",
                                        "tests/test_verdicts.py",
                                        "tests/test_stats_boundaries.py"]),
    "verdicts": ("maxent_lib/verdicts.py", ["tests/test_verdicts.py", "tests/test_claims.py",
                                            "tests/test_stats_boundaries.py"]),
    "exercises": ("maxent_lib/exercises/__init__.py",
                  ["tests/test_exercises_common.py", "tests/test_exercises_feedback.py"]
                  + [f"tests/test_exercises_{n}.py" for n in _LESSONS]),
    **{f"exercises.{n}": (f"maxent_lib/exercises/{n}.py",
                          [f"tests/test_exercises_{n}.py", f"tests/test_exercises_{n}_edges.py",
                           "tests/test_exercises_common.py"])
       for n in _LESSONS},
}

#: tests whose baseline run takes longer than this (seconds) are not run on mutants (they are
#: slow statistical checks; faster tests of the same code are run instead)
MAX_TEST_SECONDS = 15.0

PYTEST_ARGS = ["-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--hypothesis-seed=0",
               "-W", "ignore"]

#: mutant id -> why it is equivalent (no caller can observe the change)
_NEG_RESHAPE = "numpy's reshape infers a size given as any negative number, not only -1"
_BOOTSTRAP_DRAW = (
    "a default of the bootstrap's resampling (1001 resamples instead of 1000, seed 1 instead of "
    "0, or chunks that overlap by one): another draw from the same bootstrap distribution, "
    "which the interval's tests (its coverage and its agreement with the t interval) cannot "
    "tell from the default's own Monte Carlo noise")
_MESSAGE_NAME = "an argument's name that check_same_length puts only into its error message"
_CHECKER_TIE = (
    "a strict comparison made non-strict or the reverse, in a checker's test of an answer against "
    "a tolerance (a sum within 1e-4 of 100, within 1e-6 of one, a face below -1e-12, a distance "
    "within 1e-6): they differ only when the two floats are exactly equal")
_MESSAGE_SEPARATOR = (
    "the separator ', ' between the choices that a checker's message lists ('XX, XX' instead): "
    "the message still names every choice; tests read the choices, not the punctuation between "
    "them")
_SEARCH_CHUNK = (
    "the size of seeds_needed's chunks (a first chunk up to 1001 instead of 1000, or growing "
    "11-fold instead of 10-fold): the chunks still cover every n from 2 to n_max in order, so "
    "the first n that is enough is the same; only the speed changes")
_NORMAL_PLUS_MINUS_ONE = (
    "the 'normal answer +-1' mistake of exercise 7.3 tested with |g - expected| >= 1 or "
    "|g + expected| > 1 (always true) instead of |g - expected| > 1: they differ only for an "
    "answer g one seed from the normal answer and at most one from the right one, neither right "
    "nor 'one short' (told first), that is g = expected + 1 with normal = expected or "
    "expected + 2; but t_{0.975, n-1} > 1.959964 for every n, so the normal answer is always "
    "below the right one")
_LABEL_INDEX = (
    "the smoothed target's (or a mistaken target's) large entry put on class 1 instead of "
    "class 0: an entropy does not depend on the order of the classes")
_BAND_BRACKET = (
    "the far end of the search for the slack's edge (T*/3 or 3 T* instead of T*/2, 2 T*): the "
    "edge lies well inside both brackets, and the bisection finds it to about 1e-15 relative "
    "from either")
_PROBE_POINTS = (
    "the random points at which the checker compares the student's softmax with the sigmoid "
    "(their number, seed or spread): any 200 or so generic points tell two different "
    "affine-sigmoid models apart, and the right one agrees everywhere")
_PROBABILITY_CLIP = (
    "the upper bound of np.clip(p, 1e-300, 1) on a probability (a posterior, a read-out's "
    "predicted probability) moved from 1 to 2: no probability exceeds 1, so the clip leaves "
    "every value as it is")
_STRICT_ZIP = (
    "zip(..., strict=False): the seeds and the differences come from one row of "
    "paired_effects, which makes them equally long")
_SOFTMAX_BUDGET = (
    "a default budget (an iteration cap or the dense-path size limit) moved by one: every fit of "
    "the tests converges in far fewer Newton or CG steps (at most 6 Newton steps and 40 "
    "Hessian-vector products, tests/test_softmax_solver.py), and no problem has exactly 1001 "
    "parameters")
_SOFTMAX_RIDGE = (
    "the relative ridge 1e-12 of the dense Newton system (sign flipped, or 1e-12 / scale): it "
    "moves the step by about 1e-12 of its size, far below the stopping rule max |g| <= 1e-10 "
    "and every test's tolerance; where the matrix is singular the pseudo-inverse fallback gives "
    "the same step")
_SOFTMAX_SHIFT = (
    "the curvature added along the softmax's null space (scale floored at 1e-300 -> min, or a "
    "floor of 1): the gradient and the exact step have no component there, so the magnitude "
    "added changes no step; if the factorisation fails, the pseudo-inverse gives the same step")
_SOFTMAX_PRECONDITIONER = (
    "the Jacobi preconditioner of the CG step (a diagonal entry with the sign of alpha flipped, "
    "shift * K instead of shift / K, a ridge of 1 instead of 1e-12): CG still stops at the same "
    "inexact-Newton residual (tested), so only the number of CG iterations changes, within the "
    "tested cap of 40 Hessian-vector products on the tests' problems")
_SOFTMAX_TIE = (
    "a strict comparison made non-strict or the reverse, in a test of a float against a "
    "tolerance or threshold (max |g| <= tol, ||r|| <= rtol, slope >= 0, the Armijo test, the "
    "pseudo-inverse cutoff, a separating margin > 0): they differ only when the two floats are "
    "exactly equal, which no test's data reach")
_SOFTMAX_RESCALE = (
    "the penalty is rescaled also when it is 0 or the scale is 1 (and -> or, > -> >=, or a "
    "test against 2 instead of 1): alpha / 1 / 1 = alpha and 0 / s / s = 0, so the penalty is "
    "unchanged, and a scale other than 1 is 2**11 or more or 2**-10 or less, never 2")
_SOFTMAX_ZERO_COLUMN = (
    "the exponent computed for an all-zero column (top >= 0, or a placeholder of 2 instead "
    "of 1): the last line gives such a column scale 1 whatever was computed for it")


_SOFTMAX_LAPACK = (
    "a LAPACK option of the Cholesky solve: check_finite only checks that the (finite) inputs "
    "are finite, and lower=False factors the other triangle of the same symmetric matrix")
_SOFTMAX_CUTOFF = (
    "the pseudo-inverse's eigenvalue cutoff (relative to another large eigenvalue, or with a "
    "floor of 1 instead of 0): on the tests' problems the Hessian's eigenvalues are either of "
    "rounding size (its null space) or far above any of these cutoffs, so the same directions "
    "are kept")
_SOFTMAX_BROADCAST = (
    "keepdims=False in a mean over the classes: the (d,) result broadcasts against the (K, d) "
    "parameters exactly as the (1, d) one does")
_SOFTMAX_CENTRED = (
    "the intercept centring reads or writes a column that already sums to zero over the "
    "classes (a weight column, centred the line before or at the optimum), so it subtracts 0")


EQUIVALENT: dict[str, str] = {
    # info
    "info:mutual_information:number:1 -> 2:1": _NEG_RESHAPE,
    # maxent
    "maxent:_scores:string:'lambda . F[k]' -> 'XXlambda . F[k]XX':1":
        "the default text of 'what' appears only in the overflow error's message",
    "maxent:solve_maxent:number:200 -> 201:1":
        "the default cap of Newton steps: the solver converges quadratically in far fewer "
        "(tests/test_maxent_boundaries.py), and a target it cannot reach in 200 steps it "
        "cannot reach in 201 either (the first check after the loop raises for both)",
    "maxent:_standardise:number:1.0 -> 2.0:1":
        "s = 2 * 2**e instead of 2**e: still an exact power of two at least the half-range, "
        "so the standardised problem has the same solution (features in [-1/2, 1/2] instead "
        "of [-1, 1]; the shortcut |t'| > 1 then never fires and the LP refuses those targets)",
    "maxent:_newton:cmp:> -> >=:1":
        "the final check differs only when the violation equals max(tol, 1e-9) to the last bit",
    "maxent:_check_F_target:number:1 -> 2:2": _NEG_RESHAPE,
    "maxent:_check_lambdas:number:1 -> 2:1": _NEG_RESHAPE,
    "maxent:_newton:cmp:> -> >=:2":
        "Newton stops at max |gradient| <= tol or < tol: they differ only when the gradient "
        "equals tol to the last bit",
    "maxent:_newton:cmp:> -> >=:3":
        "eigenvalues equal to the pseudo-inverse's cut-off to the last bit",
    "maxent:_newton:cmp:>= -> >:1":
        "the Newton slope -g'H^+g is never exactly 0 while |g| > tol: g = E_p[f] - t lies in "
        "the span of the centred features (t is inside the hull, constant features are "
        "dropped), which is the range of H = Cov_p[f]",
    "maxent:_newton:number:0 -> 1:2":
        "slope >= 1 instead of slope >= 0: the Newton slope is always negative (see the "
        "mutant above), so neither test ever fires",
    "maxent:_standardise:number:1.0 -> 2.0:2":
        "the half-range placed in a dropped (constant) column: its scale is never used",
    "maxent:_standardise:name:.all -> .any:1":
        "F' = (F - c) / s lies in [-1, 1] by construction: it is always finite",
    "maxent:_check_interior:number:1 -> 2:1":
        "the shortcut's threshold |t'| > 2 + 1e-7: targets in between are refused by the LP "
        "with the same error",
    "maxent:_check_interior:number:1e-07 -> 1.0000001:1":
        "the shortcut's threshold |t'| > 2.0000001: targets in between are refused by the LP "
        "with the same error",
    "maxent:_check_interior:cmp:> -> >=:1":
        "|t'| = 1 + 1e-7 exactly: the shortcut and the LP give the same error for a target "
        "outside the hull",
    "maxent:_newton:unary:drop '-':2":
        "dead code: the gradient fallback runs only when the Newton slope -g'H^+g >= 0, which "
        "never happens (see 'maxent:_newton:cmp:>= -> >:1')",
    "maxent:_newton:unary:drop '-':3":
        "dead code: the gradient fallback (see 'maxent:_newton:unary:drop '-':2')",
    "maxent:_newton:binop:@ -> *:4":
        "dead code: the gradient fallback (see 'maxent:_newton:unary:drop '-':2')",
    "maxent:_interior_margin:number:1 -> 2:1":
        "the LP's bound t <= 1 becomes t <= 2: t = min_k q_k <= 1/K for every distribution q, "
        "so neither bound is ever active",
    # metrics
    "metrics:_metrics_core:binop:- -> +:2":
        "the clamp's top n_bins - 1 becomes n_bins + 1: ceil(conf * n_bins) - 1 <= n_bins - 1 "
        "for every confidence conf <= 1, so the top of the clamp is never reached",
    "metrics:_metrics_core:unary:drop '-':6":
        "sum(-1) -> sum(1) over the (M, n_bins) bin table: the same axis of a 2-D tensor",
    "metrics:_metrics_core:unary:drop '-':9":
        "mean(-1) -> mean(1) over an (M, N) tensor: the same axis of a 2-D tensor",
    "metrics:_metrics_core:unary:drop '-':10":
        "mean(-1) -> mean(1) over an (M, N) tensor: the same axis of a 2-D tensor",
    "metrics:_metrics_core:unary:drop '-':11":
        "mean(-1) -> mean(1) over an (M, N) tensor: the same axis of a 2-D tensor",
    "metrics:fit_temperature.slope:unary:drop '-':1":
        "mean(-1) -> mean(1) over the (M, N) per-example slopes: the same axis of a 2-D tensor",
    "metrics:fit_temperature:number:10000.0 -> 10001.0:1":
        "-inf log-probabilities clamped at -10001 instead of -1e4: at the smallest inverse "
        "temperature 1/high = 0.01 their softmax weight is exp(-100) against weights of order "
        "1, below float64's resolution, so every slope and temperature is the same to the bit",
    # softmax
    "softmax:SoftmaxRegression:number:1000 -> 1001:1":
        _SOFTMAX_BUDGET,
    "softmax:SoftmaxRegression:number:500 -> 501:1":
        _SOFTMAX_BUDGET,
    "softmax:SoftmaxRegression.__init__:number:100 -> 101:1":
        _SOFTMAX_BUDGET,
    "softmax:SoftmaxRegression._newton_step:binop:+ -> -:1":
        _SOFTMAX_RIDGE,
    "softmax:SoftmaxRegression._newton_step:binop:* -> /:1":
        _SOFTMAX_RIDGE,
    "softmax:SoftmaxRegression._grad_hess:cmp:> -> >=:1":
        "alpha >= 0 instead of alpha > 0: at alpha = 0 the branch adds 0 to the diagonal",
    "softmax:SoftmaxRegression._newton_step:binop:+ -> -:2":
        ("H - shift (1/K) 11^T (x) D instead of +: the matrix is then indefinite along the null "
         "space, the Cholesky factorisation fails and the pseudo-inverse fallback gives the same"
         " step (tested: test_pseudo_inverse_fallback_is_the_minimum_norm_newton_step)"),
    "softmax:SoftmaxRegression._newton_step:name:max -> min:1":
        _SOFTMAX_SHIFT,
    "softmax:SoftmaxRegression._newton_step:number:1e-300 -> 1.0:1":
        _SOFTMAX_SHIFT,
    "softmax:SoftmaxRegression._cg_step:binop:+ -> -:1":
        _SOFTMAX_PRECONDITIONER,
    "softmax:SoftmaxRegression._cg_step:binop:/ -> *:2":
        _SOFTMAX_PRECONDITIONER,
    "softmax:SoftmaxRegression._cg_step:number:1e-12 -> 1.000000000001:1":
        _SOFTMAX_PRECONDITIONER,
    "softmax:SoftmaxRegression._cg_step:flow:break -> continue:1":
        ("the exit on p^T A p <= 0: A is the Hessian plus positive shift and ridge terms, "
         "positive definite, so the branch is never taken"),
    "softmax:SoftmaxRegression._cg_step:cmp:<= -> <:2":
        _SOFTMAX_TIE,
    "softmax:SoftmaxRegression._fit:cmp:<= -> <:2":
        _SOFTMAX_TIE,
    "softmax:SoftmaxRegression.fit:boolop:and -> or:1":
        _SOFTMAX_RESCALE,
    "softmax:SoftmaxRegression.fit:cmp:> -> >=:1":
        _SOFTMAX_RESCALE,
    "softmax:log_softmax:binop:- -> +:3":
        ("axis up to ndim instead of ndim - 1: numpy then raises its AxisError, itself a "
         "ValueError naming the axis, for the one value the check no longer refuses"),
    "softmax:SoftmaxRegression._fit:cmp:>= -> >:1":
        _SOFTMAX_TIE,
    "softmax:SoftmaxRegression._fit:cmp:> -> >=:1":
        _SOFTMAX_TIE,
    "softmax:SoftmaxRegression._fit:cmp:> -> >=:2":
        _SOFTMAX_TIE,
    "softmax:SoftmaxRegression._fit:cmp:<= -> <:3":
        _SOFTMAX_TIE,
    "softmax:SoftmaxRegression._newton_step:cmp:> -> >=:1":
        _SOFTMAX_TIE,
    "softmax:SoftmaxRegression._separates:cmp:> -> >=:1":
        _SOFTMAX_TIE,
    "softmax:SoftmaxRegression._fit:bool:True -> False:2":
        ("converged_ left False when the loop stops at a small gradient: the check after the "
         "loop sets it from the same gradient at the same parameters"),
    "softmax:_feature_scale:cmp:> -> >=:2":
        _SOFTMAX_ZERO_COLUMN,
    "softmax:_feature_scale:number:1.0 -> 2.0:3":
        _SOFTMAX_ZERO_COLUMN,
    "softmax:SoftmaxRegression._newton_step:number:1e-300 -> 1.0:2":
        _SOFTMAX_SHIFT,
    "softmax:SoftmaxRegression._cg_step:number:0 -> 1:2":
        _SOFTMAX_SHIFT,
    "softmax:SoftmaxRegression.fit:number:1.0 -> 2.0:1":
        _SOFTMAX_RESCALE,
    "softmax:SoftmaxRegression._newton_step:name:.max -> .min:1":
        _SOFTMAX_SHIFT,
    "softmax:SoftmaxRegression._newton_step:number:1.0 -> 2.0:1":
        _SOFTMAX_SHIFT,
    "softmax:SoftmaxRegression._newton_step:number:1.0 -> 2.0:2":
        _SOFTMAX_SHIFT,
    "softmax:SoftmaxRegression._newton_step:binop:/ -> *:1":
        _SOFTMAX_SHIFT,
    "softmax:SoftmaxRegression._newton_step:name:.max -> .min:2":
        _SOFTMAX_SHIFT,
    "softmax:SoftmaxRegression._newton_step:binop:- -> +:3":
        _SOFTMAX_SHIFT,
    "softmax:SoftmaxRegression._cg_step:unary:drop '-':4":
        _SOFTMAX_SHIFT,
    "softmax:SoftmaxRegression._newton_step:bool:False -> True:1":
        _SOFTMAX_LAPACK,
    "softmax:SoftmaxRegression._newton_step:bool:True -> False:1":
        _SOFTMAX_LAPACK,
    "softmax:SoftmaxRegression._newton_step:bool:False -> True:2":
        _SOFTMAX_LAPACK,
    "softmax:SoftmaxRegression._newton_step:number:0.0 -> 1.0:1":
        _SOFTMAX_CUTOFF,
    "softmax:SoftmaxRegression._newton_step:unary:drop '-':3":
        _SOFTMAX_CUTOFF,
    "softmax:SoftmaxRegression._newton_step:number:1 -> 2:4":
        _SOFTMAX_CUTOFF,
    "softmax:SoftmaxRegression._cg_step.A:bool:True -> False:1":
        _SOFTMAX_BROADCAST,
    "softmax:SoftmaxRegression._fit:bool:True -> False:4":
        _SOFTMAX_BROADCAST,
    "softmax:SoftmaxRegression._fit:number:1 -> 2:7":
        _SOFTMAX_CENTRED,
    "softmax:SoftmaxRegression._fit:unary:drop '-':6":
        _SOFTMAX_CENTRED,
    "softmax:SoftmaxRegression.fit:number:1 -> 2:3":
        ("two BLAS threads instead of one inside fit: a speed setting; the sums it reorders "
         "agree to rounding, far below every test's tolerance"),
    "softmax:SoftmaxRegression._fit:cmp:> -> >=:3":
        _SOFTMAX_TIE,
    "softmax:SoftmaxRegression._fit:cmp:> -> >=:4":
        _SOFTMAX_TIE,
    "softmax:SoftmaxRegression._fit:cmp:> -> >=:5":
        _SOFTMAX_TIE,
    "softmax:SoftmaxRegression._fit:binop:- -> +:1":
        ("the intercepts are centred twice: at alpha = 0 the line before centres every column "
         "over the classes, and at alpha > 0 the Newton and CG steps have no component along the"
         " shift direction of the biases, so from a centred start the intercepts already sum to "
         "zero (test_fitted_parameters_are_centred): adding their mean (0) changes nothing"),
    # stats
    "stats:paired_bootstrap_ci:number:1000 -> 1001:1": _BOOTSTRAP_DRAW,
    "stats:paired_bootstrap_ci:number:0 -> 1:1": _BOOTSTRAP_DRAW,
    "stats:paired_bootstrap_ci:number:200 -> 201:2": _BOOTSTRAP_DRAW,
    "stats:paired_bootstrap_ci:string:'losses_a' -> 'XXlosses_aXX':1": _MESSAGE_NAME,
    "stats:paired_bootstrap_ci:string:'losses_b' -> 'XXlosses_bXX':1": _MESSAGE_NAME,
    "stats:verdict:cmp:> -> >=:3":
        "direction 0 has returned above, so direction >= 0 and direction > 0 agree here",
    # exercise checkers
    "exercises.lesson05:check_residual_inverse:cmp:< -> <=:1": _CHECKER_TIE,
    "exercises.lesson05:check_residual_inverse:cmp:< -> <=:2": _CHECKER_TIE,
    "exercises.lesson05:check_residual_inverse:cmp:< -> <=:3": _CHECKER_TIE,
    "exercises.lesson05:check_stacked_param_count:cmp:> -> >=:1": _CHECKER_TIE,
    "exercises.lesson03:_shared_gaussian_parts:number:0 -> 1:2":
        "the covariance of class 1 instead of class 0's: the task's classes share one covariance",
    "exercises.lesson03:_answer_or_none:number:0.0 -> 1.0:1":
        "the stand-in for an answer that is not numbers is used only for its shape, and 0.0 and "
        "1.0 both have shape ()",
    "exercises.lesson04:check_softmax_from_sigmoid:binop:* -> /:1": _PROBE_POINTS,
    "exercises.lesson04:check_softmax_from_sigmoid:number:3 -> 4:1": _PROBE_POINTS,
    "exercises.lesson04:check_softmax_from_sigmoid:number:0 -> 1:3": _PROBE_POINTS,
    "exercises.lesson04:check_softmax_from_sigmoid:number:200 -> 201:1": _PROBE_POINTS,
    "exercises.lesson04:_sigmoid:unary:drop '-':2":
        "sigma(-z) in place of sigma(z) for both sides: p1 = want and p1 = 1 - want hold for "
        "the mirrored sigmoids exactly when they held before",
    "exercises.lesson04:check_residual_layer:string:'relu' -> 'XXreluXX':1":
        "for a ReLU net the extra 'not ReLU' mistake's value is the right answer itself, which "
        "check() accepts before it reads any mistake (same tolerances)",
    "exercises.lesson04:check_linear_layer_sign:cmp:< -> <=:1":
        "got is -1 or +1 here (0 has returned as right), so got < 0 and got <= 0 agree",
    "exercises.lesson04:check_linear_layer_sign:number:0 -> 1:1":
        "got is -1 or +1 here (0 has returned as right), so got < 0 and got < 1 agree",
    "exercises.lesson03:fc1_gap_estimates.parts:number:1 -> 2:1": _PROBABILITY_CLIP,
    "exercises.lesson03:fc1_gap_estimates.parts:number:1 -> 2:2": _PROBABILITY_CLIP,
    "exercises.lesson03:check_fc1_gap:number:1 -> 2:1": _PROBABILITY_CLIP,
    "exercises.lesson03:check_fc1_gap:number:1 -> 2:2": _PROBABILITY_CLIP,
    "exercises.lesson03:check_fc1_gap:cmp:<= -> <:1": _CHECKER_TIE,
    "exercises.lesson03:check_fc1_gap:cmp:<= -> <:2": _CHECKER_TIE,
    "exercises.lesson03:check_fc1_gap:cmp:<= -> <:3": _CHECKER_TIE,
    "exercises.lesson03:check_fc1_gap:cmp:<= -> <:4": _CHECKER_TIE,
    "exercises.lesson03:check_fc1_gap:cmp:<= -> <:5": _CHECKER_TIE,
    "exercises.lesson03:check_fc1_gap:cmp:<= -> <:6": _CHECKER_TIE,
    "exercises.lesson03:check_log_odds_weights:number:1 -> 2:3":
        "the stand-in value of the untransposed-solve mistake where it cannot occur (K - 1 != "
        "d): NaN of shape (1,) or (2,), which matches no answer (Mistake.matches needs finite "
        "values)",
    "exercises.lesson04:_excess:number:1 -> 2:1": _PROBABILITY_CLIP,
    "exercises.lesson04:_excess:number:1 -> 2:2": _PROBABILITY_CLIP,
    "exercises.lesson04:check_layer_excess:cmp:> -> >=:1": _CHECKER_TIE,
    "exercises.lesson04:check_layer_excess:cmp:> -> >=:2": _CHECKER_TIE,
    "exercises.lesson04:check_layer_excess:cmp:< -> <=:2": _CHECKER_TIE,
    "exercises.lesson04:check_layer_excess:cmp:<= -> <:1": _CHECKER_TIE,
    "exercises.lesson04:check_layer_excess:cmp:<= -> <:2": _CHECKER_TIE,
    "exercises.lesson04:check_layer_excess:cmp:<= -> <:3": _CHECKER_TIE,
    "exercises.lesson04:check_layer_excess:cmp:<= -> <:4": _CHECKER_TIE,
    "exercises.lesson04:check_layer_excess:cmp:<= -> <:5": _CHECKER_TIE,
    "exercises.lesson04:check_layer_excess:cmp:<= -> <:6": _CHECKER_TIE,
    "exercises.lesson04:check_layer_excess:cmp:<= -> <:7": _CHECKER_TIE,
    "exercises.lesson05:_fc1_reference:number:1 -> 2:1": _PROBABILITY_CLIP,
    "exercises.lesson05:_fc1_reference:number:1 -> 2:2": _PROBABILITY_CLIP,
    "exercises.lesson05:check_residual_fc1.near:cmp:<= -> <:1": _CHECKER_TIE,
    "exercises.lesson05:_c5_setting:unary:drop '-':1":
        "C5's settings are labelled 'depth N' (one arm treatment, within=('depth',)): two "
        "words, so label.split()[1] is label.split()[-1]",
    "exercises.lesson05:_c5_setting:string:'' -> 'XXXX':1":
        "the reason returned with a setting that has a test: check_c5_prediction reads it only "
        "when there is no test, and rebinds it before any other use",
    "exercises:as_numbers:string:'USO' -> 'XXUSOXX':1":
        "no numpy dtype has kind 'X', so 'XXUSOXX' and 'USO' hold the same dtype kinds",
    "exercises.lesson07:exercise_1:cmp:> -> >=:1":
        "lo > 0 -> lo >= 0 in the sign-reading mistake: no interval of EXERCISE_1_INTERVALS "
        "has an end at exactly 0 (tested against the worked solution)",
    "exercises.lesson07:exercise_1:cmp:< -> <=:1":
        "hi < 0 -> hi <= 0 in the sign-reading mistake: no interval of EXERCISE_1_INTERVALS "
        "has an end at exactly 0 (tested against the worked solution)",
    "exercises.lesson07:exercise_1:cmp:> -> >=:2": _CHECKER_TIE,
    "exercises.lesson07:exercise_3:cmp:> -> >=:1": _CHECKER_TIE,
    "exercises.lesson07:exercise_3:cmp:> -> >=:2": _NORMAL_PLUS_MINUS_ONE,
    "exercises.lesson07:exercise_3:binop:- -> +:5": _NORMAL_PLUS_MINUS_ONE,
    "exercises.lesson07:seeds_needed:number:1000 -> 1001:1": _SEARCH_CHUNK,
    "exercises.lesson07:seeds_needed:number:10 -> 11:2": _SEARCH_CHUNK,
    "exercises.lesson07:exercise_4_expected:number:1 -> 2:1":
        "direction 2 instead of 1: stats._verdict reads the direction only as == 0",
    "exercises.lesson07:exercise_4_expected:number:1 -> 2:2":
        "direction 2 instead of 1: stats._verdict reads the direction only as == 0",
    "exercises.lesson07:exercise_4_expected:string:'existential' -> 'XXexistentialXX':1":
        "stats._verdict reads the quantifier only as == 'universal': any other word is the "
        "existential rule",
    "exercises.lesson07:_verdict_pairs:string:', ' -> 'XX, XX':1": _MESSAGE_SEPARATOR,
    "exercises.lesson07:exercise_5_reading:string:', ' -> 'XX, XX':1": _MESSAGE_SEPARATOR,
    "exercises.lesson07:exercise_5_reading:string:', ' -> 'XX, XX':2": _MESSAGE_SEPARATOR,
    "exercises.lesson07:exercise_5_reading:string:'neither' -> 'XXneitherXX':1":
        "the default of the readings' dict.get: it is used only when no part is shown, and then "
        "the dict's own entry for 0 ('neither') is returned",
    "exercises.lesson07:exercise_5_reading:string:'fit' -> 'XXfitXX':2":
        "a name in by_mean (the parts whose mean is above 0): only their number is read",
    "exercises.lesson07:exercise_5_reading:string:'generalisation' -> 'XXgeneralisationXX':4":
        "a name in by_mean (the parts whose mean is above 0): only their number is read",
    "exercises.lesson06:check_smoothing_entropy:number:0 -> 1:1": _LABEL_INDEX,
    "exercises.lesson06:check_smoothing_entropy:number:0 -> 1:2": _LABEL_INDEX,
    "exercises.lesson06:check_smoothing_entropy:number:0 -> 1:3": _LABEL_INDEX,
    "exercises.lesson06:check_smoothing_entropy:number:0 -> 1:4":
        "rtol 1 instead of 0 for the mistake whose value is 0: the relative tolerance is "
        "taken of the value, 0, so it adds nothing",
    "exercises.lesson06:_ece_variant:string:'nan' -> 'XXnanXX':1":
        "unreachable: every confidence is clipped into one of the n_bins bins, so a bin is "
        "non-empty whenever there is a prediction, and with none expected_calibration_error "
        "has refused the data first (the same 'could not be read' answer)",
    "exercises.lesson06:_ece_variant:binop:- -> +:3":
        "the clamp's top n_bins - 1 becomes n_bins + 1: ceil(conf * n_bins) - 1 <= n_bins - 1 "
        "for every confidence conf <= 1, so the top of the clamp is never reached",
    "exercises.lesson06:_fitted_t:number:60 -> 61:1":
        "a 61st halving of the bisection: after 60 halvings of [log 1e-2, log 1e2] the bracket "
        "is below 1e-17 wide, under the spacing of the floats near log T, so the midpoint no "
        "longer moves",
    "exercises.lesson06:_fitted_t:cmp:> -> >=:1":
        "the bisection's test of the mean slope against 0: they differ only when the slope is "
        "exactly 0.0 at a midpoint, which no data of the tests reach",
    "exercises.lesson06:_band:number:50 -> 51:1":
        "a 51st halving in the search for the slack's edge: after 50 halvings of a bracket of "
        "log 2 in log T it is about 6e-16 wide, so the edge moves by an ulp at most",
    "exercises.lesson06:_band:number:2 -> 3:1": _BAND_BRACKET,
    "exercises.lesson06:_band:number:2 -> 3:2": _BAND_BRACKET,
    "exercises.lesson06:_band:cmp:<= -> <:1": _CHECKER_TIE,
    "exercises.lesson06:check_relaxed_moments:cmp:< -> <=:1": _CHECKER_TIE,
    "exercises.lesson06:check_calibrated_loss:cmp:<= -> <:1": _CHECKER_TIE,
    "exercises.lesson06:check_calibrated_loss:cmp:<= -> <:2": _CHECKER_TIE,
    "exercises.lesson06:check_calibrated_loss:cmp:<= -> <:3": _CHECKER_TIE,
    "exercises.lesson06:check_calibrated_loss:cmp:<= -> <:4": _CHECKER_TIE,
    "exercises.lesson01:_die:cmp:< -> <=:1": _CHECKER_TIE,
    "exercises.lesson01:_die:cmp:> -> >=:1": _CHECKER_TIE,
    "exercises.lesson01:_die:cmp:< -> <=:2": _CHECKER_TIE,
    "exercises.lesson01:_check_die:cmp:<= -> <:1": _CHECKER_TIE,
    "exercises.lesson01:_check_die:cmp:> -> >=:1": _CHECKER_TIE,
    "exercises.lesson01:exercise_3:name:.all -> .any:1":
        "the answer is one number there (read as shape ()), so all() and any() of isinf agree",
    # claims
    "claims:_exclusion:number:0 -> 1:2":
        "the default of row.get('n_diverged', 0): paired_effects always sets n_diverged, so the "
        "default is never read",
    "claims:_exclusion:bool:True -> False:1": _STRICT_ZIP,
    "claims:_exclusion:bool:True -> False:2": _STRICT_ZIP,
}


# ----------------------------------------------------------------------------- generation
def _module_name(path: str) -> str:
    return path[:-3].replace("/", ".").removesuffix(".__init__")


_CMP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
        ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn,
        ast.NotIn: ast.In}
_BIN = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
        ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.BitAnd: ast.BitOr,
        ast.BitOr: ast.BitAnd, ast.MatMult: ast.Mult}
_SWAP_NAMES = {"max": "min", "min": "max", "maximum": "minimum", "minimum": "maximum",
               "argmax": "argmin", "argmin": "argmax", "amax": "amin", "amin": "amax",
               "any": "all", "all": "any"}
_SYM = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
        ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in", ast.Add: "+",
        ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
        ast.Pow: "**", ast.BitAnd: "&", ast.BitOr: "|", ast.MatMult: "@", ast.And: "and",
        ast.Or: "or"}


def _skipped(tree: ast.Module) -> set[int]:
    """ids of the nodes whose subtrees are not mutated (see the module docstring)."""
    skip: set[int] = set()

    def cut(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    declared = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and (node.module or "").split(".")[-1] == "validation" for a in node.names}
    for node in ast.walk(tree):
        # argument declarations (maxent_lib/validation's constraints, and classes built on them)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in declared:
            cut(node)
        if isinstance(node, ast.ClassDef) and any(isinstance(b, ast.Name) and b.id in declared
                                                  for b in node.bases):
            cut(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                cut(body[0])
            if not isinstance(node, ast.Module):
                for d in node.decorator_list:
                    cut(d)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            cut(node.returns)
            for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs,
                      node.args.vararg, node.args.kwarg]:
                if a is not None:
                    cut(a.annotation)
        if isinstance(node, ast.AnnAssign):
            cut(node.annotation)
        if isinstance(node, ast.Raise):
            cut(node)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                for t in node.targets):
            cut(node)
        if isinstance(node, ast.JoinedStr):
            for v in node.values:
                if isinstance(v, ast.Constant):
                    cut(v)
                elif isinstance(v, ast.FormattedValue):
                    cut(v.format_spec)
        if isinstance(node, ast.Call):
            fn = node.func
            fname = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
            if fname == "warn":
                for a in node.args:
                    if isinstance(a, (ast.Constant, ast.JoinedStr)):
                        cut(a)
            if fname.startswith(("check_", "_check_")) and len(node.args) >= 2 and \
                    isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
                cut(node.args[1])
            for kw in node.keywords:
                if kw.arg == "stacklevel":
                    cut(kw.value)
    return skip


def _variants(node: ast.AST) -> list[tuple[str, str, object]]:
    """The mutations of one node: (operator, description, what to apply)."""
    out: list[tuple[str, str, object]] = []
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            new = _CMP.get(type(op))
            if new:
                out.append(("cmp", f"{_SYM[type(op)]} -> {_SYM[new]}", ("cmp", i, new)))
    elif isinstance(node, (ast.BinOp, ast.AugAssign)):
        new = _BIN.get(type(node.op))
        if new:
            out.append(("binop", f"{_SYM[type(node.op)]} -> {_SYM[new]}", ("op", new)))
    elif isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        out.append(("boolop", f"{_SYM[type(node.op)]} -> {_SYM[new]}", ("op", new)))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not, ast.Invert)):
        sym = {ast.USub: "-", ast.Not: "not ", ast.Invert: "~"}[type(node.op)]
        out.append(("unary", f"drop '{sym.strip()}'", ("unwrap",)))
    elif isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool):
            out.append(("bool", f"{v} -> {not v}", ("const", not v)))
        elif isinstance(v, int):
            out.append(("number", f"{v} -> {v + 1}", ("const", v + 1)))
        elif isinstance(v, float):
            out.append(("number", f"{v!r} -> {v + 1.0!r}", ("const", v + 1.0)))
        elif isinstance(v, str) and len(v.split()) < 4:
            out.append(("string", f"{v!r} -> {'XX' + v + 'XX'!r}", ("const", "XX" + v + "XX")))
    elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and \
            node.id in ("max", "min", "any", "all"):
        out.append(("name", f"{node.id} -> {_SWAP_NAMES[node.id]}", ("name", _SWAP_NAMES[node.id])))
    elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and \
            node.attr in _SWAP_NAMES:
        out.append(("name", f".{node.attr} -> .{_SWAP_NAMES[node.attr]}",
                    ("attr", _SWAP_NAMES[node.attr])))
    elif isinstance(node, ast.Break):
        out.append(("flow", "break -> continue", ("flow", ast.Continue)))
    elif isinstance(node, ast.Continue):
        out.append(("flow", "continue -> break", ("flow", ast.Break)))
    return out


def _parents(tree: ast.AST) -> dict[int, ast.AST]:
    out = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            out[id(child)] = node
    return out


def _scope_and_lines(node: ast.AST, parents: dict[int, ast.AST]
                     ) -> tuple[str, list[int], bool]:
    """The qualified name of the function or class around ``node``, the lines whose execution
    runs it (the node's own lines and its statement's first line), and whether it lies in a
    function's body (else it runs when the module is imported)."""
    names, stmt, cur, in_body = [], None, node, False
    while id(cur) in parents:
        cur_parent = parents[id(cur)]
        if stmt is None and isinstance(cur, ast.stmt):
            stmt = cur
        if isinstance(cur_parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(cur_parent.name)
        if isinstance(cur_parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and \
                any(cur is b for b in (cur_parent.body if isinstance(cur_parent.body, list)
                                       else [cur_parent.body])):
            in_body = True
        cur = cur_parent
    lines = set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    if stmt is not None:
        lines.add(stmt.lineno)
    return ".".join(reversed(names)) or "<module>", sorted(lines), in_body


def generate(short: str) -> list[dict]:
    """Every mutant of a module, in source order, each with a stable id
    ``module:scope:operator:description:n`` (n counts equal changes in the same scope)."""
    path = ROOT / MODULES[short][0]
    source = path.read_text()
    tree = ast.parse(source)
    skip, parents = _skipped(tree), _parents(tree)
    lines = source.splitlines()
    mutants, seen = [], {}
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skip or not hasattr(node, "lineno"):
            continue
        for k, (op, desc, how) in enumerate(_variants(node)):
            scope, run_lines, in_body = _scope_and_lines(node, parents)
            key = f"{short}:{scope}:{op}:{desc}"
            seen[key] = seen.get(key, 0) + 1
            mutants.append({"id": f"{key}:{seen[key]}", "module": short, "scope": scope,
                            "line": node.lineno, "operator": op, "change": desc,
                            "source": lines[node.lineno - 1].strip(), "lines": run_lines,
                            "in_function": in_body,
                            "node": index, "variant": k, "how": how})
    return mutants


def mutated_tree(short: str, mutant: dict) -> ast.Module:
    tree = ast.parse((ROOT / MODULES[short][0]).read_text())
    node = next(n for i, n in enumerate(ast.walk(tree)) if i == mutant["node"])
    parents = _parents(tree)
    how = _variants(node)[mutant["variant"]][2]
    kind = how[0]
    if kind == "cmp":
        node.ops[how[1]] = how[2]()
    elif kind == "op":
        node.op = how[1]()
    elif kind == "const":
        node.value = how[1]
    elif kind == "name":
        node.id = how[1]
    elif kind == "attr":
        node.attr = how[1]
    elif kind in ("unwrap", "flow"):
        parent = parents[id(node)]
        new = node.operand if kind == "unwrap" else how[1]()
        ast.copy_location(new, node)
        for field, value in ast.iter_fields(parent):
            if value is node:
                setattr(parent, field, new)
            elif isinstance(value, list):
                setattr(parent, field, [new if v is node else v for v in value])
    return ast.fix_missing_locations(tree)


# ----------------------------------------------------------------------------- baseline coverage
class _CoveragePlugin:
    """One coverage context per test, plus each test's duration and outcome."""

    def __init__(self, cov: object) -> None:
        self.cov, self.tests = cov, {}

    def pytest_runtest_logstart(self, nodeid: str, location: object) -> None:
        self.cov.switch_context(nodeid)
        self.tests[nodeid] = {"duration": 0.0, "outcome": "passed"}

    def pytest_runtest_logreport(self, report: object) -> None:
        t = self.tests.setdefault(report.nodeid, {"duration": 0.0, "outcome": "passed"})
        t["duration"] += report.duration
        if report.failed:
            t["outcome"] = "failed"
        elif report.skipped and t["outcome"] == "passed":
            t["outcome"] = "skipped"

    def pytest_runtest_logfinish(self, nodeid: str, location: object) -> None:
        self.cov.switch_context("")


def _coverage_run(short: str, out: Path) -> None:
    """(In a subprocess.) Run a module's test files under coverage; write which tests run each
    line, and every test's duration and outcome."""
    import coverage
    import pytest

    target = str(ROOT / MODULES[short][0])
    with tempfile.TemporaryDirectory() as tmp:
        cov = coverage.Coverage(data_file=os.path.join(tmp, "cov"), include=[target],
                                config_file=False)
        plugin = _CoveragePlugin(cov)
        cov.start()
        files = [f for f in MODULES[short][1] if (ROOT / f).exists()]
        code = pytest.main([*PYTEST_ARGS[1:], *files], plugins=[plugin])
        cov.stop()
        cov.save()
        data = cov.get_data()
        by_line = {str(k): sorted(v) for k, v in data.contexts_by_lineno(target).items()}
    out.write_text(json.dumps({"exit": int(code), "tests": plugin.tests, "lines": by_line}))


def baseline(short: str, cache: Path) -> dict:
    path = cache / f"coverage_{short.replace('.', '_')}.json"
    src = (ROOT / MODULES[short][0]).read_text()
    tests_src = "".join((ROOT / f).read_text() for f in MODULES[short][1] if (ROOT / f).exists())
    stamp = hashlib.sha256((src + "\0" + tests_src).encode()).hexdigest()
    if path.exists():
        data = json.loads(path.read_text())
        if data.get("stamp") == stamp:
            return data
    t0 = time.time()
    subprocess.run([sys.executable, __file__, "--_coverage", short, str(path)], check=True,
                   cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    data = json.loads(path.read_text())
    data["stamp"], data["seconds"] = stamp, round(time.time() - t0, 1)
    path.write_text(json.dumps(data))
    return data


# ----------------------------------------------------------------------------- running mutants
class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports one module from a mutated syntax tree instead of its file."""

    def __init__(self, name: str, path: str, tree: ast.Module) -> None:
        self.name, self.path, self.tree = name, path, tree

    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001, ANN201
        if fullname != self.name:
            return None
        is_pkg = self.path.endswith("__init__.py")
        return importlib.util.spec_from_file_location(
            fullname, self.path, loader=self,
            submodule_search_locations=[os.path.dirname(self.path)] if is_pkg else None)

    def create_module(self, spec):  # noqa: ANN001, ANN201
        return None

    def exec_module(self, module) -> None:  # noqa: ANN001
        exec(compile(self.tree, self.path, "exec"), module.__dict__)


class _Select:
    """(Fresh-import path.) Keeps only the chosen tests, in the chosen order."""

    def __init__(self, order: list[str]) -> None:
        self.order = {n: i for i, n in enumerate(order)}

    def pytest_collection_modifyitems(self, session, config, items) -> None:  # noqa: ANN001
        keep = [it for it in items if it.nodeid in self.order]
        keep.sort(key=lambda it: self.order[it.nodeid])
        config.hook.pytest_deselected(items=[it for it in items if it.nodeid not in self.order])
        items[:] = keep


def _functions(module: object, path: str) -> list[object]:
    """Every function object defined in ``path`` that ``module`` holds (module level, class
    members, the functions that decorators wrap)."""
    import inspect

    seen, out = set(), []

    def add(f: object) -> None:
        while f is not None:
            if isinstance(f, (staticmethod, classmethod)):
                f = f.__func__
                continue
            if isinstance(f, property):
                for g in (f.fget, f.fset, f.fdel):
                    add(g)
                return
            if inspect.isfunction(f) and f.__code__.co_filename == path and id(f) not in seen:
                seen.add(id(f))
                out.append(f)
            f = getattr(f, "__wrapped__", None)

    for v in list(vars(module).values()):
        if inspect.isclass(v) and v.__module__ == module.__name__:
            for w in list(vars(v).values()):
                add(w)
        else:
            add(v)
    return out


def _codes(code: object, out: dict) -> dict:
    for c in code.co_consts:
        if hasattr(c, "co_code"):
            out[(c.co_qualname, c.co_firstlineno)] = c
            _codes(c, out)
    return out


def _patch(short: str, tree: ast.Module) -> None:
    """(In the child.) Give every function of the imported module the mutated code."""
    path = str(ROOT / MODULES[short][0])
    module = sys.modules[_module_name(MODULES[short][0])]
    codes = _codes(compile(tree, path, "exec"), {})
    for f in _functions(module, path):
        new = codes.get((f.__code__.co_qualname, f.__code__.co_firstlineno))
        if new is not None and new is not f.__code__:
            f.__code__ = new


def _child(short: str, mutant: dict | None, items: list, session: object) -> int:
    """(In the forked child.) Apply the mutant and run the tests: 0 all passed, 1 one failed."""
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    tree = mutated_tree(short, mutant) if mutant else None
    if tree is not None and not mutant["in_function"]:
        # module-level code: import everything afresh, with the mutated module from memory
        for name in list(sys.modules):
            mod = sys.modules[name]
            if name == "maxent_lib" or name.startswith("maxent_lib.") or \
                    str(getattr(mod, "__file__", "") or "").startswith(str(ROOT / "tests")):
                del sys.modules[name]
        sys.meta_path.insert(0, _Finder(_module_name(MODULES[short][0]),
                                        str(ROOT / MODULES[short][0]), tree))
        import pytest

        files = sorted({it.nodeid.split("::")[0] for it in items})
        return int(pytest.main([*PYTEST_ARGS, *files],
                               plugins=[_Select([it.nodeid for it in items])]))
    if tree is not None:
        _patch(short, tree)
    from _pytest.runner import runtestprotocol

    for i, item in enumerate(items):
        nxt = items[i + 1] if i + 1 < len(items) else None
        reports = runtestprotocol(item, nextitem=nxt, log=False)
        if any(r.failed for r in reports):
            return 1
    return 0


def _cpu_seconds(pid: int) -> float | None:
    """The CPU time (user + system) a running child has used so far, from /proc (Linux); None
    where /proc is absent."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _over_time(pid: int, t0: float, timeout: float) -> bool:
    """Past the limit: ``timeout`` seconds of the child's CPU time (so that a busy machine,
    where a niced child gets a small share of a core, does not turn slow mutants into
    timeouts), or ten times ``timeout`` of wall time (a child that hangs without computing).
    Without /proc: ``timeout`` of wall time."""
    wall = time.time() - t0
    cpu = _cpu_seconds(pid)
    if cpu is None:
        return wall > timeout
    return cpu > timeout or wall > 10 * timeout


def run_mutant(short: str, mutant: dict | None, items: list, session: object, timeout: float
               ) -> tuple[str, float]:
    """Fork, apply the mutant in the child, run ``items``; 'killed', 'survived', 'timeout' or
    'error (...)', and the seconds it took. ``mutant`` None runs the unmutated code."""
    t0 = time.time()
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            os.setpgid(0, 0)
            code = _child(short, mutant, items, session)
        except BaseException:  # noqa: BLE001 - the child must always exit
            code = 2 if mutant is not None else 3
        finally:
            os._exit(code)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if _over_time(pid, t0, timeout):
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            return "timeout", time.time() - t0
        time.sleep(0.02)
    code = os.waitstatus_to_exitcode(status)
    took = time.time() - t0
    if code == 0:
        return "survived", took
    if code in (1, 2):  # a test failed, or the mutated code raised outside a test
        return "killed", took
    return f"error (exit {code})", took


def _selected(mutant: dict, base: dict) -> list[str]:
    """The tests that run the mutant's lines (for code run at import only, every test of the
    module's test files: a test may read a constant without running any of the module's
    functions), passing in the baseline and faster than MAX_TEST_SECONDS, fastest first."""
    tests = base["tests"]
    ok = {n for n, t in tests.items()
          if t["outcome"] == "passed" and t["duration"] <= MAX_TEST_SECONDS}
    contexts = {c for line in mutant["lines"] for c in base["lines"].get(str(line), [])}
    chosen = contexts - {""}
    if not mutant["in_function"] or (not chosen and "" in contexts):
        # run at import: any test of the module's files may see it
        chosen = set(tests)
    chosen &= ok
    return sorted(chosen, key=lambda n: (tests[n]["duration"], n))


class _Loop:
    """A pytest plugin that replaces the test loop: one forked run per mutant."""

    def __init__(self, short: str, base: dict, ids: set[str] | None, log: object) -> None:
        self.short, self.base, self.ids, self.log = short, base, ids, log
        self.results: list[dict] = []
        self.check = None

    def pytest_runtestloop(self, session) -> bool:  # noqa: ANN001
        by_id = {it.nodeid: it for it in session.items}
        tests = self.base["tests"]
        every = [n for n in sorted(tests, key=lambda n: tests[n]["duration"]) if n in by_id
                 and tests[n]["outcome"] == "passed" and tests[n]["duration"] <= MAX_TEST_SECONDS]
        # the unmutated code must pass (a quick check of the forked runs: the fastest tests)
        quick = every[:20]
        self.check = run_mutant(self.short, None, [by_id[n] for n in quick], session,
                                120.0 + 10.0 * sum(tests[n]["duration"] for n in quick))[0]
        if self.check != "survived":
            print(f"the unmutated code fails its tests here ({self.check})", file=self.log)
            return True
        mutants = generate(self.short)
        if self.ids:
            mutants = [m for m in mutants if m["id"] in self.ids]
        for i, m in enumerate(mutants):
            chosen = [n for n in _selected(m, self.base) if n in by_id]
            if m["id"] in EQUIVALENT:
                status, took = "equivalent", 0.0
            elif not chosen:
                status, took = "survived", 0.0
            else:
                budget = 60.0 + 10.0 * sum(tests[n]["duration"] for n in chosen)
                status, took = run_mutant(self.short, m, [by_id[n] for n in chosen], session,
                                          budget)
            rec = {k: m[k] for k in ("id", "line", "operator", "change", "source")}
            rec.update(status=status, tests=len(chosen), seconds=round(took, 2))
            if status == "equivalent":
                rec["reason"] = EQUIVALENT[m["id"]]
            self.results.append(rec)
            print(f"[{self.short} {i + 1}/{len(mutants)}] {status:9s} {took:5.1f}s "
                  f"{len(chosen):3d} tests  {m['id']}  (line {m['line']}: {m['source'][:50]})",
                  file=self.log, flush=True)
        return True


def _preimport() -> None:
    """One thread for torch and a file backend for matplotlib, before any fork."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


def _worker(short: str, cache: Path, ids: set[str] | None, out: Path) -> None:
    """(In a subprocess.) Collect the module's tests once, then run every mutant."""
    import pytest

    t0 = time.time()
    base = baseline(short, cache)
    _preimport()
    loop = _Loop(short, base, ids, sys.stdout)
    files = [f for f in MODULES[short][1] if (ROOT / f).exists()]
    pytest.main([*PYTEST_ARGS, *files], plugins=[loop])
    tests = base["tests"]
    out.write_text(json.dumps({
        "file": MODULES[short][0], "test_files": files, "unmutated_check": loop.check,
        "baseline_failing_tests": sorted(n for n, t in tests.items() if t["outcome"] == "failed"),
        "slow_tests_not_run": sorted(n for n, t in tests.items() if t["outcome"] == "passed"
                                     and t["duration"] > MAX_TEST_SECONDS),
        "baseline_seconds": base.get("seconds"), "seconds": round(time.time() - t0, 1),
        "mutants": loop.results}))


def _score(mutants: list[dict]) -> dict:
    count = {s: sum(m["status"] == s for m in mutants)
             for s in ("killed", "survived", "timeout", "equivalent")}
    count["errors"] = sum(m["status"].startswith("error") for m in mutants)
    count["total"] = len(mutants)
    non_eq = len(mutants) - count["equivalent"]
    killed = count["killed"] + count["timeout"]
    count["score"] = round(killed / non_eq, 4) if non_eq else 1.0
    return count


def _write_report(out: Path, modules: dict, commit: str, t0: float) -> dict:
    for r in modules.values():  # the equivalence list is applied to stored results too
        for m in r["mutants"]:
            if m["id"] in EQUIVALENT:
                m["status"], m["reason"] = "equivalent", EQUIVALENT[m["id"]]
            elif m["status"] == "equivalent":
                m["status"], m["reason"] = "survived", None
        r["score"] = _score(r["mutants"])
    all_mutants = [m for r in modules.values() for m in r["mutants"]]
    report = {
        "command": "nice -n 10 python tools/mutation.py",
        "commit": commit,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"host": platform.node(), "platform": platform.platform(),
                    "python": platform.python_version(), "cpus": os.cpu_count()},
        "pytest_args": PYTEST_ARGS, "max_test_seconds": MAX_TEST_SECONDS,
        "seconds_this_run": round(time.time() - t0, 1),
        "score": {"overall": _score(all_mutants),
                  **{k: r["score"] for k, r in sorted(modules.items())}},
        "equivalent": [{"id": m["id"], "line": m["line"], "source": m["source"],
                        "reason": m["reason"]} for m in all_mutants
                       if m["status"] == "equivalent"],
        "survived": [{"id": m["id"], "line": m["line"], "source": m["source"]}
                     for m in all_mutants if m["status"] == "survived"],
        "modules": modules,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--modules", nargs="*", choices=list(MODULES), default=None,
                    help="modules to run (default: all); others are kept from --out")
    ap.add_argument("--ids", nargs="*", default=None, help="run only these mutant ids")
    ap.add_argument("--list", nargs="*", choices=list(MODULES), default=None,
                    help="print the mutants of these modules and exit")
    ap.add_argument("--out", default=str(ROOT / "results" / "mutation.json"))
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "maxent_mutation"),
                    help="folder for the baseline coverage runs (reused while unchanged)")
    ap.add_argument("--from-cache", nargs="*", default=None,
                    help="take these modules' results from the last worker run in --cache")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite --out from its stored results (after editing EQUIVALENT)")
    ap.add_argument("--_coverage", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--_worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._coverage:
        _coverage_run(args._coverage[0], Path(args._coverage[1]))
        return 0
    if args._worker:
        _worker(args._worker[0], Path(args.cache), set(args.ids) if args.ids else None,
                Path(args._worker[1]))
        return 0
    if args.list is not None:
        for short in args.list or list(MODULES):
            for m in generate(short):
                eq = "  [equivalent]" if m["id"] in EQUIVALENT else ""
                print(f"{m['id']}  line {m['line']}: {m['source']}{eq}")
        return 0
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    out = Path(args.out)
    previous = json.loads(out.read_text()) if out.exists() else {}
    modules = dict(previous.get("modules", {}))
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "maxent_lib", "tests"],
                           cwd=ROOT, capture_output=True, text=True).stdout.strip()
    t0 = time.time()
    for short in [] if args.report_only else args.modules or list(MODULES):
        part = cache / f"result_{short.replace('.', '_')}.json"
        if short not in (args.from_cache or []):
            part.unlink(missing_ok=True)
            subprocess.run([sys.executable, __file__, "--_worker", short, str(part),
                            *(["--ids", *args.ids] if args.ids else []), "--cache", str(cache)],
                           check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        res = json.loads(part.read_text())
        res.update(commit=commit, dirty=bool(dirty),
                   date=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                   score=_score(res["mutants"]))
        if args.ids and short in modules:  # merge the rerun mutants into the module's record
            old = {m["id"]: m for m in modules[short]["mutants"]}
            old.update({m["id"]: m for m in res["mutants"]})
            res["mutants"] = list(old.values())
            res["score"] = _score(res["mutants"])
            res["seconds"] = modules[short]["seconds"]
        modules[short] = res
        print(f"== {short}: {res['score']}", flush=True)
        _write_report(out, modules, commit, t0)
    report = _write_report(out, modules, commit, t0)
    print(f"== overall: {report['score']['overall']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

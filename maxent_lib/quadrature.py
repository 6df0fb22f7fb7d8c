"""Expectations over a synthetic task's input distribution by quadrature (lesson 03).

The exact feature-condition gaps are expectations E_x[g(x)] over the known density P(x) of a
synthetic task, with the labels integrated out by the exact posterior. This module turns such an
expectation into a weighted sum over nodes, sum_i w_i g(x_i), with no random numbers:

- :class:`~maxent_lib.data.GaussianMixtureTask` (up to 3-D): a tensor-product grid of
  composite Gauss-Legendre rules (panels of 8 nodes) over the box that reaches 9 standard
  deviations beyond every component mean on every axis; node i gets weight
  (Legendre area weight) x P(x_i), normalised to sum to one (the mass outside the box is below
  1e-18). A grid, rather than a Gauss-Hermite rule per component, resolves a narrow class that
  sits inside a broad one (the class-covariance task), where the posterior changes on the narrow
  class's scale.
- :class:`~maxent_lib.data.CirclesTask`: the radius r ~ N(radius_k, noise^2) by Gauss-Hermite,
  the angle by the trapezoid rule on ``n`` equally spaced angles (exact for trigonometric
  polynomials of degree < n, so spectrally accurate for smooth periodic g).

How accurate a rule is for a given g is estimated, not assumed: :func:`expectation` evaluates the
sum at ``n`` and at a coarser rule and reports the difference (lesson 03 checks it against
scipy's adaptive quadrature). Introduced in lesson 03.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import logsumexp

from ._checks import as_finite_array
from .data import CirclesTask, GaussianMixtureTask, SyntheticTask
from .validation import Function, Instance, Integer, validate

__all__ = ["DEFAULT_NODES", "coarser_n", "expectation", "has_quadrature", "quadrature_nodes"]

#: Nodes per axis by input dimension (1-D, 2-D, 3-D): 512, 256^2 = 65,536 and 48^3 = 110,592
#: grid nodes for a Gaussian mixture; the circles task uses 96 radii x 96 angles per class.
DEFAULT_NODES: dict[int, int] = {1: 512, 2: 256, 3: 48}
_PANEL = 8        # Gauss-Legendre nodes per panel of the grid rule
_SPAN = 9.0       # the grid reaches this many standard deviations beyond every component mean
_CIRCLE_NODES = 96
#: The most nodes a rule may have (all axes together): about 100 MB of nodes in 3-D.
MAX_NODES = 4_000_000


#: A synthetic task (with a known input density).
_TASK = Instance((SyntheticTask,))
#: Nodes per axis: at least one panel of 8 (None: the default).
_NODES = Integer(low=_PANEL, optional=True)


@validate(task=_TASK)
def has_quadrature(task: SyntheticTask) -> bool:
    """True when :func:`quadrature_nodes` supports ``task``: a Gaussian mixture in at most 3
    dimensions, or the circles task. Introduced in lesson 03."""
    if isinstance(task, GaussianMixtureTask):
        return task.dim <= 3
    return isinstance(task, CirclesTask)


def _default_n(task: SyntheticTask) -> int:
    return _CIRCLE_NODES if isinstance(task, CirclesTask) else DEFAULT_NODES[task.dim]


def _circle_nodes(task: CirclesTask, n: int) -> tuple[np.ndarray, np.ndarray]:
    z, h = np.polynomial.hermite.hermgauss(n)
    z, h = np.sqrt(2.0) * z, h / np.sqrt(np.pi)          # E over N(0, 1)
    theta = 2 * np.pi * np.arange(n) / n
    r = task.radii[:, None] + task.noise * z[None, :]    # (K, n) radii, as the task samples them
    wr = task.priors[:, None] * h[None, :]
    X = np.stack([(r[..., None] * np.cos(theta)).ravel(),
                  (r[..., None] * np.sin(theta)).ravel()], axis=1)
    w = (wr[..., None] * np.full(n, 1.0 / n)).ravel()
    return X, w / w.sum()


def _grid_nodes(task: GaussianMixtureTask, n: int) -> tuple[np.ndarray, np.ndarray]:
    means = np.array([m for comps in task.components for _, m, _ in comps])
    sds = np.array([np.sqrt(np.diag(S)) for comps in task.components for _, _, S in comps])
    lo, hi = (means - _SPAN * sds).min(axis=0), (means + _SPAN * sds).max(axis=0)
    z, h = np.polynomial.legendre.leggauss(_PANEL)
    panels = max(1, n // _PANEL)
    axes, weights = [], []
    for j in range(task.dim):
        edges = np.linspace(lo[j], hi[j], panels + 1)
        half = (edges[1] - edges[0]) / 2
        axes.append(((edges[:-1] + edges[1:])[:, None] / 2 + half * z[None, :]).ravel())
        weights.append(np.tile(h * half, panels))
    X = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)
    area = np.prod(np.meshgrid(*weights, indexing="ij"), axis=0).ravel()
    w = area * np.exp(logsumexp(task.log_joint(X), axis=1))   # Legendre weight x P(x)
    return X, w / w.sum()


@validate(task=_TASK, n=_NODES)
def quadrature_nodes(task: SyntheticTask, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Nodes X (N, d) and non-negative weights w (N,), summing to one, with
    sum_i w_i g(X_i) ~ E_{x ~ P(x)}[g(x)] for the task's input density P(x).

    ``n`` is the number of nodes per axis (default :data:`DEFAULT_NODES` by dimension, 96 for the
    circles task; the grid rounds it down to a multiple of 8). Raises ``ValueError`` for a task
    without a rule (see :func:`has_quadrature`), ``n < 8``, or a rule of more than
    :data:`MAX_NODES` nodes; ``TypeError`` for a task that is not a synthetic task or an ``n``
    that is not an integer. Introduced in lesson 03."""
    if not has_quadrature(task):
        raise ValueError(f"no quadrature rule for {type(task).__name__} in {task.dim} dimensions "
                         "(Gaussian mixtures up to 3-D and the circles task have one)")
    n_ax = _default_n(task) if n is None else n
    per_class = task.n_classes if isinstance(task, CirclesTask) else 1
    dims = 2 if isinstance(task, CirclesTask) else task.dim
    if per_class * n_ax**dims > MAX_NODES:
        raise ValueError(f"n = {n_ax} nodes per axis make more than {MAX_NODES:,} nodes in "
                         f"{task.dim} dimensions; lower n")
    if isinstance(task, CirclesTask):
        return _circle_nodes(task, int(n_ax))
    return _grid_nodes(task, int(n_ax))  # type: ignore[arg-type]


@validate(task=_TASK, n=_NODES)
def coarser_n(task: SyntheticTask, n: int | None = None) -> tuple[int, int]:
    """The rule with ``n`` nodes per axis (default :data:`DEFAULT_NODES`) as it is used, and
    the coarser rule an error estimate compares it with: (n_fine, n_coarse) nodes per axis,
    n_coarse about three quarters of n_fine and strictly fewer (the grid rule rounds ``n`` down
    to whole panels of 8, so the coarser grid has fewer panels). Raises ``ValueError`` when no
    coarser rule exists (a grid of one panel, n < 16; the circles rule with n < 9).
    Introduced in lesson 03."""
    if not has_quadrature(task):
        raise ValueError(f"no quadrature rule for {type(task).__name__} in {task.dim} dimensions "
                         "(Gaussian mixtures up to 3-D and the circles task have one)")
    n_ax = _default_n(task) if n is None else n
    if isinstance(task, CirclesTask):
        fine, coarse = n_ax, max(_PANEL, (3 * n_ax) // 4)
    else:
        panels = n_ax // _PANEL
        fine, coarse = _PANEL * panels, _PANEL * max(1, (3 * panels) // 4)
    if coarse >= fine:
        least = _PANEL + 1 if isinstance(task, CirclesTask) else 2 * _PANEL
        raise ValueError(f"n = {n_ax} nodes per axis has no coarser rule to estimate its error "
                         f"with; use n >= {least}")
    return fine, coarse


@validate(task=_TASK, g=Function("a function of the nodes X (N, d) -> values (N,) or (N, q)"),
          n=_NODES)
def expectation(task: SyntheticTask, g: Callable[[np.ndarray], np.ndarray],
                n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """E_x[g(x)] by :func:`quadrature_nodes` with ``n`` nodes per axis, and an error estimate:
    the absolute difference from the rule with about three quarters as many nodes per axis
    (:func:`coarser_n`).

    ``g`` maps nodes (N, d) to values (N,) or (N, q); returns (value, error), each of shape ()
    or (q,). Raises ``TypeError`` if ``g`` is not callable, ``ValueError`` if its values are
    not finite or not one row per node. Introduced in lesson 03."""
    values = []
    for m in coarser_n(task, n):
        X, w = quadrature_nodes(task, m)
        gx = as_finite_array(g(X), "g(X)", ndim=(1, 2))
        if len(gx) != len(X):
            raise ValueError(f"g(X) must have one row per node ({len(X)}), got {len(gx)}")
        values.append(np.tensordot(w, gx, axes=(0, 0)))
    return values[0], np.abs(values[0] - values[1])

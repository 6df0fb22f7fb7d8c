"""Data sets, all made or shipped locally (nothing downloads).

- Synthetic tasks whose true P(Y|X) is known exactly (lessons 01-04): Gaussian classes with a
  shared covariance (FC1 and FC2 hold for T = X), with class-specific covariances and XOR (FC2
  fails), concentric circles, and :meth:`GaussianMixtureTask.marginal` to drop coordinates (FC1
  fails) while keeping the exact posterior of what is left.
- MNIST-1D (Greydanus 2020), generated with ``mnist1d.data.make_dataset`` and cached as ``.npz``
  (lessons 02, 04-06). The cache folder is ``MAXENT_DATA_DIR`` or ``~/.cache/maxent_course``.
- scikit-learn's bundled 8x8 digits (lesson 02).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal, norm

from ._checks import as_finite_array


@dataclass(frozen=True)
class Split:
    """A train/test split: ``X_*`` has shape (n, d), ``y_*`` holds labels 0..n_classes-1."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    name: str = ""

    def as_tuple(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(X_train, y_train, X_test, y_test)``, the form ``ablation.run_grid`` also accepts."""
        return self.X_train, self.y_train, self.X_test, self.y_test


def _check_sizes(n: int, name: str = "n") -> int:
    if not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"{name} must be a positive integer, got {n!r}")
    return int(n)


class SyntheticTask:
    """A classification task with an exact posterior. Subclasses implement ``_sample`` and
    ``log_joint``; ``posterior`` and ``split`` follow. Introduced in lesson 01."""

    n_classes: int
    dim: int
    priors: np.ndarray
    name: str = "synthetic"

    def _sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def log_joint(self, X: np.ndarray) -> np.ndarray:
        """log P(x, y=k) for each row of ``X`` and each class k: shape (n, K)."""
        raise NotImplementedError

    def sample(self, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` pairs (x, y): y from the class priors, x from its class density."""
        return self._sample(_check_sizes(n), np.random.default_rng(seed))

    def posterior(self, X: np.ndarray) -> np.ndarray:
        """The true P(y | x), shape (n, K): Bayes' rule on the exact class densities."""
        X = as_finite_array(X, "X", ndim=2)
        if X.shape[1] != self.dim:
            raise ValueError(f"X must have {self.dim} columns for this task, got {X.shape[1]}")
        lj = self.log_joint(X)
        return np.exp(lj - logsumexp(lj, axis=1, keepdims=True))

    def split(self, n_train: int, n_test: int, seed: int = 0) -> Split:
        """Independent train and test samples (the test seed is derived from ``seed``)."""
        X_tr, y_tr = self.sample(n_train, seed)
        X_te, y_te = self.sample(n_test, seed + 10_000)
        return Split(X_tr, y_tr, X_te, y_te, self.n_classes, self.name)


class GaussianMixtureTask(SyntheticTask):
    """Each class k is a mixture of Gaussians: x | y=k ~ sum_c w_kc N(mu_kc, Sigma_kc).

    ``components[k]`` is a list of ``(weight, mean, cov)``; ``priors`` are the class
    probabilities. One component per class with a shared covariance gives log-linear class log-odds
    (FC2 holds for T = x); class-specific covariances make them quadratic; two components per class
    placed on a square give XOR. Introduced in lesson 03.
    """

    def __init__(
        self,
        components: Sequence[Sequence[tuple[float, Sequence[float], Sequence[Sequence[float]]]]],
        priors: Sequence[float] | None = None,
        name: str = "gaussian mixture",
    ) -> None:
        if len(components) < 2:
            raise ValueError("a classification task needs at least two classes")
        self.components = [
            [(float(w), np.asarray(m, float), np.asarray(c, float)) for w, m, c in comps]
            for comps in components
        ]
        self.n_classes = len(self.components)
        self.dim = len(self.components[0][0][1])
        for comps in self.components:
            if not comps:
                raise ValueError("every class needs at least one Gaussian component")
            if abs(sum(w for w, _, _ in comps) - 1.0) > 1e-9:
                raise ValueError("the component weights of each class must sum to one")
            for _, mean, cov in comps:
                if mean.shape != (self.dim,) or cov.shape != (self.dim, self.dim):
                    raise ValueError(f"every mean must have shape ({self.dim},) and cov "
                                     f"({self.dim}, {self.dim})")
                if np.any(np.linalg.eigvalsh(cov) <= 0):
                    raise ValueError("every covariance must be symmetric positive definite")
        p = np.full(self.n_classes, 1.0 / self.n_classes) if priors is None else np.asarray(priors)
        if p.shape != (self.n_classes,) or np.any(p <= 0) or abs(p.sum() - 1) > 1e-9:
            raise ValueError("priors must be positive and sum to one, one per class")
        self.priors = p.astype(float)
        self.name = name

    def _sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        y = rng.choice(self.n_classes, size=n, p=self.priors)
        X = np.empty((n, self.dim))
        for k, comps in enumerate(self.components):
            idx = np.flatnonzero(y == k)
            which = rng.choice(len(comps), size=idx.size, p=[w for w, _, _ in comps])
            for c, (_, mean, cov) in enumerate(comps):
                rows = idx[which == c]
                X[rows] = rng.multivariate_normal(mean, cov, size=rows.size)
        return X, y

    def log_joint(self, X: np.ndarray) -> np.ndarray:
        out = np.empty((len(X), self.n_classes))
        for k, comps in enumerate(self.components):
            logs = [np.log(w) + multivariate_normal(mean, cov).logpdf(X).reshape(len(X))
                    for w, mean, cov in comps]
            out[:, k] = np.log(self.priors[k]) + logsumexp(np.stack(logs, axis=1), axis=1)
        return out

    def marginal(self, keep: Sequence[int]) -> GaussianMixtureTask:
        """The exact task seen through the coordinates ``keep`` only (a Gaussian's marginal is the
        Gaussian of the kept mean entries and covariance block). Models the features
        T(x) = x[keep], which lose information when a dropped coordinate was informative (FC1)."""
        keep = [int(i) for i in keep]
        if not keep or min(keep) < 0 or max(keep) >= self.dim or len(set(keep)) != len(keep):
            raise ValueError(
                f"keep must list distinct coordinates in 0..{self.dim - 1}, got {keep}"
            )
        comps = [[(w, m[keep], c[np.ix_(keep, keep)]) for w, m, c in cl] for cl in self.components]
        return GaussianMixtureTask(comps, self.priors, name=f"{self.name}, coords {keep}")


def shared_covariance_gaussians(n_classes: int = 3, dim: int = 2, separation: float = 2.0,
                                seed: int = 0) -> GaussianMixtureTask:
    """Gaussian classes with one shared covariance: the class log-odds are affine in x, so
    softmax regression on T = x is exactly right (FC1 and FC2 hold). Means lie at random
    directions at distance ``separation`` from the origin. Introduced in lesson 03."""
    rng = np.random.default_rng(seed)
    _check_sizes(n_classes, "n_classes"), _check_sizes(dim, "dim")
    A = rng.normal(size=(dim, dim))
    cov = A @ A.T / dim + 0.5 * np.eye(dim)
    means = rng.normal(size=(n_classes, dim))
    means = separation * means / np.linalg.norm(means, axis=1, keepdims=True)
    return GaussianMixtureTask([[(1.0, m, cov)] for m in means], name="shared-covariance Gaussians")


def class_covariance_gaussians(n_classes: int = 3, dim: int = 2, separation: float = 1.0,
                               seed: int = 0) -> GaussianMixtureTask:
    """Gaussian classes with their own covariances: the class log-odds are quadratic in x, so FC2
    fails for T = x and holds for T = (x, x x^T). Introduced in lesson 03."""
    rng = np.random.default_rng(seed)
    _check_sizes(n_classes, "n_classes"), _check_sizes(dim, "dim")
    comps = []
    for k in range(n_classes):
        A = rng.normal(size=(dim, dim)) * (0.4 + 1.2 * k / max(n_classes - 1, 1))
        mean = separation * rng.normal(size=dim) / np.sqrt(dim)
        comps.append([(1.0, mean, A @ A.T / dim + 0.1 * np.eye(dim))])
    return GaussianMixtureTask(comps, name="class-specific-covariance Gaussians")


def xor_task(spread: float = 0.35, distance: float = 1.0) -> GaussianMixtureTask:
    """Two classes on the corners of a square (class 0 at (+,+) and (-,-), class 1 at (+,-) and
    (-,+)), each corner an isotropic Gaussian. No affine function of x separates them: FC2 fails
    for T = x; the product x1*x2 repairs it approximately. Introduced in lesson 03."""
    cov = np.eye(2) * spread**2
    d = distance
    return GaussianMixtureTask(
        [[(0.5, [d, d], cov), (0.5, [-d, -d], cov)], [(0.5, [d, -d], cov), (0.5, [-d, d], cov)]],
        name="XOR",
    )


class CirclesTask(SyntheticTask):
    """Concentric rings: class k has radius r ~ N(radius_k, noise^2) and a uniform angle. The exact
    posterior depends on |x| alone (the 1/(2 pi r) factor cancels). Introduced in lesson 04."""

    def __init__(self, radii: Sequence[float] = (1.0, 2.0), noise: float = 0.25) -> None:
        self.radii = np.asarray(radii, float)
        if self.radii.ndim != 1 or len(self.radii) < 2 or np.any(self.radii <= 0):
            raise ValueError("radii must list at least two positive radii")
        if noise <= 0:
            raise ValueError("noise must be positive")
        self.noise = float(noise)
        self.n_classes, self.dim = len(self.radii), 2
        self.priors = np.full(self.n_classes, 1.0 / self.n_classes)
        self.name = "circles"

    def _sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(self.n_classes, size=n)
        r = self.radii[y] + self.noise * rng.normal(size=n)
        theta = rng.uniform(0, 2 * np.pi, size=n)
        return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1), y

    def log_joint(self, X: np.ndarray) -> np.ndarray:
        rho = np.linalg.norm(X, axis=1)[:, None]
        # r = +rho or r = -rho (angle turned by pi) give the same point
        dens = norm.pdf(rho, self.radii, self.noise) + norm.pdf(-rho, self.radii, self.noise)
        return np.log(self.priors) + np.log(np.maximum(dens, 1e-300))


def quadratic_features(X: np.ndarray) -> np.ndarray:
    """T(x) = (x, the upper triangle of x x^T): the features that make Gaussian class log-odds
    affine (lesson 03)."""
    X = as_finite_array(X, "X", ndim=2)
    i, j = np.triu_indices(X.shape[1])
    return np.concatenate([X, X[:, i] * X[:, j]], axis=1)


# ---------------------------------------------------------------- MNIST-1D and digits

def cache_dir() -> Path:
    """Where generated data sets are cached: ``MAXENT_DATA_DIR`` or ``~/.cache/maxent_course``."""
    return Path(os.environ.get("MAXENT_DATA_DIR") or Path.home() / ".cache" / "maxent_course")


def mnist1d(n_train: int = 4000, n_test: int = 1000, seed: int = 42, cache: bool = True) -> Split:
    """MNIST-1D (Greydanus 2020): 10 classes, 40 features, generated locally by
    ``mnist1d.data.make_dataset`` (never downloaded) and cached as ``.npz``.

    The defaults give the standard 4000/1000 split. ``mnist1d`` reseeds Python's and NumPy's
    global generators; their states are restored afterwards. Introduced in lesson 02.
    """
    n_train, n_test = _check_sizes(n_train, "n_train"), _check_sizes(n_test, "n_test")
    total = n_train + n_test
    if total % 10:
        raise ValueError("n_train + n_test must be a multiple of 10 (MNIST-1D is class-balanced)")
    key = json.dumps({"n_train": n_train, "n_test": n_test, "seed": seed, "v": 1})
    path = cache_dir() / f"mnist1d_{hashlib.sha1(key.encode()).hexdigest()[:12]}.npz"
    if cache and path.exists():
        with np.load(path) as f:
            return Split(f["X_train"], f["y_train"], f["X_test"], f["y_test"], 10, "MNIST-1D")
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.train_split, args.seed = total, n_train / total, seed
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        d = make_dataset(args)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    split = Split(d["x"].astype(np.float32), d["y"].astype(np.int64),
                  d["x_test"].astype(np.float32), d["y_test"].astype(np.int64), 10, "MNIST-1D")
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **{k: getattr(split, k)
                                    for k in ("X_train", "y_train", "X_test", "y_test")})
        os.replace(tmp, path)
    return split


def digits(test_fraction: float = 0.25, seed: int = 0) -> Split:
    """scikit-learn's bundled 8x8 digits (1,797 images, 64 pixels scaled to [0, 1]), split in a
    class-stratified way. Introduced in lesson 02."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X / 16.0, y, test_size=test_fraction,
                                              random_state=seed, stratify=y)
    return Split(X_tr, y_tr.astype(np.int64), X_te, y_te.astype(np.int64), 10, "8x8 digits")


def load(name: str, seed: int = 0) -> Split:
    """A named data set with its default split: ``"mnist1d"``, ``"digits"``, ``"gaussians"``,
    ``"class_cov_gaussians"``, ``"xor"``, ``"circles"`` (synthetic ones: 2000 train, 2000 test)."""
    synthetic = {
        "gaussians": lambda: shared_covariance_gaussians(seed=seed),
        "class_cov_gaussians": lambda: class_covariance_gaussians(seed=seed),
        "xor": xor_task,
        "circles": CirclesTask,
    }
    if name == "mnist1d":
        return mnist1d()
    if name == "digits":
        return digits(seed=seed)
    if name in synthetic:
        return synthetic[name]().split(2000, 2000, seed=seed)
    known = ", ".join(["mnist1d", "digits", *synthetic])
    raise ValueError(f"unknown data set {name!r}; choose one of {known}")

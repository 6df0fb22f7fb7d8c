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
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal, norm

from ._checks import MAX_CLASSES, InputTypeError, as_finite_array, check_number
from .store import locking
from .validation import (
    Array,
    Choice,
    Constraint,
    Flag,
    Integer,
    Items,
    Probabilities,
    Real,
    Seed,
    Text,
    validate,
)


@dataclass(frozen=True)
class Split:
    """A train/test split: ``X_*`` has shape (n, d), ``y_*`` holds labels 0..n_classes-1.
    Introduced in lesson 02."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    name: str = ""

    @validate()
    def as_tuple(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(X_train, y_train, X_test, y_test)``, the form ``ablation.run_grid`` also accepts."""
        return self.X_train, self.y_train, self.X_test, self.y_test


#: the largest sample one call draws (larger requests are refused, not attempted)
MAX_SAMPLES = 10**8
#: a sample size: a positive integer, at most :data:`MAX_SAMPLES`
_SIZE = Integer(low=1, high=MAX_SAMPLES)


def _check_components(components: object) -> list[list[tuple[float, np.ndarray, np.ndarray]]]:
    """Parse and check ``components[k] = [(weight, mean, cov), ...]``: finite positive weights,
    finite means and covariances of one dimension, symmetric covariances (a tiny asymmetry from
    rounding is symmetrised, so sampling and scoring use one matrix)."""
    if isinstance(components, (str, bytes)) or not isinstance(components, Sequence):
        raise InputTypeError(f"components must be a list (one entry per class) of lists of "
                             f"(weight, mean, cov), got {type(components).__name__}")
    out = []
    for k, comps in enumerate(components):
        if isinstance(comps, (str, bytes)) or not isinstance(comps, Sequence):
            raise InputTypeError(f"components[{k}] must be a list of (weight, mean, cov), got "
                                 f"{type(comps).__name__}")
        parsed = []
        for c, comp in enumerate(comps):
            where = f"components[{k}][{c}]"
            if isinstance(comp, (str, bytes)) or not isinstance(comp, Sequence) or len(comp) != 3:
                raise InputTypeError(f"{where} must be a (weight, mean, cov) triple")
            w = check_number(comp[0], f"{where} weight", low=0.0, low_open=True)
            mean = as_finite_array(comp[1], f"{where} mean", ndim=1)
            cov = as_finite_array(comp[2], f"{where} cov", ndim=2)
            if cov.shape[0] == cov.shape[1] and not np.array_equal(cov, cov.T):
                if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12 * np.abs(cov).max()):
                    raise ValueError(f"{where} cov must be symmetric (a covariance matrix)")
                cov = (cov + cov.T) / 2
            parsed.append((w, mean, cov))
        out.append(parsed)
    return out


class _Components(Constraint):
    """The ``components`` of a :class:`GaussianMixtureTask`: per class, a list of
    ``(weight, mean, cov)`` triples (:func:`_check_components`); passed on parsed."""

    def check(self, value: object, name: str, args: dict[str, object]) -> object:
        components = _check_components(value)
        if len(components) < 2:
            raise ValueError(f"{name}: a classification task needs at least two classes")
        if not components[0]:
            raise ValueError(f"{name}: every class needs at least one Gaussian component")
        dim = len(components[0][0][1])
        for comps in components:
            if not comps:
                raise ValueError(f"{name}: every class needs at least one Gaussian component")
            if abs(sum(w for w, _, _ in comps) - 1.0) > 1e-9:
                raise ValueError(f"{name}: the component weights of each class must sum to one")
            for _, mean, cov in comps:
                if mean.shape != (dim,) or cov.shape != (dim, dim):
                    raise ValueError(f"{name}: every mean must have shape ({dim},) and cov "
                                     f"({dim}, {dim})")
                if np.any(np.linalg.eigvalsh(cov) <= 0):
                    raise ValueError(f"{name}: every covariance must be symmetric positive "
                                     "definite")
        return components

    def bad_values(self, example: object) -> list[tuple[str, object, str]]:
        rest = list(example)[1:]  # type: ignore[call-overload]
        eye = np.eye(2)
        return [*super().bad_values(example), ("text", "abc", "type"),
                ("one_class", list(example)[:1], "value"),  # type: ignore[call-overload]
                ("nan_mean", [[(1.0, [np.nan, 0.0], eye)], *rest], "value"),
                ("inf_cov", [[(1.0, [0.0, 0.0], np.diag([np.inf, 1.0]))], *rest], "value"),
                ("nan_weight", [[(np.nan, [0.0, 0.0], eye)], *rest], "value"),
                ("bool_weight", [[(True, [0.0, 0.0], eye)], *rest], "type"),
                ("string_weight", [[("1.0", [0.0, 0.0], eye)], *rest], "type"),
                ("weights_not_one", [[(0.5, [0.0, 0.0], eye)], *rest], "value"),
                ("non_symmetric_cov", [[(1.0, [0.0, 0.0], [[1.0, 0.9], [0.0, 1.0]])], *rest],
                 "value"),
                ("not_positive_definite", [[(1.0, [0.0, 0.0], -eye)], *rest], "value"),
                ("cov_shape", [[(1.0, [0.0, 0.0], np.eye(3))], *rest], "value"),
                ("no_component", [[], *rest], "value"),
                ("not_a_triple", [[(1.0, [0.0, 0.0])], *rest], "type"),
                ("complex_mean", [[(1.0, [1j, 0.0], eye)], *rest], "type")]


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

    @validate(n=_SIZE, seed=Seed())
    def sample(self, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` pairs (x, y): y from the class priors, x from its class density."""
        return self._sample(n, np.random.default_rng(seed))

    def _check_X(self, X: np.ndarray) -> np.ndarray:
        if X.shape[1] != self.dim:
            raise ValueError(f"X must have {self.dim} columns for this task, got {X.shape[1]}")
        return X

    @validate(X=Array(ndim=2))
    def posterior(self, X: np.ndarray) -> np.ndarray:
        """The true P(y | x), shape (n, K): Bayes' rule on the exact class densities."""
        X = self._check_X(X)
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            lj = self.log_joint(X)
        if np.any(np.isnan(lj) | (lj == np.inf)) or np.any(np.all(lj == -np.inf, axis=1)):
            raise ValueError(f"X has points so far from every class (|x| up to "
                             f"{np.abs(X).max():.3g}) that their class densities are not "
                             "representable in float64, so the posterior cannot be computed")
        return np.exp(lj - logsumexp(lj, axis=1, keepdims=True))

    @validate(n_train=_SIZE, n_test=_SIZE, seed=Seed())
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

    @validate(components=_Components(), priors=Probabilities(ndim=1, atol=1e-9, optional=True),
              name=Text())
    def __init__(
        self,
        components: Sequence[Sequence[tuple[float, Sequence[float], Sequence[Sequence[float]]]]],
        priors: Sequence[float] | None = None,
        name: str = "gaussian mixture",
    ) -> None:
        self.components = components
        self.n_classes = len(self.components)
        self.dim = len(self.components[0][0][1])
        p = np.full(self.n_classes, 1.0 / self.n_classes) if priors is None else priors
        if p.shape != (self.n_classes,) or np.any(p <= 0):
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

    @validate(X=Array(ndim=2))
    def log_joint(self, X: np.ndarray) -> np.ndarray:
        """log P(x, y=k) for each row of ``X`` and each class k: shape (n, K)."""
        X = self._check_X(X)
        out = np.empty((len(X), self.n_classes))
        for k, comps in enumerate(self.components):
            logs = [np.log(w) + multivariate_normal(mean, cov).logpdf(X).reshape(len(X))
                    for w, mean, cov in comps]
            out[:, k] = np.log(self.priors[k]) + logsumexp(np.stack(logs, axis=1), axis=1)
        return out

    @validate(keep=Items(Integer(low=0), min_len=1, unique=True))
    def marginal(self, keep: Sequence[int]) -> GaussianMixtureTask:
        """The exact task seen through the coordinates ``keep`` only (a Gaussian's marginal is the
        Gaussian of the kept mean entries and covariance block). Models the features
        T(x) = x[keep], which lose information when a dropped coordinate was informative (FC1)."""
        if max(keep) >= self.dim:
            raise ValueError(
                f"keep must list distinct coordinates in 0..{self.dim - 1}, got {keep}"
            )
        comps = [[(w, m[keep], c[np.ix_(keep, keep)]) for w, m, c in cl] for cl in self.components]
        return GaussianMixtureTask(comps, self.priors, name=f"{self.name}, coords {keep}")


@validate(n_classes=Integer(low=2, high=MAX_CLASSES), dim=Integer(low=1, high=1000),
          separation=Real(low=0.0), seed=Seed())
def shared_covariance_gaussians(n_classes: int = 3, dim: int = 2, separation: float = 2.0,
                                seed: int = 0) -> GaussianMixtureTask:
    """Gaussian classes with one shared covariance: the class log-odds are affine in x, so
    softmax regression on T = x is exactly right (FC1 and FC2 hold). Means lie at random
    directions at distance ``separation`` from the origin. Introduced in lesson 03."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(dim, dim))
    cov = A @ A.T / dim + 0.5 * np.eye(dim)
    means = rng.normal(size=(n_classes, dim))
    means = separation * means / np.linalg.norm(means, axis=1, keepdims=True)
    return GaussianMixtureTask([[(1.0, m, cov)] for m in means], name="shared-covariance Gaussians")


@validate(n_classes=Integer(low=2, high=MAX_CLASSES), dim=Integer(low=1, high=1000),
          separation=Real(low=0.0), seed=Seed())
def class_covariance_gaussians(n_classes: int = 3, dim: int = 2, separation: float = 1.0,
                               seed: int = 0) -> GaussianMixtureTask:
    """Gaussian classes with their own covariances: the class log-odds are quadratic in x, so FC2
    fails for T = x and holds for T = (x, x x^T). Introduced in lesson 03."""
    rng = np.random.default_rng(seed)
    comps = []
    for k in range(n_classes):
        A = rng.normal(size=(dim, dim)) * (0.4 + 1.2 * k / max(n_classes - 1, 1))
        mean = separation * rng.normal(size=dim) / np.sqrt(dim)
        comps.append([(1.0, mean, A @ A.T / dim + 0.1 * np.eye(dim))])
    return GaussianMixtureTask(comps, name="class-specific-covariance Gaussians")


@validate(spread=Real(low=1e-150, high=1e150), distance=Real())
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

    @validate(radii=Array(ndim=1, min_len=2, low=0.0, low_open=True),
              noise=Real(low=0.0, low_open=True))
    def __init__(self, radii: Sequence[float] = (1.0, 2.0), noise: float = 0.25) -> None:
        self.radii = radii
        self.noise = noise
        self.n_classes, self.dim = len(self.radii), 2
        self.priors = np.full(self.n_classes, 1.0 / self.n_classes)
        self.name = "circles"

    def _sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(self.n_classes, size=n)
        r = self.radii[y] + self.noise * rng.normal(size=n)
        theta = rng.uniform(0, 2 * np.pi, size=n)
        return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1), y

    @validate(X=Array(ndim=2))
    def log_joint(self, X: np.ndarray) -> np.ndarray:
        """log P(x, y=k) for each row of ``X`` and each class k: shape (n, K)."""
        X = self._check_X(X)
        rho = np.linalg.norm(X, axis=1)[:, None]
        # r = +rho or r = -rho (angle turned by pi) give the same point
        log_dens = np.logaddexp(norm.logpdf(rho, self.radii, self.noise),
                                norm.logpdf(-rho, self.radii, self.noise))
        return np.log(self.priors) + log_dens


@validate(X=Array(ndim=2))
def quadratic_features(X: np.ndarray) -> np.ndarray:
    """T(x) = (x, the upper triangle of x x^T): the features that make Gaussian class log-odds
    affine (lesson 03). Introduced in lesson 03."""
    i, j = np.triu_indices(X.shape[1])
    with np.errstate(over="ignore"):
        out = np.concatenate([X, X[:, i] * X[:, j]], axis=1)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"X has entries up to {np.abs(X).max():.3g} in magnitude, whose "
                         "products overflow float64; rescale X")
    return out


# ---------------------------------------------------------------- MNIST-1D and digits

@validate()
def cache_dir() -> Path:
    """Where generated data sets are cached: ``MAXENT_DATA_DIR`` or ``~/.cache/maxent_course``.
    Used by the library only."""
    return Path(os.environ.get("MAXENT_DATA_DIR") or Path.home() / ".cache" / "maxent_course")


#: version of the cache format (bump to invalidate every cached file)
_CACHE_FORMAT = 2
_SPLIT_ARRAYS = ("X_train", "y_train", "X_test", "y_test")
#: The SHA-256 of the arrays (:func:`_arrays_hash`) that the course's parameters generate,
#: keyed by the hash of those parameters (:func:`_params_hash`): the default split (4000/1000,
#: seed 42) with mnist1d 0.0.2.post1. Kept here, not in the cache file, so that whoever can write
#: the cache folder cannot plant other data under these parameters together with a matching
#: checksum.
_KNOWN_CONTENT: dict[str, str] = {
    "9cd2a223832a39d0e5658fef1e87cd27354bf5b4ca220d2a81dad5fa78932c9d":
        "0ba73c9116e20cb289b977b55e5f2e6beaa6ec75f2ed4a5963579e50781df965",
}


def _mnist1d_params(n_train: int, n_test: int, seed: int) -> dict[str, object]:
    """Everything the generated data depend on: the sizes, the seed, every generation argument
    of ``mnist1d.data.get_dataset_args`` (except its download URL) and the package version."""
    from importlib.metadata import PackageNotFoundError, version

    from mnist1d.data import get_dataset_args

    args = {k: v for k, v in vars(get_dataset_args()).items() if k != "url"}
    total = n_train + n_test
    args.update(num_samples=total, train_split=n_train / total, seed=seed)
    try:
        pkg = version("mnist1d")
    except PackageNotFoundError:  # pragma: no cover - imported from a source tree
        pkg = "unknown"
    return {"format": _CACHE_FORMAT, "n_train": n_train, "n_test": n_test, "seed": seed,
            "mnist1d": pkg, "args": args}


def _params_hash(params: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


def _arrays_hash(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for k in _SPLIT_ARRAYS:
        a = np.ascontiguousarray(arrays[k])
        h.update(f"{k}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _check_mnist1d_arrays(arrays: dict[str, np.ndarray], n_train: int, n_test: int) -> str | None:
    """Why ``arrays`` are not a valid MNIST-1D split of these sizes, or None if they are."""
    for k, n in (("train", n_train), ("test", n_test)):
        X, y = arrays[f"X_{k}"], arrays[f"y_{k}"]
        if X.dtype != np.float32 or X.shape != (n, 40):
            return f"X_{k} has dtype {X.dtype} and shape {X.shape}, expected float32 ({n}, 40)"
        if y.dtype != np.int64 or y.shape != (n,):
            return f"y_{k} has dtype {y.dtype} and shape {y.shape}, expected int64 ({n},)"
        if not np.all(np.isfinite(X)):
            return f"X_{k} holds NaN or inf"
        if y.min() < 0 or y.max() > 9:
            return f"y_{k} holds labels outside 0..9 ({y.min()}..{y.max()})"
    return None


def _read_mnist1d_cache(path: Path, params: dict[str, object], n_train: int,
                        n_test: int) -> Split | None:
    """The cached split if ``path`` holds a valid one for ``params``; None if there is no file;
    None with a warning if it is damaged or does not match (it is then regenerated)."""
    if not os.path.lexists(path):
        return None
    problem: str | None
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in _SPLIT_ARRAYS}
            stored_params, stored_hash = str(f["params"][()]), str(f["sha256"][()])
        known = _KNOWN_CONTENT.get(_params_hash(params))
        if stored_params != json.dumps(params, sort_keys=True):
            problem = "it was generated with other parameters"
        elif (problem := _check_mnist1d_arrays(arrays, n_train, n_test)) is None:
            content = _arrays_hash(arrays)
            if known is not None and content != known:
                problem = ("its content is not the data these parameters generate (the "
                           "library's own checksum of them differs)")
            elif content != stored_hash:
                problem = "its content does not match its checksum"
    except Exception as exc:  # noqa: BLE001 - any unreadable file is regenerated
        problem = f"it cannot be read ({type(exc).__name__}: {exc})"
    if problem is not None:
        warnings.warn(f"the cached MNIST-1D file {path} is not valid: {problem}; "
                      "regenerating it", stacklevel=3)
        return None
    return Split(arrays["X_train"], arrays["y_train"], arrays["X_test"], arrays["y_test"], 10,
                 "MNIST-1D")


def _generate_mnist1d(params: dict[str, object], n_train: int) -> Split:
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    for k, v in params["args"].items():  # type: ignore[union-attr]
        setattr(args, k, v)
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        d = make_dataset(args)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    split = Split(d["x"].astype(np.float32), d["y"].astype(np.int64),
                  d["x_test"].astype(np.float32), d["y_test"].astype(np.int64), 10, "MNIST-1D")
    problem = _check_mnist1d_arrays({k: getattr(split, k) for k in _SPLIT_ARRAYS}, n_train,
                                    int(params["n_test"]))  # type: ignore[arg-type]
    if problem is not None:  # pragma: no cover - a changed mnist1d package
        raise RuntimeError(f"mnist1d generated unexpected data: {problem}")
    return split


def _write_mnist1d_cache(path: Path, split: Split, params: dict[str, object]) -> None:
    arrays = {k: getattr(split, k) for k in _SPLIT_ARRAYS}
    meta = {"params": np.array(json.dumps(params, sort_keys=True)),
            "sha256": np.array(_arrays_hash(arrays))}
    locking.atomic_write(path, lambda f: np.savez_compressed(f, **arrays, **meta))


@validate(n_train=_SIZE, n_test=_SIZE, seed=Integer(low=0, high=2**32 - 1), cache=Flag())
def mnist1d(n_train: int = 4000, n_test: int = 1000, seed: int = 42, cache: bool = True) -> Split:
    """MNIST-1D (Greydanus 2020): 10 classes, 40 features, generated locally by
    ``mnist1d.data.make_dataset`` (never downloaded) and cached as ``.npz``.

    The defaults give the standard 4000/1000 split. ``mnist1d`` reseeds Python's and NumPy's
    global generators; their states are restored afterwards.

    The cache (in :func:`cache_dir`) is checked before it is served: the file's name and its
    stored parameters are a hash of every generation parameter (sizes, seed, the generator's
    arguments and version); the arrays must have the right shapes and dtypes (float32 (n, 40),
    int64 (n,)), finite values and labels in 0..9. Their SHA-256 checksum is then compared:

    - for the course's parameters (the defaults, with the pinned mnist1d version) with the
      checksum kept in the library itself (``_KNOWN_CONTENT``), so a planted file is refused even
      if it carries a matching checksum of its own;
    - for other parameters with the checksum stored in the file when it was written. That one
      protects against torn writes and disk damage, not against tampering: whoever can write
      the cache folder can recompute it (trust the cache folder as you trust your own files).

    A file that fails any check (truncated, planted, written by other parameters) is regenerated
    with a warning. Writes go through a uniquely named temporary file and an atomic rename, under a
    lock, so processes generating the same data at once all get identical data; a cache folder
    that cannot be written only costs the caching (a warning), never the data.
    Introduced in lesson 02.
    """
    total = n_train + n_test
    if total % 10:
        raise ValueError("n_train + n_test must be a multiple of 10 (MNIST-1D is class-balanced)")
    if total > 10**6:
        raise ValueError(f"n_train + n_test must be at most 1,000,000, got {total}")
    params = _mnist1d_params(n_train, n_test, seed)
    if not cache:
        return _generate_mnist1d(params, n_train)
    path = cache_dir() / f"mnist1d_{_params_hash(params)[:16]}.npz"
    split = _read_mnist1d_cache(path, params, n_train, n_test)
    if split is not None:
        return split
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = locking.file_lock(path, timeout=300.0)
        lock.__enter__()
    except OSError as exc:  # read-only or missing cache folder, or a lock held too long
        warnings.warn(f"cannot use the data cache folder {path.parent} ({exc}); generating "
                      "MNIST-1D without caching it", stacklevel=2)
        return _generate_mnist1d(params, n_train)
    try:
        # another process may have written it while this one waited for the lock
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            split = _read_mnist1d_cache(path, params, n_train, n_test)
        if split is not None:
            return split
        split = _generate_mnist1d(params, n_train)
        locking.remove_stale_temps(path)
        try:
            _write_mnist1d_cache(path, split, params)
        except OSError as exc:
            warnings.warn(f"could not write the data cache {path} ({exc}); the data are "
                          "fine but will be generated again next time", stacklevel=2)
        return split
    finally:
        lock.__exit__(None, None, None)


@validate(test_fraction=Real(low=0.0, high=1.0, low_open=True, high_open=True),
          seed=Integer(low=0, high=2**32 - 1))
def digits(test_fraction: float = 0.25, seed: int = 0) -> Split:
    """scikit-learn's bundled 8x8 digits (1,797 images, 64 pixels scaled to [0, 1]), split in a
    class-stratified way. Introduced in lesson 02."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X / 16.0, y, test_size=test_fraction,
                                              random_state=seed, stratify=y)
    return Split(X_tr, y_tr.astype(np.int64), X_te, y_te.astype(np.int64), 10, "8x8 digits")


#: The names :func:`load` knows.
DATASETS: tuple[str, ...] = ("mnist1d", "digits", "gaussians", "class_cov_gaussians", "xor",
                             "circles")


@validate(name=Choice(DATASETS), seed=Seed())
def load(name: str, seed: int = 0) -> Split:
    """A named data set with its default split: ``"mnist1d"``, ``"digits"``, ``"gaussians"``,
    ``"class_cov_gaussians"``, ``"xor"``, ``"circles"`` (synthetic ones: 2000 train, 2000 test).
    Introduced in lesson 05."""
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
    return synthetic[name]().split(2000, 2000, seed=seed)

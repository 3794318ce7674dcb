"""The seed's metrics as plain functions: balanced accuracy, adjusted R^2, Spearman."""

from __future__ import annotations

import numpy as np


def balanced_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean per-class recall over the classes present in ``y_true``.

    >>> balanced_accuracy(np.array(["a", "a", "b"]), np.array(["a", "b", "b"]))
    0.75
    """
    classes = np.unique(y_true)
    return float(np.mean([np.mean(y_pred[y_true == c] == c) for c in classes]))


def adjusted_r2(target: np.ndarray, predictors: np.ndarray) -> float:
    """Adjusted R^2 of an OLS fit of ``target`` on ``predictors`` (with intercept).

    The seed's "linear dependence of l on z": 1 - (1 - R^2)(n - 1)/(n - p - 1).
    """
    y = np.asarray(target, dtype=np.float64)
    x = np.asarray(predictors, dtype=np.float64).reshape(len(y), -1)
    n, p = x.shape
    if n <= p + 1 or np.var(y) == 0:
        return float("nan")
    design = np.hstack([x, np.ones((n, 1))])
    fitted = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    r2 = 1 - np.sum((y - fitted) ** 2) / np.sum((y - y.mean()) ** 2)
    return float(1 - (1 - r2) * (n - 1) / (n - p - 1))


def pair_distances(
    latent: np.ndarray, label: np.ndarray, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(l_d, z_d) of consecutive rows in a seeded random order, as the metric loss pairs them.

    l_d = |l_i - l_{i+1}|, z_d = ||z_i - z_{i+1}||_2 (the seed's eq. 8); rows without a label
    (NaN) are left out.

    >>> l_d, z_d = pair_distances(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([1.0, 3.0]))
    >>> l_d.tolist(), z_d.tolist()
    ([2.0], [5.0])
    """
    y = np.asarray(label, dtype=np.float64)
    keep = np.isfinite(y)
    z, y = np.asarray(latent, dtype=np.float64)[keep], y[keep]
    order = np.random.default_rng(seed).permutation(len(y))
    z, y = z[order], y[order]
    return np.abs(np.diff(y)), np.linalg.norm(np.diff(z, axis=0), axis=1)


def pair_distance_r2(latent: np.ndarray, label: np.ndarray, *, seed: int = 0) -> float:
    """The seed's first R^2 table: adjusted R^2 of the linear dependence of z_d on l_d.

    >>> z = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [6.0, 0.0], [10.0, 0.0]])
    >>> round(pair_distance_r2(z, z[:, 0] * 2.0), 6)
    1.0
    """
    l_d, z_d = pair_distances(latent, label, seed=seed)
    return adjusted_r2(z_d, l_d)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (NaN when either side is constant)."""
    from scipy.stats import spearmanr

    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(spearmanr(a, b)[0])


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and standard deviation over folds, ignoring NaN."""
    finite = [v for v in values if np.isfinite(v)]
    if not finite:
        return float("nan"), float("nan")
    return float(np.mean(finite)), float(np.std(finite))

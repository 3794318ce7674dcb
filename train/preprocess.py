"""The seed's preprocessing: z-score with training statistics, drop rows with any |z| > 10."""

from __future__ import annotations

import numpy as np

from serdevice.device.normalize import INPUT_CLIP

OUTLIER_Z = 10.0
__all__ = ["INPUT_CLIP", "OUTLIER_Z", "Standardizer", "outlier_mask", "standardize_and_drop"]


class Standardizer:
    """Per-feature z-score (sklearn-style): ``fit`` learns ``mean_`` and ``std_``."""

    mean_: np.ndarray
    std_: np.ndarray

    def fit(self, x: np.ndarray) -> Standardizer:
        """Learn mean and standard deviation per column; a constant column gets std 1."""
        data = np.asarray(x, dtype=np.float64)
        self.mean_ = data.mean(axis=0)
        std = data.std(axis=0)
        self.std_ = np.where(std > 1e-12, std, 1.0)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        """(x - mean) / std, as float32."""
        return ((np.asarray(x, dtype=np.float64) - self.mean_) / self.std_).astype(np.float32)

    def fit_transform(self, x: np.ndarray) -> np.ndarray:
        """``fit(x).transform(x)``."""
        return self.fit(x).transform(x)


def outlier_mask(z: np.ndarray, limit: float = OUTLIER_Z) -> np.ndarray:
    """Rows to KEEP: every |z| <= limit and finite (the seed drops -10 > z > 10).

    >>> outlier_mask(np.array([[0.0, 9.9], [10.5, 0.0], [np.nan, 0.0]])).tolist()
    [True, False, False]
    """
    values = np.asarray(z)
    return np.all(np.isfinite(values) & (np.abs(values) <= limit), axis=1)


def standardize_and_drop(
    x: np.ndarray, limit: float = OUTLIER_Z
) -> tuple[Standardizer, np.ndarray, np.ndarray]:
    """Fit on ``x``, return (standardizer, kept z rows, keep mask); refit on the kept rows.

    The statistics kept for export are those of the rows that remain.
    """
    first = Standardizer().fit(np.nan_to_num(x))
    keep = outlier_mask(first.transform(np.nan_to_num(x)), limit) & np.all(np.isfinite(x), axis=1)
    final = Standardizer().fit(x[keep])
    return final, final.transform(x[keep]), keep

"""The seed's preprocessing: z-score with training statistics, drop rows with any |z| > 10.

Two normalizations: ``global`` (the seed's: one mean and std over all training rows) and
``speaker`` (each speaker z-scored with their own statistics, which is what a per-wearer
calibration gives the device; see ``speaker_groups`` for speakers heard in one state only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from serdevice.device.normalize import INPUT_CLIP

if TYPE_CHECKING:
    from .dataset import FeatureSet

NORMALIZATIONS = ("global", "speaker")
MIN_STATES = 3  # a speaker's own statistics are used when they were heard in >= 3 of the 4 classes

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


def speaker_groups(data: FeatureSet) -> np.ndarray:
    """The normalization group of each row: its speaker, or its corpus when the speaker was heard
    in fewer than MIN_STATES of the four classes.

    A speaker's own statistics only remove the voice when they span a mix of states: URDU's
    speaker codes each carry one emotion, and z-scoring them alone would erase the emotion.
    """
    from .dataset import FOUR_CLASSES

    groups = np.array([f"speaker:{g}" for g in data.group], dtype=object)
    for group in np.unique(data.group):
        rows = data.group == group
        if len(set(data.label[rows].tolist()) & set(FOUR_CLASSES)) < MIN_STATES:
            groups[rows] = f"corpus:{data.corpus[rows][0]}"
    return groups.astype(str)


def group_standardize(x: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, Standardizer]:
    """z-score each group with its own statistics; also the "typical group" statistics (the mean
    of the group means, the root mean square of the group stds) that stand in for an unseen
    speaker on a device that has no calibration yet."""
    z = np.empty_like(np.asarray(x, dtype=np.float64))
    means, stds = [], []
    for group in np.unique(groups):
        rows = groups == group
        own = Standardizer().fit(x[rows])
        z[rows] = own.transform(x[rows])
        means.append(own.mean_)
        stds.append(own.std_)
    typical = Standardizer()
    typical.mean_, typical.std_ = np.mean(means, axis=0), np.sqrt(np.mean(np.square(stds), axis=0))
    return z, typical


def normalize_and_drop(
    data: FeatureSet, normalization: str = "global", limit: float = OUTLIER_Z
) -> tuple[Standardizer, np.ndarray, np.ndarray]:
    """(statistics the device uses uncalibrated, kept z rows, keep mask) for either normalization.

    The |z| > limit rule is applied to the z-scores the model trains on, whichever they are.
    """
    if normalization == "global":
        return standardize_and_drop(data.x, limit)
    finite = np.all(np.isfinite(data.x), axis=1)
    groups = speaker_groups(data)
    z, _ = group_standardize(np.nan_to_num(data.x), groups)
    keep = outlier_mask(z, limit) & finite
    z_kept, typical = group_standardize(data.x[keep], groups[keep])
    return typical, z_kept.astype(np.float32), keep

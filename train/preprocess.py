"""The seed's preprocessing: z-score with training statistics, drop rows with any |z| > 10.

Two normalizations: ``global`` (the seed's: one mean and std over all training rows) and
``speaker`` (each speaker z-scored with their own statistics, which is what a per-wearer
calibration gives the device; see ``speaker_groups`` for speakers heard in one state only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from serdevice.device.stream.normalize import INPUT_CLIP

if TYPE_CHECKING:
    from .dataset import FeatureSet

NORMALIZATIONS = ("global", "speaker", "speaker-heard")
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


def heard_subset(n: int, group: str) -> np.ndarray:
    """The rows of a group an adaptive device might have heard when it answers: a random share
    (uniform 10-100 %, at least 8 rows) of them, fixed by the group's name.

    >>> len(heard_subset(100, "speaker:a")) == len(heard_subset(100, "speaker:a")) >= 10
    True
    """
    import hashlib

    rng = np.random.default_rng(int(hashlib.sha256(group.encode()).hexdigest()[:16], 16))
    k = min(n, max(8, int(round(n * rng.uniform(0.1, 1.0)))))
    return np.sort(rng.choice(n, size=k, replace=False))


def group_standardize(x: np.ndarray, groups: np.ndarray, *,
                      heard: bool = False) -> tuple[np.ndarray, Standardizer]:  # fmt: skip
    """z-score each group with its own statistics; also the "typical group" statistics (the mean
    of the group means, the root mean square of the group stds) that stand in for an unseen
    speaker on a device that has no calibration yet. ``heard``: each speaker's statistics from
    ``heard_subset`` of their rows (what the adaptive device's statistics rest on early on);
    groups that are whole corpora keep all their rows."""
    z = np.empty_like(np.asarray(x, dtype=np.float64))
    means, stds = [], []
    for group in np.unique(groups):
        rows = groups == group
        fit_rows = x[rows]
        if heard and group.startswith("speaker:"):
            fit_rows = fit_rows[heard_subset(len(fit_rows), group)]
        own = Standardizer().fit(fit_rows)
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
    heard = normalization == "speaker-heard"
    z, _ = group_standardize(np.nan_to_num(data.x), groups, heard=heard)
    keep = outlier_mask(z, limit) & finite
    z_kept, typical = group_standardize(data.x[keep], groups[keep], heard=heard)
    return typical, z_kept.astype(np.float32), keep

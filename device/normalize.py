"""z-scores with the model's training statistics (or a wearer's calibration), clipped as trained."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


class Normalizer:
    """(x - mean) / std, then clip to +-clip when the model was trained that way."""

    def __init__(self, mean: ArrayLike, std: ArrayLike, clip: float | None = None) -> None:
        self.mean_ = np.asarray(mean, dtype=np.float32)
        self.std_ = np.asarray(std, dtype=np.float32)
        self.clip = clip

    def __call__(self, values: np.ndarray) -> np.ndarray:
        z = (np.asarray(values, dtype=np.float32) - self.mean_) / self.std_
        return z if self.clip is None else np.clip(z, -self.clip, self.clip)

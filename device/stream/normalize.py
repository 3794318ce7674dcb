"""z-scores with the model's training statistics (or a wearer's calibration), clipped as trained."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from .model import Model


# Deployable models are trained on z-scores clipped to +-INPUT_CLIP (the sidecar's
# ``input_clip``): it keeps the int8 input step at 2*4/255 instead of ~0.08 for |z| <= 10.
INPUT_CLIP = 4.0


def clip_z(z: np.ndarray, clip: float | None) -> np.ndarray:
    """z-scores clipped to +-clip (unchanged when ``clip`` is None).

    >>> clip_z(np.array([-9.0, 0.5, 9.0]), 4.0).tolist()
    [-4.0, 0.5, 4.0]
    """
    return z if clip is None else np.clip(z, -clip, clip)


class Normalizer:
    """(x - mean) / std, then clip to +-clip when the model was trained that way."""

    def __init__(self, mean: ArrayLike, std: ArrayLike, clip: float | None = None) -> None:
        self.mean_ = np.asarray(mean, dtype=np.float32)
        self.std_ = np.asarray(std, dtype=np.float32)
        self.clip = clip

    @classmethod
    def for_model(cls, model: Model) -> Normalizer:
        """The model's own training statistics and clip, from its sidecar."""
        sidecar = model.sidecar
        return cls(sidecar.norm_mean, sidecar.norm_std, sidecar.input_clip)

    @property
    def windows(self) -> int | None:
        """Speech windows the statistics rest on (None: fixed statistics, nothing adapts)."""
        return None

    def update(self, values: np.ndarray) -> None:
        """Hear one speech window's raw features (fixed statistics: nothing to learn)."""

    def __call__(self, values: np.ndarray) -> np.ndarray:
        return clip_z((np.asarray(values, dtype=np.float32) - self.mean_) / self.std_, self.clip)

"""Online normalization to the wearer: running statistics of this wearer's speech windows.

The models are trained on per-speaker z-scores, so they only mean something on the wearer's own
statistics. ``AdaptiveNormalizer`` estimates them on the stream, causally (a window is normalized
with the statistics of the windows up to and including itself, never a later one):

- **Running wearer statistics** (``RunningStats``): each speech window updates a per-feature mean
  and variance with rate ``1 / min(n, horizon)``: exact mean and variance of everything heard
  while ``n`` is below the horizon, then an exponential memory of ``horizon`` windows (hours of
  speech), so one long angry episode does not become the new neutral.
- **Outliers**: once ``warmup`` windows are in, a window's features are clipped to
  ``outlier_z`` standard deviations of the current estimate before they update it.
- **Hand-over**: the statistics in use are the model's training statistics (the sidecar's) and
  the wearer's, mixed with the wearer's weight ``w = n / (n + prior)`` (``n`` capped at the
  horizon); ``prior`` is a few tens of windows, so the device is the wearer's within a minute of
  speech.

The state is statistics only (never audio); ``calibration.py`` reads and writes it (the same file
format as ``serdevice calibrate``'s).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from .contracts import N_FEATURES
from .normalize import Normalizer

# Speech windows after which the answers mean what the model can give (docs/adaptation.md: the
# adaptive figures within 0.03 of the speaker's own statistics); before it, "adapting".
ADAPTED_WINDOWS = 240


@dataclass(frozen=True, slots=True, kw_only=True)
class AdaptConfig:
    """How fast the device hands over to the wearer and how long it remembers."""

    prior_windows: float = 20.0  # the sidecar's statistics count as this many windows
    horizon_windows: float = 14_400.0  # 2 h of speech at the 0.5 s hop: the memory
    outlier_z: float = 4.0  # clip a window's features to this many stds before they update
    warmup_windows: int = 60  # no outlier clipping before this many windows (30 s of speech)


DEFAULT_ADAPT = AdaptConfig()


class RunningStats:
    """Per-feature mean and variance of the windows heard, forgetting past ``horizon`` windows."""

    def __init__(self, n: int = 0, mean: ArrayLike | None = None, var: ArrayLike | None = None,
                 *, config: AdaptConfig = DEFAULT_ADAPT) -> None:  # fmt: skip
        self.n = int(n)
        self.mean = np.zeros(N_FEATURES) if mean is None else np.array(mean, dtype=np.float64)
        self.var = np.zeros(N_FEATURES) if var is None else np.array(var, dtype=np.float64)
        self.config = config

    @property
    def effective_n(self) -> float:
        """How many windows the estimate rests on (the horizon at most)."""
        return float(min(self.n, self.config.horizon_windows))

    def update(self, values: np.ndarray) -> bool:
        """Hear one window's features (False, and nothing changes, when any is not finite).

        >>> s = RunningStats()
        >>> for v in (1.0, 2.0, 3.0):
        ...     _ = s.update(np.full(88, v))
        >>> float(s.mean[0]), round(float(s.var[0]), 4)
        (2.0, 0.6667)
        """
        x = np.asarray(values, dtype=np.float64)
        if not np.isfinite(x).all():
            return False
        config = self.config
        if self.n >= config.warmup_windows:
            limit = config.outlier_z * np.sqrt(self.var)
            x = np.clip(x, self.mean - limit, self.mean + limit)
        self.n += 1
        rate = 1.0 / min(self.n, config.horizon_windows)
        delta = x - self.mean
        self.mean += rate * delta
        self.var = (1.0 - rate) * (self.var + rate * delta * delta)
        return True

    def blend(self, prior_mean: np.ndarray, prior_var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) in use: the prior and the wearer's, mixed with the wearer's weight."""
        w = self.weight
        mean = w * self.mean + (1 - w) * prior_mean
        std = np.sqrt(w * self.var + (1 - w) * prior_var)  # > 0: w < 1 and the prior's var > 0
        return mean.astype(np.float32), std.astype(np.float32)

    @property
    def weight(self) -> float:
        """The wearer's share ``n / (n + prior)``."""
        n = self.effective_n
        return n / (n + self.config.prior_windows)


class AdaptiveNormalizer(Normalizer):
    """A ``Normalizer`` whose statistics follow the wearer's speech windows (``update``)."""

    def __init__(self, prior_mean: ArrayLike, prior_std: ArrayLike, clip: float | None = None,
                 *, stats: RunningStats | None = None, frozen: bool = False) -> None:  # fmt: skip
        self.prior_mean = np.asarray(prior_mean, dtype=np.float64)
        self.prior_var = np.asarray(prior_std, dtype=np.float64) ** 2
        self.stats = stats if stats is not None else RunningStats()
        self.frozen = frozen
        mean, std = self.stats.blend(self.prior_mean, self.prior_var)
        super().__init__(mean, std, clip)

    @property
    def windows(self) -> int | None:
        """Speech windows the wearer's statistics rest on."""
        return self.stats.n

    def update(self, values: np.ndarray) -> None:
        """Hear one speech window (before it is normalized); nothing when frozen."""
        if not self.frozen and self.stats.update(values):
            self.mean_, self.std_ = self.stats.blend(self.prior_mean, self.prior_var)

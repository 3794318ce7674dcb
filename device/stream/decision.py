"""Why did it emit ``angry``? Smoothing and emission rules, after TFLite Micro's RecognizeCommands.

Scores of the last hops within ``average_s`` are averaged; the smoothed top label is emitted as
an ``emotion`` event when (1) it differs from the last emitted label, (2) its confidence — the
softmax of the averaged SVC scores — reaches ``threshold``, (3) it was the per-hop top label in
at least ``min_count`` of the averaged hops, and (4) ``suppression_s`` passed since the last
emission. ``every_hop`` emits on every hop instead. Activation is averaged over the same hops.
``reset`` (at speech_end) forgets the history, so each stretch of speech is judged afresh.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionConfig:
    """Smoothing and emission settings (the ``listen`` options)."""

    average_s: float = 1.5
    threshold: float = 0.35
    min_count: int = 2
    suppression_s: float = 1.0
    every_hop: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Smoothed:
    """The decision after one hop."""

    label: str
    confidence: float
    scores: np.ndarray  # averaged
    activation: float  # averaged, 1-5
    emit: bool  # an emotion event is due


def softmax(x: np.ndarray) -> np.ndarray:
    """Numerically stable softmax.

    >>> softmax(np.array([0.0, 0.0])).tolist()
    [0.5, 0.5]
    """
    e = np.exp(x - np.max(x))
    return e / e.sum()


class Decision:
    """Feed (t, scores, activation) per speech hop; get what to say."""

    def __init__(self, labels: tuple[str, ...], config: DecisionConfig) -> None:
        self.labels = labels
        self.config = config
        self._history: deque[tuple[float, np.ndarray, float]] = deque()
        self._last_label: str | None = None
        self._last_emit_t = float("-inf")

    def update(self, t: float, scores: np.ndarray, activation: float) -> Smoothed:
        """Add one hop at audio time ``t`` (s) and decide."""
        self._history.append((t, np.asarray(scores, dtype=np.float64), float(activation)))
        while self._history and self._history[0][0] <= t - self.config.average_s:
            self._history.popleft()
        stacked = np.stack([s for _, s, _ in self._history])
        mean = stacked.mean(axis=0)
        top = int(np.argmax(mean))
        confidence = float(softmax(mean)[top])
        count = int(np.sum(np.argmax(stacked, axis=1) == top))
        label = self.labels[top]
        emit = self.config.every_hop or (
            label != self._last_label
            and confidence >= self.config.threshold
            and count >= self.config.min_count
            and t - self._last_emit_t >= self.config.suppression_s
        )
        if emit:
            self._last_label, self._last_emit_t = label, t
        return Smoothed(label=label, confidence=confidence, scores=mean,
                        activation=float(np.mean([a for _, _, a in self._history])), emit=emit)  # fmt: skip

    def reset(self) -> None:
        """Forget the hops and the last label (speech ended)."""
        self._history.clear()
        self._last_label = None

"""The one composition every command uses: feature row -> gate -> normalize -> model -> decision.

``Pipeline.step`` turns one window's ``FeatureRow`` into zero or more typed events; it has no
threads and does no I/O, and it reads time only through the ``clock`` it was given, so a test
can drive it with scripted rows and a fake clock. ``listen``, ``predict``, ``calibrate`` and
``bench`` differ in what feeds it (``runtime.Stream``) and where its events go, not in this.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .contracts import FeatureRow, Prediction
from .decision import Decision, DecisionConfig
from .events import Activation, Emotion, Event, SpeechEnd, SpeechStart
from .gate import GateConfig, GateDecision, SpeechGate
from .model import Model
from .normalize import Normalizer


@dataclass(frozen=True, slots=True, kw_only=True)
class PipelineConfig:
    """What ``listen`` can set about the analysis (the source and the sinks aside)."""

    decision: DecisionConfig = DecisionConfig()
    gate: GateConfig = GateConfig()


class Gate(Protocol):
    """The speech gate as the pipeline uses it (``gate.SpeechGate``, or a scripted one)."""

    def feed(self, chunk: np.ndarray) -> None:
        """Audio, in order, before the rows of the windows it ends."""
        ...

    def decide(self, t_end: float, window_s: float) -> GateDecision:
        """The gate's state after the window ending at ``t_end``."""
        ...


# Latency figures kept for ``bench``: the most recent ones only, so that a ``listen`` that runs for
# weeks holds a fixed amount (4096 speech hops: 34 min of speech at the 0.5 s hop).
RECENT_KEPT = 4096


def recent() -> deque[float]:
    """A bounded record of the latest figures (older ones drop out)."""
    return deque(maxlen=RECENT_KEPT)


# Told each speech window's raw row and the model's answer (before smoothing).
SpeechObserver = Callable[[FeatureRow, Prediction], None]


@dataclass
class Counts:
    """What the pipeline has seen (for the ``stop`` event, ``predict`` and ``bench``)."""

    windows: int = 0
    speech_windows: int = 0
    emotions: int = 0
    latencies_ms: deque[float] = field(default_factory=recent)  # window's last sample -> events


class Pipeline:
    """Gate, normalize, model and decide, one window at a time."""

    def __init__(
        self,
        *,
        model: Model,
        normalizer: Normalizer,
        config: PipelineConfig = PipelineConfig(),
        gate: Gate | None = None,
        clock: Callable[[], float] = time.perf_counter,
        on_speech: Sequence[SpeechObserver] = (),
    ) -> None:
        self.model = model
        self.normalizer = normalizer
        self.config = config
        self.windowing = model.sidecar.windowing
        self.gate: Gate = gate or SpeechGate(config.gate, window_s=self.windowing.window_s)
        self.decision = Decision(model.labels, config.decision)
        self.counts = Counts()
        # each speech window's row and answer, e.g. predict's answers, calibrate's rows
        self._on_speech = tuple(on_speech)
        self._clock = clock

    def feed(self, chunk: np.ndarray) -> None:
        """Audio for the speech gate (before openSMILE can finish the windows it ends)."""
        self.gate.feed(chunk)

    def step(self, row: FeatureRow, *, available_at: float) -> list[Event]:
        """The events of one window; ``available_at`` = clock time its last sample arrived."""
        self.counts.windows += 1
        t = row.t_end
        gate = self.gate.decide(t, min(self.windowing.window_s, t))
        events: list[Event] = []
        if gate.started:
            events.append(SpeechStart(t=t, speech=gate.speech_share))
        if gate.is_speech:
            events.extend(self._speech_hop(row, gate.speech_share, available_at))
        if gate.ended:
            events.append(SpeechEnd(t=t, speech=gate.speech_share))
            self.decision.reset()
        return events

    def _speech_hop(self, row: FeatureRow, speech: float, available_at: float) -> list[Event]:
        self.counts.speech_windows += 1
        self.normalizer.update(row.values)  # an adaptive normalizer hears the window first
        prediction = self.model.predict(self.normalizer(row.values))
        smoothed = self.decision.update(row.t_end, prediction.scores, prediction.activation)
        for observer in self._on_speech:
            observer(row, prediction)
        scores = dict(zip(self.model.labels, smoothed.scores.tolist(), strict=True))
        latent = tuple(prediction.latent.tolist())
        latency_ms = (self._clock() - available_at) * 1000  # one figure for the hop's events
        self.counts.latencies_ms.append(latency_ms)
        activation = Activation(t=row.t_end, label=smoothed.label, confidence=smoothed.confidence,
                                scores=scores, activation=smoothed.activation, latent=latent,
                                speech=speech, activation_raw=prediction.activation,
                                latency_ms=latency_ms,
                                norm_windows=self.normalizer.windows)  # fmt: skip
        events: list[Event] = []
        if smoothed.emit:
            self.counts.emotions += 1
            events.append(Emotion(t=activation.t, label=activation.label,
                                  confidence=activation.confidence, scores=scores,
                                  activation=activation.activation, latent=latent, speech=speech,
                                  latency_ms=latency_ms,
                                  norm_windows=activation.norm_windows))  # fmt: skip
        events.append(activation)
        return events

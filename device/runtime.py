"""The streaming loop: source -> (gate, features) -> normalize -> model -> decision -> sinks.

Threads: the source (for a microphone, PortAudio's callback fills a ring buffer) feeds this
loop, which runs the VAD and pushes audio to openSMILE; openSMILE's own thread hands each
window's row to a queue; the ``events`` thread blocks on that queue and does the rest, so a
window's event is written as soon as openSMILE finishes it. No polling; shutdown joins all.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .contracts import SAMPLE_RATE, EventType, FeatureRow
from .decision import Decision, DecisionConfig
from .events import EventFactory
from .features import MIN_PARTIAL_S, StreamingEgemaps, extract_whole
from .gate import SpeechGate
from .model import Model
from .normalize import Normalizer
from .sinks import Fanout
from .sources import AudioSource, MicSource


@dataclass(frozen=True, slots=True, kw_only=True)
class ListenConfig:
    """Everything ``listen`` can set besides the model, the source and the sinks."""

    decision: DecisionConfig = DecisionConfig()
    vad_aggressiveness: int = 2
    speech_threshold: float = 0.3
    duration_s: float | None = None
    stats_every_s: float = 30.0


@dataclass
class Summary:
    """Counts for the ``stop`` event (and for ``predict``)."""

    windows: int = 0
    speech_windows: int = 0
    emotions: int = 0
    audio_s: float = 0.0
    reason: str = "end of input"
    latencies_ms: list[float] = field(default_factory=list)  # window's last sample -> event
    processing_ms: list[float] = field(default_factory=list)  # openSMILE's row -> event


class _Clock:
    """When each stretch of audio became available (for latency_ms), bounded."""

    def __init__(self) -> None:
        self._marks: deque[tuple[int, float]] = deque(maxlen=4096)
        self._lock = threading.Lock()

    def mark(self, end_sample: int) -> None:
        with self._lock:
            self._marks.append((end_sample, time.perf_counter()))

    def available_at(self, t_end: float) -> float:
        """perf_counter time when the sample at ``t_end`` had arrived."""
        sample = round(t_end * SAMPLE_RATE)
        with self._lock:
            for end, when in self._marks:
                if end >= sample:
                    return when
            return self._marks[-1][1] if self._marks else time.perf_counter()


class Listener:
    """One stream's pipeline; ``run`` drives it to the end and returns the summary."""

    def __init__(self, *, model: Model, normalizer: Normalizer, config: ListenConfig,
                 fanout: Fanout, factory: EventFactory, keep_predictions: bool = False,
                 watchdog: Any = None) -> None:  # fmt: skip
        self.model = model
        self.normalizer = normalizer
        self.config = config
        self.fanout = fanout
        self.factory = factory
        self.window_s, self.hop_s = model.sidecar.window_s, model.sidecar.hop_s
        self.gate = SpeechGate(aggressiveness=config.vad_aggressiveness,
                               threshold=config.speech_threshold, window_s=self.window_s)  # fmt: skip
        self.decision = Decision(model.labels, config.decision)
        self.summary = Summary()
        self.predictions: list[tuple[float, Any]] = [] if keep_predictions else []
        self._keep = keep_predictions
        self._rows: queue.Queue[tuple[FeatureRow, float] | None] = queue.Queue()
        self._clock = _Clock()
        self._pushed = 0  # samples of audio fed so far (the audio clock)
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self._watchdog = watchdog  # systemd's: pinged per window, so a stalled loop is restarted

    def stop(self, reason: str) -> None:
        """End the stream soon (from a signal handler or another thread)."""
        self.summary.reason = reason
        self._stop.set()

    def emit(self, kind: EventType, **fields: Any) -> None:
        """Make and write one event."""
        self.fanout.write(self.factory.make(kind, **fields))

    def _events_loop(self) -> None:
        try:
            while (item := self._rows.get()) is not None:
                self.handle(*item)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the main thread
            self._failure = exc
            self._stop.set()

    def _row_ready(self, row: FeatureRow) -> None:
        """openSMILE's callback (its thread): queue the row with the time it became ready."""
        self._rows.put((row, time.perf_counter()))

    def handle(self, row: FeatureRow, ready: float) -> None:
        """One window: gate, model, decision, events."""
        self.summary.windows += 1
        if self._watchdog is not None:
            self._watchdog.ping()
        gate = self.gate.decide(row.t_end, min(self.window_s, row.t_end))
        if gate.started:
            self.emit(EventType.SPEECH_START, t=row.t_end, speech=gate.speech_share)
        if gate.is_speech:
            self.summary.speech_windows += 1
            prediction = self.model.predict(self.normalizer(row.values))
            smoothed = self.decision.update(row.t_end, prediction.scores, prediction.activation)
            if self._keep:
                self.predictions.append((row.t_end, prediction))
            scores = {
                label: float(s) for label, s in zip(self.model.labels, smoothed.scores, strict=True)
            }
            latency = (time.perf_counter() - self._clock.available_at(row.t_end)) * 1000
            self.summary.latencies_ms.append(latency)
            common = {"t": row.t_end, "label": smoothed.label, "confidence": smoothed.confidence,
                      "scores": scores, "activation": smoothed.activation,
                      "latent": prediction.latent.tolist(), "speech": gate.speech_share}  # fmt: skip
            if smoothed.emit:
                self.summary.emotions += 1
                self.emit(EventType.EMOTION, **common, latency_ms=latency)
            self.emit(EventType.ACTIVATION, **common, activation_raw=prediction.activation,
                      latency_ms=(time.perf_counter() - self._clock.available_at(row.t_end)) * 1000)  # fmt: skip
            self.summary.processing_ms.append((time.perf_counter() - ready) * 1000)
        if gate.ended:
            self.emit(EventType.SPEECH_END, t=row.t_end, speech=gate.speech_share)
            self.decision.reset()

    def run(self, source: AudioSource) -> Summary:
        """Drive the stream from ``source`` until it ends, ``duration_s`` passes, or ``stop``."""
        worker = threading.Thread(target=self._events_loop, name="events", daemon=True)
        worker.start()
        tail = np.zeros(int(self.window_s * SAMPLE_RATE), dtype=np.float32)
        self._pushed, next_stats = 0, self.config.stats_every_s
        limit = (
            None if self.config.duration_s is None else int(self.config.duration_s * SAMPLE_RATE)
        )
        features = StreamingEgemaps(
            window_s=self.window_s, hop_s=self.hop_s, on_row=self._row_ready
        )
        if isinstance(source, MicSource):  # a microphone can go away and come back
            source.on_fault = lambda message, **fields: self.source_fault(source, message, **fields)
            if self._watchdog is not None:  # waiting for it is not a stall
                source.on_waiting = self._watchdog.ping
        try:
            for chunk in source.chunks():
                if limit is not None and self._pushed + len(chunk) >= limit:
                    chunk = chunk[: max(0, limit - self._pushed)]
                    self.summary.reason = "duration reached"
                    self._stop.set()
                self._pushed += len(chunk)
                self._clock.mark(self._pushed)
                self.gate.feed(chunk)
                features.push(chunk)
                tail = np.concatenate([tail, chunk])[-len(tail) :] if len(tail) else tail
                if self._pushed / SAMPLE_RATE >= next_stats:
                    next_stats += self.config.stats_every_s
                    self.emit(EventType.STATS, t=self._pushed / SAMPLE_RATE, **self.stats(source))
                if self._stop.is_set():
                    break
        finally:
            source.stop()
            features.close()
        self.summary.audio_s = self._pushed / SAMPLE_RATE
        if features.rows_emitted == 0 and self._pushed >= MIN_PARTIAL_S * SAMPLE_RATE:
            # Shorter than one window: one row over all of it, so short clips are not silent.
            whole = extract_whole(tail[-self._pushed :])
            if whole is not None:
                self._row_ready(whole)
        self._rows.put(None)
        worker.join()
        if self._failure is not None:
            raise self._failure
        return self.summary

    def source_fault(self, source: AudioSource, message: str, *, lost: bool, **fields: Any) -> None:
        """The capture device went away (an ``error`` event) or came back; then a ``stats`` event."""
        t = self._pushed / SAMPLE_RATE
        if lost:
            self.emit(EventType.ERROR, t=t, message=message, fault="capture_lost", recoverable=True)
        self.emit(EventType.STATS, t=t, capture="lost" if lost else "resumed", **fields,
                  **self.stats(source))  # fmt: skip

    def stats(self, source: AudioSource) -> dict[str, Any]:
        """Counters for a ``stats`` event."""
        s = source.stats
        return {"xruns": s.overflows, "dropped_chunks": s.dropped_chunks, "nonfinite": s.nonfinite,
                "clipped": s.clipped, "odd_bytes": s.odd_bytes, "reconnects": s.reconnects,
                "windows": self.summary.windows, "cpu_s": time.process_time()}  # fmt: skip

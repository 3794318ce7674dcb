"""The streaming loop: an audio source feeds openSMILE and the pipeline; events go to the sinks.

Threads: the source (for a microphone, PortAudio's callback fills a ring buffer) feeds this
loop, which hands audio to the speech gate and to openSMILE; openSMILE's own thread hands each
window's row to a queue; the ``events`` thread blocks on that queue, runs ``Pipeline.step`` and
writes its events, so a window's events are written as soon as openSMILE finishes it. No
polling; shutdown joins all.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .contracts import SAMPLE_RATE, FeatureRow, RuntimeFailure
from .events import Counters, Error, Event, Stats, Stop
from .fanout import Fanout
from .features import MIN_PARTIAL_S, StreamingEgemaps, extract_whole
from .pipeline import Pipeline, PipelineConfig, recent
from .sources import AudioSource


@dataclass(frozen=True, slots=True, kw_only=True)
class ListenConfig:
    """Everything ``listen`` can set besides the model, the source and the sinks."""

    pipeline: PipelineConfig = PipelineConfig()
    duration_s: float | None = None
    stats_every_s: float = 30.0


@dataclass
class Summary:
    """How the stream ended (for the ``stop`` event, ``predict`` and ``bench``)."""

    audio_s: float = 0.0
    reason: str = "end of input"
    processing_ms: deque[float] = field(default_factory=recent)  # openSMILE's row -> events out


class AudioClock:
    """When each stretch of audio became available (for ``latency_ms``), bounded."""

    def __init__(self, clock: Any = time.perf_counter) -> None:
        self._clock = clock
        self._marks: deque[tuple[int, float]] = deque(maxlen=4096)
        self._lock = threading.Lock()

    def mark(self, end_sample: int) -> None:
        """Audio up to ``end_sample`` (exclusive) is available now."""
        with self._lock:
            self._marks.append((end_sample, self._clock()))

    def available_at(self, t: float) -> float:
        """Clock time when the sample at audio time ``t`` was captured.

        A chunk's last sample counts as captured when the chunk arrived and each earlier one a
        sample period before, so a sample that waits in a chunk for later audio is not counted
        as arriving late, and larger chunks cannot hide latency.
        """
        sample = round(t * SAMPLE_RATE)
        with self._lock:
            for end, when in self._marks:
                if end >= sample:
                    return when - (end - sample) / SAMPLE_RATE
            return self._marks[-1][1] if self._marks else self._clock()


class FirstWindow:
    """The first window's audio only: a clip shorter than a window still gets one row from it."""

    def __init__(self, samples: int) -> None:
        self._limit = samples
        self._parts: list[np.ndarray] = []
        self._size = 0

    def add(self, chunk: np.ndarray) -> None:
        """Keep ``chunk`` while the audio so far is shorter than a window."""
        if self._size <= self._limit:
            self._parts.append(chunk.copy())
            self._size += len(chunk)

    @property
    def complete(self) -> bool:
        """A whole window has arrived."""
        return self._size >= self._limit

    def samples(self) -> np.ndarray:
        """What was kept, as one array."""
        return np.concatenate(self._parts) if self._parts else np.zeros(0, np.float32)


class Listener:
    """One stream: ``run`` drives a source through openSMILE and the pipeline to the sinks."""

    def __init__(self, *, pipeline: Pipeline, fanout: Fanout, config: ListenConfig = ListenConfig(),
                 watchdog: Any = None, defer_features: bool = False,
                 after_window: Sequence[Callable[[], None]] = ()) -> None:  # fmt: skip
        self.pipeline = pipeline
        self.fanout = fanout
        self.config = config
        self.window_s, self.hop_s = pipeline.window_s, pipeline.hop_s
        self.summary = Summary()
        self._rows: queue.Queue[tuple[FeatureRow, float] | None] = queue.Queue()
        self._clock = AudioClock()
        self._pushed = 0  # samples of audio fed so far (the audio clock)
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self.watchdog = watchdog  # systemd's: pinged per window, so a stalled loop is restarted
        # Clips (predict): openSMILE starts only once a whole window is there; most short clips
        # never need the streaming extractor. A live stream starts it at once.
        self._defer_features = defer_features
        self._after_window = tuple(after_window)  # observers, e.g. the adaptation state's saver

    def stop(self, reason: str) -> None:
        """End the stream soon (from a signal handler or another thread)."""
        self.summary.reason = reason
        self._stop.set()

    def emit(self, event: Event) -> None:
        """Write one event to every sink."""
        self.fanout.write(event)

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
        """One window through the pipeline; its events to the sinks."""
        if self.watchdog is not None:
            self.watchdog.ping()
        events = self.pipeline.step(row, available_at=self._clock.available_at(row.t_end))
        for event in events:
            self.emit(event)
        if events:
            self.summary.processing_ms.append((time.perf_counter() - ready) * 1000)
        for observer in self._after_window:
            observer()

    def _start_features(self) -> StreamingEgemaps:
        return StreamingEgemaps(window_s=self.window_s, hop_s=self.hop_s, on_row=self._row_ready)

    def session(self, source: AudioSource, *, opening: Sequence[Event],
                on_started: Callable[[], None] = lambda: None,
                before_stop: Callable[[], None] = lambda: None) -> Summary:  # fmt: skip
        """A whole stream as ``listen`` writes it: ``opening`` (its ``start``), the events, then
        ``stop``, always last: written after the events thread has ended, also when the source
        or openSMILE failed (then an ``error`` event first, ``reason`` "error", and the failure
        is raised again)."""
        for event in opening:
            self.emit(event)
        on_started()
        try:
            return self.run(source)
        except RuntimeFailure as exc:
            self.summary.reason = "error"
            self.emit(Error(message=str(exc)))
            raise
        finally:
            before_stop()
            counts = self.pipeline.counts
            self.emit(Stop(reason=self.summary.reason, audio_s=self.summary.audio_s,
                           speech_windows=counts.speech_windows, emotions=counts.emotions,
                           norm_windows=self.pipeline.normalizer.windows,
                           counters=self.counters(source)))  # fmt: skip

    def run(self, source: AudioSource) -> Summary:
        """Drive the stream from ``source`` until it ends, ``duration_s`` passes, or ``stop``.

        However it ends (a failing source or openSMILE included), the audio heard is counted
        and the events thread has written its last event before this returns or raises.
        """
        worker = threading.Thread(target=self._events_loop, name="events", daemon=True)
        worker.start()
        first = FirstWindow(int(self.window_s * SAMPLE_RATE))
        self._pushed = 0
        features: StreamingEgemaps | None = None
        try:
            features = self._feed(source, first)
            rows = 0 if features is None else features.rows_emitted
            if rows == 0 and self._pushed >= MIN_PARTIAL_S * SAMPLE_RATE:
                # Shorter than one window: one row over all of it, so short clips are not silent.
                whole = extract_whole(first.samples()[: self._pushed])
                if whole is not None:
                    self._row_ready(whole)
        finally:
            self.summary.audio_s = self._pushed / SAMPLE_RATE
            self._rows.put(None)
            worker.join()
        if self._failure is not None:
            raise self._failure
        return self.summary

    def _feed(self, source: AudioSource, first: FirstWindow) -> StreamingEgemaps | None:
        """The source's audio to the gate and openSMILE; the extractor (closed), if started."""
        limit = (
            None if self.config.duration_s is None else int(self.config.duration_s * SAMPLE_RATE)
        )
        next_stats = self.config.stats_every_s
        features = None if self._defer_features else self._start_features()
        if features is not None:  # live sources cut their chunks where a window can close
            source.schedule = features.next_cut
        source.on_fault = lambda message, **fields: self.source_fault(source, message, **fields)
        if self.watchdog is not None:  # waiting for a lost microphone is not a stall
            source.on_waiting = self.watchdog.ping
        try:
            for chunk in source.chunks():
                if limit is not None and self._pushed + len(chunk) >= limit:
                    chunk = chunk[: max(0, limit - self._pushed)]
                    self.summary.reason = "duration reached"
                    self._stop.set()
                self._pushed += len(chunk)
                self._clock.mark(self._pushed)
                self.pipeline.feed(chunk)  # the gate sees audio before openSMILE ends a window
                first.add(chunk)
                if features is not None:
                    features.push(chunk)
                elif first.complete:
                    features = self._start_features()
                    features.push(first.samples())
                if self._pushed / SAMPLE_RATE >= next_stats:
                    next_stats += self.config.stats_every_s
                    self.emit(Stats(t=self._pushed / SAMPLE_RATE, counters=self.counters(source),
                                    norm_windows=self.pipeline.normalizer.windows))  # fmt: skip
                if self._stop.is_set():
                    break
        finally:
            source.stop()
            if features is not None:
                features.close()
        return features

    def source_fault(self, source: AudioSource, message: str, *, lost: bool, **fields: Any) -> None:
        """The capture device went away (an ``error`` event) or came back; then a ``stats`` event."""
        t = self._pushed / SAMPLE_RATE
        if lost:
            self.emit(Error(t=t, message=message, fault="capture_lost", recoverable=True))
        self.emit(Stats(t=t, capture="lost" if lost else "resumed", gap_s=fields.get("gap_s"),
                        counters=self.counters(source)))  # fmt: skip

    def counters(self, source: AudioSource) -> Counters:
        """Counters for a ``stats`` or ``stop`` event."""
        s = source.stats
        return Counters(xruns=s.overflows, dropped_chunks=s.dropped_chunks, nonfinite=s.nonfinite,
                        clipped=s.clipped, odd_bytes=s.odd_bytes, reconnects=s.reconnects,
                        windows=self.pipeline.counts.windows, cpu_s=time.process_time(),
                        mqtt_dropped=self.fanout.mqtt_dropped())  # fmt: skip

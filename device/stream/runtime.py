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
from .events import Counters, Error, Event, Start, Stats, Stop
from .fanout import Fanout
from .features import MIN_PARTIAL_S, StreamingEgemaps, extract_whole
from .pipeline import Pipeline, PipelineConfig, SpeechObserver, recent
from .sources import AudioSource
from .windowing import to_samples


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


class StreamClock:
    """The stream's one clock: how many 16 kHz samples it has had, and when each stretch became
    available (for ``latency_ms``; the last 4096 marks)."""

    def __init__(self, clock: Any = time.perf_counter) -> None:
        self._clock = clock
        self.samples = 0  # samples of audio fed so far
        self._marks: deque[tuple[int, float]] = deque(maxlen=4096)
        self._lock = threading.Lock()

    @property
    def seconds(self) -> float:
        """Audio time so far."""
        return self.samples / SAMPLE_RATE

    def advance(self, count: int) -> None:
        """``count`` more samples are available now."""
        self.samples += count
        with self._lock:
            self._marks.append((self.samples, self._clock()))

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


class Stream:
    """One stream: ``run`` drives a source through openSMILE and the pipeline to the sinks.

    It owns the stream's clock (``StreamClock``) and its windows (``Windowing``, from the model):
    it tells a live source how much audio to deliver next, so a chunk ends where openSMILE can
    close a window, and writes the stream's own ``start`` and ``stop`` (``session``). Every
    command composes one (``Stream.of``): listen, predict, calibrate, bench and loco's device
    rows differ in their source, sinks and observers, not in this.
    """

    def __init__(self, *, pipeline: Pipeline, fanout: Fanout, config: ListenConfig = ListenConfig(),
                 watchdog: Any = None, defer_features: bool = False,
                 after_window: Sequence[Callable[[], None]] = ()) -> None:  # fmt: skip
        self.pipeline = pipeline
        self.fanout = fanout
        self.config = config
        self.windowing = pipeline.windowing
        self.summary = Summary()
        self.clock = StreamClock()
        self._rows: queue.Queue[tuple[FeatureRow, float] | None] = queue.Queue()
        self._features: StreamingEgemaps | None = None
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self.watchdog = watchdog  # systemd's: pinged per window, so a stalled loop is restarted
        # Clips (predict): openSMILE starts only once a whole window is there; most short clips
        # never need the streaming extractor. A live stream starts it at once.
        self._defer_features = defer_features
        self._after_window = tuple(after_window)  # observers, e.g. the adaptation state's saver

    @classmethod
    def of(cls, model: Any, normalizer: Any, *, sinks: Sequence[Any] = (),
           config: ListenConfig = ListenConfig(), on_speech: Sequence[SpeechObserver] = (),
           **options: Any) -> Stream:  # fmt: skip
        """The stream every command builds: ``model`` with ``normalizer`` behind the gate (as
        ``config.pipeline`` sets them), its events to ``sinks``, each speech window's row and
        answer told to ``on_speech``; ``options`` as ``__init__``'s."""
        from .events import EventFactory

        pipeline = Pipeline(model=model, normalizer=normalizer, config=config.pipeline,
                            on_speech=on_speech)  # fmt: skip
        return cls(pipeline=pipeline, fanout=Fanout(list(sinks), EventFactory(model.name)),
                   config=config, **options)  # fmt: skip

    def stop(self, reason: str) -> None:
        """End the stream soon (from a signal handler or another thread)."""
        self.summary.reason = reason
        self._stop.set()

    def emit(self, event: Event) -> None:
        """Write one event to every sink."""
        self.fanout.write(event)

    def wanted(self) -> int:
        """Samples the source should deliver next (a ``sources.Schedule``): up to where the next
        piece goes to openSMILE, where a window may close."""
        features, pushed = self._features, self.clock.samples
        assert features is not None, "the schedule is set once the extractor has started"
        cut = self.windowing.next_cut(rows=features.rows_emitted, written=features.written,
                                      pushed=pushed)  # fmt: skip
        return cut - pushed

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
        events = self.pipeline.step(row, available_at=self.clock.available_at(row.t_end))
        for event in events:
            self.emit(event)
        if events:
            self.summary.processing_ms.append((time.perf_counter() - ready) * 1000)
        for observer in self._after_window:
            observer()

    def _start_features(self) -> StreamingEgemaps:
        self._features = StreamingEgemaps(self.windowing, on_row=self._row_ready)
        return self._features

    def start_event(self, source: AudioSource, *, calibration: dict[str, Any] | None = None,
                    adaptation: dict[str, Any] | None = None) -> Start:  # fmt: skip
        """The stream's ``start``: what it reads, with which model, how it normalizes."""
        model = self.pipeline.model
        return Start(source=source.name, native_rate=source.native_rate, sample_rate=SAMPLE_RATE,
                     window_s=self.windowing.window_s, hop_s=self.windowing.hop_s,
                     backend=model.backend, labels=tuple(model.labels), calibration=calibration,
                     adaptation=adaptation)  # fmt: skip

    def session(self, source: AudioSource, *, calibration: dict[str, Any] | None = None,
                adaptation: dict[str, Any] | None = None, notes: Sequence[Event] = (),
                on_started: Callable[[], None] = lambda: None,
                before_stop: Callable[[], None] = lambda: None) -> Summary:  # fmt: skip
        """A whole stream as ``listen`` writes it: its ``start`` (then ``notes``, e.g. an
        ``error`` about the adaptation state), the events, then ``stop``, always last: written
        after the events thread has ended, also when the source or openSMILE failed (then an
        ``error`` event first, ``reason`` "error", and the failure is raised again)."""
        self.emit(self.start_event(source, calibration=calibration, adaptation=adaptation))
        for event in notes:
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
        self.clock, self._features = StreamClock(), None
        first = FirstWindow(self.windowing.window_samples)
        worker = threading.Thread(target=self._events_loop, name="events", daemon=True)
        worker.start()
        try:
            self._feed(source, first)
            rows = 0 if self._features is None else self._features.rows_emitted
            if rows == 0 and self.clock.seconds >= MIN_PARTIAL_S:
                # Shorter than one window: one row over all of it, so short clips are not silent.
                whole = extract_whole(first.samples()[: self.clock.samples])
                if whole is not None:
                    self._row_ready(whole)
        finally:
            self.summary.audio_s = self.clock.seconds
            self._rows.put(None)
            worker.join()
        if self._failure is not None:
            raise self._failure
        return self.summary

    def _feed(self, source: AudioSource, first: FirstWindow) -> None:
        """The source's audio to the gate and openSMILE (the extractor closed at the end)."""
        limit = None if self.config.duration_s is None else to_samples(self.config.duration_s)
        next_stats = self.config.stats_every_s
        if not self._defer_features:
            self._start_features()
            source.schedule = self.wanted  # live sources cut their chunks where a window can close
        source.on_fault = lambda message, **fields: self.source_fault(source, message, **fields)
        if self.watchdog is not None:  # waiting for a lost microphone is not a stall
            source.on_waiting = self.watchdog.ping
        try:
            for chunk in source.chunks():
                if limit is not None and self.clock.samples + len(chunk) >= limit:
                    chunk = chunk[: max(0, limit - self.clock.samples)]
                    self.summary.reason = "duration reached"
                    self._stop.set()
                self.clock.advance(len(chunk))
                self.pipeline.feed(chunk)  # the gate sees audio before openSMILE ends a window
                first.add(chunk)
                if self._features is not None:
                    self._features.push(chunk)
                elif first.complete:
                    self._start_features().push(first.samples())
                if self.clock.seconds >= next_stats:
                    next_stats += self.config.stats_every_s
                    self.emit(Stats(t=self.clock.seconds, counters=self.counters(source),
                                    norm_windows=self.pipeline.normalizer.windows))  # fmt: skip
                if self._stop.is_set():
                    break
        finally:
            source.stop()
            if self._features is not None:
                self._features.close()

    def source_fault(self, source: AudioSource, message: str, *, lost: bool, **fields: Any) -> None:
        """The capture device went away (an ``error`` event) or came back; then a ``stats`` event."""
        t = self.clock.seconds
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

"""Measurements of the whole device loop, shared by ``serdevice bench`` and benchmarks/.

On one signal, in one process: the streaming features alone, the naive per-window baseline
(a fresh one-shot openSMILE run per window, through the same light binding), the whole
``listen`` loop (features, gate, model, decision, events to a null sink), its latency per event,
the raw interpreter invoke, and peak RSS. CPU is process-wide (``time.process_time``).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .contracts import SAMPLE_RATE, EventType
from .features import StreamingEgemaps, extract_whole

SAMPLE = Path(__file__).with_name("data") / "sample.wav"


class _NullSink:
    name = "null"

    def write(self, event: dict[str, Any]) -> None:
        """Drop it."""

    def close(self) -> None:
        """Nothing held."""


class _ArraySource:
    """A signal as 100 ms chunks, as fast as possible (the --fast file source, minus the file)."""

    def __init__(self, signal: np.ndarray) -> None:
        from .sources import SourceStats

        self.name, self.native_rate, self.stats = "bench", SAMPLE_RATE, SourceStats()
        self._signal = signal

    def chunks(self) -> Any:
        step = SAMPLE_RATE // 10
        for start in range(0, len(self._signal), step):
            yield self._signal[start : start + step]

    def stop(self) -> None:
        """Nothing to stop."""


def bench_signal(seconds: float) -> np.ndarray:
    """The bundled sample (synthetic speech) repeated to ``seconds``."""
    from .audio import read_audio

    one = read_audio(SAMPLE).samples
    return np.tile(one, int(np.ceil(seconds * SAMPLE_RATE / len(one))))[
        : int(seconds * SAMPLE_RATE)
    ]


def features_ms(signal: np.ndarray) -> float:
    """CPU ms per audio-second of the streaming extractor alone (start-up excluded)."""
    stream = StreamingEgemaps(on_row=lambda row: None)
    start = time.process_time()
    with stream:
        for i in range(0, len(signal), SAMPLE_RATE // 10):
            stream.push(signal[i : i + SAMPLE_RATE // 10])
    return (time.process_time() - start) * 1000 / (len(signal) / SAMPLE_RATE)


def naive_ms(signal: np.ndarray, *, window_s: float = 2.0, hop_s: float = 0.5) -> float:
    """CPU ms per audio-second of a fresh openSMILE run per window (the naive baseline)."""
    window, hop = int(window_s * SAMPLE_RATE), int(hop_s * SAMPLE_RATE)
    start = time.process_time()
    for s in range(0, len(signal) - window + 1, hop):
        extract_whole(signal[s : s + window])
    return (time.process_time() - start) * 1000 / (len(signal) / SAMPLE_RATE)


def loop(signal: np.ndarray, model_name: str) -> dict[str, float]:
    """The whole listen loop on ``signal``: CPU, wall, latency percentiles."""
    from .events import EventFactory
    from .model import Model
    from .normalize import Normalizer
    from .runtime import ListenConfig, Listener
    from .sinks import Fanout

    model = Model.load(model_name)
    factory = EventFactory(model.name)
    listener = Listener(
        model=model, factory=factory, config=ListenConfig(),
        normalizer=Normalizer(model.sidecar.norm_mean, model.sidecar.norm_std, model.sidecar.input_clip),
        fanout=Fanout([_NullSink()], lambda m: factory.make(EventType.ERROR, message=m)),
    )  # fmt: skip
    cpu, wall = time.process_time(), time.perf_counter()
    summary = listener.run(_ArraySource(signal))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    audio_s = len(signal) / SAMPLE_RATE
    # Budget latency is hop -> event "excluding the audio buffer": from openSMILE handing over
    # the window's row to the event being written. (The events' own latency_ms counts from the
    # window's last sample, so it also holds openSMILE's look-ahead and, with --fast, its backlog.)
    processing = np.array(summary.processing_ms or [float("nan")])
    return {"loop_ms_per_audio_s": cpu * 1000 / audio_s, "rtf": wall / audio_s,
            "latency_ms_p50": float(np.percentile(processing, 50)),
            "latency_ms_p99": float(np.percentile(processing, 99)),
            "speech_windows": float(summary.speech_windows)}  # fmt: skip


def invoke_us(model_name: str, n: int = 2000) -> float:
    """Median raw interpreter invoke, microseconds."""
    from .model import Model

    model = Model.load(model_name)
    model.predict(np.zeros(88, dtype=np.float32))
    times = []
    for _ in range(n):
        start = time.perf_counter_ns()
        model.invoke_only()
        times.append(time.perf_counter_ns() - start)
    return float(np.median(times)) / 1000


def import_ms() -> float:
    """Wall time to import serdevice.device.cli in a fresh interpreter."""
    code = "import time; t=time.perf_counter(); import serdevice.device.cli; print((time.perf_counter()-t)*1000)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def run_all(*, seconds: float = 60.0, model_name: str = "dae_metric_act") -> dict[str, float]:
    """Every figure ``serdevice bench --json`` reports."""
    signal = bench_signal(seconds)
    figures = {
        "features_ms_per_audio_s": features_ms(signal),
        "naive_features_ms_per_audio_s": naive_ms(signal),
        **loop(signal, model_name),
        "invoke_us_p50": invoke_us(model_name),
        "import_ms": import_ms(),
    }
    figures["loop_over_naive"] = (
        figures["loop_ms_per_audio_s"] / figures["naive_features_ms_per_audio_s"]
    )
    figures["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures

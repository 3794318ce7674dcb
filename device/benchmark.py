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
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .stream.contracts import SAMPLE_RATE
from .stream.features import StreamingEgemaps, extract_whole
from .stream.model import DEFAULT_MODEL

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
        from .stream.sources import SourceStats

        self.name, self.native_rate, self.stats = "bench", SAMPLE_RATE, SourceStats()
        self.on_fault = self.on_waiting = self.schedule = None
        self._signal = signal

    def chunks(self) -> Any:
        step = SAMPLE_RATE // 10
        for start in range(0, len(self._signal), step):
            yield self._signal[start : start + step]

    def stop(self) -> None:
        """Nothing to stop."""


def bench_signal(seconds: float) -> np.ndarray:
    """The bundled sample (synthetic speech) repeated to ``seconds``."""
    from .stream.audio import read_audio

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


def _stream(model_name: str) -> Any:
    from .stream.model import Model
    from .stream.normalize import Normalizer
    from .stream.runtime import Stream

    model = Model.load(model_name)
    return Stream.of(model, Normalizer.for_model(model), sinks=[_NullSink()])


def _percentiles(values: Iterable[float], name: str) -> dict[str, float]:
    data = np.array(list(values) or [float("nan")])
    return {f"{name}_p50": float(np.percentile(data, 50)),
            f"{name}_p99": float(np.percentile(data, 99))}  # fmt: skip


def loop(signal: np.ndarray, model_name: str) -> dict[str, float]:
    """The whole listen loop on ``signal`` as fast as possible: CPU, wall, row -> event time."""
    stream = _stream(model_name)
    cpu, wall = time.process_time(), time.perf_counter()
    summary = stream.run(_ArraySource(signal))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    audio_s = len(signal) / SAMPLE_RATE
    return {"loop_ms_per_audio_s": cpu * 1000 / audio_s, "rtf": wall / audio_s,
            **_percentiles(summary.processing_ms, "row_to_event_ms"),
            "speech_windows": float(stream.pipeline.counts.speech_windows)}  # fmt: skip


# Source rates the real-time latency is measured at: the bundled sample's, and what most USB and
# I2S microphones deliver (44.1, 48 kHz) or a resampled file might (22.05 kHz).
SOURCE_RATES = (16000, 22050, 44100, 48000)


def realtime(signal: np.ndarray, model_name: str, rate: int = SAMPLE_RATE) -> dict[str, float]:
    """``listen`` on ``signal`` as a WAV file at ``rate`` played in real time (no --fast): window
    end -> event latency (the events' own ``latency_ms``) and CPU per audio-second."""
    import tempfile

    import soundfile

    from .stream.audio import resample
    from .stream.sources import FileSource

    stream = _stream(model_name)
    with tempfile.TemporaryDirectory(prefix="serdevice-bench-") as folder:
        path = Path(folder) / "signal.wav"
        soundfile.write(str(path), resample(signal, SAMPLE_RATE, rate), rate, subtype="PCM_16")
        cpu = time.process_time()
        stream.run(FileSource(path, realtime=True))
        cpu = time.process_time() - cpu
    return {"realtime_cpu_ms_per_audio_s": cpu * 1000 / (len(signal) / SAMPLE_RATE),
            **_percentiles(stream.pipeline.counts.latencies_ms, "latency_ms")}  # fmt: skip


def realtime_by_rate(signal: np.ndarray, model_name: str,
                     rates: tuple[int, ...] = SOURCE_RATES) -> dict[str, float]:  # fmt: skip
    """``realtime`` at each source rate: the 16 kHz figures under their old names
    (``latency_ms_p50`` ...), every rate's as ``latency_ms_p50_<rate>hz`` ... ."""
    figures: dict[str, float] = {}
    for rate in rates:
        measured = realtime(signal, model_name, rate)
        if rate == SAMPLE_RATE:
            figures.update(measured)
        figures.update({f"{key}_{rate}hz": value for key, value in measured.items()})
    return figures


class _RowCounter:
    """An ``on_row`` that counts rows and lets the caller wait for the n-th."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = threading.Condition()

    def __call__(self, row: object) -> None:
        with self._changed:
            self.count += 1
            self._changed.notify_all()

    def wait_for(self, n: int, timeout_s: float) -> bool:
        """True once ``n`` rows have come; False if they did not within ``timeout_s``."""
        with self._changed:
            return self._changed.wait_for(lambda: self.count >= n, timeout=timeout_s)


def lookahead_ms(signal: np.ndarray, *, windows: int = 6, wait_s: float = 0.5) -> dict[str, float]:
    """openSMILE's look-ahead (the floor of window end -> event): for each of the first
    ``windows`` windows, the least audio past its end, in 10 ms steps, that makes its row come
    (a row that takes longer than ``wait_s`` to come counts as not ready: an upper bound)."""
    rows = _RowCounter()
    found = []
    pushed = 0
    with StreamingEgemaps(on_row=rows) as stream:
        for k in range(windows):
            end = stream.windowing.row_end(k)
            for ms in range(50, 200, 10):
                target = round((end + ms / 1000) * SAMPLE_RATE)
                stream.push(signal[pushed:target])
                stream.flush()
                pushed = target
                if rows.wait_for(k + 1, wait_s):
                    found.append(ms)
                    break
    return {"lookahead_ms_min": float(min(found, default=np.nan)),
            "lookahead_ms_max": float(max(found, default=np.nan)),
            # the floor of window end -> event: a typical window's look-ahead
            "latency_floor_ms": float(np.median(found)) if found else float("nan")}  # fmt: skip


def invoke_us(model_name: str, n: int = 2000) -> float:
    """Median raw interpreter invoke, microseconds."""
    from .stream.model import Model

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


def short_clips(folder: Path, n: int, *, seed: int = 0) -> list[Path]:
    """``n`` WAV clips of 0.4-2 s cut from the bundled sample (single words to short phrases)."""
    import soundfile

    from .stream.audio import read_audio

    one = read_audio(SAMPLE).samples
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        length = int(rng.uniform(0.4, 2.0) * SAMPLE_RATE)
        start = int(rng.integers(0, len(one) - length))
        path = folder / f"clip{i:03d}.wav"
        soundfile.write(str(path), one[start : start + length], SAMPLE_RATE, subtype="PCM_16")
        paths.append(path)
    return paths


def predict_throughput(paths: list[Path], model_name: str = DEFAULT_MODEL) -> dict[str, Any]:
    """``predict`` on ``paths`` (files per second, wall) and whether its answers equal those of
    one file at a time."""
    from .commands.predict import predict_file, predict_files
    from .stream.model import Model
    from .stream.normalize import Normalizer

    model = Model.load(model_name)
    normalizer = Normalizer.for_model(model)
    wall = time.perf_counter()
    together = list(predict_files(paths, model, normalizer))
    wall = time.perf_counter() - wall
    one_by_one = [predict_file(path, model, normalizer) for path in paths]
    return {"predict_files_per_s": len(paths) / wall, "identical": together == one_by_one}


def run_all(
    *,
    seconds: float = 60.0,
    realtime_s: float = 20.0,
    model_name: str = DEFAULT_MODEL,
    rates: tuple[int, ...] = SOURCE_RATES,
) -> dict[str, float]:
    """Every figure ``serdevice bench --json`` reports."""
    signal = bench_signal(seconds)
    figures = {
        "features_ms_per_audio_s": features_ms(signal),
        "naive_features_ms_per_audio_s": naive_ms(signal),
        **loop(signal, model_name),
        **realtime_by_rate(signal[: int(realtime_s * SAMPLE_RATE)], model_name, rates),
        **lookahead_ms(signal),
        "invoke_us_p50": invoke_us(model_name),
        "import_ms": import_ms(),
    }
    figures["loop_over_naive"] = (
        figures["loop_ms_per_audio_s"] / figures["naive_features_ms_per_audio_s"]
    )
    figures["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures

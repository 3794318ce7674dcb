"""Feature extraction cost: streaming (one openSMILE pass) vs naive per-window vs offline.

All three run on the same signal in the same process; CPU time is process-wide
(``time.process_time``), so openSMILE's own thread is counted. Budget (DESIGN.md): streaming /
naive CPU <= 0.25.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from serdevice.device.stream.contracts import DEFAULT_HOP_S, DEFAULT_WINDOW_S, SAMPLE_RATE
from serdevice.device.stream.features import StreamingEgemaps


def speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    """A voiced, pitch-varying, amplitude-modulated test signal (not speech, but not a flat tone)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    f0 = 160 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3.0 * t).clip(0)
    voiced = sum(np.sin(k * phase) / k for k in range(1, 6)) * envelope
    return (0.2 * voiced + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture(scope="module")
def signal(quick) -> np.ndarray:
    return speechlike(30.0 if quick else 60.0)


def cpu_ms_per_audio_s(work, signal: np.ndarray) -> float:
    start = time.process_time()
    work(signal)
    return (time.process_time() - start) * 1000 / (len(signal) / SAMPLE_RATE)


def streaming(signal: np.ndarray, stream: StreamingEgemaps | None = None) -> int:
    """Push 100 ms chunks, as from a microphone, then close (flush)."""
    stream = stream or StreamingEgemaps(on_row=lambda row: None)
    with stream:
        for start in range(0, len(signal), 1600):
            stream.push(signal[start : start + 1600])
    return stream.rows_emitted


def streaming_steady(signal: np.ndarray) -> float:
    """CPU ms per audio-second of the stream itself, the one-time start (~25 ms) excluded."""
    stream = StreamingEgemaps(on_row=lambda row: None)
    start = time.process_time()
    streaming(signal, stream)
    return (time.process_time() - start) * 1000 / (len(signal) / SAMPLE_RATE)


def naive_per_window(signal: np.ndarray) -> int:
    import opensmile

    smile = opensmile.Smile(opensmile.FeatureSet.eGeMAPSv02, opensmile.FeatureLevel.Functionals)
    window, hop = int(DEFAULT_WINDOW_S * SAMPLE_RATE), int(DEFAULT_HOP_S * SAMPLE_RATE)
    n = 0
    for start in range(0, len(signal) - window, hop):
        smile.process_signal(signal[start : start + window], SAMPLE_RATE)
        n += 1
    return n


def offline_single_pass(signal: np.ndarray) -> int:
    from serdevice.train.features_batch import ExtractionSpec, _smile

    spec = ExtractionSpec(level="window", window_s=DEFAULT_WINDOW_S, hop_s=DEFAULT_HOP_S)
    return len(_smile(spec).process_signal(signal, SAMPLE_RATE))


def test_streaming_vs_naive_vs_offline(benchmark, figures, signal, quick):
    naive_per_window(signal[: SAMPLE_RATE * 3])  # warm up opensmile's import and config parse
    offline_single_pass(signal[: SAMPLE_RATE * 3])
    rounds = 3
    stream_ms = min(streaming_steady(signal) for _ in range(rounds))
    naive_ms = min(cpu_ms_per_audio_s(naive_per_window, signal) for _ in range(rounds))
    offline_ms = min(cpu_ms_per_audio_s(offline_single_pass, signal) for _ in range(rounds))
    benchmark.pedantic(streaming, args=(signal,), rounds=rounds, iterations=1)
    figures.add("features: streaming CPU (steady)", stream_ms, "ms/audio-s")
    figures.add("features: naive per-window CPU", naive_ms, "ms/audio-s")
    figures.add("features: offline single-pass CPU", offline_ms, "ms/audio-s")
    figures.add("features: streaming / naive CPU", stream_ms / naive_ms, "ratio", budget=0.25)
    assert streaming(signal[: SAMPLE_RATE * 3]) == 2  # the benchmark measured real work

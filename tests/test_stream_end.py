"""How a stream ends when its source or openSMILE fails: the audio heard is counted, the events
thread has written its last event, and ``stop`` is the last event (after the error)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from recording import ListSink

from serdevice.device.stream.audio import read_audio
from serdevice.device.stream.contracts import SAMPLE_RATE, RuntimeFailure
from serdevice.device.stream.model import Model
from serdevice.device.stream.normalize import Normalizer
from serdevice.device.stream.runtime import Stream
from serdevice.device.stream.sources import SourceStats

SAMPLE = Path(__file__).resolve().parents[1] / "device" / "data" / "sample.wav"
CHUNK = SAMPLE_RATE // 10


class FailingSource:
    """The bundled sample's first ``seconds``, then the capture device vanishes."""

    name = "failing"
    native_rate = SAMPLE_RATE

    def __init__(self, seconds: float) -> None:
        samples = read_audio(SAMPLE).samples
        self.audio = samples[: int(seconds * SAMPLE_RATE)]
        self.stats = SourceStats()
        self.schedule = self.on_fault = self.on_waiting = None

    def chunks(self):
        for start in range(0, len(self.audio), CHUNK):
            yield self.audio[start : start + CHUNK]
        raise RuntimeFailure("capture device vanished")

    def stop(self) -> None:
        pass


def listener(sink: ListSink) -> Stream:
    model = Model.load("dae_metric_act")
    return Stream.of(model, Normalizer.for_model(model), sinks=[sink])


def test_a_failing_source_still_counts_its_audio_and_joins_the_events_thread():
    sink = ListSink(delay_s=0.02)
    stream = listener(sink)
    with pytest.raises(RuntimeFailure, match="vanished"):
        stream.run(FailingSource(6.0))
    assert stream.summary.audio_s == pytest.approx(6.0)
    assert not [t for t in threading.enumerate() if t.name == "events"]
    written = len(sink.records)
    time.sleep(0.2)
    assert len(sink.records) == written  # nothing arrives later


def test_stop_is_the_last_event_after_the_error_with_the_audio_heard():
    sink = ListSink(delay_s=0.02)
    stream = listener(sink)
    with pytest.raises(RuntimeFailure):
        stream.session(FailingSource(6.0))
    types = [r["type"] for r in sink.records]
    assert types[-2:] == ["error", "stop"] and types.count("stop") == 1
    assert "activation" in types  # the windows before the failure were analysed and written
    stop = sink.records[-1]
    assert stop["reason"] == "error" and stop["audio_s"] == pytest.approx(6.0)
    assert stop["speech_windows"] == sum(t == "activation" for t in types)
    assert np.isfinite(stop["audio_s"])

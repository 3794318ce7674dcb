"""The pipeline alone, on a fake clock: scripted feature rows and gate decisions in, events out.

No threads and no openSMILE: the model is the bundled one (LiteRT runs on the caller's thread),
the speech gate is a script, and time is whatever the test says it is.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from recording import ListSink

from serdevice.device.sinks.outputs import Fanout
from serdevice.device.stream.contracts import FeatureRow
from serdevice.device.stream.decision import DecisionConfig
from serdevice.device.stream.events import Activation, Emotion, EventFactory, SpeechEnd, SpeechStart
from serdevice.device.stream.gate import GateDecision
from serdevice.device.stream.model import Model
from serdevice.device.stream.normalize import Normalizer
from serdevice.device.stream.pipeline import RECENT_KEPT, Pipeline, PipelineConfig
from serdevice.device.stream.runtime import Summary


class FakeClock:
    """perf_counter as the test sets it."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now


class ScriptedGate:
    """Speech where the script says so; speech_start/speech_end at the edges, no hangover."""

    def __init__(self, speech_at: set[float]) -> None:
        self.speech_at = speech_at
        self.open = False
        self.fed = 0

    def feed(self, chunk: np.ndarray) -> None:
        self.fed += len(chunk)

    def decide(self, t_end: float, window_s: float) -> GateDecision:
        speech = t_end in self.speech_at
        started, ended = speech and not self.open, self.open and not speech
        self.open = speech
        return GateDecision(speech_share=0.9 if speech else 0.0, is_speech=speech,
                            started=started, ended=ended)  # fmt: skip


@pytest.fixture(scope="module")
def model() -> Model:
    return Model.load("dae_metric_act")


def rows(model: Model, times: list[float], sigmas: float) -> list[FeatureRow]:
    """Feature rows ``sigmas`` training standard deviations from the training mean."""
    mean, std = np.array(model.sidecar.norm_mean), np.array(model.sidecar.norm_std)
    values = (mean + sigmas * std).astype(np.float32)
    return [FeatureRow(t_end=t, values=values) for t in times]


def make(model: Model, speech_at: set[float], clock: FakeClock, on_speech=(),
         **decision: object) -> Pipeline:  # fmt: skip
    config = PipelineConfig(decision=DecisionConfig(**decision))  # type: ignore[arg-type]
    return Pipeline(model=model, normalizer=Normalizer.for_model(model), config=config,
                    gate=ScriptedGate(speech_at), clock=clock, on_speech=on_speech)  # fmt: skip


def test_latency_is_the_fake_clock_minus_the_windows_last_sample_and_one_per_hop(model):
    clock = FakeClock(now=100.0)
    pipeline = make(model, {2.0, 2.5}, clock, every_hop=True)
    events = []
    for row, captured, now in zip(rows(model, [2.0, 2.5], 0.0), (99.925, 100.4), (100.0, 100.5),
                                  strict=True):  # fmt: skip
        clock.now = now
        events += pipeline.step(row, available_at=captured)
    hops = [e for e in events if isinstance(e, (Emotion, Activation))]
    assert [type(e) for e in hops] == [Emotion, Activation, Emotion, Activation]
    assert [e.latency_ms for e in hops] == pytest.approx([75.0, 75.0, 100.0, 100.0])
    assert list(pipeline.counts.latencies_ms) == pytest.approx([75.0, 100.0])
    assert clock.reads == 2  # read once per hop: the hop's events share one latency


def test_latency_record_is_bounded_for_a_stream_that_runs_for_weeks(model):
    # listen keeps its pipeline for the life of the process: the figures bench reads must not
    # grow with every speech hop (under MemoryMax=200M a weeks-long listen was eventually killed)
    clock = FakeClock()
    times = [2.0 + 0.5 * i for i in range(RECENT_KEPT + 500)]
    pipeline = Pipeline(model=model, normalizer=Normalizer.for_model(model),
                        gate=ScriptedGate(set(times)), clock=clock)  # fmt: skip
    for row in rows(model, times, 0.0):
        pipeline.step(row, available_at=clock.now)
    assert pipeline.counts.speech_windows == len(times)
    assert len(pipeline.counts.latencies_ms) == RECENT_KEPT
    assert Summary().processing_ms.maxlen == RECENT_KEPT  # the listener's row -> event figures


def test_speech_edges_order_and_counts(model):
    clock = FakeClock()
    heard: list[float] = []
    pipeline = make(model, {2.5, 3.0, 3.5}, clock,
                    on_speech=[lambda row, answer: heard.append(row.t_end)])  # fmt: skip
    kinds = []
    for row in rows(model, [2.0, 2.5, 3.0, 3.5, 4.0, 4.5], 0.0):
        kinds.append([type(e).__name__ for e in pipeline.step(row, available_at=clock.now)])
    assert kinds[0] == [] and kinds[5] == []  # silence: no events, the model is not run
    assert kinds[1][0] == "SpeechStart" and kinds[1][-1] == "Activation"
    assert kinds[4] == ["SpeechEnd"]
    counts = pipeline.counts
    assert (counts.windows, counts.speech_windows) == (6, 3)
    assert heard == [2.5, 3.0, 3.5]  # observers hear each speech window, once
    assert counts.emotions == sum(k.count("Emotion") for k in kinds)


def test_the_same_rows_give_the_same_events_and_a_new_stretch_announces_itself(model):
    """min_count=2: the label is announced on the second hop, and again after speech_end."""
    clock = FakeClock()
    pipeline = make(model, {2.0, 2.5, 4.0, 4.5}, clock, min_count=2, threshold=0.0,
                    suppression_s=0.0)  # fmt: skip
    out = {}
    for row in rows(model, [2.0, 2.5, 3.0, 3.5, 4.0, 4.5], 1.0):
        out[row.t_end] = pipeline.step(row, available_at=clock.now)
    emitted = [t for t, events in out.items() if any(isinstance(e, Emotion) for e in events)]
    assert emitted == [2.5, 4.5]  # the decision was reset at speech_end (3.0)
    first, second = out[2.5][0], out[4.5][0]
    assert isinstance(first, Emotion) and isinstance(second, Emotion)
    assert (first.label, first.scores) == (second.label, second.scores)


def test_the_records_keep_the_documented_schema():
    factory = EventFactory("m", wall_clock=lambda: 1764000000.1234)
    hop = dict(t=12.5, label="angry", confidence=0.71, scores={"neutral": -0.4, "angry": 0.6},
               activation=3.9, latent=(0.8, -0.2), speech=0.93, latency_ms=1.83333)  # fmt: skip
    emotion = factory.stamp(Emotion(**hop))  # type: ignore[arg-type]
    activation = factory.stamp(Activation(**hop, activation_raw=4.1))  # type: ignore[arg-type]
    assert list(emotion) == ["type", "t", "label", "confidence", "scores", "activation", "latent",
                             "speech", "latency_ms", "wall", "seq", "model"]  # fmt: skip
    assert list(activation) == ["type", "t", "label", "confidence", "scores", "activation",
                                "latent", "speech", "activation_raw", "latency_ms", "wall", "seq",
                                "model"]  # fmt: skip
    assert emotion["latent"] == [0.8, -0.2] and emotion["latency_ms"] == 1.8333
    assert (emotion["seq"], activation["seq"], emotion["wall"]) == (0, 1, 1764000000.123)
    start = factory.stamp(SpeechStart(t=2.0, speech=0.5))
    assert start == {"type": "speech_start", "t": 2.0, "speech": 0.5, "wall": 1764000000.123,
                     "seq": 2, "model": "m"}  # fmt: skip
    assert factory.stamp(SpeechEnd(t=3.0, speech=0.0))["type"] == "speech_end"
    json.dumps(emotion, allow_nan=False)


class BrokenSink:
    name = "broken"

    def write(self, event: dict) -> None:
        raise OSError(28, "No space left on device")

    def close(self) -> None:
        pass


def test_a_failing_sink_becomes_one_error_event_for_the_others():
    kept = ListSink()
    fanout = Fanout([BrokenSink(), kept], EventFactory("m"))
    fanout.write(SpeechStart(t=2.0, speech=0.5))
    fanout.write(SpeechEnd(t=3.0, speech=0.0))
    assert [r["type"] for r in kept.records] == ["speech_start", "error", "speech_end"]
    assert kept.records[1]["message"] == "broken: No space left on device; sink disabled"
    assert fanout.sinks == [kept]

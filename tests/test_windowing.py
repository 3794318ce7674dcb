"""The stream's one place for window, hop and cuts (device/stream/windowing.py), and the stream
object that owns it with the clock (runtime.Stream): its own ``start``, chunks cut at closing
points, and every command composing it."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest
from recording import ListSink

from serdevice.device.stream import windowing
from serdevice.device.stream.audio import read_audio
from serdevice.device.stream.contracts import SAMPLE_RATE, InputError
from serdevice.device.stream.model import Model
from serdevice.device.stream.normalize import Normalizer
from serdevice.device.stream.runtime import Stream
from serdevice.device.stream.sources import SourceStats
from serdevice.device.stream.windowing import LEAD_S, LOOKAHEAD_S, Windowing

SAMPLE = Path(__file__).resolve().parents[1] / "device" / "data" / "sample.wav"


def test_the_doctests_hold():
    assert doctest.testmod(windowing).failed == 0


def test_row_ends_and_closing_points_by_hand():
    w = Windowing(2.0, 0.5)
    assert [w.row_end(i) for i in range(3)] == [2.0, 2.5, 3.0]
    assert w.window_samples == 32000
    # nothing written: a bulk piece of 0.4 s; near the first closing point (2.07 s = 33120),
    # the piece that ends LEAD_S before it, then the closing piece itself
    assert w.next_write(rows=0, written=0) == 6400
    assert w.next_write(rows=0, written=28800) == 33120 - round(LEAD_S * SAMPLE_RATE)
    assert w.next_write(rows=0, written=31520) == 33120
    # the row has not come at the closing point: 10 ms steps on
    assert w.next_write(rows=0, written=33120) == 33280
    # it came: the next window's closing point, 2.57 s
    assert w.next_write(rows=1, written=33120) == 33120 + 6400
    assert w.next_write(rows=1, written=39520) == 41120
    # the source's cut never lies behind what it has delivered
    assert w.next_cut(rows=0, written=0, pushed=7000) == 7160


def test_one_row_over_the_whole_input_and_bad_windows():
    whole = Windowing(0, 0)
    assert whole.whole and whole.next_write(rows=0, written=100) == 100 + 6400
    for window_s, hop_s in ((1.0, 2.0), (0.0, 0.5), (61.0, 1.0), (2.0, -0.5)):
        with pytest.raises(InputError, match="need 0 < hop"):
            Windowing(window_s, hop_s)


class ScheduledSource:
    """The sample, in chunks exactly as long as the stream asks for (``schedule``), unpaced."""

    name = "scheduled"
    native_rate = SAMPLE_RATE

    def __init__(self, seconds: float) -> None:
        self.audio = read_audio(SAMPLE).samples[: int(seconds * SAMPLE_RATE)]
        self.stats = SourceStats()
        self.schedule = self.on_fault = self.on_waiting = None
        self.ends: list[int] = []

    def chunks(self):
        pushed = 0
        while pushed < len(self.audio):
            wanted = 1600 if self.schedule is None else self.schedule()
            assert wanted > 0
            chunk = self.audio[pushed : pushed + wanted]
            pushed += len(chunk)
            self.ends.append(pushed)
            yield chunk

    def stop(self) -> None:
        pass


@pytest.fixture(scope="module")
def model() -> Model:
    return Model.load("dae_metric_act")


def test_the_stream_cuts_a_live_source_where_each_window_can_close(model):
    sink = ListSink()
    stream = Stream.of(model, Normalizer.for_model(model), sinks=[sink])
    source = ScheduledSource(6.0)
    stream.run(source)
    w = model.sidecar.windowing
    closing = [round((w.row_end(k) + LOOKAHEAD_S) * SAMPLE_RATE) for k in range(8)]
    assert set(closing) <= set(source.ends)  # every window's audio arrives in a chunk ending there
    assert stream.clock.samples == len(source.audio)
    assert stream.summary.audio_s == pytest.approx(6.0)


def test_the_stream_writes_its_own_start_and_stop(model):
    sink = ListSink()
    stream = Stream.of(model, Normalizer.for_model(model), sinks=[sink])
    source = ScheduledSource(3.0)
    stream.session(source, adaptation={"mode": "test"})
    first, last = sink.records[0], sink.records[-1]
    assert first["type"] == "start" and [r["type"] for r in sink.records].count("start") == 1
    assert (first["source"], first["native_rate"], first["sample_rate"]) == (
        "scheduled",
        SAMPLE_RATE,
        SAMPLE_RATE,
    )
    assert (first["window_s"], first["hop_s"]) == (model.sidecar.window_s, model.sidecar.hop_s)
    assert first["labels"] == list(model.labels) and first["adaptation"] == {"mode": "test"}
    assert first["calibration"] is None
    assert last["type"] == "stop" and last["audio_s"] == pytest.approx(3.0)


def test_every_command_composes_the_one_stream():
    """listen, predict, calibrate, bench and loco's device rows (through calibrate's
    ``collect_speech_rows``) build ``Stream.of``; none builds a Pipeline of its own."""
    root = Path(__file__).resolve().parents[1]
    users = {
        "device/commands/listen.py",
        "device/commands/predict.py",
        "device/stream/calibration.py",
        "device/benchmark.py",
        "train/gain_check.py",
    }
    for path in users:
        text = (root / path).read_text()
        assert "Stream.of(" in text, path
        assert "Pipeline(" not in text, path
    assert "collect_speech_rows" in (root / "export" / "loco.py").read_text()
    builders = [
        p.relative_to(root).as_posix()
        for folder in ("device", "train", "export")
        for p in (root / folder).rglob("*.py")
        if "Pipeline(model=" in p.read_text()
    ]
    assert builders == ["device/stream/runtime.py"]

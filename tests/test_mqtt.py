"""`listen --mqtt` against a real mosquitto broker on 127.0.0.1 (a random free port)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "device" / "data" / "sample.wav"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """A mosquitto on 127.0.0.1:``port`` that can be stopped and started again (same port).

    Persistence is on, so a subscriber's session (clean_session=False) and its QoS 1 queue
    survive the restart, as they would on a deployed broker.
    """

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                             f"persistence true\npersistence_location {folder}/\n")  # fmt: skip
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        pytest.fail("mosquitto did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()  # the broker we started, by pid; it saves its sessions
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def mosquitto(tmp_path):
    broker = Broker(tmp_path)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def broker(mosquitto):
    return mosquitto.port


class Subscriber:
    """A QoS 1 subscriber with a persistent session that reconnects by itself."""

    def __init__(self, port: int, topic: str = "wristband/events") -> None:
        import paho.mqtt.client as mqtt

        self.received: list[dict] = []
        self.subscribed = threading.Event()
        self.stopped = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-subscriber",
                                  clean_session=False)  # fmt: skip
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.on_connect = lambda c, *args: c.subscribe(topic, qos=1)
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client, userdata, message) -> None:
        event = json.loads(message.payload)
        self.received.append(event)
        if event["type"] == "stop":
            self.stopped.set()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_listen_publishes_every_event_to_the_broker(cli, broker):
    subscriber = Subscriber(broker)
    try:
        assert subscriber.subscribed.wait(10)
        result = cli("listen", "--source", str(SAMPLE), "--fast",
                     "--mqtt", f"mqtt://127.0.0.1:{broker}/wristband/events")  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert subscriber.stopped.wait(10)
    finally:
        subscriber.close()
    stdout_events = [json.loads(line) for line in result.stdout.splitlines()]
    received = subscriber.received
    assert [e["seq"] for e in received] == [e["seq"] for e in stdout_events]
    assert received[0]["type"] == "start" and any(e["type"] == "activation" for e in received)


def test_broker_away_and_back_gets_the_queued_events(mosquitto):
    subscriber = Subscriber(mosquitto.port)
    try:
        assert subscriber.subscribed.wait(10)
        listen = subprocess.Popen(  # real-time pacing: the 12 s sample takes 12 s
            [sys.executable, "-m", "serdevice.device.cli", "listen", "--source", str(SAMPLE),
             "--mqtt", f"mqtt://127.0.0.1:{mosquitto.port}/wristband/events"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        assert listen.stdout is not None
        assert json.loads(listen.stdout.readline())["type"] == "start"
        time.sleep(2.5)
        mosquitto.stop()
        away_from = time.time()
        time.sleep(4.0)  # events keep coming while the broker is away
        mosquitto.start()
        out, err = listen.communicate(timeout=60)
        assert listen.returncode == 0, err
        assert "Traceback" not in err
        assert subscriber.stopped.wait(20)
    finally:
        subscriber.close()
    stdout_events = [json.loads(line) for line in out.splitlines()]
    while_away = [e["seq"] for e in stdout_events if away_from + 0.5 < e["wall"] < away_from + 3.5]
    assert while_away, "no events were written while the broker was away"
    got = {e["seq"] for e in subscriber.received}
    assert set(while_away) <= got  # queued while away, delivered when the broker came back
    assert {e["seq"] for e in stdout_events} <= got  # and nothing else was lost either


def test_offline_queue_is_bounded_and_counts_what_it_drops():
    from serdevice.device.sinks.outputs import Mqtt

    sink = Mqtt(f"mqtt://127.0.0.1:{free_port()}/t", max_queued=5)  # nobody listens there
    for seq in range(20):
        sink.write({"type": "activation", "seq": seq})
    assert sink.dropped == 15
    started = time.monotonic()
    sink.close(timeout_s=1.0)
    assert time.monotonic() - started < 5


def test_bad_mqtt_url_is_a_usage_error(cli):
    result = cli("listen", "--source", str(SAMPLE), "--fast", "--mqtt", "http://x/y")
    assert result.returncode == 2 and "expected mqtt://host[:port]/topic" in result.stderr


def test_events_dropped_from_the_full_offline_queue_are_reported_in_stats_and_stop():
    from recording import ListSink

    from serdevice.device.sinks.outputs import Fanout, Mqtt
    from serdevice.device.stream.events import EventFactory
    from serdevice.device.stream.model import Model
    from serdevice.device.stream.normalize import Normalizer
    from serdevice.device.stream.pipeline import Pipeline
    from serdevice.device.stream.runtime import ListenConfig, Stream
    from serdevice.device.stream.sources import FileSource

    sink, kept = Mqtt(f"mqtt://127.0.0.1:{free_port()}/t", max_queued=5), ListSink()  # no broker
    model = Model.load("dae_metric_act")
    pipeline = Pipeline(model=model, normalizer=Normalizer.for_model(model))
    listener = Stream(pipeline=pipeline, fanout=Fanout([sink, kept], EventFactory(model.name)),
                      config=ListenConfig(stats_every_s=4.0))  # fmt: skip
    try:
        listener.session(FileSource(SAMPLE, realtime=False))
    finally:
        sink.close(timeout_s=1.0)
    stats = [r for r in kept.records if r["type"] == "stats"]
    stop = kept.records[-1]
    assert stats and all("mqtt_dropped" in r for r in stats)
    assert stats[-1]["mqtt_dropped"] > 0 and stop["type"] == "stop"
    assert stats[-1]["mqtt_dropped"] <= stop["mqtt_dropped"] <= sink.dropped


def test_a_stream_without_mqtt_has_no_mqtt_counter():
    from serdevice.device.sinks.outputs import Fanout
    from serdevice.device.stream.events import EventFactory

    assert Fanout([], EventFactory("m")).mqtt_dropped() is None


def test_record_takes_the_wildcard_form_of_a_base_topic():
    from serdevice.device.clinic.record import RecordConfig
    from serdevice.device.sinks.mqtt import parse_settings

    for url in ("mqtt://127.0.0.1/clinic/#", "mqtt://127.0.0.1/clinic"):
        settings = parse_settings(url, subscribe=True)
        assert RecordConfig().subscription(settings.topic) == "clinic/#"  # was clinic//#
        assert RecordConfig(share="g").subscription(settings.topic) == "$share/g/clinic/#"


@pytest.mark.parametrize(
    ("command", "url", "what"),
    [
        ("record", "mqtt://127.0.0.1:1/clinic/+/events", "a base topic"),
        ("record", "mqtt://127.0.0.1:1/clinic/#/x", "a base topic"),
        ("listen", "mqtt://127.0.0.1:1/clinic/#", "a topic to publish to"),
    ],
)
def test_other_wildcards_are_refused_in_one_line(cli, command, url, what):
    extra = ["--source", str(SAMPLE), "--fast"] if command == "listen" else []
    result = cli(command, "--mqtt", url, *extra)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"MQTT wildcards ('+', '#') cannot be in {what}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_recorder_without_paho_names_its_own_extra(tmp_path, monkeypatch):
    from serdevice.device.clinic.record import RecordConfig, Recorder
    from serdevice.device.clinic.store import open_store
    from serdevice.device.sinks.mqtt import parse_settings
    from serdevice.device.stream.contracts import InputError

    monkeypatch.setitem(sys.modules, "paho", None)  # import paho... -> ModuleNotFoundError
    monkeypatch.setitem(sys.modules, "paho.mqtt", None)
    monkeypatch.setitem(sys.modules, "paho.mqtt.client", None)
    store = open_store(str(tmp_path / "e.sqlite"))
    try:
        with pytest.raises(InputError, match=r"pip install 'serdevice\[server\]'"):
            Recorder(parse_settings("mqtt://127.0.0.1/clinic", subscribe=True), store,
                     RecordConfig())  # fmt: skip
    finally:
        store.close()

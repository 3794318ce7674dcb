"""`listen --mqtt` against a real mosquitto broker on 127.0.0.1 (a random free port)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
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


@pytest.fixture
def broker(tmp_path):
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("mosquitto did not start")
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def test_listen_publishes_every_event_to_the_broker(cli, broker):
    import paho.mqtt.client as mqtt

    received: list[dict] = []
    subscribed = threading.Event()
    done = threading.Event()

    def on_message(client, userdata, message):
        event = json.loads(message.payload)
        received.append(event)
        if event["type"] == "stop":
            done.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-subscriber")
    client.on_message = on_message
    client.on_subscribe = lambda *args: subscribed.set()
    client.on_connect = lambda c, *args: c.subscribe("wristband/events", qos=1)
    client.connect("127.0.0.1", broker)
    client.loop_start()
    try:
        assert subscribed.wait(10)
        result = cli("listen", "--source", str(SAMPLE), "--fast",
                     "--mqtt", f"mqtt://127.0.0.1:{broker}/wristband/events")  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert done.wait(10)
    finally:
        client.loop_stop()
        client.disconnect()
    stdout_events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["seq"] for e in received] == [e["seq"] for e in stdout_events]
    assert received[0]["type"] == "start" and any(e["type"] == "activation" for e in received)


def test_bad_mqtt_url_is_a_usage_error(cli):
    result = cli("listen", "--source", str(SAMPLE), "--fast", "--mqtt", "http://x/y")
    assert result.returncode == 2 and "expected mqtt://host[:port]/topic" in result.stderr

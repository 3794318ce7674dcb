"""Events/s one recorder stores, into SQLite and into PostgreSQL (goal >= 2,000 each).

A load generator (N simulated companions, each its own MQTT client publishing listen-shaped
event JSON with QoS 1) fills a local mosquitto while the recorder is away; its persistent
session holds them. Then one recorder (the same ``Recorder`` as ``serdevice record``)
connects and the clock runs until every event is committed and acknowledged. Servers on
127.0.0.1 only, started here (tests/fleet.py) and torn down after.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test servers
from fleet import PlainBroker, running_postgres  # noqa: E402

from serdevice.device.clinic.loadgen import run_companions  # noqa: E402
from serdevice.device.clinic.record import RecordConfig, Recorder  # noqa: E402
from serdevice.device.clinic.store import open_store  # noqa: E402
from serdevice.device.sinks.mqtt import parse_settings  # noqa: E402

GOAL = 2000.0  # events/s


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    server = PlainBroker(tmp_path_factory.mktemp("bench-broker"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pg():
    yield from running_postgres()


class Drain:
    """Fill the broker while the recorder is away (``fill``), then time one recorder (``run``)."""

    def __init__(self, broker: PlainBroker, db: str, devices: int, per_device: int,
                 name: str) -> None:  # fmt: skip
        self.settings = parse_settings(f"mqtt://127.0.0.1:{broker.port}/bench-{name}", env={})
        self.config = RecordConfig(client_id=f"bench-record-{name}")
        self.db = db
        self.devices, self.per_device = devices, per_device
        self.total = devices * per_device
        self.rate = 0.0

    def recorder(self) -> Recorder:
        recorder = Recorder(self.settings, open_store(self.db), self.config, log=lambda line: None)
        recorder.start()
        return recorder

    def fill(self) -> tuple[tuple[()], dict[str, object]]:
        first = self.recorder()  # makes the persistent session (and its subscription), leaves
        assert first.subscribed.wait(10)
        first.run(_set(threading.Event()))
        run_companions(self.settings, [f"dev{i}" for i in range(self.devices)], self.per_device)
        return (), {}

    def run(self) -> None:
        recorder = self.recorder()
        stop = threading.Event()
        started = time.perf_counter()
        worker = threading.Thread(target=recorder.run, args=(stop,))
        worker.start()
        while recorder.summary.stored + recorder.summary.duplicates < self.total:
            time.sleep(0.01)
            assert worker.is_alive()
        self.rate = self.total / (time.perf_counter() - started)
        stop.set()
        worker.join()
        assert recorder.summary.stored == self.total and recorder.summary.malformed == 0


def _set(event: threading.Event) -> threading.Event:
    event.set()
    return event


def measure(benchmark, figures, drain: Drain, label: str) -> None:
    benchmark.pedantic(drain.run, setup=drain.fill, rounds=1, iterations=1)
    figures.add(f"record: events/s into {label}", drain.rate, "events/s", budget=GOAL,
                lower_is_better=False)  # fmt: skip


def load(quick: bool) -> tuple[int, int]:
    """Companions and events each: 2,000 events in quick mode, 20,000 in full."""
    return (4, 500) if quick else (10, 2000)


def test_recorder_into_sqlite(benchmark, broker, tmp_path, figures, quick):
    drain = Drain(broker, str(tmp_path / "bench.sqlite"), *load(quick), name="sqlite")
    measure(benchmark, figures, drain, "SQLite")


def test_recorder_into_postgresql(benchmark, broker, pg, figures, quick):
    drain = Drain(broker, pg.url(), *load(quick), name="postgresql")
    measure(benchmark, figures, drain, "PostgreSQL")

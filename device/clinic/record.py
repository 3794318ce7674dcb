"""``serdevice record``'s loop: MQTT subscription in, each event stored exactly once, out.

The subscription is QoS 1 on a persistent session (``clean_session=False``, a stable client
id), with manual acknowledgements: an event is acknowledged to the broker only after the
transaction that stores it has committed. A recorder that dies before that gets the event
again from the broker; the database's key (device, session, seq) stores it once. While the
database is away, nothing is acknowledged (the broker holds the rest) and the batch is retried
with backoff; while the broker is away, paho reconnects and the session resumes.

Several recorders share the load with an MQTT shared subscription (``$share/GROUP/TOPIC/#``):
the broker gives each event to one of them.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..sinks.mqtt import (
    FIRST_CONNECT_WAIT_S,
    MqttSettings,
    describe_failure,
    is_auth_refusal,
    make_client,
)
from ..stream.contracts import InputError
from ..stream.retry import doubling, retry
from .store import EventStore, Row, StoreUnavailable, event_row, read_session

__all__ = ["RecordConfig", "RecordSummary", "Recorder", "read_session"]

BATCH_MAX = 1000  # events per transaction at most
STORE_BACKOFF_S = doubling(0.25, 10.0)  # waits before retrying the database: 0.25 s ... 10 s
PRUNE_EVERY_S = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordConfig:
    """What to subscribe to and how long to keep events."""

    share: str | None = None  # shared-subscription group: recorders in it split the events
    client_id: str = "serdevice-record"
    retain_days: float | None = None

    def subscription(self, topic: str) -> str:
        """``TOPIC/#``, or ``$share/GROUP/TOPIC/#``."""
        return f"$share/{self.share}/{topic}/#" if self.share else f"{topic}/#"


@dataclass(slots=True, kw_only=True)
class RecordSummary:
    """Counts since start."""

    stored: int = 0  # new rows
    duplicates: int = 0  # redeliveries that were stored already
    malformed: int = 0  # messages that are not serdevice events (acknowledged, not stored)
    pruned: int = 0


@dataclass(frozen=True, slots=True)
class _Message:
    generation: int  # which connection delivered it (a mid is only valid on that one)
    mid: int
    topic: str
    payload: bytes
    received: float


def device_of(topic: str, base: str) -> str:
    """The device id: the topic below the base (``clinic/dev1`` under ``clinic`` -> ``dev1``).

    >>> device_of("clinic/ward2/dev7", "clinic")
    'ward2/dev7'
    """
    prefix = base + "/"
    return topic[len(prefix) :] if topic.startswith(prefix) else topic


class Recorder:
    """Subscribe, store, acknowledge; ``run`` until ``stop`` is set."""

    def __init__(
        self,
        settings: MqttSettings,
        store: EventStore,
        config: RecordConfig,
        *,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.config = config
        self.summary = RecordSummary()
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._inbox: queue.Queue[_Message] = queue.Queue()
        self._generation = 0
        self._connected = threading.Event()
        self.subscribed = threading.Event()  # set once the broker has granted the subscription
        self._first = threading.Event()
        self._refused: str | None = None
        self._last_problem: str | None = None
        self._client = make_client(settings, client_id=config.client_id, clean_session=False,
                                   on_failure=self._on_failure, extra="server")  # fmt: skip
        self._client.manual_ack_set(True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_connect_fail = lambda *args: self._first.set()
        self._client.on_subscribe = self._on_subscribe

    # --- paho's thread ---
    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if reason.is_failure:
            if not self._first.is_set() and is_auth_refusal(reason):
                self._refused = str(reason)
            else:
                self._problem(f"broker refused the connection ({reason})")
            self._first.set()
            return
        self._generation += 1
        client.subscribe(self.config.subscription(self.settings.topic), qos=1)
        if self._last_problem is not None:
            self._log(f"serdevice record: connected again to {self.settings.where}")
            self._last_problem = None
        self._connected.set()
        self._first.set()

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        if any(reason.is_failure for reason in reasons):
            self._problem(f"the broker refused the subscription ({reasons[0]}); check its ACL")
            return
        where = self.config.subscription(self.settings.topic)
        self.subscribed.set()
        self._log(f"serdevice record: subscribed to {where} on {self.settings.where}")

    def _on_disconnect(self, *args: Any) -> None:
        self._connected.clear()

    def _on_failure(self, exc: BaseException) -> None:
        self._problem(describe_failure(exc, self.settings))
        self._first.set()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        self._inbox.put(_Message(self._generation, message.mid, message.topic, message.payload,
                                 time.time()))  # fmt: skip

    def _problem(self, message: str) -> None:
        if message != self._last_problem:  # one line per kind of failure, not per retry
            self._last_problem = message
            self._log(f"serdevice record: {message}; reconnecting with backoff")

    # --- the caller's thread ---
    def start(self) -> None:
        """Connect (an input error if the broker refuses the credentials)."""
        self._client.connect_async(self.settings.host, self.settings.port, keepalive=30)
        self._client.loop_start()
        self._first.wait(FIRST_CONNECT_WAIT_S)
        if self._refused is not None:
            self._client.loop_stop()
            raise InputError(f"--mqtt {self.settings.where}: the broker refused the credentials "
                             f"({self._refused}) for user {self.settings.username!r}")  # fmt: skip

    def run(self, stop: threading.Event) -> RecordSummary:
        """Store what arrives until ``stop`` is set; then store what is in hand and return."""
        next_prune = 0.0
        try:
            while not stop.is_set():
                if self.config.retain_days is not None and time.monotonic() >= next_prune:
                    self._prune(stop)
                    next_prune = time.monotonic() + PRUNE_EVERY_S
                batch = self._take(timeout=0.25)
                if batch:
                    self._store(batch, stop)
            self._store(self._take(timeout=0), stop=None)  # what is in hand, once more
        finally:
            self._client.disconnect()
            self._client.loop_stop()
            self.store.close()
        return self.summary

    def _take(self, timeout: float) -> list[_Message]:
        batch: list[_Message] = []
        try:
            batch.append(self._inbox.get(timeout=timeout) if timeout else self._inbox.get_nowait())
            while len(batch) < BATCH_MAX:
                batch.append(self._inbox.get_nowait())
        except queue.Empty:
            pass
        return batch

    def _rows(self, batch: list[_Message]) -> list[Row]:
        rows = []
        for message in batch:
            try:
                rows.append(event_row(device_of(message.topic, self.settings.topic),
                                      message.payload, message.received))  # fmt: skip
            except (ValueError, UnicodeDecodeError):
                self.summary.malformed += 1
        return rows

    def _store(self, batch: list[_Message], stop: threading.Event | None) -> None:
        """Insert the batch (retrying while the database is away), then acknowledge it."""
        if not batch:
            return
        rows = self._rows(batch)
        new = retry(lambda: self.store.insert(rows), errors=(StoreUnavailable,),
                    schedule=STORE_BACKOFF_S, wait=lambda s: stop is None or stop.wait(s),
                    on_error=lambda exc: self._problem(f"database unavailable ({exc})"))  # fmt: skip
        if new is None:
            return  # stopping: not acknowledged, so the broker keeps these for next time
        if self._last_problem is not None and self._last_problem.startswith("database"):
            self._log(f"serdevice record: database {self.store.name} is back")
            self._last_problem = None
        self.summary.stored += new
        self.summary.duplicates += len(rows) - new
        for message in batch:
            if message.generation == self._generation:  # else the broker redelivers it anyway
                self._client.ack(message.mid, 1)

    def _prune(self, stop: threading.Event) -> None:
        assert self.config.retain_days is not None
        try:
            self.summary.pruned += self.store.prune(self.config.retain_days)
        except StoreUnavailable as exc:
            self._problem(f"database unavailable ({exc})")

"""Where events go: JSONL on stdout, a JSONL file (append, size rotation), a text line, MQTT
(publishing; the transport, its settings and TLS are mqtt.py's).

A sink that fails (disk full, broker gone) must not stop the others: ``Fanout`` turns its
failure into an ``error`` event for the remaining sinks and keeps going.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ..stream.contracts import InputError, RuntimeFailure
from ..stream.events import to_line
from ..stream.fanout import Fanout as Fanout  # the stream's dispatch; the sinks are here
from ..stream.fanout import Sink as Sink
from ..stream.fanout import StdoutClosed as StdoutClosed
from .mqtt import (
    FIRST_CONNECT_WAIT_S,
    MqttSettings,
    describe_failure,
    is_auth_refusal,
    make_client,
    parse_settings,
)


class JsonlStream:
    """JSONL to a text stream, flushed per event."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.name = "stdout"
        self._stream = stream or sys.stdout

    def write(self, event: dict[str, Any]) -> None:
        try:
            self._stream.write(to_line(event) + "\n")
            self._stream.flush()
        except BrokenPipeError:
            raise StdoutClosed from None

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError):
            self._stream.flush()


class TextLine:
    """A line for people: label, confidence, an activation bar."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.name = "text"
        self._stream = stream or sys.stdout
        self._adapted_windows = 0  # from the start event: "adapting" below this many windows

    def _adapting(self, event: dict[str, Any]) -> str:
        n = event.get("norm_windows")
        if not isinstance(n, int) or n >= self._adapted_windows:
            return ""
        return f"  [adapting: {n}/{self._adapted_windows} windows heard]"

    def _start(self, event: dict[str, Any]) -> str:
        text = f"listening: {event['source']} with {event['model']} ({event['backend']})"
        note = event.get("adaptation") or {}
        if note.get("mode") in ("adaptive", "frozen"):
            self._adapted_windows = int(note.get("adapted_windows") or 0)
            verb = "adapting to the wearer" if note["mode"] == "adaptive" else "frozen adaptation"
            where = f"state {note['state']}" if note.get("state") else "state kept in memory only"
            text += f"; {verb} ({where}, {note.get('n_windows', 0)} speech windows heard before)"
        elif note.get("mode") == "off" or event.get("calibration"):
            text += "; no adaptation (fixed statistics)"
        return text

    def write(self, event: dict[str, Any]) -> None:
        kind, t = event["type"], event.get("t")
        stamp = f"{t:7.2f}s" if isinstance(t, (int, float)) else " " * 8
        if kind == "activation":
            bar = "#" * round((event["activation"] - 1) * 5)
            text = f"{stamp}  {event['label']:<8} {event['confidence']:.2f}  activation {event['activation']:.2f} |{bar:<20}|"
        elif kind == "emotion":
            text = f"{stamp}  >> {event['label'].upper()} (confidence {event['confidence']:.2f}){self._adapting(event)}"
        elif kind == "start":
            text = self._start(event)
        elif kind == "stop":
            text = f"stopped ({event.get('reason')}): {event.get('windows', 0)} windows, {event.get('speech_windows', 0)} with speech"
        elif kind == "error":
            text = f"error: {event.get('message')}"
        elif kind in ("speech_start", "speech_end"):
            text = f"{stamp}  -- {kind.replace('_', ' ')}"
        else:
            return
        try:
            self._stream.write(text + "\n")
            self._stream.flush()
        except BrokenPipeError:
            raise StdoutClosed from None

    def close(self) -> None:
        pass


class JsonlFile:
    """Append JSONL to a file; rotate to FILE.1 when it passes ``max_bytes``."""

    def __init__(self, path: Path, *, max_bytes: int = 50_000_000) -> None:
        self.name = f"file:{path}"
        self.path = path
        self.max_bytes = max_bytes
        if path.is_dir():
            raise InputError(f"events file {path}: is a directory")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = path.open("a", encoding="utf-8")
        except OSError as exc:  # the disk, not the input: a failure at run time
            raise RuntimeFailure(f"events file {path}: cannot write ({exc.strerror})") from None

    def write(self, event: dict[str, Any]) -> None:
        self._handle.write(to_line(event) + "\n")
        self._handle.flush()
        if self._handle.tell() >= self.max_bytes:
            self._handle.close()
            os.replace(self.path, self.path.with_name(self.path.name + ".1"))
            self._handle = self.path.open("a", encoding="utf-8")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._handle.close()


class Mqtt:
    """Publish each event (QoS 1) to the broker; reconnects with backoff and queues at most
    ``max_queued`` events while the broker is away.

    Each event goes out with a ``session`` key (one per ``listen`` run), so a recorder can
    key it by (device, session, seq) and store a redelivered event once. A broker that
    refuses the credentials at start is an input error (exit 2); any later failure (TLS,
    credentials, broker gone) becomes one ``error`` event per kind of failure, through
    ``report_to``, and the client keeps reconnecting.
    """

    def __init__(
        self,
        target: str | MqttSettings,
        *,
        max_queued: int = 10_000,
        client_id: str | None = None,
        connect_wait_s: float = FIRST_CONNECT_WAIT_S,
    ) -> None:
        settings = parse_settings(target) if isinstance(target, str) else target
        self.settings = settings
        self.name = f"mqtt:{settings.host}:{settings.port}/{settings.topic}"
        self.topic = settings.topic
        self.session = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._queued = 0  # events handed to the client (sent, or held until the broker is back)
        self._acked = 0  # ... of which the broker has acknowledged (QoS 1 PUBACK)
        self.dropped = 0  # refused because the bounded queue was full
        self._report: Callable[[str], None] | None = None
        self._pending: list[str] = []
        self._last_problem: str | None = None
        self._first = threading.Event()
        self._refused: str | None = None
        client = make_client(settings, client_id=client_id or _client_id(settings),
                             on_failure=self._on_failure)  # fmt: skip
        client.max_queued_messages_set(max_queued)
        client.on_publish = self._on_publish
        client.on_connect = self._on_connect
        client.on_connect_fail = lambda *args: self._first.set()
        import paho.mqtt.client as mqtt

        self._queue_full = mqtt.MQTT_ERR_QUEUE_SIZE
        self._client = client
        client.connect_async(settings.host, settings.port, keepalive=30)
        client.loop_start()
        self._first.wait(connect_wait_s)
        if self._refused is not None:
            self.close(timeout_s=0)
            raise InputError(f"--mqtt {settings.where}: the broker refused the credentials "
                             f"({self._refused}) for user {settings.username!r}")  # fmt: skip

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if not reason.is_failure:
            self._last_problem = None
            self._first.set()
            return
        if not self._first.is_set() and is_auth_refusal(reason):
            self._refused = str(reason)
            self._first.set()
            return
        if is_auth_refusal(reason):
            self._problem(f"the broker refused the credentials of user {self.settings.username!r} "
                          f"({reason})")  # fmt: skip
        else:
            self._problem(f"the broker refused the connection ({reason})")

    def _on_failure(self, exc: BaseException) -> None:
        self._problem(describe_failure(exc, self.settings))
        self._first.set()

    def _problem(self, message: str) -> None:
        if message == self._last_problem:
            return  # one event per kind of failure, not one per retry
        self._last_problem = message
        text = f"{self.name}: {message}; reconnecting with backoff"
        with self._lock:
            report = self._report
            if report is None:
                self._pending.append(text)
                return
        _deliver(report, text)

    def report_to(self, report: Callable[[str], None]) -> None:
        """Send connection problems (past and future) to ``report`` as one line each."""
        with self._lock:
            self._report, pending, self._pending = report, self._pending, []
        for text in pending:  # on the caller's thread: in the stream before report_to returns
            report(text)

    def _on_publish(self, *args: Any) -> None:
        with self._lock:
            self._acked += 1

    def write(self, event: dict[str, Any]) -> None:
        # Not under self._lock: paho calls on_publish holding its own message lock, which
        # publish takes too. An acknowledgement may be counted before its event; close() only
        # compares the totals once every write has returned.
        payload = to_line({**event, "session": self.session})
        info = self._client.publish(self.topic, payload, qos=1)
        if info.rc == self._queue_full:
            self.dropped += 1  # the broker has been away long: the oldest events are kept
        else:
            with self._lock:
                self._queued += 1  # rc "no connection": held and sent on reconnecting

    def close(self, timeout_s: float = 5.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self._acked < self._queued and time.monotonic() < deadline:
            time.sleep(0.05)  # shutdown only: give queued events a moment to reach the broker
        self._client.disconnect()
        self._client.loop_stop()


def _client_id(settings: MqttSettings) -> str:
    """One client id per topic (two devices with one id would keep disconnecting each other)."""
    return "serdevice-" + settings.topic.replace("/", "-")


def _deliver(report: Callable[[str], None], text: str) -> None:
    """Report on a thread of its own: paho's callbacks hold its locks, the sinks take theirs."""

    def run() -> None:
        with contextlib.suppress(Exception):  # the stream may be closing: nothing to tell
            report(text)

    threading.Thread(target=run, name="mqtt-report", daemon=True).start()

"""Where events go: JSONL on stdout, a JSONL file (append, size rotation), a text line, MQTT.

A sink that fails (disk full, broker gone) must not stop the others: ``Fanout`` turns its
failure into an ``error`` event for the remaining sinks and keeps going.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path
from typing import Any, Protocol, TextIO

from .contracts import InputError, RuntimeFailure
from .events import Error, Event, EventFactory, to_line


class Sink(Protocol):
    """Takes events; ``close`` flushes and releases."""

    name: str

    def write(self, event: dict[str, Any]) -> None:
        """Deliver one event (may raise OSError)."""
        ...

    def close(self) -> None:
        """Flush and release."""
        ...


class StdoutClosed(Exception):
    """The reader of stdout went away (e.g. ``| head``): end quietly."""


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

    def write(self, event: dict[str, Any]) -> None:
        kind, t = event["type"], event.get("t")
        stamp = f"{t:7.2f}s" if isinstance(t, (int, float)) else " " * 8
        if kind == "activation":
            bar = "#" * round((event["activation"] - 1) * 5)
            text = f"{stamp}  {event['label']:<8} {event['confidence']:.2f}  activation {event['activation']:.2f} |{bar:<20}|"
        elif kind == "emotion":
            text = f"{stamp}  >> {event['label'].upper()} (confidence {event['confidence']:.2f})"
        elif kind == "start":
            text = f"listening: {event['source']} with {event['model']} ({event['backend']})"
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


class Fanout:
    """Every event to every live sink; a failing sink is dropped and reported, not fatal.

    The one place events become records: ``EventFactory.stamp`` once per event, then each sink
    gets the same dict.
    """

    def __init__(self, sinks: list[Sink], factory: EventFactory) -> None:
        self.sinks = list(sinks)
        self.factory = factory
        self._lock = threading.RLock()  # the events thread and the capture loop both write

    def write(self, event: Event) -> None:
        with self._lock:
            record = self.factory.stamp(event)
            failed = []
            for sink in self.sinks:
                try:
                    sink.write(record)
                except StdoutClosed:
                    raise
                except OSError as exc:
                    failed.append((sink, exc))
            for broken, error in failed:
                self.sinks.remove(broken)
                self.write(
                    Error(message=f"{broken.name}: {error.strerror or error}; sink disabled")
                )

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()


class Mqtt:
    """Publish each event (QoS 1) to ``mqtt://host:port/topic``; reconnects with backoff and
    queues at most ``max_queued`` events while the broker is away."""

    def __init__(self, url: str, *, max_queued: int = 10_000, client_id: str = "serdevice") -> None:
        from urllib.parse import urlparse

        parsed = urlparse(url)
        topic = parsed.path.lstrip("/")
        if parsed.scheme != "mqtt" or not parsed.hostname or not topic:
            raise InputError(f"--mqtt {url}: expected mqtt://host[:port]/topic")
        try:
            import paho.mqtt.client as mqtt
        except ModuleNotFoundError:
            raise InputError("--mqtt needs paho-mqtt: pip install 'serdevice[device]'") from None
        self.name = f"mqtt:{parsed.hostname}:{parsed.port or 1883}/{topic}"
        self.topic = topic
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.max_queued_messages_set(max_queued)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.connect_async(parsed.hostname, parsed.port or 1883, keepalive=30)
        self._queue_full = mqtt.MQTT_ERR_QUEUE_SIZE
        self._lock = threading.Lock()
        self._queued = 0  # events handed to the client (sent, or held until the broker is back)
        self._acked = 0  # ... of which the broker has acknowledged (QoS 1 PUBACK)
        self.dropped = 0  # refused because the bounded queue was full
        self._client.on_publish = self._on_publish
        self._client.loop_start()

    def _on_publish(self, *args: Any) -> None:
        with self._lock:
            self._acked += 1

    def write(self, event: dict[str, Any]) -> None:
        # Not under self._lock: paho calls on_publish holding its own message lock, which
        # publish takes too. An acknowledgement may be counted before its event; close() only
        # compares the totals once every write has returned.
        info = self._client.publish(self.topic, to_line(event), qos=1)
        if info.rc == self._queue_full:
            self.dropped += 1  # the broker has been away long: the oldest events are kept
        else:
            with self._lock:
                self._queued += 1  # rc "no connection": held and sent on reconnecting

    def close(self, timeout_s: float = 5.0) -> None:
        import time

        deadline = time.monotonic() + timeout_s
        while self._acked < self._queued and time.monotonic() < deadline:
            time.sleep(0.05)  # shutdown only: give queued events a moment to reach the broker
        self._client.disconnect()
        self._client.loop_stop()

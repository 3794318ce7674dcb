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
from .mqtt import Mqtt as Mqtt  # the MQTT sink lives in mqtt.py with its TLS/auth options


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

    def mqtt_dropped(self) -> int | None:
        """Events the MQTT sinks' full offline queues refused so far (None: no MQTT sink)."""
        counts = [sink.dropped for sink in self.sinks if isinstance(sink, Mqtt)]
        return sum(counts) if counts else None

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()

"""Events to every sink: the stream's side of the sinks (sinks.py has the sinks themselves).

A sink that fails (disk full, broker gone) must not stop the others: ``Fanout`` turns its failure
into an ``error`` event for the remaining sinks and keeps going.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from .events import Error, Event, EventFactory


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
        """Events the MQTT sinks' full offline queues refused so far (None: no MQTT sink).

        A sink with a bounded queue (sinks.Mqtt) says how many it dropped in ``dropped``.
        """
        counts = [int(sink.dropped) for sink in self.sinks if hasattr(sink, "dropped")]
        return sum(counts) if counts else None

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()

"""Events: typed values inside the process, one JSON object per line outside (docs/events.md).

Each kind of event is a frozen dataclass; ``EventFactory.stamp`` is the one place that turns
one into the public JSONL record (``type`` first, then the event's fields in declaration order,
optional ones left out when unset, then ``wall``, ``seq`` and ``model``). Events carry no audio.
"""

from __future__ import annotations

import dataclasses
import json
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from .contracts import EventType


@dataclass(frozen=True, slots=True, kw_only=True)
class Counters:
    """What the source repaired or lost, and the loop's own counts (``stats`` and ``stop``)."""

    xruns: int = 0
    dropped_chunks: int = 0
    nonfinite: int = 0
    clipped: int = 0
    odd_bytes: int = 0
    reconnects: int = 0
    windows: int = 0
    cpu_s: float = 0.0
    mqtt_dropped: int | None = None  # events the MQTT sink's full offline queue refused


@dataclass(frozen=True, slots=True, kw_only=True)
class Start:
    """The stream is open: what it reads and with which model."""

    type: ClassVar[EventType] = EventType.START
    source: str
    native_rate: int
    sample_rate: int
    window_s: float
    hop_s: float
    backend: str
    labels: tuple[str, ...]
    calibration: dict[str, Any] | None = None  # the wearer's calibration in use (null: none)
    adaptation: dict[str, Any] | None = None  # online adaptation: mode, state file, windows
    keep_null: ClassVar[tuple[str, ...]] = ("calibration",)  # written as null, not left out


@dataclass(frozen=True, slots=True, kw_only=True)
class _SpeechEdge:
    t: float
    speech: float  # voiced share of the window's frames


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechStart(_SpeechEdge):
    """The speech gate opened at the window ending at ``t``."""

    type: ClassVar[EventType] = EventType.SPEECH_START


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechEnd(_SpeechEdge):
    """The speech gate closed at the window ending at ``t``."""

    type: ClassVar[EventType] = EventType.SPEECH_END


@dataclass(frozen=True, slots=True, kw_only=True)
class _Hop:
    """One speech hop's smoothed decision (the fields ``emotion`` and ``activation`` share)."""

    t: float
    label: str
    confidence: float
    scores: Mapping[str, float]
    activation: float
    latent: tuple[float, ...]
    speech: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Emotion(_Hop):
    """The smoothed label changed (or ``--every-hop``)."""

    type: ClassVar[EventType] = EventType.EMOTION
    latency_ms: float
    norm_windows: int | None = None  # speech windows the wearer's statistics rest on


@dataclass(frozen=True, slots=True, kw_only=True)
class Activation(_Hop):
    """Every speech hop: the smoothed decision plus this hop's own activation."""

    type: ClassVar[EventType] = EventType.ACTIVATION
    activation_raw: float
    latency_ms: float
    norm_windows: int | None = None  # speech windows the wearer's statistics rest on


@dataclass(frozen=True, slots=True, kw_only=True)
class Stats:
    """Periodic counters; also when the capture device is lost (``capture``) or back."""

    type: ClassVar[EventType] = EventType.STATS
    t: float
    capture: str | None = None  # "lost" | "resumed"
    gap_s: float | None = None
    norm_windows: int | None = None  # speech windows the wearer's statistics rest on
    counters: Counters


@dataclass(frozen=True, slots=True, kw_only=True)
class Error:
    """Something failed; ``recoverable`` when the stream goes on."""

    type: ClassVar[EventType] = EventType.ERROR
    t: float | None = None
    message: str
    fault: str | None = None
    recoverable: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Stop:
    """The last event of a stream."""

    type: ClassVar[EventType] = EventType.STOP
    reason: str
    audio_s: float
    speech_windows: int | None = None
    emotions: int | None = None
    norm_windows: int | None = None  # speech windows the wearer's statistics rest on
    counters: Counters


Event = Start | SpeechStart | SpeechEnd | Emotion | Activation | Stats | Error | Stop


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_round(v) for v in value]
    return value


def fields_of(event: Event | Counters) -> dict[str, Any]:
    """The event's fields as JSON types, in order; unset optional fields left out, counters inlined."""
    out: dict[str, Any] = {}
    for spec in dataclasses.fields(event):
        value = getattr(event, spec.name)
        if value is None and spec.name not in getattr(event, "keep_null", ()):
            continue
        if isinstance(value, Counters):
            out.update(fields_of(value))
        else:
            out[spec.name] = _round(value)
    return out


class EventFactory:
    """Stamps events with ``type``, ``seq``, ``wall`` and the model name (thread-safe)."""

    def __init__(self, model: str, *, wall_clock: Any = time.time) -> None:
        self.model = model
        self._wall_clock = wall_clock
        self._seq = 0
        self._lock = threading.Lock()

    def stamp(self, event: Event) -> dict[str, Any]:
        """The event's JSONL record; ``seq`` increases by one per event."""
        with self._lock:
            seq = self._seq
            self._seq += 1
        return {"type": event.type.value, **fields_of(event),
                "wall": round(self._wall_clock(), 3), "seq": seq, "model": self.model}  # fmt: skip


def to_line(event: dict[str, Any]) -> str:
    """Compact JSON, one line."""
    return json.dumps(event, separators=(", ", ": "), allow_nan=False)

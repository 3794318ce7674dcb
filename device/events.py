"""Events: one JSON object per line, stable keys (DESIGN.md's schema), never any audio."""

from __future__ import annotations

import json
import math
import threading
import time
from typing import Any

from .contracts import EventType


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_round(v) for v in value]
    return value


class EventFactory:
    """Stamps events with ``type``, ``seq``, ``wall`` and the model name (thread-safe)."""

    def __init__(self, model: str) -> None:
        self.model = model
        self._seq = 0
        self._lock = threading.Lock()

    def make(self, kind: EventType, **fields: Any) -> dict[str, Any]:
        """A new event; ``seq`` increases by one per event."""
        with self._lock:
            seq = self._seq
            self._seq += 1
        return {"type": kind.value, **_round(fields), "wall": round(time.time(), 3), "seq": seq,
                "model": self.model}  # fmt: skip


def to_line(event: dict[str, Any]) -> str:
    """Compact JSON, one line."""
    return json.dumps(event, separators=(", ", ": "), allow_nan=False)

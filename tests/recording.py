"""A sink for tests: keeps every event record it is given (optionally slowly, as a busy disk)."""

from __future__ import annotations

import time


class ListSink:
    """Records events in ``records``; ``delay_s`` per write makes the events thread lag."""

    name = "list"

    def __init__(self, delay_s: float = 0.0) -> None:
        self.records: list[dict] = []
        self.delay_s = delay_s

    def write(self, event: dict) -> None:
        if self.delay_s:
            time.sleep(self.delay_s)
        self.records.append(event)

    def close(self) -> None:
        pass

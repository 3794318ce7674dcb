"""Retrying with backoff: one mechanism for the microphone that went away and the recorder's
database that is down (the MQTT client's reconnects are paho's own, ``mqtt.RECONNECT_DELAY_S``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


def doubling(first_s: float, longest_s: float) -> tuple[float, ...]:
    """Waits that double from ``first_s`` up to ``longest_s``.

    >>> doubling(0.25, 1.5)
    (0.25, 0.5, 1.0, 1.5)
    """
    steps = [first_s]
    while steps[-1] < longest_s:
        steps.append(min(steps[-1] * 2, longest_s))
    return tuple(steps)


def waits(schedule: Sequence[float]) -> Iterator[float]:
    """The schedule's waits, then its last one for ever."""
    return itertools.chain(schedule, itertools.repeat(schedule[-1]))


def retry(attempt: Callable[[], T], *, errors: tuple[type[BaseException], ...],
          schedule: Sequence[float], wait: Callable[[float], bool],
          on_error: Callable[[BaseException], None] = lambda exc: None,
          wait_first: bool = False) -> T | None:  # fmt: skip
    """``attempt()`` until it returns without one of ``errors``; between tries ``wait(seconds)``
    with the schedule's waits (``wait_first``: before the first try too). ``on_error`` hears
    each failure. ``wait`` returning True means stop: then None."""
    for seconds in waits(schedule):
        if wait_first and wait(seconds):
            return None
        try:
            return attempt()
        except errors as exc:
            on_error(exc)
        if not wait_first and wait(seconds):
            return None
    return None  # unreachable: the waits do not end

"""The stream's windows, written once: window and hop, each row's end, and where to cut audio.

A ``Windowing`` is the one place that knows the analysis windows: the extractor asks it where
the next piece written to openSMILE ends, the stream asks it how much audio the source should
deliver next (a live source cuts its chunks there), and a row's ``t_end`` comes from it.

openSMILE closes the window ending at t only once audio up to at least t + 70 ms is in (its
last 60 ms pitch frame starts 10 ms before t, the 3-frame smoothing needs one frame more), and
often later: measured at 10 ms steps, 70 ms for most windows, 80 ms for a third of the sample's
(frame positions rounded in floating point), up to 100 ms on some speech (``benchmark
.lookahead_ms`` re-measures). This is the floor of "window end -> event". Audio is written at
t + LOOKAHEAD_S and then every LOOKAHEAD_STEP_S until the window's row has come.

Each write costs openSMILE a pass over its ~60 components (~0.4 ms CPU here), so audio is
handed over in as few pieces as latency allows: between two closing points, one piece of up to
BULK_S that ends LEAD_S before the next closing point (openSMILE works through it while the rest
of the window's look-ahead is still being captured), then the short piece that ends at the
closing point. Two writes a hop instead of one per 100 ms.
"""

from __future__ import annotations

from dataclasses import dataclass

from .contracts import DEFAULT_HOP_S, DEFAULT_WINDOW_S, SAMPLE_RATE, InputError

LOOKAHEAD_S = 0.07
LOOKAHEAD_STEP_S = 0.01
BULK_S = 0.4
LEAD_S = 0.1


def to_samples(seconds: float) -> int:
    """``seconds`` of 16 kHz audio, in samples.

    >>> to_samples(0.07)
    1120
    """
    return round(seconds * SAMPLE_RATE)


@dataclass(frozen=True, slots=True)
class Windowing:
    """Windows of ``window_s`` every ``hop_s`` (both 0: one row over the whole input)."""

    window_s: float = DEFAULT_WINDOW_S
    hop_s: float = DEFAULT_HOP_S

    def __post_init__(self) -> None:
        if not (0 < self.hop_s <= self.window_s <= 60 or self.window_s == self.hop_s == 0):
            raise InputError(f"need 0 < hop ({self.hop_s}) <= window ({self.window_s}) <= 60 s")

    @property
    def whole(self) -> bool:
        """One row over the whole input, at its end (clip level)."""
        return self.window_s == 0

    @property
    def window_samples(self) -> int:
        """Samples in one window."""
        return to_samples(self.window_s)

    def row_end(self, index: int) -> float:
        """Audio time (s) where the ``index``-th row's window ends (0-based).

        >>> Windowing(2.0, 0.5).row_end(3)
        3.5
        """
        return round(self.window_s + index * self.hop_s, 6)

    def next_write(self, *, rows: int, written: int) -> int:
        """Where the next piece written to openSMILE ends (a total sample count), given the
        rows it has given and the samples written so far.

        >>> Windowing(2.0, 0.5).next_write(rows=0, written=0)  # a bulk piece of 0.4 s
        6400
        >>> Windowing(2.0, 0.5).next_write(rows=0, written=31520)  # lead reached: the closing one
        33120
        """
        bulk = written + to_samples(BULK_S)
        if self.whole:
            return bulk
        first = to_samples(self.row_end(rows) + LOOKAHEAD_S)
        close = first if written < first else written + to_samples(LOOKAHEAD_STEP_S)
        lead = close - to_samples(LEAD_S)
        return min(bulk, lead) if lead > written else close

    def next_cut(self, *, rows: int, written: int, pushed: int) -> int:
        """Where the source's next chunk should end (a total sample count): where the next
        piece is written to openSMILE (a window may close there), or a look-ahead step on."""
        cut = self.next_write(rows=rows, written=written)
        return cut if cut > pushed else pushed + to_samples(LOOKAHEAD_STEP_S)


DEFAULT_WINDOWING = Windowing()  # the bundled models' 2 s windows every 0.5 s
WHOLE_INPUT = Windowing(0, 0)  # one row over the whole input (clip level)

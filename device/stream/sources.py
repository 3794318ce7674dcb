"""Audio sources behind one protocol: a file (paced or --fast), stdin s16le PCM, and a
microphone (microphone.py).

Each yields float32 mono chunks at 16 kHz, repairing and counting what it meets on the way
(NaN/Inf, clipping, odd trailing bytes, capture overflows). Raw audio stays in memory.
"""

from __future__ import annotations

import io
import os
import select
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from .audio import check_audio_file, sanitize, to_mono
from .contracts import SAMPLE_RATE, InputError
from .resampler import FirResampler, SoxrResampler, resampler_for

Resampler = SoxrResampler | FirResampler  # what a source resamples with (resampler_for)

# Chunk length when nothing asks for another (--fast, predict, stdin reads at most this much).
FAST_BLOCK_S = 0.5

# How many 16 kHz samples the stream wants in the next chunk (``runtime.Stream.wanted``): live
# sources cut their chunks there (openSMILE's next window can close at that sample), so a
# window's audio is not held back until a fixed-size block fills.
Schedule = Callable[[], int]


@dataclass
class SourceStats:
    """What a source repaired or lost."""

    nonfinite: int = 0
    clipped: int = 0
    odd_bytes: int = 0
    overflows: int = 0
    dropped_chunks: int = 0
    reconnects: int = 0


FaultHandler = Callable[..., None]  # (message, *, lost: bool, **fields)


class AudioSource(Protocol):
    """Something that yields float32 mono 16 kHz chunks until it ends or is stopped.

    ``on_fault`` and ``on_waiting`` are set by the loop; a source that can lose its device
    calls them (the others never do). ``schedule``, when set, says how long the next chunk
    should be; live sources (a paced file, a microphone) follow it, the others may ignore it.
    """

    name: str
    native_rate: int
    stats: SourceStats
    on_fault: FaultHandler | None
    on_waiting: Callable[[], object] | None
    schedule: Schedule | None

    def chunks(self) -> Iterator[np.ndarray]:
        """Chunks in order; ends at end of input or after ``stop``."""
        ...

    def stop(self) -> None:
        """Ask the source to end soon (thread-safe)."""
        ...


def clean(x: np.ndarray, stats: SourceStats) -> np.ndarray:
    """``x`` with NaN/Inf set to 0 and clamped to [-1, 1] (audio.sanitize), counted in ``stats``."""
    clean, nonfinite, clipped = sanitize(x)
    stats.nonfinite += nonfinite
    stats.clipped += clipped
    return clean


class FileSource:
    """A sound file, paced in real time (default) or as fast as possible."""

    def __init__(self, path: Path, *, realtime: bool = True) -> None:
        import soundfile

        self.path = check_audio_file(path)
        self.name = str(path)
        self.native_rate = int(soundfile.info(str(path)).samplerate)
        self.realtime = realtime
        self.stats = SourceStats()
        self.on_fault: FaultHandler | None = None
        self.on_waiting: Callable[[], object] | None = None
        self.schedule: Schedule | None = None
        self._stop = threading.Event()

    def chunks(self) -> Iterator[np.ndarray]:
        import soundfile

        # Paced like a microphone, it resamples like one (the short filter: no audio held back).
        resample = resampler_for(self.native_rate, live=self.realtime)
        fast_block = max(1, int(self.native_rate * FAST_BLOCK_S))
        started, emitted = time.monotonic(), 0
        with soundfile.SoundFile(str(self.path)) as handle:
            while not self._stop.is_set():
                frames = self._frames_wanted(fast_block, resample)
                data = handle.read(frames, dtype="float32", always_2d=True)
                if not len(data):
                    break
                chunk = clean(resample(to_mono(data)), self.stats)
                emitted += len(chunk)
                if self.realtime:  # pace: this chunk is "captured" only when its time has come
                    delay = started + emitted / SAMPLE_RATE - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        return
                yield chunk
        tail = resample(np.zeros(0, np.float32), last=True)
        if len(tail):
            yield tail

    def _frames_wanted(self, fast_block: int, resample: Resampler) -> int:
        """File frames for the next chunk: up to the schedule's next cut when paced."""
        if not self.realtime or self.schedule is None:
            return fast_block
        return max(1, min(fast_block, resample.frames_for(self.schedule())))

    def stop(self) -> None:
        self._stop.set()


class StdinSource:
    """Raw little-endian int16 PCM on stdin (``--source -``) at ``rate`` with ``channels``."""

    def __init__(self, *, rate: int, channels: int = 1, stream: BinaryIO | None = None) -> None:
        if not 4000 <= rate <= 192000:
            raise InputError(f"sample rate {rate}: expected 4000-192000 Hz")
        if not 1 <= channels <= 32:
            raise InputError(f"{channels} channels: expected 1-32")
        self.name = "stdin"
        self.native_rate = rate
        self.channels = channels
        self.stats = SourceStats()
        self.on_fault: FaultHandler | None = None
        self.on_waiting: Callable[[], object] | None = None
        self._stream = stream if stream is not None else sys.stdin.buffer
        self._stop = threading.Event()

    def chunks(self) -> Iterator[np.ndarray]:
        resample = resampler_for(self.native_rate, live=True)  # a live producer (arecord, parec)
        frame_bytes = 2 * self.channels
        # Up to this much per read; a live producer's smaller writes come through as they arrive.
        want = max(frame_bytes, int(self.native_rate * FAST_BLOCK_S) * frame_bytes)
        pending = b""
        while not self._stop.is_set():
            data = self._read(want)
            if not data:
                break
            pending += data
            usable = len(pending) - len(pending) % frame_bytes
            if usable:
                yield clean(resample(self.decode(pending[:usable])), self.stats)
            pending = pending[usable:]
        self.stats.odd_bytes += len(pending)
        tail = resample(np.zeros(0, np.float32), last=True)
        if len(tail):
            yield tail

    def _read(self, want: int) -> bytes:
        """Up to ``want`` bytes; b"" at end of input or once stopped.

        A pipe is polled, so a signal ends the stream even while the producer is silent (a
        plain read would be resumed after the handler and block until more data came).
        """
        try:
            fd = self._stream.fileno()
        except (AttributeError, OSError, io.UnsupportedOperation):
            return self._stream.read(want)  # an in-memory stream: never blocks
        while not self._stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.25)
            if ready:
                return os.read(fd, want)
        return b""

    def decode(self, data: bytes) -> np.ndarray:
        """s16le interleaved bytes (whole frames) -> float32 mono (cleaned after resampling)."""
        samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
        return to_mono(samples.reshape(-1, self.channels))

    def stop(self) -> None:
        self._stop.set()

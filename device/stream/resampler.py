"""Streaming resampling to 16 kHz: a short linear-phase filter for live audio, soxr for files.

A microphone at 44.1 or 48 kHz (most USB and I2S ones) must reach openSMILE at 16 kHz without
holding back the audio that closes a window. soxr's streaming resampler (high quality) answers
in ~34 ms blocks after a ~23 ms delay (up to 40 ms), which put 30-70 ms on every window's latency
at 22.05 and 48 kHz. ``FirResampler`` is a Kaiser-windowed sinc, polyphase: each output sample is
computed as soon as the input ``half`` samples past it has arrived (about 3 ms at any rate), and
a caller can ask exactly how much input the next output samples need (``frames_for``), so a live
source cuts its chunks where openSMILE's next window closes.

Passband to 7.6 kHz (-6 dB at 7.6 kHz, 80 dB down from 8 kHz): what eGeMAPS reads lies below (the
highest bands, spectral slope and alpha ratio, end at 5 kHz). ``--fast`` file analysis, where
latency does not matter, keeps soxr (high quality): the batch features the models were trained on
come from soxr too, and the two agree closely (tests/test_resampler.py).
"""

from __future__ import annotations

import math

import numpy as np

from .contracts import SAMPLE_RATE

TRANSITION_HZ = 800.0  # from the passband edge to the output's Nyquist frequency
STOPBAND_DB = 80.0
PER_PHASE_FROM = 4  # outputs per phase from which a piece is computed phase by phase


class SoxrResampler:
    """soxr's streaming resampler (high quality); the identity when the rates agree."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._stream = None
        if rate != SAMPLE_RATE:
            import soxr

            self._stream = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32")

    def __call__(self, x: np.ndarray, *, last: bool = False) -> np.ndarray:
        if self._stream is None:
            return x
        return np.asarray(self._stream.resample_chunk(x, last=last), dtype=np.float32)

    def frames_for(self, outputs: int) -> int:
        """Input frames for about ``outputs`` more output samples (soxr's delay not counted)."""
        return max(1, math.ceil(outputs * self.rate / SAMPLE_RATE))


class FirResampler:
    """Rational resampling ``rate`` -> 16 kHz by a polyphase Kaiser-windowed sinc, streaming."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        g = math.gcd(rate, SAMPLE_RATE)
        self.up, self.down = SAMPLE_RATE // g, rate // g  # output n sits at input n * down / up
        self.half = _half_length(rate)
        self._table = _phase_table(rate, self.up, self.half)
        self._buffer = np.zeros(self.half - 1, np.float32)  # zeros before the first sample
        self._start = -(self.half - 1)  # input index of _buffer[0]
        self._received = 0  # input samples so far
        self._emitted = 0  # output samples so far

    @property
    def delay_s(self) -> float:
        """How long after an output sample's time its value is known (the look-ahead)."""
        return self.half / self.rate

    def frames_for(self, outputs: int) -> int:
        """Input frames still needed before ``outputs`` more output samples can be computed."""
        last = self._emitted + max(1, outputs) - 1
        needed = (last * self.down) // self.up + self.half + 1
        return max(1, needed - self._received)

    def __call__(self, x: np.ndarray, *, last: bool = False) -> np.ndarray:
        x = np.asarray(x, np.float32)
        self._received += len(x)
        total = self._received
        if last:  # the tail: as many outputs as the input lasts, zeros after it
            x = np.concatenate([x, np.zeros(self.half, np.float32)])
        self._buffer = np.concatenate([self._buffer, x])
        end = -(-total * self.up // self.down) if last else self._available(total)
        out = self._compute(end)
        keep = (self._emitted * self.down) // self.up - self.half + 1 - self._start
        if keep > 0:
            self._buffer, self._start = self._buffer[keep:], self._start + keep
        return out

    def _available(self, total: int) -> int:
        """Outputs whose taps have all arrived: n * down // up + half < total."""
        limit = total - self.half  # n * down // up must be below this
        return max(self._emitted, -(-limit * self.up // self.down)) if limit > 0 else self._emitted

    def _compute(self, end: int) -> np.ndarray:
        if end <= self._emitted:
            return np.zeros(0, np.float32)
        if self.up == 1:  # an integer ratio (32, 48, 96 kHz): one phase, a strided correlation
            return self._decimate(end)
        windows = np.lib.stride_tricks.sliding_window_view(self._buffer, 2 * self.half)
        if end - self._emitted >= PER_PHASE_FROM * self.up:
            out = self._by_phase(windows, end)
        else:  # a short piece: gather each output's window and taps
            n = np.arange(self._emitted, end, dtype=np.int64)
            base, phase = np.divmod(n * self.down, self.up)
            first = base - self.half + 1 - self._start  # the first tap's place in the buffer
            out = np.einsum("ij,ij->i", windows[first], self._table[phase], dtype=np.float32)
        self._emitted = end
        return out.astype(np.float32, copy=False)

    def _by_phase(self, windows: np.ndarray, end: int) -> np.ndarray:
        """Outputs ``_emitted`` .. ``end``, one matrix-vector product per phase: the outputs
        n, n + up, n + 2 up ... share their taps, and their windows lie ``down`` inputs apart (a
        strided view of the buffer, nothing gathered)."""
        out = np.empty(end - self._emitted, np.float32)
        for offset in range(min(self.up, len(out))):
            base, phase = divmod((self._emitted + offset) * self.down, self.up)
            first = base - self.half + 1 - self._start
            count = len(range(offset, len(out), self.up))
            out[offset :: self.up] = windows[first :: self.down][:count] @ self._table[phase]
        return out

    def _decimate(self, end: int) -> np.ndarray:
        """Outputs ``_emitted`` .. ``end`` when every output sits on an input sample (``up`` 1):
        the correlation with the taps split into ``down`` polyphase branches, each at 16 kHz."""
        taps, down, count = self._table[0], self.down, end - self._emitted
        first = self._emitted * down - self.half + 1 - self._start
        out = np.zeros(count, np.float32)
        for branch in range(down):  # taps branch, branch + down, ... meet inputs 1 in down
            x = self._buffer[first + branch :: down][: count + len(taps[branch::down]) - 1]
            out += np.correlate(x, taps[branch::down], mode="valid")[:count]
        self._emitted = end
        return out


def _half_length(rate: int) -> int:
    """Taps on each side for the Kaiser design at this input rate (Kaiser's formula)."""
    width = 2 * math.pi * TRANSITION_HZ / rate
    return max(2, math.ceil((STOPBAND_DB - 8) / (2.285 * width) / 2))


def _phase_table(rate: int, up: int, half: int) -> np.ndarray:
    """(up, 2 * half) taps: row p weights inputs base - half + 1 .. base + half for an output
    sample ``p / up`` of an input sample past ``base``."""
    beta = 0.1102 * (STOPBAND_DB - 8.7)
    cutoff = (min(rate, SAMPLE_RATE) / 2 - TRANSITION_HZ / 2) / rate  # cycles per input sample
    frac = np.arange(up)[:, None] / up
    t = frac + (half - 1 - np.arange(2 * half))[None, :]  # output time minus each tap's time
    inside = np.clip(1 - (t / half) ** 2, 0, None)
    taps = 2 * cutoff * np.sinc(2 * cutoff * t) * np.i0(beta * np.sqrt(inside)) / np.i0(beta)
    taps /= taps.sum(axis=1, keepdims=True)  # unit gain at DC in every phase
    return taps.astype(np.float32)


def resampler_for(rate: int, *, live: bool) -> SoxrResampler | FirResampler:
    """The short filter for live (paced) audio at another rate, else soxr (or the identity)."""
    if live and rate != SAMPLE_RATE:
        return FirResampler(rate)
    return SoxrResampler(rate)

"""Speech gate: webrtcvad on 30 ms frames; a window is speech when enough of it is voiced.

Frames quieter than a floor (-75 dBFS) count as unvoiced whatever the VAD says, so digital
silence and faint hiss never open the gate. Above the floor, the VAD hears the frame 35 dB louder
(clipped): webrtcvad misses quiet speech, and a wearable's gain is not the corpora's. Measured on
59 real clips (RAVDESS, EMOVO, ASED; median level -34 dBFS) at -20 to +12 dB of gain: with the old
-55 dBFS floor and 20 dB, -20 dB kept 55 of 160 speech windows (28 clips with none) and -12 dB 117;
with -75 dBFS and 35 dB every gain keeps 159-160 (2026-12-01). The VAD alone calls steady noise
speech (it did on ALSA's Noise.wav), so a window must also be *modulated*: the standard deviation
of its frames' energy must reach 3 dB (measured: steady noise and tones 0-1.2 dB, speech 6-30 dB).
``speech_start`` / ``speech_end`` follow the per-window decision with a hangover: speech ends
only after ``hangover_hops`` non-speech hops.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

import numpy as np

from .contracts import DEFAULT_WINDOW_S, SAMPLE_RATE

FRAME = int(0.03 * SAMPLE_RATE)  # 480 samples: one of webrtcvad's frame sizes
FLOOR_RMS = 10 ** (-75 / 20)
MIN_MODULATION_DB = 3.0
VAD_GAIN = 10 ** (35 / 20)  # what the VAD hears, above the floor (see the module's docstring)


@dataclass(frozen=True, slots=True, kw_only=True)
class GateConfig:
    """The gate's settings (the ``--vad-aggressiveness`` option and the speech share)."""

    aggressiveness: int = 2  # webrtcvad's 0-3
    threshold: float = 0.3  # voiced share of a window's frames that makes it speech


@dataclass(frozen=True, slots=True, kw_only=True)
class GateDecision:
    """The gate's view of one window."""

    speech_share: float  # voiced share of the window's frames
    is_speech: bool  # the gate is open (speech, or within the hangover)
    started: bool  # speech_start happens at this window
    ended: bool  # speech_end happens at this window


class SpeechGate:
    """Feed audio with ``feed``; ask about a window with ``decide`` (thread-safe)."""

    def __init__(self, config: GateConfig = GateConfig(), *, window_s: float = DEFAULT_WINDOW_S,
                 hangover_hops: int = 2) -> None:  # fmt: skip
        import webrtcvad

        self._vad = webrtcvad.Vad(config.aggressiveness)
        self.threshold = config.threshold
        self.window_frames = max(1, round(window_s * SAMPLE_RATE / FRAME))
        self.hangover_hops = hangover_hops
        self._pending = np.zeros(0, dtype=np.float32)
        self._frames: deque[tuple[float, bool, float]] = deque(maxlen=self.window_frames * 4)
        self._samples = 0
        self._lock = threading.Lock()
        self._open = False
        self._quiet_hops = 0

    def feed(self, chunk: np.ndarray) -> None:
        """Classify every complete 30 ms frame in the audio seen so far."""
        data = np.concatenate([self._pending, chunk]) if len(self._pending) else chunk
        n = len(data) // FRAME
        frames = data[: n * FRAME].reshape(n, FRAME)
        powers = np.mean(frames * frames, axis=1).tolist()  # all frames at once (same values)
        pcm = (np.clip(frames * VAD_GAIN, -1, 1) * 32767).astype("<i2").tobytes()
        step = FRAME * 2
        decided = []
        for i, power in enumerate(powers):
            self._samples += FRAME
            frame_pcm = pcm[i * step : (i + 1) * step]
            voiced = power >= FLOOR_RMS**2 and bool(self._vad.is_speech(frame_pcm, SAMPLE_RATE))
            decided.append((self._samples / SAMPLE_RATE, voiced, 10 * math.log10(power + 1e-10)))
        self._pending = data[n * FRAME :].copy()
        with self._lock:
            self._frames.extend(decided)

    def measure(self, t_end: float, window_s: float) -> tuple[float, float]:
        """(voiced share, energy modulation in dB) of the frames ending in (t_end - window_s, t_end]."""
        with self._lock:
            inside = [
                (v, db) for end, v, db in self._frames if t_end - window_s < end <= t_end + 1e-6
            ]
        if not inside:
            return 0.0, 0.0
        return sum(v for v, _ in inside) / len(inside), float(np.std([db for _, db in inside]))

    def decide(self, t_end: float, window_s: float) -> GateDecision:
        """Update the open/closed state with the window ending at ``t_end``."""
        share, modulation = self.measure(t_end, window_s)
        speech = share >= self.threshold and modulation >= MIN_MODULATION_DB
        started = ended = False
        if speech:
            self._quiet_hops = 0
            started, self._open = not self._open, True
        elif self._open:
            self._quiet_hops += 1
            if self._quiet_hops > self.hangover_hops:
                self._open, ended = False, True
        return GateDecision(speech_share=share, is_speech=self._open and not ended,
                            started=started, ended=ended)  # fmt: skip

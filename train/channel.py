"""Channel-shifted copies of clips: what another microphone and another recording gain do.

A wearer's microphone differs from the corpora's in level and in colour. The shift, one per
*speaker* (one microphone per wearer), drawn from a seed derived from the speaker's name:

- **gain** uniform in [-15, +15] dB;
- **colouring**: band-limited to 100 Hz - 7 kHz (2nd-order Butterworth high-pass and low-pass, a
  small wearable microphone and its codec) and a spectral tilt, a first-order filter
  ``y[n] = x[n] - a * x[n-1]`` with ``a`` uniform in [-0.5, 0.5] (``a > 0`` brightens: about
  +5 dB at 4 kHz against 300 Hz at ``a = 0.5``; ``a < 0`` darkens as much);
- then the samples are clipped to [-1, 1], as an ADC would.

``apply_channel`` is a plain function of an array (the gain-invariance test uses it with a
fixed shift); ``channel_copies`` writes the copies once under ``CACHE/channel/`` (16 kHz mono
16-bit FLAC), named by the clip's content hash and the shift, so a rerun reads them back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from serdevice.device.stream.audio import read_audio
from serdevice.device.stream.contracts import SAMPLE_RATE

from .childlike import copies, write_once
from .corpora.schema import Utterance
from .features_batch import file_hash

GAIN_DB = (-15.0, 15.0)
TILT = (-0.5, 0.5)
BAND_HZ = (100.0, 7000.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelShift:
    """One microphone: its gain, and whether it is band-limited, and its tilt coefficient."""

    gain_db: float = 0.0
    band_limit: bool = True
    tilt: float = 0.0

    def tag(self) -> str:
        """Part of the output file name."""
        return f"g{self.gain_db:+.1f}-b{int(self.band_limit)}-t{self.tilt:+.2f}"


def shift_for_speaker(speaker: str) -> ChannelShift:
    """The speaker's own microphone (deterministic in the speaker's name)."""
    seed = int(hashlib.sha256(speaker.encode("utf-8")).hexdigest()[:16], 16)
    rng = np.random.default_rng(seed)
    return ChannelShift(gain_db=float(rng.uniform(*GAIN_DB)), tilt=float(rng.uniform(*TILT)))


def apply_channel(samples: np.ndarray, shift: ChannelShift, rate: int = SAMPLE_RATE) -> np.ndarray:
    """The clip as ``shift``'s microphone would record it (float32, clipped to [-1, 1]).

    >>> apply_channel(np.full(4, 0.1, np.float32), ChannelShift(gain_db=20.0, band_limit=False)).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    x = np.asarray(samples, dtype=np.float64)
    if shift.band_limit and len(x):
        from scipy.signal import butter, sosfilt

        low, high = BAND_HZ
        sos = butter(2, [low, min(high, 0.45 * rate)], btype="bandpass", fs=rate, output="sos")
        x = sosfilt(sos, x)
    if shift.tilt and len(x):
        x = np.concatenate([x[:1], x[1:] - shift.tilt * x[:-1]])
    x = x * 10 ** (shift.gain_db / 20)
    return np.clip(x, -1.0, 1.0).astype(np.float32)


def _make_one(args: tuple[Path, ChannelShift, Path]) -> Path:
    source, shift, folder = args
    return write_once(folder / f"{file_hash(source)[:24]}-{shift.tag()}.flac",
                      lambda: apply_channel(read_audio(source).samples, shift))  # fmt: skip


def channel_copies(
    utterances: Sequence[Utterance], folder: Path, *, jobs: int = 2, progress: bool = True
) -> list[Utterance]:
    """Each clip through its speaker's microphone (made once, then read from ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    tasks = [(u.path, shift_for_speaker(u.split_group), folder) for u in utterances]
    return copies(utterances, tasks, _make_one, jobs=jobs, progress=progress,
                  desc="channel-shifted")  # fmt: skip

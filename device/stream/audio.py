"""Reading audio files: anything soundfile reads -> float32 mono 16 kHz, with counts of repairs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .contracts import SAMPLE_RATE, InputError

# What libsndfile (soundfile) reads, by extension; the content decides the codec, so AIFF data
# under a .wav name reads too.
AUDIO_SUFFIXES = frozenset(
    (".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc",
     ".au", ".snd", ".caf", ".w64", ".rf64")
)  # fmt: skip


def audio_files_under(folder: Path) -> list[Path]:
    """Audio files below ``folder`` (extension in AUDIO_SUFFIXES, any case), recursively, sorted."""
    return sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioClip:
    """A whole file as the pipeline wants it, plus what had to be repaired on the way."""

    samples: np.ndarray  # float32, mono, SAMPLE_RATE
    source_rate: int
    channels: int
    n_nonfinite: int  # NaN/Inf samples replaced by 0
    n_clipped: int  # samples with |x| >= 1, clamped to [-1, 1]

    @property
    def duration_s(self) -> float:
        """Length in seconds at 16 kHz."""
        return len(self.samples) / SAMPLE_RATE


def to_mono(samples: np.ndarray) -> np.ndarray:
    """(n,) or (n, channels) -> (n,) float32, averaging channels."""
    data = np.asarray(samples, dtype=np.float32)
    if data.ndim == 2:
        data = data.mean(axis=1, dtype=np.float32)
    return data


def sanitize(samples: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Replace NaN/Inf by 0 and clamp to [-1, 1]; return (clean, n_nonfinite, n_clipped).

    >>> clean, bad, clipped = sanitize(np.array([0.5, np.nan, 2.0, -np.inf], dtype=np.float32))
    >>> clean.tolist(), bad, clipped
    ([0.5, 0.0, 1.0, 0.0], 2, 1)
    """
    data = np.asarray(samples, dtype=np.float32)
    finite = np.isfinite(data)
    n_nonfinite = int(data.size - np.count_nonzero(finite))
    if n_nonfinite:
        data = np.where(finite, data, np.float32(0.0))
    n_clipped = int(np.count_nonzero(np.abs(data) >= 1.0))
    if n_clipped:
        data = np.clip(data, -1.0, 1.0)
    return data.astype(np.float32, copy=False), n_nonfinite, n_clipped


def resample(samples: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """One-shot resampling with soxr (high quality); identity when the rates agree."""
    if rate == target:
        return np.asarray(samples, dtype=np.float32)
    import soxr

    return np.asarray(soxr.resample(samples, rate, target), dtype=np.float32)


def check_audio_file(path: str | Path) -> Path:
    """The path, if it names a non-empty file soundfile can open; else a one-line InputError."""
    import soundfile

    file = Path(path)
    if not file.exists():
        raise InputError(f"{file}: no such file")
    if file.is_dir():
        raise InputError(f"{file}: is a directory, not an audio file")
    if file.stat().st_size == 0:
        raise InputError(f"{file}: empty file")
    try:
        frames = soundfile.info(str(file)).frames
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{file}: not a readable audio file ({reason})") from None
    if frames == 0:
        raise InputError(f"{file}: audio file holds no samples")
    return file


def read_audio(path: str | Path) -> AudioClip:
    """Read a WAV/FLAC/OGG file of any rate, channels and sample format as 16 kHz mono float32."""
    import soundfile

    file = check_audio_file(path)
    try:
        data, rate = soundfile.read(str(file), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{file}: not a readable audio file ({reason})") from None
    if data.shape[0] == 0:
        raise InputError(f"{file}: audio file holds no samples")
    mono, n_nonfinite, n_clipped = sanitize(to_mono(data))
    samples, _, _ = sanitize(resample(mono, int(rate)))
    return AudioClip(
        samples=samples,
        source_rate=int(rate),
        channels=int(data.shape[1]),
        n_nonfinite=n_nonfinite,
        n_clipped=n_clipped,
    )

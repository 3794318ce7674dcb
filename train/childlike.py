"""Child-like versions of adult clips: pitch raised to a child's F0, formants shifted up.

The wearers are children (F0 about 250-400 Hz, formants 15-30 % above an adult's); no child
corpus is at hand, so held-out clips are also scored in a child-like version, and training may
see such versions as augmentation. The transform is Praat's "Change gender" (PSOLA; Boersma &
Weenink), through praat-parselmouth: every formant is multiplied by ``formant_ratio`` (the clip is
resampled, then PSOLA restores duration and sets pitch), and the pitch contour is moved so its
median becomes ``f0_median_hz`` with the same range in semitones. Each clip gets its own ratio in
[1.15, 1.30] and median in [250, 400] Hz, drawn from a seed derived from its content, so a
rerun writes the same files. Only the audio changes: speaker, labels and corpus stay the clip's.

Praat's overlap-add draws random numbers (two calls on the same clip differed in 99.98 % of
the samples, RMS 12 % of the signal's), so ``childlike`` seeds Praat's generator with the clip's
own ``praat_seed`` (drawn with the ratio and the median) before each call and puts it back to
unpredictable after: a copy depends on the clip and nothing else (not on the process, nor on
what that process transformed before), and an empty cache rebuilds the same copies.

Output: 16 kHz mono FLAC under ``CACHE/childlike/<content hash>-<parameters>.flac``; the name
carries the Praat seed, so copies written before it was fixed (each a random draw) are not reused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from serdevice.device.stream.audio import read_audio
from serdevice.device.stream.contracts import SAMPLE_RATE

from . import cache
from .corpora.schema import Utterance
from .features_batch import file_hash
from .parallel import map_in_order

T = TypeVar("T")
FORMANT_RATIO = (1.15, 1.30)  # children's formants vs an adult's (the 15-30 %)
F0_MEDIAN_HZ = (250.0, 400.0)  # children's F0
PITCH_FLOOR_HZ, PITCH_CEILING_HZ = 75.0, 600.0  # Praat's analysis range for adults


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildShift:
    """How one clip is shifted."""

    formant_ratio: float
    f0_median_hz: float
    praat_seed: int = 0  # seeds Praat's random numbers (PSOLA) for this clip

    def tag(self) -> str:
        """Part of the output file name."""
        return f"fr{self.formant_ratio:.3f}-f0{self.f0_median_hz:.0f}-r{self.praat_seed}"


def shift_for(content_hash: str) -> ChildShift:
    """The clip's own draw of formant ratio, F0 median and Praat seed (deterministic in its
    content; the ratio and the median are the draws made before the seed was added)."""
    rng = np.random.default_rng(int(content_hash[:16], 16))
    return ChildShift(formant_ratio=float(rng.uniform(*FORMANT_RATIO)),
                      f0_median_hz=float(rng.uniform(*F0_MEDIAN_HZ)),
                      praat_seed=int(rng.integers(1, 2**31)))  # fmt: skip


def childlike(samples: np.ndarray, shift: ChildShift, rate: int = SAMPLE_RATE) -> np.ndarray:
    """The child-like version of a mono clip (same length and rate), peak-limited to 0.99."""
    import parselmouth
    from parselmouth.praat import call, run

    sound = parselmouth.Sound(np.asarray(samples, dtype=np.float64), float(rate))
    # "Change gender" draws random numbers: seeded, the copy is a function of the clip alone.
    run(f"random_initializeWithSeedUnsafelyButPredictably ({shift.praat_seed})")
    try:
        changed = call(sound, "Change gender", PITCH_FLOOR_HZ, PITCH_CEILING_HZ,
                       shift.formant_ratio, shift.f0_median_hz, 1.0, 1.0)  # fmt: skip
    finally:
        run("random_initializeSafelyAndUnpredictably ()")
    out = np.asarray(changed.values[0], dtype=np.float32)[: len(samples)]
    if len(out) < len(samples):
        out = np.pad(out, (0, len(samples) - len(out)))
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    return out * np.float32(0.99 / peak) if peak > 0.99 else out


def write_once(target: Path, make: Callable[[], np.ndarray]) -> Path:
    """``target`` (16 kHz mono 16-bit FLAC) from ``make()``, unless it is there; written under a
    temporary name first, so a reader never sees half a file."""
    import soundfile as sf

    return cache.file(target, lambda partial: sf.write(partial, make(), SAMPLE_RATE,
                                                       subtype="PCM_16"))  # fmt: skip


def _make_one(args: tuple[Path, Path]) -> Path:
    source, folder = args
    digest = file_hash(source)
    shift = shift_for(digest)
    return write_once(folder / f"{digest[:24]}-{shift.tag()}.flac",
                      lambda: childlike(read_audio(source).samples, shift))  # fmt: skip


def copies(utterances: Sequence[Utterance], tasks: Sequence[T], make: Callable[[T], Path], *,
           jobs: int, progress: bool, desc: str) -> list[Utterance]:  # fmt: skip
    """The utterances with their audio replaced by ``make(task)``'s files, one task each."""
    paths = map_in_order(make, tasks, jobs=jobs, desc=desc, chunksize=8, progress=progress)
    return [replace(u, path=p) for u, p in zip(utterances, paths, strict=True)]


def childlike_copies(
    utterances: Sequence[Utterance], folder: Path, *, jobs: int = 2, progress: bool = True
) -> list[Utterance]:
    """Child-like copies of ``utterances`` (made once, then read from ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    return copies(utterances, [(u.path, folder) for u in utterances], _make_one, jobs=jobs,
                  progress=progress, desc="child-like")  # fmt: skip

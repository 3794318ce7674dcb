"""The cold path gives what the cache gives: a run on an empty cache and a warm run agree.

``serdevice loco`` makes child-like copies, batch window features and device rows once and then
reads them from the cache. Each step must be a function of its input alone, or an empty cache
gives another table than a warm one (it did: Praat's "Change gender" drew unseeded random
numbers, so every cold run trained on other child-like copies). No real corpus is needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from serdevice.device.stream.contracts import SAMPLE_RATE, Label
from serdevice.train.corpora.schema import Utterance

pytest.importorskip("parselmouth")


def _voice(f0: float, seconds: float, seed: int) -> np.ndarray:
    """A vowel-like harmonic tone with a gliding pitch, then a stretch of noise (unvoiced)."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.1 * np.sin(2 * np.pi * 1.5 * t))) / SAMPLE_RATE
    tone = sum(np.sin(k * phase) / k for k in range(1, 20)) * 0.1
    noise = np.random.default_rng(seed).standard_normal(len(t) // 3) * 0.02
    return np.concatenate([tone, noise]).astype(np.float32)


def _write_clips(folder: Path, n: int) -> list[Utterance]:
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        path = folder / f"clip{i}.wav"
        sf.write(path, _voice(120.0 + 15 * i, 1.2, seed=i), SAMPLE_RATE, subtype="PCM_16")
        out.append(Utterance(path=path, corpus="fab", speaker=f"s{i}", gender="m", language="en",
                             label=Label.NEUTRAL, activation=3.0, valence=3.0,
                             split_group=f"fab:s{i}"))  # fmt: skip
    return out


def test_childlike_copy_is_a_function_of_the_clip_alone():
    from parselmouth.praat import run

    from serdevice.train.childlike import childlike, shift_for

    voice = _voice(140.0, 1.0, seed=0)
    shift = shift_for("ab" * 32)
    first = childlike(voice, shift)
    run("a = randomUniform (0, 1)")  # other Praat work in the same process between two copies
    again = childlike(voice, shift)
    np.testing.assert_array_equal(first, again)
    assert shift.praat_seed == shift_for("ab" * 32).praat_seed != shift_for("cd" * 32).praat_seed


def test_empty_caches_rebuild_the_same_childlike_files_in_any_process_and_order(tmp_path):
    from serdevice.train.childlike import childlike_copies

    clips = _write_clips(tmp_path / "adult", 3)
    pooled = childlike_copies(clips, tmp_path / "cache-a", jobs=2, progress=False)
    # another cold cache, made in this process and in the other order (a worker of a pool gets
    # whichever clips come its way)
    alone = childlike_copies(clips[::-1], tmp_path / "cache-b", jobs=1, progress=False)[::-1]
    for a, b in zip(pooled, alone, strict=True):
        assert a.path.name == b.path.name
        assert a.path.read_bytes() == b.path.read_bytes(), a.path.name
    assert not list((tmp_path / "cache-a").glob("*.tmp*"))


def test_fresh_features_and_device_rows_equal_the_cached_ones(tmp_path):
    from serdevice.export.loco import device_speech_rows
    from serdevice.train.features_batch import extract

    paths = [u.path for u in _write_clips(tmp_path / "adult", 2)]
    paths.append(paths[0].with_name("long.wav"))
    import soundfile as sf

    sf.write(paths[-1], np.concatenate([_voice(130.0, 1.5, seed=s) for s in range(2)]),
             SAMPLE_RATE, subtype="PCM_16")  # fmt: skip
    cache = tmp_path / "cache" / "features"
    cold = extract(paths, level="window", jobs=2, cache_dir=cache, progress=False)
    warm = extract(paths, level="window", jobs=2, cache_dir=cache, progress=False)
    assert cold.cache_hits == 0 and warm.cache_hits == len(paths)
    assert cold.table.dtypes.equals(warm.table.dtypes)
    assert cold.table.equals(warm.table)

    fresh = device_speech_rows(paths, jobs=2, cache_dir=cache, progress=False)
    cached = device_speech_rows(paths, jobs=2, cache_dir=cache, progress=False)
    for a, b in zip(fresh, cached, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)

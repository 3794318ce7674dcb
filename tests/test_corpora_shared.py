"""The five real corpora in ../shared/corpora, when that folder exists: exact counts.

Listing and counting only (no feature extraction): whole-corpus work belongs to `evaluate` and
the benchmarks. Skipped cleanly where the corpora are absent (users bring their own copies).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from serdevice.device.stream.audio import read_audio

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
pytestmark = pytest.mark.skipif(not CORPORA.is_dir(), reason=f"{CORPORA} is absent")

# name: (files, speakers, {label: count}, language); from the corpora's README and file names.
EXPECTED = {
    "ravdess": (1440, 24, {"neutral": 96, "sad": 192, "happy": 192, "angry": 192, "other": 768}, "en"),
    "tess": (1400, 2, {"neutral": 200, "sad": 200, "happy": 200, "angry": 200, "other": 600}, "en"),
    "savee": (480, 4, {"neutral": 120, "sad": 60, "happy": 60, "angry": 60, "other": 180}, "en"),
    "urdu": (400, 29, {"neutral": 100, "sad": 100, "happy": 100, "angry": 100, "other": 0}, "ur"),
    "emovo": (588, 6, {"neutral": 84, "sad": 84, "happy": 84, "angry": 84, "other": 252}, "it"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_data_check_json_gives_exact_counts(cli, name):
    files, speakers, labels, language = EXPECTED[name]
    result = cli("data", "check", f"{name}:{CORPORA / name}", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["n"], report["speakers"], report["skipped"]) == (files, speakers, 0)
    assert report["labels"] == labels
    assert report["languages"] == [language]
    on_disk = [p for p in (CORPORA / name).rglob("*.flac")]
    assert len(on_disk) == files  # every audio file of the copy is an utterance


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_few_clips_read_and_the_gate_keeps_their_speech(name):
    """Clean real speech: every clip gets at least one speech window, short words included."""
    from serdevice.device.stream.calibration import collect_speech_rows
    from serdevice.device.stream.model import Model
    from serdevice.device.stream.sources import FileSource
    from serdevice.train.corpora import load_spec

    model = Model.load("dae_metric_act")
    utterances = load_spec(f"{name}:{CORPORA / name}").utterances
    for utterance in utterances[:: max(1, len(utterances) // 3)][:3]:
        clip = read_audio(utterance.path)
        assert clip.duration_s > 0.5 and clip.samples.dtype.name == "float32"
        heard = collect_speech_rows(FileSource(utterance.path, realtime=False), model)
        assert len(heard.rows) >= 1, f"{utterance.path.name}: no speech window"

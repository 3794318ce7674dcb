"""The real-voice recipe and the leave-one-corpus-out benchmark, on small fabricated data.

The real corpora are not needed: two "corpora" are laid out from the quick SYNTHETIC corpus
(espeak-ng) in RAVDESS's and EMOVO's layouts, and the whole device-path benchmark runs on them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from serdevice.device.stream.contracts import Label
from serdevice.train.corpora.schema import Utterance
from serdevice.train.dataset import FeatureSet
from serdevice.train.preprocess import group_standardize, normalize_and_drop, speaker_groups

RAVDESS_CODE = {"neutral": "01", "happy": "03", "sad": "04", "angry": "05", "other": "06"}
EMOVO_CODE = {"neutral": "neu", "happy": "gio", "sad": "tri", "angry": "rab", "other": "pau"}


def feature_set(groups: list[str], labels: list[str], x: np.ndarray) -> FeatureSet:
    n = len(groups)
    return FeatureSet(x=x, label=np.array(labels), activation=np.full(n, 3.0),
                      valence=np.full(n, 3.0), group=np.array(groups),
                      language=np.array(["en"] * n), corpus=np.array([g.split(":")[0] for g in groups]),
                      file=np.array([f"f{i}" for i in range(n)]))  # fmt: skip


def test_speaker_groups_fall_back_to_the_corpus_for_one_state_speakers():
    groups = ["a:1"] * 3 + ["a:2"] * 2 + ["b:9"] * 3
    labels = ["neutral", "sad", "angry", "angry", "angry", "happy", "sad", "other"]
    data = feature_set(groups, labels, np.zeros((8, 88)))
    assert speaker_groups(data).tolist() == (["speaker:a:1"] * 3 + ["corpus:a"] * 2
                                             + ["corpus:b"] * 3)  # fmt: skip


def test_group_standardize_by_hand():
    x = np.zeros((4, 88))
    x[:, 0] = [1.0, 3.0, 10.0, 14.0]
    z, typical = group_standardize(x, np.array(["p", "p", "q", "q"]))
    assert z[:, 0].tolist() == [-1.0, 1.0, -1.0, 1.0]  # each speaker to its own mean and std
    assert typical.mean_[0] == pytest.approx((2.0 + 12.0) / 2)
    assert typical.std_[0] == pytest.approx(np.sqrt((1.0 + 4.0) / 2))
    assert typical.std_[1] == 1.0  # a constant feature keeps std 1


def test_normalize_and_drop_speaker_removes_each_voice_and_drops_outliers():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 88))
    x[300:] += 50.0  # a second voice, far from the first
    x[5, 3] = 1e3  # one outlier window (|z| > 10 needs a group of more than 101 rows)
    labels = ["neutral", "sad", "angry"] * 200
    data = feature_set(["c:1"] * 300 + ["c:2"] * 300, labels, x)
    stats, z, keep = normalize_and_drop(data, "speaker")
    assert keep.sum() == 599 and not keep[5]
    assert np.abs(z[299:].mean(axis=0)).max() < 1e-5  # speaker 2 centred on itself
    assert stats.mean_[0] == pytest.approx((x[:300][keep[:300], 0].mean() + x[300:, 0].mean()) / 2)
    _, z_global, _ = normalize_and_drop(data, "global")
    assert np.abs(z_global[299:].mean(axis=0)).max() > 0.5  # global: the voices stay apart


def utterance(name: str, speaker: str, label: str) -> Utterance:
    return Utterance(path=Path(name), corpus="c", speaker=speaker, gender="f", language="en",
                     label=Label(label), activation=3.0, valence=3.0,
                     split_group=f"c:{speaker}")  # fmt: skip


def test_calibration_half_takes_every_other_clip_of_each_speaker():
    from serdevice.train.scoring import calibration_half

    clips = [utterance(n, s, "sad") for n, s in
             (("b", "1"), ("a", "1"), ("c", "1"), ("z", "2"), ("y", "2"))]  # fmt: skip
    assert calibration_half(clips).tolist() == [False, True, True, False, True]


def test_score_counts_an_unanswered_clip_as_wrong_and_restricts_three_class_answers():
    from serdevice.train.scoring import ClipAnswers, score

    labels = ("neutral", "sad", "happy", "angry")
    clips = [utterance(f"{i}", "1", lab) for i, lab in
             enumerate(["neutral", "sad", "angry", "angry", "happy"])]  # fmt: skip
    scores = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 2, 1], [np.nan] * 4, [0, 0, 1, 0]],
                      dtype=float)  # fmt: skip
    activation = np.array([2.0, 1.0, 4.0, np.nan, 3.0])
    result = score(ClipAnswers(scores=scores, activation=activation), clips, labels)
    # N-S-A: clip 2 says happy > angry, but among N, S, A it is angry; clip 3 has no answer.
    assert result["N-S-A"] == pytest.approx((1 + 1 + 0.5) / 3)
    assert result["N-S-H-A"] == pytest.approx((1 + 1 + 0 + 1) / 4)
    assert result["unanswered"] == 1 and result["clips"] == 5


@pytest.fixture(scope="module")
def fabricated_corpora(tmp_path_factory) -> Path:
    """RAVDESS- and EMOVO-shaped trees of SYNTHETIC clips (espeak-ng, quick corpus)."""
    from serdevice.train.corpora import load_spec
    from serdevice.train.corpora.generate import generate

    base = tmp_path_factory.mktemp("loco")
    generate(base / "synth", quick=True, progress=False)
    root = base / "corpora"
    counters: dict[tuple[str, str, str], int] = {}
    for u in load_spec(f"synth:{base / 'synth'}?language=en,de").utterances:
        speaker = str(1 + sum(map(ord, u.speaker)) % 2)  # two speakers per corpus
        key = (u.language, speaker, u.label.value)
        counters[key] = counters.get(key, 0) + 1
        n = counters[key]
        if u.language == "en":
            actor = f"0{speaker}"
            target = (root / "ravdess" / f"Actor_{actor}" /
                      f"03-01-{RAVDESS_CODE[u.label.value]}-01-01-{n:02d}-{actor}.wav")  # fmt: skip
        else:
            target = (
                root / "emovo" / f"f{speaker}" / f"{EMOVO_CODE[u.label.value]}-f{speaker}-b{n}.wav"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(u.path, target)
    return root


def test_loco_runs_end_to_end_on_the_device_path(fabricated_corpora, tmp_path, cli):
    result = cli("loco", str(fabricated_corpora), "--corpus", "ravdess,emovo", "--out",
                 str(tmp_path / "loco"), "--epochs", "3", "--cache-dir", str(tmp_path / "cache"),
                 "--seeds", "0,1", timeout=900)  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "loco" / "loco.json").read_text())
    assert set(summary["per_corpus"]) == {"ravdess", "emovo"}
    for held in ("ravdess", "emovo"):
        for voice in ("adult", "channel-shifted", "child-like"):
            for mode in ("adaptive", "plain", "calibrated", "oracle", "second-voice"):
                figures = summary["per_corpus"][held][voice][mode]
                assert 0.0 <= figures["N-S-A"] <= 1.0 and 0.0 <= figures["N-S-H-A"] <= 1.0
                assert figures["clips"] > 0
            # adaptive and oracle score every clip; plain and calibrated the scored half
            modes = summary["per_corpus"][held][voice]
            assert modes["adaptive"]["clips"] == modes["oracle"]["clips"]
            assert modes["adaptive"]["clips"] > modes["plain"]["clips"]
        assert (tmp_path / "loco" / "models" / f"{held}.tflite").stat().st_size <= 8 * 1024
    assert "| adult | adaptive (every clip, from an empty state) |" in result.stdout  # README's
    assert "| channel-shifted | adaptive" in result.stdout
    assert summary["licences"]["ravdess"].startswith("CC BY-NC")
    # the bundled recipe: child-like training copies, the int16x8 export
    assert summary["recipe"]["childlike"] is True and summary["recipe"]["quantization"] == "int16x8"
    # a second seed trains the folds again; the table stays seed 0's, the spread covers both
    seeds = summary["seeds"]
    assert list(seeds["per_seed"]) == ["0", "1"]
    assert seeds["per_seed"]["0"] == summary["mean"]
    for voice in ("adult", "child-like"):
        spread = seeds["spread"][voice]["plain"]["N-S-A"]
        values = [seeds["per_seed"][s][voice]["plain"]["N-S-A"] for s in ("0", "1")]
        assert spread["min"] == min(values) and spread["max"] == max(values)
        assert spread["mean"] == pytest.approx(sum(values) / 2)
    assert "Over training seeds 0, 1" in result.stdout
    assert (tmp_path / "loco" / "seed-1" / "models" / "emovo.tflite").is_file()


def test_loco_answers_are_predicts_answers(fabricated_corpora, tmp_path, cli):
    """The benchmark's replay of the device path gives what `serdevice predict` prints."""
    from serdevice.device.stream.model import Model
    from serdevice.device.stream.normalize import Normalizer
    from serdevice.export.loco import device_speech_rows
    from serdevice.train.scoring import clip_answers

    files = sorted((fabricated_corpora / "emovo").rglob("*.wav"))[:3]
    result = cli("predict", "--model", "dae_metric_act", *map(str, files))
    assert result.returncode == 0, result.stderr
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    model = Model.load("dae_metric_act")
    sidecar = model.sidecar
    plain = Normalizer(sidecar.norm_mean, sidecar.norm_std, sidecar.input_clip)
    rows = device_speech_rows(files, jobs=1, cache_dir=tmp_path / "cache", progress=False)
    answers = clip_answers(model, [plain] * len(files), rows)
    for i, line in enumerate(printed):
        assert line["n_windows"] == len(rows[i])
        assert line["activation"] == pytest.approx(answers.activation[i], abs=1e-3)
        assert [line["scores"][k] for k in model.labels] == pytest.approx(
            answers.scores[i], abs=1e-3
        )


def test_loco_refuses_a_missing_folder(cli, tmp_path):
    result = cli("loco", str(tmp_path / "nowhere"))
    assert result.returncode == 2 and "no such folder" in result.stderr
    (tmp_path / "ravdess").mkdir()
    result = cli("loco", str(tmp_path), "--corpus", "ravdess,emovo")
    assert result.returncode == 2 and "no folder for emovo" in result.stderr
    for bad in ("1,x", "1,1", "-1"):
        result = cli("loco", str(tmp_path), "--seeds", bad)
        assert result.returncode == 2 and "--seeds: expected" in result.stderr


def test_childlike_raises_f0_to_the_drawn_median_and_keeps_length():
    import parselmouth
    from parselmouth.praat import call

    from serdevice.train.childlike import (
        F0_MEDIAN_HZ,
        FORMANT_RATIO,
        ChildShift,
        childlike,
        shift_for,
    )

    rate = 16000
    t = np.arange(rate) / rate
    voice = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 20)).astype(np.float32) * 0.1
    out = childlike(voice, ChildShift(formant_ratio=1.2, f0_median_hz=300.0))
    assert out.shape == voice.shape and out.dtype == np.float32
    pitch = parselmouth.Sound(out.astype(np.float64), rate).to_pitch(pitch_ceiling=600)
    assert call(pitch, "Get quantile", 0, 0, 0.5, "Hertz") == pytest.approx(300, rel=0.05)
    shift = shift_for("ab" * 32)
    assert shift == shift_for("ab" * 32)  # a clip's draw depends on its content only
    assert FORMANT_RATIO[0] <= shift.formant_ratio <= FORMANT_RATIO[1]
    assert F0_MEDIAN_HZ[0] <= shift.f0_median_hz <= F0_MEDIAN_HZ[1]

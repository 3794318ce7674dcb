"""Corpus loaders on small fabricated trees: names, quirks, speakers, labels, skipped files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from serdevice.device.stream.contracts import InputError, Label
from serdevice.train.corpora import (
    CORPORA,
    load_spec,
    parse_spec,
    read_manifest,
    write_manifest,
)
from serdevice.train.corpora.schema import apply_overrides, from_emotion


def touch_wav(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    noise = np.random.default_rng(len(str(path))).standard_normal(1600).astype(np.float32) * 0.1
    sf.write(path, noise, 16000)
    return path


def labels_of(spec: str) -> dict[str, str]:
    return {u.path.name: u.label.value for u in load_spec(spec).utterances}


def test_emodb(tmp_path, capsys):
    for name in ("03a01Wa.wav", "08b02Fc.wav", "10a05Tb.wav", "13a01Nd.wav", "16b10Lb.wav",
                 "03a01Xa.wav", "readme.wav"):  # fmt: skip
        touch_wav(tmp_path / "wav" / name)
    loaded = load_spec(f"emodb:{tmp_path}")
    by_name = {u.path.name: u for u in loaded.utterances}
    assert {k: v.label.value for k, v in by_name.items()} == {
        "03a01Wa.wav": "angry", "08b02Fc.wav": "happy", "10a05Tb.wav": "sad",
        "13a01Nd.wav": "neutral", "16b10Lb.wav": "other",
    }  # fmt: skip
    assert by_name["03a01Wa.wav"].speaker == "03" and by_name["03a01Wa.wav"].gender == "m"
    assert by_name["08b02Fc.wav"].gender == "f"
    assert by_name["10a05Tb.wav"].activation < by_name["03a01Wa.wav"].activation
    assert all(u.language == "de" and u.path.is_absolute() for u in loaded.utterances)
    assert loaded.skipped == 2
    assert "skipped 2 file(s)" in capsys.readouterr().err


def test_iemocap_exc_merges_into_happy_and_speaker_from_utterance_id(tmp_path):
    session = tmp_path / "Session1"
    lines = [
        "% header line that is not an utterance",
        "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.0000, 2.5000]",
        "[10.01 - 12.5]\tSes01F_impro01_M001\texc\t[4.0000, 4.5000, 3.0000]",
        "[13.0 - 15.0]\tSes01F_impro01_M002\tfru\t[2.0000, 3.5000, 3.0000]",
        "[16.0 - 18.0]\tSes01F_impro01_F003\tang\t[1.5000, 4.0000, 4.0000]",
        "[19.0 - 20.0]\tSes01F_impro01_F004\tsad\t[1.5000, 1.5000, 2.0000]",
    ]
    (session / "dialog" / "EmoEvaluation").mkdir(parents=True)
    (session / "dialog" / "EmoEvaluation" / "Ses01F_impro01.txt").write_text("\n".join(lines))
    for utt in ("F000", "M001", "M002", "F003"):  # F004's wav is missing
        touch_wav(session / "sentences" / "wav" / "Ses01F_impro01" / f"Ses01F_impro01_{utt}.wav")
    loaded = load_spec(f"iemocap:{tmp_path}")
    by_id = {u.path.stem[-4:]: u for u in loaded.utterances}
    assert {k: u.label for k, u in by_id.items()} == {
        "F000": Label.NEUTRAL, "M001": Label.HAPPY, "M002": Label.OTHER, "F003": Label.ANGRY,
    }  # fmt: skip
    assert by_id["M001"].speaker == "Ses01M" and by_id["M001"].gender == "m"
    assert by_id["F000"].speaker == "Ses01F"
    assert (by_id["M001"].activation, by_id["M001"].valence) == (4.5, 4.0)  # its own ratings
    assert loaded.skipped == 1


def test_savee_two_letter_codes_and_speaker_folders(tmp_path):
    for rel in ("AudioData/DC/a01.wav", "AudioData/JE/sa03.wav", "AudioData/JK/su02.wav",
                "AudioData/KL/n10.wav", "AudioData/KL/h01.wav", "AudioData/XX/a01.wav",
                "AudioData/DC/zz01.wav"):  # fmt: skip
        touch_wav(tmp_path / rel)
    loaded = load_spec(f"savee:{tmp_path}")
    assert sorted((u.speaker, u.path.name, u.label.value) for u in loaded.utterances) == [
        ("DC", "a01.wav", "angry"), ("JE", "sa03.wav", "sad"), ("JK", "su02.wav", "other"),
        ("KL", "h01.wav", "happy"), ("KL", "n10.wav", "neutral"),
    ]  # fmt: skip
    assert loaded.skipped == 2


def test_cafe(tmp_path):
    for name in ("01-C-2-3.wav", "02-T-1-1.wav", "03-N-4.wav", "04-J-2-6.wav", "05-P-1-2.wav",
                 "bad-name.wav"):  # fmt: skip
        touch_wav(tmp_path / "Colère" / name)
    loaded = load_spec(f"cafe:{tmp_path}")
    assert labels_of(f"cafe:{tmp_path}") == {
        "01-C-2-3.wav": "angry", "02-T-1-1.wav": "sad", "03-N-4.wav": "neutral",
        "04-J-2-6.wav": "happy", "05-P-1-2.wav": "other",
    }  # fmt: skip
    genders = {u.speaker: u.gender for u in loaded.utterances}
    assert genders["01"] == "m" and genders["02"] == "f"
    assert loaded.skipped == 1


def test_urdu(tmp_path):
    for name in ("SM1_F1_A01.wav", "SF3_F2_H07.wav", "SM12_F10_N03.wav", "SF1_F1_S02.wav",
                 "SM1_F1_X01.wav"):  # fmt: skip
        touch_wav(tmp_path / "Angry" / name)
    loaded = load_spec(f"urdu:{tmp_path}")
    assert sorted((u.speaker, u.gender, u.label.value) for u in loaded.utterances) == [
        ("SF1", "f", "sad"), ("SF3", "f", "happy"), ("SM1", "m", "angry"), ("SM12", "m", "neutral"),
    ]  # fmt: skip
    assert loaded.skipped == 1


def test_aesdd_has_no_neutral(tmp_path):
    for rel in ("anger/a01 (1).wav", "sadness/s05 (3).wav", "happiness/h12 (2).wav",
                "fear/f01 (1).wav", "disgust/d02 (5).wav", "anger/notes.wav"):  # fmt: skip
        touch_wav(tmp_path / rel)
    loaded = load_spec(f"aesdd:{tmp_path}")
    labels = sorted(u.label.value for u in loaded.utterances)
    assert labels == ["angry", "happy", "other", "other", "sad"]
    assert {u.speaker for u in loaded.utterances} == {"1", "2", "3", "5"}
    assert loaded.skipped == 1


def test_ravdess_and_cremad(tmp_path):
    for name in ("03-01-05-02-01-01-01.wav", "03-01-01-01-01-01-02.wav", "03-01-02-01-01-01-03.wav",
                 "03-01-09-01-01-01-03.wav"):  # fmt: skip
        touch_wav(tmp_path / "rav" / "Actor_01" / name)
    rav = load_spec(f"ravdess:{tmp_path / 'rav'}")
    assert sorted((u.speaker, u.gender, u.label.value) for u in rav.utterances) == [
        ("01", "m", "angry"), ("02", "f", "neutral"), ("03", "m", "other"),
    ]  # fmt: skip
    assert rav.skipped == 1
    for name in ("1001_DFA_ANG_XX.wav", "1002_IEO_HAP_HI.wav", "1002_IEO_NEU_XX.wav", "x_y.wav"):
        touch_wav(tmp_path / "crema" / "AudioWAV" / name)
    (tmp_path / "crema" / "VideoDemographics.csv").write_text(
        "ActorID,Age,Sex\n1001,51,Male\n1002,21,Female\n"
    )
    crema = load_spec(f"cremad:{tmp_path / 'crema'}")
    assert sorted((u.speaker, u.gender, u.label.value) for u in crema.utterances) == [
        ("1001", "m", "angry"), ("1002", "f", "happy"), ("1002", "f", "neutral"),
    ]  # fmt: skip
    assert crema.skipped == 1


def test_manifest_round_trip_filters_and_overrides(tmp_path):
    a = touch_wav(tmp_path / "clips" / "a.wav")
    b = touch_wav(tmp_path / "clips" / "b.wav")
    utts = [
        from_emotion(
            "angry", path=a.resolve(), corpus="mine", speaker="s1", gender="f", language="da"
        ),
        from_emotion(
            "sad", path=b.resolve(), corpus="mine", speaker="s2", gender="m", language="en"
        ),
    ]
    write_manifest(utts, tmp_path / "manifest.csv")
    assert "clips/a.wav" in (tmp_path / "manifest.csv").read_text()  # relative paths
    assert read_manifest(tmp_path / "manifest.csv") == utts
    assert [
        u.language for u in load_spec(f"manifest:{tmp_path}/manifest.csv?language=da").utterances
    ] == ["da"]
    assert [u.label.value for u in load_spec(f"manifest:{tmp_path}?language=!da").utterances] == [
        "sad"
    ]
    (tmp_path / "dims.csv").write_text("file,activation,valence\na.wav,2.2,3.3\n")
    changed = apply_overrides(utts, tmp_path / "dims.csv")
    assert (changed[0].activation, changed[0].valence) == (2.2, 3.3)
    assert changed[1] == utts[1]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nosuch:/tmp", "unknown corpus 'nosuch'"),
        ("emodb:/definitely/not/here", "no such folder"),
        ("just-a-path", "not a corpus spec"),
        ("emodb:/tmp?colour=red", "bad filter"),
    ],
)
def test_bad_specs(spec, message):
    with pytest.raises(InputError, match=message):
        load_spec(spec)


def test_empty_corpus_is_an_error(tmp_path):
    (tmp_path / "wav").mkdir()
    with pytest.raises(InputError, match="no utterances found"):
        load_spec(f"emodb:{tmp_path}")


def test_spec_parsing():
    spec = parse_spec("synth:/data/s?language=en,de&label=!angry")
    assert spec.name == "synth" and spec.root == Path("/data/s")
    assert spec.filters == (("language", ("en", "de"), False), ("label", ("angry",), True))


def test_data_list_names_every_corpus(cli):
    result = cli("data", "list")
    assert result.returncode == 0
    for name in CORPORA:
        assert result.stdout.count(f"{name} ") >= 1
    for name in ("iemocap", "emodb", "savee", "cafe", "urdu", "aesdd", "ravdess", "cremad"):
        assert result.stdout.splitlines()[list(CORPORA).index(name)].startswith(name)


def test_data_check_json_counts(cli, tmp_path):
    for name in ("03a01Wa.wav", "03a02Wa.wav", "08b02Fc.wav", "10a05Tb.wav", "13a01Nd.wav",
                 "16b10Lb.wav", "junk.wav"):  # fmt: skip
        touch_wav(tmp_path / "wav" / name)
    result = cli("data", "check", f"emodb:{tmp_path}", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "corpus": "emodb", "n": 6,
        "labels": {"neutral": 1, "sad": 1, "happy": 1, "angry": 2, "other": 1},
        "speakers": 5, "languages": ["de"], "skipped": 1,
    }  # fmt: skip


@pytest.mark.parametrize("spec", ["emodb:/no/such/dir", "nosuch:/tmp", "emodb:EMPTY"])
def test_data_check_bad_specs_exit_2_with_one_line(cli, tmp_path, spec):
    (tmp_path / "wav").mkdir()
    result = cli("data", "check", spec.replace("EMPTY", str(tmp_path)), "--json")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""

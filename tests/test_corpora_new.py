"""The loaders of ASED, nEMO and emotiontts: fabricated trees as users' full copies look (WAV at
16 / 24 / 22.05 kHz, ASED's upper-case ``S4-`` name and its speakers with two gender codes, nEMO's
``data.tsv`` with its leading-space quirk or without it, emotiontts's two script groups), and
exact counts on the shared subsets in ../shared/corpora when that folder exists.

Listing and counting only; a couple of clips are read.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from serdevice.device.stream.audio import read_audio
from serdevice.device.stream.contracts import SAMPLE_RATE
from serdevice.train.corpora import CORPORA, load_spec

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} is absent")


def write(path: Path, *, rate: int = 16000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(rate * 0.25)) / rate
    sf.write(path, (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate)
    return path


def table(spec: str) -> dict[str, tuple[str, str, str]]:
    return {u.path.name: (u.speaker, u.gender, u.label.value) for u in load_spec(spec).utterances}


# --- ASED ---------------------------------------------------------------------------------------


def test_ased_names_any_case_folder_numbers_and_wav_or_flac(tmp_path):
    for rel in ("01Neutral/n1-01-01-01-01.wav", "02Fearful/f2-03-02-02-17.wav",
                "03Happy/h3-05-01-01-30.flac", "04Sad/S4-04-02-02-65.wav",
                "05Angry/a5-01-01-02-17.WAV",
                "05Angry/h1-01-01-02-17.wav",  # letter and folder number disagree: skipped
                "05Angry/a5-01-01-03-17.wav",  # no gender code 03: skipped
                "05Angry/notes.wav"):  # fmt: skip
        write(tmp_path / rel)
    loaded = load_spec(f"ased:{tmp_path}")
    assert table(f"ased:{tmp_path}") == {
        "n1-01-01-01-01.wav": ("01", "f", "neutral"), "f2-03-02-02-17.wav": ("17", "m", "other"),
        "h3-05-01-01-30.flac": ("30", "f", "happy"), "S4-04-02-02-65.wav": ("65", "m", "sad"),
        "a5-01-01-02-17.WAV": ("17", "m", "angry"),
    }  # fmt: skip
    assert loaded.skipped == 3
    assert {u.language for u in loaded.utterances} == {"am"}
    by_name = {u.path.name: u for u in loaded.utterances}
    assert by_name["a5-01-01-02-17.WAV"].split_group == "ased:17"
    fear, angry = by_name["f2-03-02-02-17.wav"], by_name["a5-01-01-02-17.WAV"]
    assert (fear.activation, fear.valence) == (4.0, 1.8)  # the categorical map, as elsewhere
    assert (
        angry.activation
        > by_name["n1-01-01-01-01.wav"].activation
        > by_name["S4-04-02-02-65.wav"].activation
    )


def test_ased_speaker_is_the_number_and_its_gender_the_majority_code(tmp_path):
    # speaker 09: four files coded 01 (f), one coded 02 (m); speaker 21: one each (a tie)
    for rel in ("01Neutral/n1-01-01-01-09.wav", "01Neutral/n1-02-01-01-09.wav",
                "05Angry/a5-01-01-01-09.wav", "03Happy/h3-02-01-01-09.wav",
                "04Sad/s4-01-01-02-09.wav", "04Sad/s4-02-01-01-21.wav",
                "04Sad/s4-03-01-02-21.wav", "05Angry/a5-02-01-02-40.wav"):  # fmt: skip
        write(tmp_path / rel)
    utterances = load_spec(f"ased:{tmp_path}").utterances
    genders = {
        u.speaker: {x.gender for x in utterances if x.speaker == u.speaker} for u in utterances
    }
    assert genders == {"09": {"f"}, "21": {"u"}, "40": {"m"}}
    assert len({u.split_group for u in utterances}) == 3


# --- nEMO ---------------------------------------------------------------------------------------

_NEMO_NAMES = ("EB0_anger_1.wav", "EB0_happiness_12.wav", "KS0_sadness_3.wav",
               "KS0_surprised_64.wav", "MP0_fear_2.wav", "MP0_neutral_7.wav")  # fmt: skip


def _nemo_tree(root: Path) -> None:
    for name in _NEMO_NAMES:
        write(root / "samples" / name, rate=24000)
    write(root / "samples" / "EB0_bored_1.wav", rate=24000)  # not an nEMO emotion: skipped


def test_nemo_gender_from_data_tsv_with_the_leading_space_quirk(tmp_path):
    _nemo_tree(tmp_path)
    (tmp_path / "data.tsv").write_text(
        "file_id\temotion\traw_text\tnormalized_text\tspeaker_id\tgender\tage\n"
        'EB0_anger_1.wav\tanger\tCo "to" jest?\tco to jest\t        EB0\tfemale\t27\n'
        "KS0_sadness_3.wav\tsadness\tTak.\ttak\t        KS0\tmale\t23\n",
        encoding="utf-8",
    )
    loaded = load_spec(f"nemo:{tmp_path}")
    assert table(f"nemo:{tmp_path}") == {
        "EB0_anger_1.wav": ("EB0", "f", "angry"), "EB0_happiness_12.wav": ("EB0", "f", "happy"),
        "KS0_sadness_3.wav": ("KS0", "m", "sad"), "KS0_surprised_64.wav": ("KS0", "m", "other"),
        "MP0_fear_2.wav": ("MP0", "u", "other"),  # MP0 has no row in this data.tsv
        "MP0_neutral_7.wav": ("MP0", "u", "neutral"),
    }  # fmt: skip
    assert loaded.skipped == 1 and {u.language for u in loaded.utterances} == {"pl"}
    # the loader reaches the data.tsv above samples/ only when the root is the corpus's root
    assert {u.gender for u in load_spec(f"nemo:{tmp_path / 'samples'}").utterances} == {"u"}
    clip = read_audio(loaded.utterances[0].path)
    assert clip.source_rate == 24000 and len(clip.samples) == pytest.approx(
        0.25 * SAMPLE_RATE, abs=2
    )


def test_nemo_without_data_tsv_reads_the_names_alone(tmp_path):
    _nemo_tree(tmp_path)
    loaded = load_spec(f"nemo:{tmp_path}")
    assert len(loaded.utterances) == 6 and loaded.skipped == 1
    assert {u.gender for u in loaded.utterances} == {"u"}
    assert {u.speaker for u in loaded.utterances} == {"EB0", "KS0", "MP0"}


def test_nemo_data_tsv_without_its_columns_is_an_error(tmp_path):
    from serdevice.device.stream.contracts import InputError

    _nemo_tree(tmp_path)
    (tmp_path / "data.tsv").write_text("file\tsex\nEB0_anger_1.wav\tfemale\n", encoding="utf-8")
    with pytest.raises(InputError, match="lacks column"):
        load_spec(f"nemo:{tmp_path}")


# --- emotiontts ---------------------------------------------------------------------------------


def test_emotiontts_both_script_groups_number_ranges_and_genders(tmp_path):
    p2e, e2e = tmp_path / "plain-to-emotional", tmp_path / "emotional-to-emotional"
    for path in (
        p2e / "ema/wav/ema00001.wav",
        p2e / "ema/wav/ema00100.wav",
        p2e / "emh/wav/emh00101.wav",
        e2e / "nea/wav/nea00200.wav",
        e2e / "neo/wav/neo00201.wav",
        e2e / "nek/wav/nek00400.wav",
        e2e / "nek/wav/nek00401.wav",  # beyond 400: skipped
        e2e / "nek/wav/nek00000.wav",  # 0: skipped
        tmp_path / "Main/lmy/wav/lmy00001.wav",  # another part of the DB: skipped
    ):
        write(path, rate=22050)
    (p2e / "ema" / "script").mkdir()
    (p2e / "ema" / "script" / "ema00001.txt").write_text("안녕하세요", encoding="utf-8")
    loaded = load_spec(f"emotiontts:{tmp_path}")
    assert table(f"emotiontts:{tmp_path}") == {
        "ema00001.wav": ("ema", "f", "neutral"), "ema00100.wav": ("ema", "f", "neutral"),
        "emh00101.wav": ("emh", "m", "happy"), "nea00200.wav": ("nea", "f", "happy"),
        "neo00201.wav": ("neo", "m", "sad"), "nek00400.wav": ("nek", "m", "angry"),
    }  # fmt: skip
    assert loaded.skipped == 3 and {u.language for u in loaded.utterances} == {"ko"}
    clip = read_audio(loaded.utterances[0].path)
    assert clip.source_rate == 22050 and len(clip.samples) == pytest.approx(
        0.25 * SAMPLE_RATE, abs=2
    )


def test_emotiontts_readme_order_on_request(tmp_path, monkeypatch):
    # The loader reads 201-300 as sad and 301-400 as angry (the recordings' acoustics); the
    # corpus README's order stays one variable away.
    for name in ("neo00201.wav", "nek00400.wav"):
        write(tmp_path / name[:3] / "wav" / name, rate=22050)
    monkeypatch.setenv("EMOTIONTTS_README_ORDER", "1")
    assert table(f"emotiontts:{tmp_path}") == {
        "neo00201.wav": ("neo", "m", "angry"), "nek00400.wav": ("nek", "m", "sad"),
    }  # fmt: skip


def test_data_list_shows_the_new_layouts(cli):
    result = cli("data", "list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for name in ("ased", "nemo", "emotiontts"):
        line = lines[list(CORPORA).index(name)]
        assert line.startswith(f"{name} ") and CORPORA[name].LAYOUT in line
    assert "data.tsv" in result.stdout and "plain-to-emotional" in result.stdout


# --- the shared subsets -------------------------------------------------------------------------

# name: (files, speakers, {label: count}, language, {gender: speakers}); from the corpora's README,
# file names and (nEMO) data.tsv.
EXPECTED = {
    "ased": (845, 65, {"neutral": 210, "sad": 173, "happy": 148, "angry": 153, "other": 161}, "am",
             {"f": 25, "m": 40}),
    "nemo": (565, 9, {"neutral": 99, "sad": 101, "happy": 92, "angry": 100, "other": 173}, "pl",
             {"f": 4, "m": 5}),
    "emotiontts": (300, 15, {"neutral": 75, "sad": 75, "happy": 75, "angry": 75, "other": 0},
                   "ko", {"f": 7, "m": 8}),
}  # fmt: skip


@needs_shared
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_data_check_json_gives_exact_counts_on_the_shared_copy(cli, name):
    files, speakers, labels, language, _ = EXPECTED[name]
    result = cli("data", "check", f"{name}:{SHARED / name}", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["n"], report["speakers"], report["skipped"]) == (files, speakers, 0)
    assert report["labels"] == labels and report["languages"] == [language]
    assert len(list((SHARED / name).rglob("*.flac"))) == files  # every clip is an utterance


@needs_shared
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_speaker_genders_and_a_clip_on_the_shared_copy(name):
    utterances = load_spec(f"{name}:{SHARED / name}").utterances
    gender_of = {u.speaker: u.gender for u in utterances}
    assert all(u.gender == gender_of[u.speaker] for u in utterances)  # one gender a speaker
    assert dict(Counter(gender_of.values())) == EXPECTED[name][4]
    assert all(u.split_group == f"{name}:{u.speaker}" for u in utterances)
    clip = read_audio(utterances[len(utterances) // 2].path)
    assert clip.source_rate == SAMPLE_RATE and clip.duration_s > 0.5

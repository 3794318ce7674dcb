"""Loaders on copies as users have them: any soundfile format, AIFF under a .wav name, odd
rates, stereo, mixed-case folders, SAVEE's two layouts, TESS and EMOVO (fabricated trees)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from serdevice.device.stream.audio import read_audio
from serdevice.device.stream.contracts import SAMPLE_RATE
from serdevice.train.corpora import load_spec


def write(path: Path, *, rate: int = 16000, channels: int = 1, **kwargs: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(rate * 0.25)) / rate
    tone = (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    sf.write(path, np.stack([tone] * channels, axis=1) if channels > 1 else tone, rate, **kwargs)
    return path


def by_name(spec: str) -> dict[str, tuple[str, str]]:
    return {u.path.name: (u.speaker, u.label.value) for u in load_spec(spec).utterances}


def test_any_soundfile_format_any_case_of_extension(tmp_path):
    write(tmp_path / "Actor_01" / "03-01-05-01-01-01-01.flac")
    write(tmp_path / "Actor_01" / "03-01-04-01-01-01-01.OGG", format="OGG", subtype="VORBIS")
    write(tmp_path / "Actor_02" / "03-01-01-01-01-01-02.WAV")
    write(tmp_path / "Actor_02" / "03-01-03-01-01-01-02.aiff", format="AIFF")
    (tmp_path / "Actor_02" / "03-01-03-01-01-01-02.txt").write_text("not audio")
    found = by_name(f"ravdess:{tmp_path}")
    assert found == {
        "03-01-05-01-01-01-01.flac": ("01", "angry"), "03-01-04-01-01-01-01.OGG": ("01", "sad"),
        "03-01-01-01-01-01-02.WAV": ("02", "neutral"), "03-01-03-01-01-01-02.aiff": ("02", "happy"),
    }  # fmt: skip
    for utterance in load_spec(f"ravdess:{tmp_path}").utterances:
        assert read_audio(utterance.path).duration_s == pytest.approx(0.25, abs=0.01)


def test_aiff_content_under_a_wav_name_odd_rates_and_stereo_read(tmp_path):
    aiff = write(tmp_path / "YAF_germ_angry.wav", format="AIFF")  # TESS ships two of these
    assert sf.info(str(aiff)).format == "AIFF"
    odd = write(tmp_path / "OAF_back_sad.wav", rate=24414)
    high = write(tmp_path / "OAF_food_fear.wav", rate=96000, channels=2)
    for path, rate, channels in ((aiff, 16000, 1), (odd, 24414, 1), (high, 96000, 2)):
        clip = read_audio(path)
        assert (clip.source_rate, clip.channels) == (rate, channels)
        assert len(clip.samples) == pytest.approx(0.25 * SAMPLE_RATE, abs=2)
        assert 0.1 < float(np.abs(clip.samples).max()) < 0.25  # the tone, not garbage
    assert set(by_name(f"tess:{tmp_path}").values()) == {
        ("YAF", "angry"), ("OAF", "sad"), ("OAF", "other"),
    }  # fmt: skip


def test_tess_mixed_case_folders_pleasant_surprise_and_the_oa_file(tmp_path):
    for rel in ("OAF_Fear/OAF_back_fear.wav", "OAF_Pleasant_surprise/OAF_back_ps.wav",
                "YAF_pleasant_surprised/YAF_bath_ps.wav", "OAF_neutral/OA_bite_neutral.wav",
                "YAF_angry/YAF_bean_angry.wav", "yaf_SAD/YAF_bean_sad.wav",
                "YAF_angry/YAF_bean_bored.wav"):  # fmt: skip
        write(tmp_path / rel)
    loaded = load_spec(f"tess:{tmp_path}")
    assert {u.path.name: (u.speaker, u.label.value) for u in loaded.utterances} == {
        "OAF_back_fear.wav": ("OAF", "other"), "OAF_back_ps.wav": ("OAF", "other"),
        "YAF_bath_ps.wav": ("YAF", "other"), "OA_bite_neutral.wav": ("OAF", "neutral"),
        "YAF_bean_angry.wav": ("YAF", "angry"), "YAF_bean_sad.wav": ("YAF", "sad"),
    }  # fmt: skip
    assert loaded.skipped == 1
    assert {u.language for u in loaded.utterances} == {"en"}
    assert {u.gender for u in loaded.utterances} == {"f"}


def test_savee_official_and_flat_layouts_agree(tmp_path):
    names = ("a01", "sa03", "su02", "n10", "h01", "d05", "f07")
    for speaker in ("DC", "KL"):
        for code in names:
            write(tmp_path / "official" / "AudioData" / speaker / f"{code}.wav")
            write(tmp_path / "flat" / "ALL" / f"{speaker}_{code}.wav")
    write(tmp_path / "flat" / "ALL" / "XX_a01.wav")  # unknown speaker: skipped
    official = load_spec(f"savee:{tmp_path / 'official'}")
    flat = load_spec(f"savee:{tmp_path / 'flat'}")
    key = lambda u: (u.speaker, u.label.value, u.path.stem[-2:])  # noqa: E731
    assert sorted(map(key, official.utterances)) == sorted(map(key, flat.utterances))
    assert len(flat.utterances) == 14 and flat.skipped == 1
    labels = {u.path.stem: u.label.value for u in flat.utterances}
    assert (labels["DC_a01"], labels["DC_sa03"], labels["KL_h01"], labels["KL_n10"],
            labels["DC_su02"]) == ("angry", "sad", "happy", "neutral", "other")  # fmt: skip


def test_emovo(tmp_path):
    for rel in ("f1/rab-f1-b1.wav", "m2/tri-m2-l3.wav", "F3/GIO-f3-n4.flac", "m1/neu-m1-d1.wav",
                "m1/pau-m1-d1.wav", "m1/xyz-m1-d1.wav"):  # fmt: skip
        write(tmp_path / rel)
    loaded = load_spec(f"emovo:{tmp_path}")
    assert {u.path.name: (u.speaker, u.gender, u.label.value) for u in loaded.utterances} == {
        "rab-f1-b1.wav": ("f1", "f", "angry"), "tri-m2-l3.wav": ("m2", "m", "sad"),
        "GIO-f3-n4.flac": ("f3", "f", "happy"), "neu-m1-d1.wav": ("m1", "m", "neutral"),
        "pau-m1-d1.wav": ("m1", "m", "other"),
    }  # fmt: skip
    assert loaded.skipped == 1 and {u.language for u in loaded.utterances} == {"it"}


def test_data_list_shows_every_layout(cli):
    result = cli("data", "list")
    assert result.returncode == 0, result.stderr
    for name in ("ravdess", "tess", "savee", "urdu", "emovo"):
        assert any(line.startswith(name) for line in result.stdout.splitlines()), name
    assert "(official)" in result.stdout and "(flat)" in result.stdout  # SAVEE's two layouts

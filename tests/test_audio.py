"""Audio reading: formats, rates, channels, repairs, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from serdevice.device.stream.audio import read_audio, resample, sanitize, to_mono
from serdevice.device.stream.contracts import SAMPLE_RATE, InputError


def tone(rate: int, seconds: float = 0.5, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize(
    ("rate", "subtype", "fmt", "suffix"),
    [
        (8000, "PCM_U8", "WAV", ".wav"),
        (16000, "PCM_16", "WAV", ".wav"),
        (22050, "PCM_24", "WAV", ".wav"),
        (44100, "PCM_32", "WAV", ".wav"),
        (48000, "FLOAT", "WAV", ".wav"),
        (48000, "PCM_16", "FLAC", ".flac"),
        (32000, "VORBIS", "OGG", ".ogg"),
    ],
)
def test_any_format_becomes_16k_mono_float32(tmp_path, rate, subtype, fmt, suffix):
    path = tmp_path / f"x{suffix}"
    sf.write(path, tone(rate), rate, subtype=subtype, format=fmt)
    clip = read_audio(path)
    assert clip.samples.dtype == np.float32
    assert clip.samples.ndim == 1
    assert clip.source_rate == rate
    assert clip.duration_s == pytest.approx(0.5, abs=0.01)
    # the tone survives: its RMS stays near 0.5/sqrt(2)
    assert np.sqrt(np.mean(clip.samples**2)) == pytest.approx(0.354, abs=0.03)


def test_stereo_is_averaged(tmp_path):
    left = tone(16000)
    stereo = np.stack([left, -left * 0 + left], axis=1)
    sf.write(tmp_path / "s.wav", stereo, 16000)
    clip = read_audio(tmp_path / "s.wav")
    assert clip.channels == 2
    np.testing.assert_allclose(clip.samples, left, atol=1e-4)


def test_nonfinite_samples_are_replaced_and_counted(tmp_path):
    data = tone(16000)
    data[[10, 20, 30]] = [np.nan, np.inf, -np.inf]
    data[40] = 3.0
    sf.write(tmp_path / "bad.wav", data, 16000, subtype="FLOAT")
    clip = read_audio(tmp_path / "bad.wav")
    assert clip.n_nonfinite == 3
    assert clip.n_clipped == 1
    assert np.isfinite(clip.samples).all()
    assert np.abs(clip.samples).max() <= 1.0


def test_helpers():
    assert to_mono(np.ones((4, 2), dtype=np.float32)).shape == (4,)
    clean, bad, clipped = sanitize(np.array([np.nan, 1.5, -0.2], dtype=np.float32))
    assert clean.tolist() == pytest.approx([0.0, 1.0, -0.2]) and (bad, clipped) == (1, 1)
    assert len(resample(tone(48000, 1.0), 48000)) == SAMPLE_RATE


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p, "no such file"),
        (lambda p: (p.mkdir(), p)[1], "directory"),
        (lambda p: (p.write_bytes(b""), p)[1], "empty"),
        (lambda p: (p.write_text("hello, not audio\n"), p)[1], "not a readable audio file"),
        (lambda p: (p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt "), p)[1], "not a readable"),
    ],
)
def test_bad_files_raise_input_error_naming_the_reason(tmp_path, make, reason):
    path = make(tmp_path / "input.wav")
    with pytest.raises(InputError, match=reason):
        read_audio(path)


def test_header_only_wav_is_reported_as_holding_no_samples(tmp_path):
    sf.write(tmp_path / "zero.wav", np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(InputError, match="no samples"):
        read_audio(tmp_path / "zero.wav")

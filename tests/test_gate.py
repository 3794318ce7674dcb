"""The speech gate: speech opens it; silence, steady noise and tones do not."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from serdevice.device.stream.audio import read_audio
from serdevice.device.stream.gate import SpeechGate


def windows(gate: SpeechGate, signal: np.ndarray) -> list:
    gate.feed(signal)
    end = len(signal) / 16000
    return [gate.decide(t, 2.0) for t in np.arange(2.0, end + 1e-9, 0.5)]


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> np.ndarray:
    path = tmp_path_factory.mktemp("g") / "s.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "Hello there, how are you doing today? I am fine."],
                   check=True)  # fmt: skip
    return read_audio(path).samples


def test_speech_opens_the_gate_and_silence_closes_it_after_the_hangover(speech):
    gate = SpeechGate(hangover_hops=2)
    signal = np.concatenate([speech, np.zeros(16000 * 4, dtype=np.float32)])
    decisions = windows(gate, signal)
    assert decisions[0].started and decisions[0].is_speech
    ended = [i for i, d in enumerate(decisions) if d.ended]
    assert len(ended) == 1 and not decisions[-1].is_speech


@pytest.mark.parametrize(
    "make",
    [
        lambda t, rng: np.zeros_like(t),
        lambda t, rng: 0.2 * rng.standard_normal(t.size),
        lambda t, rng: 0.3 * np.sin(2 * np.pi * 220 * t),
        lambda t, rng: 1e-4 * rng.standard_normal(t.size),
    ],
    ids=["silence", "white-noise", "tone", "faint-hiss"],
)
def test_non_speech_never_opens_the_gate(make):
    t = np.arange(16000 * 5) / 16000
    signal = make(t, np.random.default_rng(0)).astype(np.float32)
    assert not any(d.is_speech for d in windows(SpeechGate(), signal))


def test_alsa_noise_sample_is_not_speech():
    noise = read_audio("/usr/share/sounds/alsa/Noise.wav").samples
    gate = SpeechGate()
    gate.feed(noise)
    assert not gate.decide(len(noise) / 16000, len(noise) / 16000).is_speech

"""Gain and microphone invariance after adaptation (train/gain_check.py): label agreement with
0 dB and activation difference, on the bundled real voice (and on a RAVDESS actor no bundled model
was trained on, from ../shared/corpora when it is there)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from serdevice.device.stream.audio import read_audio
from serdevice.device.stream.model import Model
from serdevice.train.gain_check import gain_invariance

VOICE = Path(__file__).resolve().parents[1] / "device" / "data" / "real_voice.flac"
ACTOR_23 = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "ravdess" / "Actor_23"


def speech(name: str) -> np.ndarray:
    if name == "real_voice":
        return read_audio(VOICE).samples
    if not ACTOR_23.is_dir():
        pytest.skip("../shared/corpora is not here")
    clips = sorted(ACTOR_23.glob("*.flac"))[::3]  # 20 clips, every emotion
    return np.concatenate([read_audio(p).samples for p in clips])


@pytest.mark.parametrize("name", ["real_voice", "ravdess_actor_23"])
def test_gain_and_microphone_invariance(figures, quick, name):
    if quick and name != "real_voice":
        pytest.skip("quick mode: the bundled voice only")
    model = Model.load("dae_metric_act")
    samples = speech(name)
    for adapt in (True, False):
        mode = "adaptive" if adapt else "plain"
        for shifted in gain_invariance(samples, model, adapt=adapt):
            if shifted.name == "+0 dB":
                continue
            figures.add(f"{name} {mode} {shifted.name}: label agreement with 0 dB",
                        shifted.agreement, "share", budget=0.95 if adapt else None,
                        lower_is_better=False)  # fmt: skip
            figures.add(f"{name} {mode} {shifted.name}: activation difference",
                        shifted.activation_diff, "|Δ|")  # fmt: skip
            if adapt:
                figures.add(f"{name} {shifted.name}: speech windows lost",
                            shifted.windows_at_0db - shifted.windows, "windows", budget=0)  # fmt: skip

"""Gain and microphone invariance: the same speech louder, quieter or through another microphone.

For each shift (``GAINS_DB``, and the microphone colourings of ``MICROPHONES``, train/channel.py)
the speech is played through ``listen``'s own pipeline twice with one adaptive normalizer: the
first ``prime`` passes adapt it (the device has heard this wearer at this gain), then a pass with
the state frozen is scored. Its per-hop answers (the smoothed label and activation of the
``activation`` events) are compared with the same pass at 0 dB: label agreement, mean absolute
activation difference, and the speech windows the gate kept. ``adapt=False`` does the same with
the sidecar's statistics (what the device did before it adapted).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .channel import ChannelShift, apply_channel

GAINS_DB = (-20.0, -10.0, 0.0, 6.0, 12.0)
MICROPHONES = {
    "bright mic": ChannelShift(gain_db=0.0, band_limit=True, tilt=0.4),
    "dark mic -6 dB": ChannelShift(gain_db=-6.0, band_limit=True, tilt=-0.4),
}
PRIME_PASSES = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Shifted:
    """One shift's answers against 0 dB's."""

    name: str
    windows: int  # speech hops of the scored pass
    windows_at_0db: int
    agreement: float  # share of hops with the same smoothed label as at 0 dB
    activation_diff: float  # mean |activation - activation at 0 dB|


class _Collect:
    name = "collect"

    def __init__(self) -> None:
        self.hops: list[tuple[str, float]] = []

    def write(self, event: dict[str, Any]) -> None:
        if event["type"] == "activation":
            self.hops.append((event["label"], event["activation"]))

    def close(self) -> None:
        pass


def _hops(path: Path, model: Any, normalizer: Any) -> list[tuple[str, float]]:
    from serdevice.device.stream.runtime import Stream
    from serdevice.device.stream.sources import FileSource

    sink = _Collect()
    Stream.of(model, normalizer, sinks=[sink]).run(FileSource(path, realtime=False))
    return sink.hops


def answers_at(samples: np.ndarray, shift: ChannelShift, model: Any, *, adapt: bool = True,
               prime: int = PRIME_PASSES, folder: Path) -> list[tuple[str, float]]:  # fmt: skip
    """The scored pass's (label, activation) per speech hop of ``samples`` through ``shift``."""
    import soundfile as sf

    from serdevice.device.stream.adaptation import AdaptiveNormalizer
    from serdevice.device.stream.normalize import Normalizer

    path = folder / f"{shift.tag()}.wav"
    sf.write(path, apply_channel(samples, shift), 16000, subtype="PCM_16")
    sidecar = model.sidecar
    if not adapt:
        return _hops(path, model, Normalizer.for_model(model))
    normalizer = AdaptiveNormalizer(sidecar.norm_mean, sidecar.norm_std, sidecar.input_clip)
    for _ in range(prime):
        _hops(path, model, normalizer)
    normalizer.frozen = True
    return _hops(path, model, normalizer)


def gain_invariance(samples: np.ndarray, model: Any, *, adapt: bool = True,
                    prime: int = PRIME_PASSES) -> list[Shifted]:  # fmt: skip
    """Every gain and microphone against 0 dB."""
    shifts = {f"{g:+g} dB": ChannelShift(gain_db=g, band_limit=False) for g in GAINS_DB}
    shifts.update(MICROPHONES)
    with tempfile.TemporaryDirectory(prefix="serdevice-gain-") as tmp:
        runs = {name: answers_at(samples, shift, model, adapt=adapt, prime=prime,
                                 folder=Path(tmp)) for name, shift in shifts.items()}  # fmt: skip
    ref = runs["+0 dB"]
    out = []
    for name, hops in runs.items():
        n = min(len(hops), len(ref))
        same = [hops[i][0] == ref[i][0] for i in range(n)]
        diff = [abs(hops[i][1] - ref[i][1]) for i in range(n)]
        out.append(Shifted(name=name, windows=len(hops), windows_at_0db=len(ref),
                           agreement=float(np.mean(same)) if n else 0.0,
                           activation_diff=float(np.mean(diff)) if n else float("nan")))  # fmt: skip
    return out

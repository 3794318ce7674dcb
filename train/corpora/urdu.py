"""URDU (Latif et al.): ``SM1_F1_A01.wav``; speaker = first token (SM1 = male speaker 1).

Emotion letter: A angry, H happy, N neutral, S sad.
"""

from __future__ import annotations

import re
from pathlib import Path

from serdevice.device.stream.audio import audio_files_under

from ._scan import scan
from .schema import CorpusLoad, Utterance, from_emotion

NAME = "urdu"
LANGUAGES = ("ur",)
LAYOUT = "ROOT/**/S[MF]N_FN_[AHNS]NN.wav, e.g. SF3_F2_H07.wav"
_NAME = re.compile(r"^(S([MF])\d+)_F\d+_([AHNS])\d+$")
_EMOTION = {"A": "angry", "H": "happy", "N": "neutral", "S": "sad"}


def _parse(path: Path) -> Utterance | None:
    match = _NAME.match(path.stem)
    if match is None:
        return None
    return from_emotion(
        _EMOTION[match.group(3)], path=path, corpus=NAME, speaker=match.group(1),
        gender=match.group(2).lower(), language="ur",
    )  # fmt: skip


def load(root: Path) -> CorpusLoad:
    """URDU below ``root``."""
    return scan(NAME, root, audio_files_under(root), _parse)

"""RAVDESS: ``MM-VV-EE-II-SS-RR-AA.wav`` (modality, vocal channel, emotion, intensity,
statement, repetition, actor; odd actors male). Emotion: 01 neutral, 02 calm, 03 happy, 04 sad,
05 angry, 06 fearful, 07 disgust, 08 surprised. Speech and song are both kept.
"""

from __future__ import annotations

import re
from pathlib import Path

from serdevice.device.stream.audio import audio_files_under

from ._scan import scan
from .schema import CorpusLoad, Utterance, from_emotion

NAME = "ravdess"
LANGUAGES = ("en",)
LAYOUT = "ROOT/**/MM-VV-EE-II-SS-RR-AA.wav, e.g. Actor_01/03-01-05-02-01-01-01.wav"
_NAME = re.compile(r"^(\d{2})-(\d{2})-(0[1-8])-(\d{2})-(\d{2})-(\d{2})-(\d{2})$")
_EMOTION = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry",
            "06": "fear", "07": "disgust", "08": "surprise"}  # fmt: skip


def _parse(path: Path) -> Utterance | None:
    match = _NAME.match(path.stem)
    if match is None:
        return None
    actor = match.group(7)
    return from_emotion(
        _EMOTION[match.group(3)], path=path, corpus=NAME, speaker=actor,
        gender="m" if int(actor) % 2 else "f", language="en",
    )  # fmt: skip


def load(root: Path) -> CorpusLoad:
    """RAVDESS below ``root``."""
    return scan(NAME, root, audio_files_under(root), _parse)

"""EMOVO (Italian): ``<emotion>-<speaker>-<sentence>.wav``, e.g. ``rab-f1-b1.wav``.

Six actors f1-f3, m1-m3. Emotions: dis disgust, gio joy (happy), neu neutral, pau fear,
rab anger, sor surprise, tri sadness.
"""

from __future__ import annotations

import re
from pathlib import Path

from serdevice.device.stream.audio import audio_files_under

from ._scan import scan
from .schema import CorpusLoad, Utterance, from_emotion

NAME = "emovo"
LANGUAGES = ("it",)
LAYOUT = (
    "ROOT/**/{dis,gio,neu,pau,rab,sor,tri}-{f1..f3,m1..m3}-<sentence>.wav, e.g. f1/rab-f1-b1.wav"
)
_NAME = re.compile(r"^(dis|gio|neu|pau|rab|sor|tri)-([fm]\d)-(\w+)$", re.IGNORECASE)
_EMOTION = {"dis": "disgust", "gio": "happy", "neu": "neutral", "pau": "fear", "rab": "angry",
            "sor": "surprise", "tri": "sad"}  # fmt: skip


def _parse(path: Path) -> Utterance | None:
    match = _NAME.match(path.stem)
    if match is None:
        return None
    speaker = match.group(2).lower()
    return from_emotion(
        _EMOTION[match.group(1).lower()], path=path, corpus=NAME, speaker=speaker,
        gender=speaker[0], language="it",
    )  # fmt: skip


def load(root: Path) -> CorpusLoad:
    """EMOVO below ``root``."""
    return scan(NAME, root, audio_files_under(root), _parse)

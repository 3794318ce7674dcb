"""AESDD (Acted Emotional Speech Dynamic Database, Greek): emotion folders of ``a01 (1).wav``.

Letter code: a anger, d disgust, f fear, h happiness, s sadness (no neutral); the number in
parentheses is the speaker. Files are recognised by their letter code wherever they lie.
"""

from __future__ import annotations

import re
from pathlib import Path

from serdevice.device.stream.audio import audio_files_under

from ._scan import scan
from .schema import CorpusLoad, Utterance, from_emotion

NAME = "aesdd"
LANGUAGES = ("el",)
LAYOUT = "ROOT/{anger,disgust,fear,happiness,sadness}/<code><NN> (<speaker>).wav, e.g. a01 (3).wav"
_NAME = re.compile(r"^([adfhs])(\d+)\s*\((\d+)\)\s*$", re.IGNORECASE)
_EMOTION = {"a": "angry", "d": "disgust", "f": "fear", "h": "happy", "s": "sad"}


def _parse(path: Path) -> Utterance | None:
    match = _NAME.match(path.stem)
    if match is None:
        return None
    return from_emotion(
        _EMOTION[match.group(1).lower()], path=path, corpus=NAME, speaker=match.group(3),
        gender="u", language="el",
    )  # fmt: skip


def load(root: Path) -> CorpusLoad:
    """AESDD below ``root``."""
    return scan(NAME, root, audio_files_under(root), _parse)

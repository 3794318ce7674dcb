"""TESS (Toronto Emotional Speech Set, Canadian English): ``OAF_<word>_<emotion>.wav``.

Two women: OAF (aged 64) and YAF (aged 26); the speaker comes from the file name, so the
folders' mixed-case names (``OAF_Fear``, ``YAF_pleasant_surprised``) do not matter. One file of
the distributed copy is named ``OA_bite_neutral`` (OAF's). Emotions: angry, disgust, fear, happy,
neutral, ps (pleasant surprise -> surprise, i.e. ``other``), sad.
"""

from __future__ import annotations

import re
from pathlib import Path

from serdevice.device.stream.audio import audio_files_under

from ._scan import scan
from .schema import CorpusLoad, Utterance, from_emotion

NAME = "tess"
LANGUAGES = ("en",)
LAYOUT = "ROOT/**/{OAF,YAF}_<word>_{angry,disgust,fear,happy,neutral,ps,sad}.wav"
_NAME = re.compile(r"^(OAF|YAF|OA)_([a-z]+)_(angry|disgust|fear|happy|neutral|ps|sad)$",
                   re.IGNORECASE)  # fmt: skip
_EMOTION = {"angry": "angry", "disgust": "disgust", "fear": "fear", "happy": "happy",
            "neutral": "neutral", "ps": "surprise", "sad": "sad"}  # fmt: skip


def _parse(path: Path) -> Utterance | None:
    match = _NAME.match(path.stem)
    if match is None:
        return None
    speaker = "YAF" if match.group(1).upper() == "YAF" else "OAF"
    return from_emotion(
        _EMOTION[match.group(3).lower()], path=path, corpus=NAME, speaker=speaker, gender="f",
        language="en",
    )  # fmt: skip


def load(root: Path) -> CorpusLoad:
    """TESS below ``root``."""
    return scan(NAME, root, audio_files_under(root), _parse)

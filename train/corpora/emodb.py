"""Emo-DB (Berlin, German): ``wav/`` files named like 03a01Fa.wav.

Speaker = the first two digits; emotion letter: W anger, L boredom, E disgust, A fear,
F happiness, T sadness, N neutral.
"""

from __future__ import annotations

import re
from pathlib import Path

from serdevice.device.stream.audio import audio_files_under

from ._scan import scan
from .schema import CorpusLoad, Utterance, from_emotion

NAME = "emodb"
LANGUAGES = ("de",)
LAYOUT = "ROOT/wav/03a01Fa.wav: speaker(2 digits) text(a/b + 2 digits) emotion(WLEAFTN) version"
_NAME = re.compile(r"^(\d{2})([ab]\d{2})([WLEAFTN])([a-g])$")
_EMOTION = {"W": "angry", "L": "boredom", "E": "disgust", "A": "fear", "F": "happy",
            "T": "sad", "N": "neutral"}  # fmt: skip
_MALE = {"03", "10", "11", "12", "15"}  # the corpus's documented speakers; the rest are female


def _parse(path: Path) -> Utterance | None:
    match = _NAME.match(path.stem)
    if match is None:
        return None
    speaker = match.group(1)
    return from_emotion(
        _EMOTION[match.group(3)], path=path, corpus=NAME, speaker=speaker,
        gender="m" if speaker in _MALE else "f", language="de",
    )  # fmt: skip


def load(root: Path) -> CorpusLoad:
    """Emo-DB below ``root`` (``root/wav`` if present, else ``root`` itself)."""
    base = root / "wav" if (root / "wav").is_dir() else root
    return scan(NAME, root, audio_files_under(base), _parse)

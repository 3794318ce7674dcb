"""SAVEE (Surrey, British English): ``<speaker>/<code><NN>.wav`` anywhere below the root.

Speakers DC, JE, JK, KL (all male); codes a anger, d disgust, f fear, h happiness, n neutral,
sa sadness, su surprise.
"""

from __future__ import annotations

import re
from pathlib import Path

from ._scan import scan, wavs
from .schema import CorpusLoad, Utterance, from_emotion

NAME = "savee"
LANGUAGES = ("en",)
LAYOUT = "ROOT/**/{DC,JE,JK,KL}/{a,d,f,h,n,sa,su}NN.wav"
_SPEAKERS = {"DC", "JE", "JK", "KL"}
_NAME = re.compile(r"^(a|d|f|h|n|sa|su)(\d{2})\.wav$")
_EMOTION = {"a": "angry", "d": "disgust", "f": "fear", "h": "happy", "n": "neutral",
            "sa": "sad", "su": "surprise"}  # fmt: skip


def _parse(path: Path) -> Utterance | None:
    match = _NAME.match(path.name)
    speaker = path.parent.name
    if match is None or speaker not in _SPEAKERS:
        return None
    return from_emotion(
        _EMOTION[match.group(1)], path=path, corpus=NAME, speaker=speaker, gender="m",
        language="en",
    )  # fmt: skip


def load(root: Path) -> CorpusLoad:
    """SAVEE below ``root``."""
    return scan(NAME, root, wavs(root), _parse)

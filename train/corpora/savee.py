"""SAVEE (Surrey, British English), in either layout in circulation below the root:
official ``AudioData/DC/a01.wav`` or flat ``DC_a01.wav``.

Speakers DC, JE, JK, KL (all male); codes a anger, d disgust, f fear, h happiness, n neutral,
sa sadness, su surprise.
"""

from __future__ import annotations

import re
from pathlib import Path

from serdevice.device.stream.audio import audio_files_under

from ._scan import scan
from .schema import CorpusLoad, Utterance, from_emotion

NAME = "savee"
LANGUAGES = ("en",)
LAYOUT = ("ROOT/**/{DC,JE,JK,KL}/{a,d,f,h,n,sa,su}NN.wav (official) or "
          "ROOT/**/{DC,JE,JK,KL}_{a,...,su}NN.wav (flat)")  # fmt: skip
_SPEAKERS = {"DC", "JE", "JK", "KL"}
_NAME = re.compile(r"^(?:(DC|JE|JK|KL)_)?(a|d|f|h|n|sa|su)(\d{2})$")
_EMOTION = {"a": "angry", "d": "disgust", "f": "fear", "h": "happy", "n": "neutral",
            "sa": "sad", "su": "surprise"}  # fmt: skip


def _parse(path: Path) -> Utterance | None:
    match = _NAME.match(path.stem)
    if match is None:
        return None
    speaker = match.group(1) or path.parent.name.upper()  # flat: in the name; official: folder
    if speaker not in _SPEAKERS:
        return None
    return from_emotion(
        _EMOTION[match.group(2)], path=path, corpus=NAME, speaker=speaker, gender="m",
        language="en",
    )  # fmt: skip


def load(root: Path) -> CorpusLoad:
    """SAVEE below ``root``."""
    return scan(NAME, root, audio_files_under(root), _parse)

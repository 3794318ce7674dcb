"""CaFE (Canadian French Emotional): ``AA-E-I-S.wav`` (neutral: ``AA-N-S.wav``), any folder.

AA actor 01-12 (odd = male, even = female, the corpus's convention); E: C colère, D dégoût,
J joie, N neutre, P peur, S surprise, T tristesse; I intensity 1-2; S sentence 1-6.
"""

from __future__ import annotations

import re
from pathlib import Path

from serdevice.device.stream.audio import audio_files_under

from ._scan import scan
from .schema import CorpusLoad, Utterance, from_emotion

NAME = "cafe"
LANGUAGES = ("fr",)
LAYOUT = "ROOT/**/AA-E-I-S.wav, e.g. 01-C-2-3.wav (neutral has no intensity: 01-N-3.wav)"
_NAME = re.compile(r"^(\d{2})-([CDJNPST])(?:-(\d))?-(\d)$")
_EMOTION = {"C": "angry", "D": "disgust", "J": "happy", "N": "neutral", "P": "fear",
            "S": "surprise", "T": "sad"}  # fmt: skip


def _parse(path: Path) -> Utterance | None:
    match = _NAME.match(path.stem)
    if match is None:
        return None
    actor = match.group(1)
    return from_emotion(
        _EMOTION[match.group(2)], path=path, corpus=NAME, speaker=actor,
        gender="m" if int(actor) % 2 else "f", language="fr",
    )  # fmt: skip


def load(root: Path) -> CorpusLoad:
    """CaFE below ``root``."""
    return scan(NAME, root, audio_files_under(root), _parse)

"""CREMA-D: ``AAAA_SSS_EEE_LL.wav`` (actor 1001-1091, sentence, emotion, level).

Emotion: ANG, DIS, FEA, HAP, NEU, SAD. Gender comes from ``VideoDemographics.csv``
(ActorID, Sex) when it lies anywhere below the root; otherwise "u".
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from serdevice.device.stream.audio import audio_files_under

from ._scan import scan
from .schema import CorpusLoad, Utterance, from_emotion

NAME = "cremad"
LANGUAGES = ("en",)
LAYOUT = "ROOT/**/AAAA_SSS_EEE_LL.wav, e.g. AudioWAV/1001_DFA_ANG_XX.wav (+ VideoDemographics.csv)"
_NAME = re.compile(r"^(\d{4})_([A-Z]{3})_(ANG|DIS|FEA|HAP|NEU|SAD)_([A-Z]{2})$")
_EMOTION = {"ANG": "angry", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral",
            "SAD": "sad"}  # fmt: skip


def _genders(root: Path) -> dict[str, str]:
    found = next(iter(sorted(root.rglob("VideoDemographics.csv"))), None)
    if found is None:
        return {}
    with found.open(newline="", encoding="utf-8") as handle:
        return {
            row["ActorID"].strip(): row["Sex"].strip()[:1].lower()
            for row in csv.DictReader(handle)
            if row.get("ActorID") and row.get("Sex")
        }


def load(root: Path) -> CorpusLoad:
    """CREMA-D below ``root``."""
    genders = _genders(root)

    def parse(path: Path) -> Utterance | None:
        match = _NAME.match(path.stem)
        if match is None:
            return None
        actor = match.group(1)
        return from_emotion(
            _EMOTION[match.group(3)], path=path, corpus=NAME, speaker=actor,
            gender=genders.get(actor, "u"), language="en",
        )  # fmt: skip

    return scan(NAME, root, audio_files_under(root), parse)

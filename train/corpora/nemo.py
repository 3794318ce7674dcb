"""nEMO (Polish): ``{speaker}_{emotion}_{n}.wav``, e.g. ``EB0_anger_1.wav`` (+ ``data.tsv``).

Nine actors (EB0, IC0, KD0, KS0, MK0, MP0, SM0, TP0, WR0). Emotions: anger, fear, happiness,
neutral, sadness, surprised (fear and surprise -> ``other``). The speaker and the label come from
the file name; the gender comes from the corpus's ``data.tsv`` (columns file_id, emotion,
raw_text, normalized_text, speaker_id, gender, age) at the root or anywhere below it, matched on
``speaker_id`` with its leading spaces stripped (the distributed file pads it). Without
``data.tsv`` the gender is ``u``. Age has no place in the unified schema and is not read.
Licence: CC BY-NC-SA 4.0.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from pathlib import Path

from serdevice.device.stream.audio import audio_files_under
from serdevice.device.stream.contracts import InputError

from ._scan import scan
from .schema import CorpusLoad, Utterance, from_emotion

NAME = "nemo"
LANGUAGES = ("pl",)
LAYOUT = ("ROOT/**/<speaker>_{anger,fear,happiness,neutral,sadness,surprised}_<n>.wav "
          "(+ data.tsv for gender), e.g. samples/EB0_anger_1.wav")  # fmt: skip
_NAME = re.compile(
    r"^([a-z]+\d*)_(anger|fear|happiness|neutral|sadness|surprised)_(\d+)$", re.IGNORECASE
)
_EMOTION = {"anger": "angry", "fear": "fear", "happiness": "happy", "neutral": "neutral",
            "sadness": "sad", "surprised": "surprise"}  # fmt: skip
_GENDER = {"female": "f", "male": "m", "f": "f", "m": "m"}


def _data_tsv(root: Path) -> Path | None:
    if (root / "data.tsv").is_file():
        return root / "data.tsv"
    return next(iter(sorted(root.rglob("data.tsv"))), None)


def speaker_genders(tsv: Path) -> dict[str, str]:
    """``data.tsv`` -> {speaker: "f"/"m"/"u"}, speaker ids stripped (majority of its rows)."""
    with tsv.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        fields = [f.strip() for f in reader.fieldnames or []]
        missing = [c for c in ("speaker_id", "gender") if c not in fields]
        if missing:
            raise InputError(f"{tsv}: nEMO data.tsv lacks column(s) {', '.join(missing)}")
        votes: dict[str, Counter[str]] = defaultdict(Counter)
        for row in reader:
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            if row["speaker_id"]:
                votes[row["speaker_id"].upper()][_GENDER.get(row["gender"].lower(), "u")] += 1
    return {speaker: counts.most_common(1)[0][0] for speaker, counts in votes.items()}


def load(root: Path) -> CorpusLoad:
    """nEMO below ``root``."""
    tsv = _data_tsv(root)
    genders = speaker_genders(tsv) if tsv is not None else {}

    def parse(path: Path) -> Utterance | None:
        match = _NAME.match(path.stem)
        if match is None:
            return None
        speaker = match.group(1).upper()
        return from_emotion(
            _EMOTION[match.group(2).lower()], path=path, corpus=NAME, speaker=speaker,
            gender=genders.get(speaker, "u"), language="pl",
        )  # fmt: skip

    return scan(NAME, root, audio_files_under(root), parse)

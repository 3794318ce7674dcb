"""IEMOCAP (USC, English): Session1-5 with ``dialog/EmoEvaluation/*.txt`` and sentence wavs.

Evaluation lines look like ``[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5, 2.5, 2.5]``
(valence, activation, dominance on 1-5: used as the dimensional labels). The wav is
``SessionN/sentences/wav/<dialog>/<utterance>.wav``. Speaker = session + the gender letter that
starts the utterance id's last token (``Ses01F_impro01_M003`` -> ``Ses01M``). Categories: ``exc``
merges into happy (the usual 4-class convention); fru, fea, sur, dis, oth and ``xxx`` (no
agreement) -> other. An evaluated utterance whose wav is missing is skipped and counted.
"""

from __future__ import annotations

import re
from pathlib import Path

from .schema import EMOTIONS, CorpusLoad, Utterance

NAME = "iemocap"
LANGUAGES = ("en",)
LAYOUT = (
    "ROOT/Session[1-5]/dialog/EmoEvaluation/*.txt + "
    "ROOT/Session[1-5]/sentences/wav/<dialog>/<utterance>.wav"
)
_LINE = re.compile(
    r"^\[(?P<start>[\d.]+) - (?P<end>[\d.]+)\]\t(?P<utt>Ses\d\d[MF]_\S+_([MF])\d+)\t"
    r"(?P<cat>\w+)\t\[(?P<v>[\d.]+), (?P<a>[\d.]+), (?P<d>[\d.]+)\]"
)
_CATEGORY = {"neu": "neutral", "ang": "angry", "hap": "happy", "exc": "excited", "sad": "sad",
             "fru": "frustration", "fea": "fear", "sur": "surprise", "dis": "disgust",
             "oth": "other", "xxx": "other"}  # fmt: skip


def _clip(value: float) -> float:
    return min(5.0, max(1.0, value))


def load(root: Path) -> CorpusLoad:
    """IEMOCAP below ``root`` (the folder holding Session1..Session5)."""
    found: list[Utterance] = []
    skipped = 0
    for session in sorted(root.glob("Session[1-5]")):
        for evaluation in sorted((session / "dialog" / "EmoEvaluation").glob("*.txt")):
            for line in evaluation.read_text(encoding="utf-8", errors="replace").splitlines():
                match = _LINE.match(line)
                if match is None:
                    continue
                utt = match.group("utt")
                wav = session / "sentences" / "wav" / utt.rsplit("_", 1)[0] / f"{utt}.wav"
                emotion = _CATEGORY.get(match.group("cat"))
                if emotion is None or not wav.is_file():
                    skipped += 1
                    continue
                gender = utt.rsplit("_", 1)[1][0]
                speaker = f"{utt[:5]}{gender}"
                found.append(
                    Utterance(
                        path=wav.resolve(), corpus=NAME, speaker=speaker, gender=gender.lower(),
                        language="en", label=EMOTIONS[emotion][0],
                        activation=_clip(float(match.group("a"))),
                        valence=_clip(float(match.group("v"))), split_group=f"{NAME}:{speaker}",
                    )
                )  # fmt: skip
    return CorpusLoad(name=NAME, root=root, utterances=found, skipped=skipped)

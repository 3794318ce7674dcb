"""ASED v1 (Amharic Speech Emotion Dataset): ``xn-yy-aa-gg-bb.wav``, e.g. ``a5-01-01-02-17.wav``.

x is the emotion letter and n its folder number (n1 neutral, f2 fear, h3 happy, s4 sad,
a5 angry; the folders are ``01Neutral, 02Fearful, 03Happy, 04Sad, 05Angry``), yy the sentence,
aa the repetition, gg the gender (01 f, 02 m), bb the speaker (01-65). Names are parsed without
regard to case (one file of the original starts ``S4-``); a name whose letter and number
disagree (``h1-...``) is skipped, as ambiguous.

Speaker id: the speaker number ``bb`` alone, not the pair (gender code, number). Six speaker
numbers appear with both gender codes in the original (09 and 21 among the shared subset's
clips), each time on a minority of that speaker's files: a slip in the gender field, not
a different person. Counting the pairs as speakers would give more speakers than the 65 the
corpus's authors report, and would put one person's clips in two cross-validation folds. A
speaker's gender is the majority of its files' gender codes (``u`` on a tie), applied to all its
files: 25 f / 40 m on the shared copy, as the corpus says.

Sentences are emotion-specific (a sentence number goes with one emotion, apart from two common
sentences spoken in all five). Licence: none stated in its repository; published for research
(Retta et al., ACM TALLIP 2023): research use only.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

from serdevice.device.stream.audio import audio_files_under

from ._scan import scan
from .schema import CorpusLoad, Utterance, from_emotion

NAME = "ased"
LANGUAGES = ("am",)
LAYOUT = ("ROOT/**/{n1,f2,h3,s4,a5}-SS-RR-GG-PP.wav (sentence, repetition, gender 01 f / 02 m, "
          "speaker 01-65; any case), e.g. 05Angry/a5-01-01-02-17.wav")  # fmt: skip
_NAME = re.compile(r"^([nfhsa])([1-5])-(\d{2})-(\d{2})-(0[12])-(\d{2})$", re.IGNORECASE)
# letter -> (folder number, emotion)
_EMOTION = {"n": ("1", "neutral"), "f": ("2", "fear"), "h": ("3", "happy"), "s": ("4", "sad"),
            "a": ("5", "angry")}  # fmt: skip
_GENDER = {"01": "f", "02": "m"}


def _parse(path: Path) -> Utterance | None:
    match = _NAME.match(path.stem)
    if match is None:
        return None
    number, emotion = _EMOTION[match.group(1).lower()]
    if match.group(2) != number:
        return None
    return from_emotion(
        emotion, path=path, corpus=NAME, speaker=match.group(6), gender=_GENDER[match.group(5)],
        language="am",
    )  # fmt: skip


def speaker_genders(utterances: list[Utterance]) -> dict[str, str]:
    """Each speaker's gender: the majority of its files' gender codes, ``u`` on a tie."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for u in utterances:
        votes[u.speaker][u.gender] += 1
    out = {}
    for speaker, counts in votes.items():
        (first, n_first), *rest = counts.most_common()
        out[speaker] = "u" if rest and rest[0][1] == n_first else first
    return out


def load(root: Path) -> CorpusLoad:
    """ASED below ``root``."""
    loaded = scan(NAME, root, audio_files_under(root), _parse)
    genders = speaker_genders(loaded.utterances)
    return replace(
        loaded, utterances=[replace(u, gender=genders[u.speaker]) for u in loaded.utterances]
    )

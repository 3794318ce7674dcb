"""emotiontts open DB, emotional part (KAIST / Selvas, Korean): ``<spk>/wav/<spk>NNNNN.wav``.

Two script groups: ``plain-to-emotional`` (neutral scripts read with an emotion; speakers ema,
emb f and emf, emg, emh m) and ``emotional-to-emotional`` (emotional scripts; nea, neb, nec,
ned, nee f and nek, nel, nem, nen, neo m: the genders are the corpus's own README's,
emotiontts/emotiontts_open_db ``Emotional/README.md``). The utterance number gives the emotion: 00001-00100 neutral,
00101-00200 happy (joy), 00201-00300 **sad**, 00301-00400 **angry**. The speaker
comes from the file name; only these fifteen speakers are taken, so that the repository's other
speakers (``Main``, ``Personality``) are skipped, not mislabelled, when the root is above them.
Licence: CC BY-NC-SA 4.0, research use only.

The last two hundreds are the other way round from the corpus's README (일반, 기쁨, 화남, 슬픔: neutral,
joy, anger, sadness), because the recordings say so. Measured on the 300 clips of
../shared/corpora (eGeMAPS, clip level, 2026-12-02): for every one of the 15 speakers, 00201-00300
has the lowest mean F0 (1-6 semitones below neutral) and the lowest loudness (0.05-0.34 below
neutral) of the four hundreds, and mostly the slowest voiced-segment rate: the acoustic profile
of sadness in every other corpus here, never of anger; 00301-00400 is as loud as neutral or louder,
with a higher F0 for 9 of 15. Read in the README's order, models trained on the five other corpora
rank the held-out corpus's activation backwards (Spearman rho -0.53, every model). Set
``EMOTIONTTS_README_ORDER=1`` to read the README's order instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from serdevice.device.stream.audio import audio_files_under

from ._scan import scan
from .schema import CorpusLoad, Utterance, from_emotion

NAME = "emotiontts"
LANGUAGES = ("ko",)
LAYOUT = ("ROOT/**/<spk>/wav/<spk>NNNNN.wav, spk em{a,b,f,g,h} or ne{a..e,k..o}, NNNNN "
          "1-100 neutral, -200 happy, -300 sad, -400 angry (the recordings' order, not the "
          "corpus README's), "
          "e.g. plain-to-emotional/ema/wav/ema00101.wav")  # fmt: skip
GENDERS = {"ema": "f", "emb": "f", "emf": "m", "emg": "m", "emh": "m",
           "nea": "f", "neb": "f", "nec": "f", "ned": "f", "nee": "f",
           "nek": "m", "nel": "m", "nem": "m", "nen": "m", "neo": "m"}  # fmt: skip
_NAME = re.compile(r"^([a-z]{3})(\d{5})$", re.IGNORECASE)
_EMOTIONS = ("neutral", "happy", "sad", "angry")  # by hundreds: 1-100, 101-200, ...
_README_ORDER = ("neutral", "happy", "angry", "sad")


def _parse(path: Path) -> Utterance | None:
    match = _NAME.match(path.stem)
    if match is None:
        return None
    speaker, number = match.group(1).lower(), int(match.group(2))
    if speaker not in GENDERS or not 1 <= number <= 400:
        return None
    order = _README_ORDER if os.environ.get("EMOTIONTTS_README_ORDER") == "1" else _EMOTIONS
    return from_emotion(
        order[(number - 1) // 100], path=path, corpus=NAME, speaker=speaker,
        gender=GENDERS[speaker], language="ko",
    )  # fmt: skip


def load(root: Path) -> CorpusLoad:
    """emotiontts (emotional part) below ``root``."""
    return scan(NAME, root, audio_files_under(root), _parse)

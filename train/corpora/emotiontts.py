"""emotiontts open DB, emotional part (KAIST / Selvas, Korean): ``<spk>/wav/<spk>NNNNN.wav``.

Two script groups: ``plain-to-emotional`` (neutral scripts read with an emotion; speakers ema,
emb f and emf, emg, emh m) and ``emotional-to-emotional`` (emotional scripts; nea, neb, nec,
ned, nee f and nek, nel, nem, nen, neo m: the genders are the corpus's own README's,
emotiontts/emotiontts_open_db ``Emotional/README.md``). The utterance number gives the emotion:
00001-00100 neutral, 00101-00200 happy (joy), 00201-00300 angry, 00301-00400 sad. The speaker
comes from the file name; only these fifteen speakers are taken, so that the repository's other
speakers (``Main``, ``Personality``) are skipped, not mislabelled, when the root is above them.
Licence: CC BY-NC-SA 4.0, research use only.
"""

from __future__ import annotations

import re
from pathlib import Path

from serdevice.device.audio import audio_files_under

from ._scan import scan
from .schema import CorpusLoad, Utterance, from_emotion

NAME = "emotiontts"
LANGUAGES = ("ko",)
LAYOUT = ("ROOT/**/<spk>/wav/<spk>NNNNN.wav, spk em{a,b,f,g,h} or ne{a..e,k..o}, NNNNN "
          "1-100 neutral, -200 happy, -300 angry, -400 sad, "
          "e.g. plain-to-emotional/ema/wav/ema00101.wav")  # fmt: skip
GENDERS = {"ema": "f", "emb": "f", "emf": "m", "emg": "m", "emh": "m",
           "nea": "f", "neb": "f", "nec": "f", "ned": "f", "nee": "f",
           "nek": "m", "nel": "m", "nem": "m", "nen": "m", "neo": "m"}  # fmt: skip
_NAME = re.compile(r"^([a-z]{3})(\d{5})$", re.IGNORECASE)
_EMOTIONS = ("neutral", "happy", "angry", "sad")  # by hundreds: 1-100, 101-200, ...


def _parse(path: Path) -> Utterance | None:
    match = _NAME.match(path.stem)
    if match is None:
        return None
    speaker, number = match.group(1).lower(), int(match.group(2))
    if speaker not in GENDERS or not 1 <= number <= 400:
        return None
    return from_emotion(
        _EMOTIONS[(number - 1) // 100], path=path, corpus=NAME, speaker=speaker,
        gender=GENDERS[speaker], language="ko",
    )  # fmt: skip


def load(root: Path) -> CorpusLoad:
    """emotiontts (emotional part) below ``root``."""
    return scan(NAME, root, audio_files_under(root), _parse)

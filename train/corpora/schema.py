"""The unified corpus schema: one typed record per utterance, and its manifest CSV.

``label`` is one of the unified labels (neutral, sad, happy, angry, other); emotions outside the
four-class task (fear, disgust, boredom, surprise, calm, frustration, ...) map to ``other``: kept,
but excluded from the 3- and 4-class tasks. ``activation`` and ``valence`` are on a 1-5 scale:
a corpus's own dimensional ratings where it has them (IEMOCAP), else the categorical map below,
which a per-file CSV (``file, activation, valence``) can override.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from serdevice.device.stream.contracts import InputError, Label

MANIFEST_COLUMNS = (
    "path", "corpus", "speaker", "gender", "language", "label", "activation", "valence",
    "split_group",
)  # fmt: skip

# Categorical emotion -> (unified label, activation, valence), activation/valence on 1-5.
# Placed on Russell's circumplex (1980) as the dimensional-SER literature usually does
# (e.g. anger high-arousal/negative, sadness low/negative, happiness high/positive,
# neutral mid/mid); values are coarse and documented, not measured.
EMOTIONS: dict[str, tuple[Label, float, float]] = {
    "neutral": (Label.NEUTRAL, 2.5, 3.0),
    "sad": (Label.SAD, 1.8, 1.8),
    "happy": (Label.HAPPY, 4.0, 4.5),
    "angry": (Label.ANGRY, 4.5, 1.5),
    "excited": (Label.HAPPY, 4.5, 4.2),
    "fear": (Label.OTHER, 4.0, 1.8),
    "disgust": (Label.OTHER, 3.0, 1.8),
    "boredom": (Label.OTHER, 1.5, 2.5),
    "surprise": (Label.OTHER, 4.2, 3.5),
    "calm": (Label.OTHER, 1.8, 3.5),
    "frustration": (Label.OTHER, 3.5, 2.0),
    "other": (Label.OTHER, 3.0, 3.0),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Utterance:
    """One audio file of a corpus, in the unified schema."""

    path: Path  # absolute
    corpus: str
    speaker: str
    gender: str  # "m", "f" or "u"
    language: str  # ISO 639-1
    label: Label
    activation: float  # 1-5
    valence: float  # 1-5
    split_group: str  # speaker-independent grouping for cross-validation folds


@dataclass(frozen=True, slots=True, kw_only=True)
class CorpusLoad:
    """What a loader found below a root, and how many files it could not parse."""

    name: str
    root: Path
    utterances: list[Utterance] = field(default_factory=list)
    skipped: int = 0


def from_emotion(
    emotion: str,
    *,
    path: Path,
    corpus: str,
    speaker: str,
    gender: str,
    language: str,
    split_group: str | None = None,
) -> Utterance:
    """An utterance whose dimensions come from the categorical map."""
    label, activation, valence = EMOTIONS[emotion]
    return Utterance(
        path=path, corpus=corpus, speaker=speaker, gender=gender, language=language, label=label,
        activation=activation, valence=valence, split_group=split_group or f"{corpus}:{speaker}",
    )  # fmt: skip


def _float(value: str, column: str, where: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"{where}: column {column!r} is not a number ({value!r})") from None
    if not math.isfinite(number) or not 1.0 <= number <= 5.0:
        raise InputError(f"{where}: {column} must be within 1-5 (got {value})")
    return number


def read_manifest(csv_path: Path, *, corpus: str | None = None) -> list[Utterance]:
    """Read a unified-schema CSV; relative paths are relative to the CSV's folder."""
    if not csv_path.is_file():
        raise InputError(f"{csv_path}: no such manifest file")
    with csv_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in MANIFEST_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{csv_path}: manifest lacks column(s) {', '.join(missing)}")
        rows = list(reader)
    labels = {label.value for label in Label}
    out = []
    for number, row in enumerate(rows, start=2):
        where = f"{csv_path}:{number}"
        if row["label"] not in labels:
            raise InputError(f"{where}: unknown label {row['label']!r} (one of {sorted(labels)})")
        path = Path(row["path"])
        out.append(
            Utterance(
                path=path if path.is_absolute() else (csv_path.parent / path).resolve(),
                corpus=corpus or row["corpus"],
                speaker=row["speaker"],
                gender=row["gender"] or "u",
                language=row["language"],
                label=Label(row["label"]),
                activation=_float(row["activation"], "activation", where),
                valence=_float(row["valence"], "valence", where),
                split_group=row["split_group"] or row["speaker"],
            )
        )
    return out


def write_manifest(
    utterances: Iterable[Utterance], csv_path: Path, *, extra: Sequence[dict[str, object]] = ()
) -> None:
    """Write a unified-schema CSV with paths relative to its folder (plus optional extra columns)."""
    items = list(utterances)
    extra_columns = list(extra[0]) if extra else []
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*MANIFEST_COLUMNS, *extra_columns])
        for i, u in enumerate(items):
            try:
                path = u.path.relative_to(csv_path.parent.resolve())
            except ValueError:
                path = u.path
            writer.writerow(
                [path.as_posix(), u.corpus, u.speaker, u.gender, u.language, u.label.value,
                 f"{u.activation:.3f}", f"{u.valence:.3f}", u.split_group,
                 *(extra[i][c] for c in extra_columns)]
            )  # fmt: skip


def apply_overrides(utterances: list[Utterance], csv_path: Path) -> list[Utterance]:
    """Replace activation/valence from a CSV ``file, activation, valence`` (file = name or path)."""
    if not csv_path.is_file():
        raise InputError(f"{csv_path}: no such override file")
    with csv_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not {"file", "activation", "valence"} <= set(reader.fieldnames or []):
            raise InputError(f"{csv_path}: override CSV needs columns file, activation, valence")
        table = {
            row["file"]: (
                _float(row["activation"], "activation", str(csv_path)),
                _float(row["valence"], "valence", str(csv_path)),
            )
            for row in reader
        }
    out = []
    for u in utterances:
        key = next((k for k in (str(u.path), u.path.name, u.path.stem) if k in table), None)
        if key is not None:
            activation, valence = table[key]
            u = replace(u, activation=activation, valence=valence)
        out.append(u)
    return out

"""Corpus specs -> feature matrix + per-row labels (clip level or the device's windows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from serdevice.device.stream.contracts import (
    DEFAULT_HOP_S,
    DEFAULT_WINDOW_S,
    FEATURE_NAMES,
    InputError,
    Task,
)

if TYPE_CHECKING:
    from serdevice.train.corpora import Utterance

FOUR_CLASSES = tuple(label.value for label in Task.NSHA.labels)  # neutral, sad, happy, angry


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureSet:
    """Rows of raw eGeMAPS and what each row is (a clip, or a window of one)."""

    x: np.ndarray  # (n, 88) raw features
    label: np.ndarray  # (n,) str: neutral/sad/happy/angry/other
    activation: np.ndarray  # (n,) float, 1-5
    valence: np.ndarray  # (n,) float, 1-5
    group: np.ndarray  # (n,) str: speaker-independent fold group
    language: np.ndarray  # (n,) str
    corpus: np.ndarray  # (n,) str
    file: np.ndarray  # (n,) str

    def __len__(self) -> int:
        return len(self.x)

    @property
    def class_index(self) -> np.ndarray:
        """Index into FOUR_CLASSES, -1 for 'other'."""
        lookup = {name: i for i, name in enumerate(FOUR_CLASSES)}
        return np.array([lookup.get(str(v), -1) for v in self.label], dtype=np.int64)

    def subset(self, mask: np.ndarray) -> FeatureSet:
        """Rows where ``mask`` holds (a boolean mask or an index array)."""
        return replace(self, **{k: getattr(self, k)[mask] for k in self.__dataclass_fields__})


def concat(parts: Sequence[FeatureSet]) -> FeatureSet:
    """Rows of several sets, in order."""
    fields = FeatureSet.__dataclass_fields__
    return FeatureSet(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in fields})


# How training rows are drawn: every window alike, every corpus or every speaker an equal share.
WEIGHTINGS = ("none", "corpus", "speaker")


def row_weights(data: FeatureSet, weighting: str) -> np.ndarray | None:
    """Per-row sampling weights for ``weighting`` (None: every row alike).

    ``corpus``: each corpus's rows sum to the same weight (a corpus of few speakers with many clips
    counts as much as one of many speakers with few); ``speaker``: each speaker's rows (the fold
    group within its corpus) sum to the same weight.
    """
    if weighting not in WEIGHTINGS:
        raise InputError(f"unknown weighting {weighting!r}: choose one of {', '.join(WEIGHTINGS)}")
    if weighting == "none":
        return None
    unit = (
        data.corpus
        if weighting == "corpus"
        else np.char.add(np.char.add(data.corpus.astype(str), "/"), data.group.astype(str))
    )
    _, inverse, counts = np.unique(unit, return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse]


def load_features(
    specs: Sequence[str],
    *,
    level: str = "clip",
    window_s: float = DEFAULT_WINDOW_S,
    hop_s: float = DEFAULT_HOP_S,
    jobs: int = 2,
    cache_dir: Path | None = None,
    progress: bool = True,
) -> FeatureSet:
    """Load corpora by spec and extract (cached) features; rows with NaN features are dropped."""
    from serdevice.train.corpora import load_spec

    utterances = [u for spec in specs for u in load_spec(spec).utterances]
    return features_of(utterances, level=level, window_s=window_s, hop_s=hop_s, jobs=jobs,
                       cache_dir=cache_dir, progress=progress, what=", ".join(specs))  # fmt: skip


def features_of(
    utterances: Sequence[Utterance],
    *,
    level: str = "clip",
    window_s: float = DEFAULT_WINDOW_S,
    hop_s: float = DEFAULT_HOP_S,
    jobs: int = 2,
    cache_dir: Path | None = None,
    progress: bool = True,
    what: str = "the corpora",
) -> FeatureSet:
    """(Cached) features of the given utterances; rows with NaN features are dropped."""
    from serdevice.train.cache import default_cache_dir
    from serdevice.train.features_batch import extract_table

    table = extract_table([u.path for u in utterances], level=level, window_s=window_s,
                          hop_s=hop_s, jobs=jobs, cache_dir=cache_dir or default_cache_dir(),
                          progress=progress)  # fmt: skip
    by_path = {str(u.path): u for u in utterances}
    rows = [by_path[f] for f in table["file"]]
    x = table[list(FEATURE_NAMES)].to_numpy(dtype=np.float64)
    finite = np.isfinite(x).all(axis=1)
    data = FeatureSet(
        x=x,
        label=np.array([u.label.value for u in rows]),
        activation=np.array([u.activation for u in rows]),
        valence=np.array([u.valence for u in rows]),
        group=np.array([u.split_group for u in rows]),
        language=np.array([u.language for u in rows]),
        corpus=np.array([u.corpus for u in rows]),
        file=table["file"].to_numpy().astype(str),
    ).subset(finite)
    if len(data) == 0:
        raise InputError(f"no usable feature rows in {what}")
    return data

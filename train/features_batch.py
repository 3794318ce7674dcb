"""Batch eGeMAPS for corpora: clip level (the seed's protocol) or the device's windows, cached.

Audio goes through ``serdevice.device.stream.audio.read_audio`` (the device's own 16 kHz mono path),
then the full ``opensmile.Smile``. Window rows use the same fixed frame mode as the streaming
extractor and agree with it (tests/test_features.py). Results are cached per file, keyed by the
file's content hash, the opensmile version, the level, window and hop.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from serdevice.device.stream.audio import read_audio
from serdevice.device.stream.contracts import (
    DEFAULT_HOP_S,
    DEFAULT_WINDOW_S,
    FEATURE_NAMES,
    SAMPLE_RATE,
    InputError,
)
from serdevice.device.stream.features import opensmile_version

from . import cache
from .parallel import map_in_order

LEVELS = ("clip", "window")
META_COLUMNS = ("file", "start_s", "end_s")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtractionSpec:
    """What to extract; part of the cache key."""

    level: str
    window_s: float
    hop_s: float

    def key(self, content_hash: str) -> str:
        """Cache file stem for one file's content under this spec."""
        tag = f"{opensmile_version()}-{self.level}"
        if self.level == "window":
            tag += f"-{self.window_s:g}-{self.hop_s:g}"
        return f"{content_hash[:32]}-{tag}"


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_SMILES: dict[tuple[str, float, float], Any] = {}


def _smile(spec: ExtractionSpec) -> Any:
    """One ``opensmile.Smile`` per process and spec (building one parses the config)."""
    import opensmile

    key = (spec.level, spec.window_s, spec.hop_s)
    if key not in _SMILES:
        options: dict[str, str] = {}
        if spec.level == "window":
            fd, path = tempfile.mkstemp(prefix="serdevice-framemode-", suffix=".inc")
            with os.fdopen(fd, "w") as handle:
                handle.write(
                    f"frameMode = fixed\nframeSize = {spec.window_s!r}\n"
                    f"frameStep = {spec.hop_s!r}\nframeCenterSpecial = left\n"
                )
            options["frameModeFunctionalsConf"] = path
        _SMILES[key] = opensmile.Smile(
            opensmile.FeatureSet.eGeMAPSv02, opensmile.FeatureLevel.Functionals, options=options
        )
    return _SMILES[key]


def extract_file(path: Path, spec: ExtractionSpec) -> np.ndarray:
    """Rows ``[start_s, end_s, 88 values]`` for one file (no cache)."""
    clip = read_audio(path)
    # A file shorter than one window still gives one row: its whole length, as at clip level.
    if spec.level == "clip" or clip.duration_s < spec.window_s:
        clip_spec = ExtractionSpec(level="clip", window_s=spec.window_s, hop_s=spec.hop_s)
        values = _smile(clip_spec).process_signal(clip.samples, SAMPLE_RATE).to_numpy()
        return np.concatenate([[0.0, clip.duration_s], values[0]])[None, :]
    with warnings.catch_warnings():
        # opensmile warns and returns one NaN row when the file is shorter than a window;
        # the streaming extractor gives no row then, and so do we.
        warnings.simplefilter("ignore", UserWarning)
        values = _smile(spec).process_signal(clip.samples, SAMPLE_RATE).to_numpy()
    values = values[~np.isnan(values).all(axis=1)]
    n = len(values)
    starts = np.arange(n) * spec.hop_s
    meta = np.stack([starts, starts + spec.window_s], axis=1)
    return np.concatenate([meta, values], axis=1).reshape(n, 2 + len(FEATURE_NAMES))


def _extract_cached(args: tuple[Path, ExtractionSpec, Path | None]) -> tuple[np.ndarray, bool]:
    path, spec, cache_dir = args
    if cache_dir is None:
        return extract_file(path, spec), False
    return cache.array(cache_dir / f"{spec.key(file_hash(path))}.npy",
                       lambda: extract_file(path, spec))  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtractionResult:
    """Rows for many files, and how many came from the cache."""

    table: Any  # pandas.DataFrame: file, start_s, end_s, the 88 feature names
    cache_hits: int


def extract(
    paths: Sequence[Path],
    *,
    level: str = "clip",
    window_s: float = DEFAULT_WINDOW_S,
    hop_s: float = DEFAULT_HOP_S,
    jobs: int = 1,
    cache_dir: Path | None = None,
    progress: bool = True,
) -> ExtractionResult:
    """Extract every file, in order, in parallel over ``jobs`` processes."""
    import pandas as pd

    if level not in LEVELS:
        raise InputError(f"unknown level {level!r}: choose one of {', '.join(LEVELS)}")
    spec = ExtractionSpec(level=level, window_s=window_s, hop_s=hop_s)
    tasks = [(Path(p), spec, cache_dir) for p in paths]
    results = map_in_order(_extract_cached, tasks, jobs=jobs, desc="eGeMAPS", progress=progress)
    # One frame from stacked arrays: a DataFrame per file costs minutes for a few thousand files.
    columns = [*META_COLUMNS, *FEATURE_NAMES]
    blocks = [rows.reshape(-1, 2 + len(FEATURE_NAMES)) for rows, _ in results]
    values = np.concatenate(blocks) if blocks else np.zeros((0, 2 + len(FEATURE_NAMES)))
    table = pd.DataFrame(values, columns=columns[1:])
    table.insert(
        0, "file", np.repeat([str(path) for path, _, _ in tasks], [len(b) for b in blocks])
    )
    return ExtractionResult(table=table, cache_hits=sum(hit for _, hit in results))


def extract_table(paths: Sequence[Path], **kwargs: Any) -> Any:
    """``extract(...).table``: a DataFrame with file, start_s, end_s and the 88 features."""
    return extract(paths, **kwargs).table

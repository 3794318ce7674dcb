"""The on-disk caches, one mechanism: content-keyed entries under one root, written atomically.

Every cache lives in ``$XDG_CACHE_HOME/serdevice/`` (``~/.cache/serdevice/`` by default), one
folder a kind: ``features`` (eGeMAPS rows of a file), ``device-rows`` (the device stream's speech
rows of a file), ``rows`` (a trained table row), ``childlike`` and ``channel`` (altered copies of a
clip). A ``--cache-dir`` names the features folder; the other kinds sit beside it. An entry's
name is its key: a hash of the input file's bytes and of everything else that decides it
(openSMILE's version, window and hop, the gate, the code), so a stale entry is never read, only
left behind (``rm -r`` the folder to reclaim it). Entries are written under a temporary name and
renamed (device/stream/files.py), so two processes or a killed one never leave half an entry;
one that cannot be read (a full disk once) is computed again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from serdevice.device.stream.files import replacing


def default_cache_dir() -> Path:
    """The features cache, ``$XDG_CACHE_HOME/serdevice/features`` (``~/.cache/...`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "serdevice" / "features"


def folder(kind: str, features: Path | None = None) -> Path:
    """The cache folder of ``kind``, beside the features cache (``features``, or the default)."""
    return (features or default_cache_dir()).parent / kind


def array(path: Path, compute: Callable[[], np.ndarray]) -> tuple[np.ndarray, bool]:
    """(the .npy entry at ``path``, True), or (``compute()``, False) after writing it there."""
    if path.exists():
        try:
            return np.load(path, allow_pickle=False), True
        except (OSError, ValueError):
            pass  # damaged: computed again, and replaced
    rows = compute()
    with replacing(path) as partial:
        np.save(partial, rows, allow_pickle=False)
    return rows, False


def file(path: Path, write: Callable[[Path], None]) -> Path:
    """``path``, made by ``write(temporary path)`` unless it is there already."""
    if not path.exists():
        with replacing(path) as partial:  # two clips, one content: one writes it
            write(partial)
    return path


__all__ = ["array", "default_cache_dir", "file", "folder"]

"""A cache of one protocol row's results, keyed by everything that decides them.

A second ``evaluate`` on the same corpora with the same settings and code reuses each row instead
of retraining it (training, not feature extraction, is most of a real-corpus run); a changed
corpus, setting, hyper-parameter or source file of the training path gives a new key. Stored as
JSON (the per-fold metrics) + ``.npz`` (the latents for the plots): no pickle.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from serdevice.device.stream.files import replacing, write_atomically

# The modules whose code decides a row's numbers.
_CODE = ("dataset.py", "heads.py", "losses.py", "metrics.py", "models.py", "preprocess.py",
         "protocol.py", "training.py")  # fmt: skip
_FIELDS = ("x", "label", "activation", "valence", "group", "file")


def row_key(settings: dict[str, Any], corpora: list[tuple[str, Any]]) -> str:
    """sha256 over the settings (JSON), the training code and every corpus's rows."""
    import torch

    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    digest.update(torch.__version__.encode())
    here = Path(__file__).parent
    for name in _CODE:
        digest.update((here / name).read_bytes())
    for name, data in corpora:
        digest.update(name.encode())
        for field in _FIELDS:
            values = np.ascontiguousarray(getattr(data, field))
            digest.update(values.astype(str).tobytes() if values.dtype.kind in "OU" else
                          values.tobytes())  # fmt: skip
    return digest.hexdigest()[:40]


def load(folder: Path, key: str) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """(folds, latents by corpus) of a cached row, or None."""
    meta, arrays = folder / f"{key}.json", folder / f"{key}.npz"
    if not (meta.is_file() and arrays.is_file()):
        return None
    try:
        with np.load(arrays, allow_pickle=False) as stored:
            latents = {name: stored[name] for name in stored.files}
        return json.loads(meta.read_text()), latents
    except (OSError, ValueError):
        return None  # a damaged entry is recomputed


def save(folder: Path, key: str, folds: dict[str, Any], latents: dict[str, np.ndarray]) -> None:
    """Write one row atomically (temp files, then rename)."""
    with replacing(folder / f"{key}.npz") as partial:
        np.savez(partial, **latents)  # type: ignore[arg-type]
    write_atomically(folder / f"{key}.json", json.dumps(folds, allow_nan=True))

"""Per-wearer normalization: speech-window feature statistics, shrunk toward the model's own.

One file format for ``serdevice calibrate``'s output and ``listen``'s adaptation state
(``state.py``): schema 2 also holds the wearer's own running statistics (``wearer_mean``,
``wearer_std``) that the adaptive normalizer continues from; schema-1 files (before online
adaptation) still load, their shrunk statistics standing in for the wearer's.

The device-side form of the seed's "20 % unlabeled target data": no labels, only the mean and
standard deviation of each eGeMAPS feature over the wearer's speech windows. With ``n`` windows
seen and a prior strength of ``n0`` windows, the weight on the wearer is ``w = n / (n + n0)``;
``mean = w * mean_wearer + (1 - w) * mean_model`` and the same for the variance. Few windows keep
the model's training statistics; many windows move to the wearer's. The file holds statistics
only (never audio), is versioned, and is tied to one model by its sha256 and feature names.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .adaptation import AdaptConfig
from .contracts import FEATURE_NAMES, FEATURE_SET, N_FEATURES, InputError
from .files import write_atomically
from .gate import GateConfig
from .schema import Fields, read_json

if TYPE_CHECKING:
    from .model import Model
    from .sidecar import Sidecar
    from .sources import AudioSource

CALIBRATION_SCHEMA = 2
READABLE_SCHEMAS = (1, 2)
CALIBRATION_KIND = "serdevice-calibration"
# Prior strength in speech windows: the same hand-over as the adaptive device's (adaptation.py,
# chosen leave-one-corpus-out; docs/adaptation.md). It was 240 windows (2 minutes of speech),
# which left a minute of a wearer's speech at w = 0.1-0.2: barely moved.
DEFAULT_PRIOR_WINDOWS = AdaptConfig().prior_windows
MIN_SPEECH_WINDOWS = 4  # fewer speech windows than this is "no speech heard"
MAX_FILE_BYTES = 1_000_000  # a calibration is ~5 KB; anything far larger is not one


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    """Normalization statistics for one wearer and one model."""

    mean: np.ndarray  # float32, shape (N_FEATURES,)
    std: np.ndarray  # float32, shape (N_FEATURES,), every value > 0
    n_windows: int  # speech windows the wearer's statistics came from
    prior_windows: float  # n0 of the shrinkage
    weight: float  # w = n / (n + n0), the wearer's share
    model_name: str
    model_sha256: str  # the .tflite's sha256 (the sidecar's tflite_sha256)
    created: str = ""
    wearer_mean: np.ndarray | None = None  # the wearer's own statistics (schema 2)
    wearer_std: np.ndarray | None = None
    updated: str = ""  # when an adapting device last wrote it

    def to_json(self) -> dict[str, Any]:
        """The file's content (plain JSON types)."""
        wearer = {} if self.wearer_mean is None or self.wearer_std is None else {
            "wearer_mean": [float(v) for v in self.wearer_mean],
            "wearer_std": [float(v) for v in self.wearer_std]}  # fmt: skip
        return {
            "schema": CALIBRATION_SCHEMA,
            "kind": CALIBRATION_KIND,
            "created": self.created,
            "model": self.model_name,
            "tflite_sha256": self.model_sha256,
            "feature_set": FEATURE_SET,
            "feature_names": list(FEATURE_NAMES),
            "n_windows": self.n_windows,
            "prior_windows": self.prior_windows,
            "weight": self.weight,
            "mean": [float(v) for v in self.mean],
            "std": [float(v) for v in self.std],
            **wearer,
            **({"updated": self.updated} if self.updated else {}),
        }


# A prior of at least one window and at most a million, and at most a billion windows seen (15
# years of speech): the wearer's weight then stays below 1 in floating point, so the training
# statistics always keep a share.
PRIOR_RANGE = (1.0, 1e6)
MAX_WINDOWS = 10**9


def shrink_weight(n_windows: int, prior_windows: float) -> float:
    """The wearer's share ``n / (n + n0)``.

    >>> shrink_weight(0, 240), shrink_weight(240, 240), shrink_weight(720, 240)
    (0.0, 0.5, 0.75)
    """
    if not PRIOR_RANGE[0] <= prior_windows <= PRIOR_RANGE[1]:
        raise InputError(f"prior windows must be {PRIOR_RANGE[0]:g}-{PRIOR_RANGE[1]:g}, "
                         f"got {prior_windows}")  # fmt: skip
    return n_windows / (n_windows + prior_windows)


def finite_rows(rows: ArrayLike) -> np.ndarray:
    """The (n, 88) rows that are finite everywhere (openSMILE can give NaN on odd windows)."""
    data = np.asarray(rows, dtype=np.float64).reshape(-1, N_FEATURES)
    return data[np.isfinite(data).all(axis=1)]


def compute_calibration(
    rows: ArrayLike,
    model_mean: ArrayLike,
    model_std: ArrayLike,
    *,
    prior_windows: float = DEFAULT_PRIOR_WINDOWS,
    model_name: str = "",
    model_sha256: str = "",
) -> Calibration:
    """Shrunk mean and std from the wearer's speech-window rows (n, 88); non-finite rows dropped."""
    data = finite_rows(rows)
    mean_model = np.asarray(model_mean, dtype=np.float64)
    var_model = np.asarray(model_std, dtype=np.float64) ** 2
    n = len(data)
    w = shrink_weight(n, prior_windows)
    mean_wearer = data.mean(axis=0) if n else mean_model
    var_wearer = data.var(axis=0) if n else var_model
    mean = w * mean_wearer + (1 - w) * mean_model
    std = np.sqrt(w * var_wearer + (1 - w) * var_model)  # > 0: w < 1 and the model's std > 0
    return Calibration(
        mean=mean.astype(np.float32), std=std.astype(np.float32), n_windows=n,
        prior_windows=float(prior_windows), weight=w, model_name=model_name,
        model_sha256=model_sha256, created=now(),
        wearer_mean=mean_wearer.astype(np.float32), wearer_std=np.sqrt(var_wearer).astype(np.float32),
    )  # fmt: skip


def now() -> str:
    """The time stamp the files carry."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def calibrate_for(
    rows: ArrayLike, sidecar: Sidecar, *, prior_windows: float = DEFAULT_PRIOR_WINDOWS
) -> Calibration:
    """``compute_calibration`` with the model's training statistics and identity."""
    return compute_calibration(
        rows, sidecar.norm_mean, sidecar.norm_std, prior_windows=prior_windows,
        model_name=sidecar.name, model_sha256=sidecar.tflite_sha256,
    )  # fmt: skip


def _vector(fields: Fields, name: str, *, positive: bool, strict: bool = True) -> np.ndarray:
    minimum = 0.0 if positive else None
    return np.asarray(fields.numbers(name, N_FEATURES, minimum=minimum, strict=strict),
                      dtype=np.float32)  # fmt: skip


def validate_calibration(data: object) -> Calibration:
    """A Calibration from parsed JSON, or InputError naming the first bad field."""
    fields = Fields(data, "calibration")
    if fields.data.get("kind") != CALIBRATION_KIND:
        raise fields.bad("kind", f"expected {CALIBRATION_KIND!r} (is this a calibration file?)")
    schema = fields.get("schema", int)
    if schema not in READABLE_SCHEMAS:
        raise fields.bad("schema", f"version {schema} is not supported (this serdevice reads "
                                   f"{', '.join(map(str, READABLE_SCHEMAS))})")  # fmt: skip
    if fields.get("feature_set", str) != FEATURE_SET:
        raise fields.bad("feature_set", f"expected {FEATURE_SET}")
    if tuple(fields.get("feature_names", list)) != FEATURE_NAMES:
        raise InputError("calibration invalid: feature names differ from the extractor's")
    sha = fields.get("tflite_sha256", str)
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise fields.bad("tflite_sha256", "expected 64 lowercase hex digits")
    n_windows = fields.get("n_windows", int)
    prior = float(fields.get("prior_windows", (int, float)))
    if not 0 <= n_windows <= MAX_WINDOWS:
        raise fields.bad("n_windows", f"expected 0-{MAX_WINDOWS}")
    if not (math.isfinite(prior) and PRIOR_RANGE[0] <= prior <= PRIOR_RANGE[1]):
        raise fields.bad("prior_windows", f"expected {PRIOR_RANGE[0]:g}-{PRIOR_RANGE[1]:g}")
    return Calibration(
        mean=_vector(fields, "mean", positive=False), std=_vector(fields, "std", positive=True),
        n_windows=n_windows, prior_windows=prior, weight=shrink_weight(n_windows, prior),
        model_name=str(fields.data.get("model", "")), model_sha256=sha,
        created=str(fields.data.get("created", "")), updated=str(fields.data.get("updated", "")),
        **_wearer(fields, schema),
    )  # fmt: skip


def _wearer(fields: Fields, schema: int) -> dict[str, np.ndarray | None]:
    """Schema 2's wearer statistics (a wearer heard in one state only may have std 0)."""
    if schema < 2 or not (fields.has("wearer_mean") or fields.has("wearer_std")):
        return {"wearer_mean": None, "wearer_std": None}
    return {"wearer_mean": _vector(fields, "wearer_mean", positive=False),
            "wearer_std": _vector(fields, "wearer_std", positive=True, strict=False)}  # fmt: skip


def read_calibration(path: str | Path) -> Calibration:
    """Load and validate a calibration file (InputError if missing, not JSON, or invalid)."""
    return validate_calibration(read_json(Path(path), "calibration", max_bytes=MAX_FILE_BYTES))


def check_matches(calibration: Calibration, sidecar: Sidecar) -> Calibration:
    """The calibration, if it was made for this model (sha256); else InputError saying so."""
    if calibration.model_sha256 != sidecar.tflite_sha256:
        made_for = calibration.model_name or "another model"
        raise InputError(
            f"calibration was made for {made_for} (sha256 {calibration.model_sha256[:12]}), "
            f"not for {sidecar.name} (sha256 {sidecar.tflite_sha256[:12]}): run serdevice "
            "calibrate with this model"
        )
    return calibration


def load_calibration(path: str | Path, model: Model) -> Calibration:
    """A validated calibration for ``model`` (what ``listen --calibration`` uses)."""
    return check_matches(read_calibration(path), model.sidecar)


def write_calibration(calibration: Calibration, path: str | Path) -> Path:
    """Write the file atomically (a temporary name beside it, then rename)."""
    file = Path(path)
    if file.is_dir():
        raise InputError(f"calibration {file}: is a directory")
    text = json.dumps(calibration.to_json(), indent=1) + "\n"
    return write_atomically(file, text, what=f"calibration {file}")


def stack_rows(rows: Iterable[np.ndarray]) -> np.ndarray:
    """Feature vectors -> one (n, 88) float32 array (n may be 0)."""
    listed = [np.asarray(r, dtype=np.float32).reshape(N_FEATURES) for r in rows]
    return np.stack(listed) if listed else np.zeros((0, N_FEATURES), dtype=np.float32)


@dataclass(frozen=True, slots=True, kw_only=True)
class Collected:
    """What a calibration run heard: the speech windows' features, and counts."""

    rows: np.ndarray  # float32, (n_speech_windows, N_FEATURES)
    windows: int
    audio_s: float


def collect_speech_rows(
    source: AudioSource,
    model: Model,
    *,
    max_audio_s: float | None = None,
    gate: GateConfig | None = None,
) -> Collected:
    """Run ``source`` through the same pipeline as ``listen``; keep the speech windows' rows."""
    from .normalize import Normalizer
    from .pipeline import PipelineConfig
    from .runtime import ListenConfig, Stream

    speech_rows: list[np.ndarray] = []  # the raw features of every speech window
    config = ListenConfig(pipeline=PipelineConfig(gate=gate or GateConfig()),
                          duration_s=max_audio_s)  # fmt: skip
    stream = Stream.of(model, Normalizer.for_model(model), config=config,
                       on_speech=[lambda row, answer: speech_rows.append(row.values)])  # fmt: skip
    summary = stream.run(source)
    return Collected(rows=stack_rows(speech_rows), windows=stream.pipeline.counts.windows,
                     audio_s=summary.audio_s)  # fmt: skip

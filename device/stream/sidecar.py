"""The model sidecar (NAME.json beside NAME.tflite): one schema, validated once at load.

Every key ``validate`` checks is required; a missing or malformed one is refused with a message
naming it. The device owns this schema because the device is what trusts it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .contracts import (
    ACTIVATION_SCALE,
    FEATURE_NAMES,
    FEATURE_SET,
    SIDECAR_SCHEMA,
    InputError,
    Label,
)
from .schema import Fields, read_json
from .windowing import Windowing

OUTPUT_NAMES = ("latent", "scores", "activation")
QUANTIZATIONS = ("int8", "int16x8", "float32")  # int16x8: int8 weights, int16 activations


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputSpec:
    """Where an output lives in the interpreter and its shape."""

    index: int  # position in the interpreter's output details (forward's return order)
    name: str  # the tensor's name in the flatbuffer
    shape: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Sidecar:
    """A validated sidecar."""

    schema: int
    name: str
    created: str
    serdevice_version: str
    opensmile_version: str
    feature_set: str
    feature_names: tuple[str, ...]
    window_s: float
    hop_s: float
    sample_rate: int
    norm_mean: tuple[float, ...]
    norm_std: tuple[float, ...]
    labels: tuple[str, ...]
    activation_scale: tuple[float, float]
    outputs: dict[str, OutputSpec]
    quantization: str
    tflite_sha256: str
    params: dict[str, int]
    training: dict[str, Any]
    metrics: dict[str, Any]
    input_clip: float | None = None  # z-scores are clipped to +-input_clip before the model

    @property
    def windowing(self) -> Windowing:
        """The windows the model was trained on (the stream's)."""
        return Windowing(self.window_s, self.hop_s)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able dict (lists, not tuples)."""
        data = asdict(self)
        data["outputs"] = {k: {"index": v.index, "name": v.name, "shape": list(v.shape)}
                           for k, v in self.outputs.items()}  # fmt: skip
        for key in ("feature_names", "norm_mean", "norm_std", "labels", "activation_scale"):
            data[key] = list(data[key])
        return data


def _outputs(fields: Fields) -> dict[str, OutputSpec]:
    raw = fields.get("outputs", dict)
    outputs = {}
    for name in OUTPUT_NAMES:
        entry = raw.get(name)
        if not isinstance(entry, dict):
            raise fields.bad(f"outputs.{name}", "missing")
        index, tensor, shape = entry.get("index"), entry.get("name"), entry.get("shape")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise fields.bad(f"outputs.{name}.index", "expected a non-negative integer")
        if not isinstance(tensor, str):
            raise fields.bad(f"outputs.{name}.name", "expected a string")
        if not isinstance(shape, list) or not all(isinstance(d, int) and d > 0 for d in shape):
            raise fields.bad(f"outputs.{name}.shape", "expected a list of positive integers")
        outputs[name] = OutputSpec(index=index, name=tensor, shape=tuple(shape))
    return outputs


def validate(data: object) -> Sidecar:
    """A Sidecar from parsed JSON, or InputError naming the first bad field."""
    fields = Fields(data, "sidecar")
    schema = fields.get("schema", int)
    if schema != SIDECAR_SCHEMA:
        raise fields.bad(
            "schema", f"version {schema} is not supported (this serdevice reads {SIDECAR_SCHEMA})"
        )
    names = tuple(fields.get("feature_names", list))
    if names != FEATURE_NAMES:
        raise InputError(
            "feature names differ from the extractor's (eGeMAPSv02, 88 in openSMILE's order)"
        )
    if fields.get("feature_set", str) != FEATURE_SET:
        raise fields.bad("feature_set", f"expected {FEATURE_SET}")
    std = fields.numbers("norm_std", len(FEATURE_NAMES), minimum=0)
    labels = tuple(fields.get("labels", list))
    known = {label.value for label in Label}
    if not all(isinstance(label, str) for label in labels):
        raise fields.bad("labels", "every label must be a string")
    if len(labels) < 2 or len(set(labels)) != len(labels) or not set(labels) <= known:
        raise fields.bad("labels", f"need two or more distinct labels from {sorted(known)}")
    window_s, hop_s = (float(fields.get(name, (int, float))) for name in ("window_s", "hop_s"))
    if not 0 < hop_s <= window_s <= 60:
        raise fields.bad("window_s/hop_s", "need 0 < hop <= window <= 60 s")
    quantization = fields.get("quantization", str)
    if quantization not in QUANTIZATIONS:
        raise fields.bad("quantization", f"one of {', '.join(QUANTIZATIONS)}")
    sha = fields.get("tflite_sha256", str)
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise fields.bad("tflite_sha256", "expected 64 lowercase hex digits")
    outputs = _outputs(fields)
    if outputs["scores"].shape[-1] != len(labels):
        raise fields.bad(
            "outputs.scores.shape", f"last dimension must equal the {len(labels)} labels"
        )
    input_clip = fields.data.get("input_clip")
    if input_clip is not None and (not isinstance(input_clip, (int, float)) or input_clip <= 0):
        raise fields.bad("input_clip", "expected a positive number or null")
    params = fields.get("params", dict)
    if not all(isinstance(v, int) for v in params.values()):
        raise fields.bad("params", "values must be integers")
    return Sidecar(
        schema=schema, name=fields.get("name", str), created=fields.get("created", str),
        serdevice_version=fields.get("serdevice_version", str),
        opensmile_version=fields.get("opensmile_version", str), feature_set=FEATURE_SET,
        feature_names=names, window_s=window_s, hop_s=hop_s,
        sample_rate=fields.get("sample_rate", int),
        norm_mean=fields.numbers("norm_mean", len(FEATURE_NAMES)), norm_std=std, labels=labels,
        activation_scale=fields.numbers("activation_scale", 2),  # type: ignore[arg-type]
        outputs=outputs, quantization=quantization, tflite_sha256=sha, params=params,
        training=fields.get("training", dict), metrics=fields.get("metrics", dict),
        input_clip=None if input_clip is None else float(input_clip),
    )  # fmt: skip


def read_sidecar(path: Path) -> Sidecar:
    """Load and validate a sidecar file (InputError if missing, not JSON, or invalid)."""
    if not path.exists():
        raise InputError(f"sidecar missing (expected {path} beside the model)")
    return validate(read_json(path, "sidecar"))


__all__ = ["ACTIVATION_SCALE", "OutputSpec", "Sidecar", "read_sidecar", "validate"]

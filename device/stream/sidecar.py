"""The model sidecar (NAME.json beside NAME.tflite): one schema, validated once at load.

Every key ``validate`` checks is required; a missing or malformed one is refused with a message
naming it. The device owns this schema because the device is what trusts it.
"""

from __future__ import annotations

import json
import math
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

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-able dict (lists, not tuples)."""
        data = asdict(self)
        data["outputs"] = {k: {"index": v.index, "name": v.name, "shape": list(v.shape)}
                           for k, v in self.outputs.items()}  # fmt: skip
        for key in ("feature_names", "norm_mean", "norm_std", "labels", "activation_scale"):
            data[key] = list(data[key])
        return data


def _bad(field: str, why: str) -> InputError:
    return InputError(f"sidecar invalid: {field}: {why}")


def _get(data: dict[str, Any], field: str, kind: type | tuple[type, ...]) -> Any:
    if field not in data:
        raise _bad(field, "missing")
    value = data[field]
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        raise _bad(field, f"expected {getattr(kind, '__name__', kind)}, got {type(value).__name__}")
    return value


def _numbers(data: dict[str, Any], field: str, length: int) -> tuple[float, ...]:
    values = _get(data, field, list)
    if len(values) != length:
        raise _bad(field, f"expected {length} numbers, got {len(values)}")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
               for v in values):  # fmt: skip
        raise _bad(field, "every value must be a finite number")
    return tuple(float(v) for v in values)


def _outputs(data: dict[str, Any]) -> dict[str, OutputSpec]:
    raw = _get(data, "outputs", dict)
    outputs = {}
    for name in OUTPUT_NAMES:
        entry = raw.get(name)
        if not isinstance(entry, dict):
            raise _bad(f"outputs.{name}", "missing")
        index, tensor, shape = entry.get("index"), entry.get("name"), entry.get("shape")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise _bad(f"outputs.{name}.index", "expected a non-negative integer")
        if not isinstance(tensor, str):
            raise _bad(f"outputs.{name}.name", "expected a string")
        if not isinstance(shape, list) or not all(isinstance(d, int) and d > 0 for d in shape):
            raise _bad(f"outputs.{name}.shape", "expected a list of positive integers")
        outputs[name] = OutputSpec(index=index, name=tensor, shape=tuple(shape))
    return outputs


def validate(data: object) -> Sidecar:
    """A Sidecar from parsed JSON, or InputError naming the first bad field."""
    if not isinstance(data, dict):
        raise InputError("sidecar invalid: the top level must be a JSON object")
    schema = _get(data, "schema", int)
    if schema != SIDECAR_SCHEMA:
        raise _bad(
            "schema", f"version {schema} is not supported (this serdevice reads {SIDECAR_SCHEMA})"
        )
    names = tuple(_get(data, "feature_names", list))
    if names != FEATURE_NAMES:
        raise InputError(
            "feature names differ from the extractor's (eGeMAPSv02, 88 in openSMILE's order)"
        )
    if _get(data, "feature_set", str) != FEATURE_SET:
        raise _bad("feature_set", f"expected {FEATURE_SET}")
    std = _numbers(data, "norm_std", len(FEATURE_NAMES))
    if min(std) <= 0:
        raise _bad("norm_std", "every value must be > 0")
    labels = tuple(_get(data, "labels", list))
    known = {label.value for label in Label}
    if not all(isinstance(label, str) for label in labels):
        raise _bad("labels", "every label must be a string")
    if len(labels) < 2 or len(set(labels)) != len(labels) or not set(labels) <= known:
        raise _bad("labels", f"need two or more distinct labels from {sorted(known)}")
    window_s, hop_s = (
        float(_get(data, "window_s", (int, float))),
        float(_get(data, "hop_s", (int, float))),
    )
    if not 0 < hop_s <= window_s <= 60:
        raise _bad("window_s/hop_s", "need 0 < hop <= window <= 60 s")
    quantization = _get(data, "quantization", str)
    if quantization not in QUANTIZATIONS:
        raise _bad("quantization", f"one of {', '.join(QUANTIZATIONS)}")
    sha = _get(data, "tflite_sha256", str)
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise _bad("tflite_sha256", "expected 64 lowercase hex digits")
    outputs = _outputs(data)
    if outputs["scores"].shape[-1] != len(labels):
        raise _bad("outputs.scores.shape", f"last dimension must equal the {len(labels)} labels")
    input_clip = data.get("input_clip")
    if input_clip is not None and (not isinstance(input_clip, (int, float)) or input_clip <= 0):
        raise _bad("input_clip", "expected a positive number or null")
    params = _get(data, "params", dict)
    if not all(isinstance(v, int) for v in params.values()):
        raise _bad("params", "values must be integers")
    return Sidecar(
        schema=schema, name=_get(data, "name", str), created=_get(data, "created", str),
        serdevice_version=_get(data, "serdevice_version", str),
        opensmile_version=_get(data, "opensmile_version", str), feature_set=FEATURE_SET,
        feature_names=names, window_s=window_s, hop_s=hop_s,
        sample_rate=_get(data, "sample_rate", int),
        norm_mean=_numbers(data, "norm_mean", len(FEATURE_NAMES)), norm_std=std, labels=labels,
        activation_scale=_numbers(data, "activation_scale", 2),  # type: ignore[arg-type]
        outputs=outputs, quantization=quantization, tflite_sha256=sha, params=params,
        training=_get(data, "training", dict), metrics=_get(data, "metrics", dict),
        input_clip=None if input_clip is None else float(input_clip),
    )  # fmt: skip


def read_sidecar(path: Path) -> Sidecar:
    """Load and validate a sidecar file (InputError if missing, not JSON, or invalid)."""
    if not path.is_file():
        raise InputError(f"sidecar missing (expected {path} beside the model)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"sidecar invalid: {path.name} is not JSON ({exc})") from None
    return validate(data)


__all__ = ["ACTIVATION_SCALE", "OutputSpec", "Sidecar", "read_sidecar", "validate"]

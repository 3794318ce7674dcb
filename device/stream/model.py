"""Loading a model artifact (NAME.tflite + NAME.json) and running it, with every check at load.

Checks, each failing with a one-line InputError that names the reason: the model file exists,
its sidecar exists and validates, the file's sha256 equals the sidecar's, the feature names are
the extractor's, and the interpreter's input and output tensors have the shapes and names the
sidecar promises. After that, ``predict`` trusts its inputs. LiteRT backends are tried lazily in
the order ai_edge_litert -> tflite_runtime -> tensorflow.lite. No pickle anywhere.
"""

from __future__ import annotations

import hashlib
import importlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .contracts import ACTIVATION_SCALE, N_FEATURES, InputError, Prediction, RuntimeFailure
from .sidecar import OUTPUT_NAMES, Sidecar, read_sidecar

BACKENDS = (
    ("ai_edge_litert", "ai_edge_litert.interpreter"),
    ("tflite_runtime", "tflite_runtime.interpreter"),
    ("tensorflow.lite", "tensorflow.lite"),
)
MODELS_DIR = Path(__file__).parents[1] / "models"
DEFAULT_MODEL = "dae_metric_act"  # the headline model, what every command uses unless told


def backend_module() -> tuple[Any, str]:
    """The first LiteRT interpreter module that imports, and the backend's name."""
    failures = []
    for name, module_name in BACKENDS:
        try:
            return importlib.import_module(module_name), name
        except Exception as exc:  # noqa: BLE001 - a broken backend is as absent as a missing one
            failures.append(f"{name}: {type(exc).__name__}")
    raise RuntimeFailure("no LiteRT backend could be loaded (" + "; ".join(failures)
                         + "); pip install 'serdevice[device]' brings ai-edge-litert")  # fmt: skip


def open_interpreter(model_bytes: bytes) -> tuple[Any, str]:
    """An allocated interpreter for the model bytes, and the backend's name.

    The default XNNPACK delegate is left out where the backend allows: for a graph this small
    it adds start-up work and a log line, and buys nothing.
    """
    module, backend = backend_module()
    resolver = getattr(
        getattr(module, "OpResolverType", None), "BUILTIN_WITHOUT_DEFAULT_DELEGATES", None
    )
    kwargs = {"experimental_op_resolver_type": resolver} if resolver is not None else {}
    try:
        interpreter = module.Interpreter(model_content=model_bytes, **kwargs)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise InputError(f"not a loadable TFLite model ({str(exc).splitlines()[0]})") from None
    return interpreter, backend


def bundled_models() -> list[Path]:
    """The models shipped inside the package."""
    return sorted(MODELS_DIR.glob("*.tflite"))


def resolve_model(name_or_path: str) -> Path:
    """A path that exists, else a bundled model by name (with or without .tflite)."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a .tflite model")
    if path.exists():
        return path
    stem = path.name[: -len(".tflite")] if path.name.endswith(".tflite") else path.name
    if path.parent == Path(".") and (MODELS_DIR / f"{stem}.tflite").is_file():
        return MODELS_DIR / f"{stem}.tflite"
    names = ", ".join(p.stem for p in bundled_models()) or "none installed"
    raise InputError(f"model file not found: {name_or_path} (bundled models: {names})")


def sha256_of(data: bytes) -> str:
    """Hex sha256."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Quant:
    """How a tensor is (de)quantized: real = (q - zero_point) * scale; scale 0 = float tensor."""

    index: int
    dtype: Any
    scale: float
    zero_point: int

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Real values -> this tensor's dtype."""
        if self.scale == 0:
            return x.astype(self.dtype)
        info = np.iinfo(self.dtype)
        q = np.round(x / self.scale + self.zero_point)
        return np.clip(q, info.min, info.max).astype(self.dtype)

    def dequantize(self, q: np.ndarray) -> np.ndarray:
        """This tensor's values -> float32."""
        if self.scale == 0:
            return q.astype(np.float32)
        return ((q.astype(np.float32) - self.zero_point) * self.scale).astype(np.float32)


def _quant(detail: dict[str, Any]) -> _Quant:
    scale, zero_point = detail.get("quantization", (0.0, 0))
    return _Quant(index=detail["index"], dtype=detail["dtype"], scale=float(scale),
                  zero_point=int(zero_point))  # fmt: skip


class Model:
    """A verified model, ready for ``predict``."""

    def __init__(self, *, path: Path, sidecar: Sidecar, interpreter: Any, backend: str) -> None:
        self.path = path
        self.sidecar = sidecar
        self.backend = backend
        self.name = sidecar.name
        self.labels = sidecar.labels
        self._interpreter = interpreter
        inputs = interpreter.get_input_details()
        outputs = interpreter.get_output_details()
        self._check_tensors(inputs, outputs)
        self._input = _quant(inputs[0])
        self._outputs = [_quant(outputs[sidecar.outputs[name].index]) for name in OUTPUT_NAMES]
        self._activation_range = ACTIVATION_SCALE
        self._lock = threading.Lock()

    @classmethod
    def load(cls, name_or_path: str | Path) -> Model:
        """Resolve, read, verify (sha256, sidecar, tensors) and open a model."""
        path = resolve_model(str(name_or_path))
        sidecar = read_sidecar(path.with_suffix(".json"))
        data = path.read_bytes()
        if sha256_of(data) != sidecar.tflite_sha256:
            raise InputError(f"model file does not match its sidecar (sha256): {path}")
        try:
            interpreter, backend = open_interpreter(data)
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
        return cls(path=path, sidecar=sidecar, interpreter=interpreter, backend=backend)

    def _check_tensors(self, inputs: list[dict[str, Any]], outputs: list[dict[str, Any]]) -> None:
        if len(inputs) != 1 or list(inputs[0]["shape"]) != [1, N_FEATURES]:
            shapes = [list(d["shape"]) for d in inputs]
            raise InputError(
                f"tensor shapes do not match the sidecar: input {shapes}, expected [[1, {N_FEATURES}]]"
            )
        for name, spec in self.sidecar.outputs.items():
            if spec.index >= len(outputs):
                raise InputError(
                    f"tensor shapes do not match the sidecar: no output {spec.index} for {name}"
                )
            detail = outputs[spec.index]
            if tuple(detail["shape"]) != spec.shape or detail["name"] != spec.name:
                raise InputError(
                    f"tensor shapes do not match the sidecar: {name} is {detail['name']} "
                    f"{list(detail['shape'])}, sidecar says {spec.name} {list(spec.shape)}"
                )

    def run(self, x_std: np.ndarray) -> list[np.ndarray]:
        """Raw dequantized outputs (latent, scores, activation) for one vector from
        ``normalize.Normalizer`` (standardized and clipped as in training)."""
        x = np.asarray(x_std, dtype=np.float32).reshape(1, N_FEATURES)
        with self._lock:  # one interpreter, shared by predict's threads
            self._interpreter.set_tensor(self._input.index, self._input.quantize(x))
            self._interpreter.invoke()
            # get_tensor copies: no reference to the interpreter's buffers survives this call.
            return [q.dequantize(self._interpreter.get_tensor(q.index)) for q in self._outputs]

    def predict(self, x_std: np.ndarray) -> Prediction:
        """Latent, class scores (sidecar label order) and activation (clipped to 1-5)."""
        latent, scores, activation = self.run(x_std)
        low, high = self._activation_range
        return Prediction(latent=latent.reshape(-1), scores=scores.reshape(-1),
                          activation=float(np.clip(activation.reshape(-1)[0], low, high)))  # fmt: skip

    def invoke_only(self) -> None:
        """One bare interpreter invoke on whatever input is set (for benchmarks)."""
        self._interpreter.invoke()

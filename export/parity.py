"""int8 vs float torch vs the numpy heads, on held-out rows the quantizer never saw."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from serdevice.device.stream.contracts import N_FEATURES
from serdevice.train.heads import Heads
from serdevice.train.metrics import balanced_accuracy

from .tflite import ExportGraph

# Acceptance (the export issue): argmax agreement >= 99 %, balanced accuracy within 0.5 points,
# activation within 0.1 on the 1-5 scale.
MIN_AGREEMENT = 0.99
MAX_BACC_POINTS = 0.5
MAX_ACTIVATION_ERROR = 0.1


def split_rows(n: int, held_out_every: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic split: every 5th row held out for parity, the rest calibrate the quantizer."""
    held = np.zeros(n, dtype=bool)
    held[::held_out_every] = True
    return ~held, held


def tflite_outputs(
    model_bytes: bytes, x: np.ndarray, outputs: dict[str, Any]
) -> dict[str, np.ndarray]:
    """Run the .tflite on each row with the device's own (de)quantization."""
    from serdevice.device.stream.model import _quant, open_interpreter

    interpreter, _ = open_interpreter(model_bytes)
    source = _quant(interpreter.get_input_details()[0])
    details = interpreter.get_output_details()
    sinks = {name: _quant(details[spec["index"]]) for name, spec in outputs.items()}
    result: dict[str, list[np.ndarray]] = {name: [] for name in outputs}
    for row in np.asarray(x, dtype=np.float32):
        interpreter.set_tensor(source.index, source.quantize(row.reshape(1, N_FEATURES)))
        interpreter.invoke()
        for name, sink in sinks.items():
            result[name].append(sink.dequantize(interpreter.get_tensor(sink.index)).reshape(-1))
    return {name: np.stack(rows) for name, rows in result.items()}


def parity(
    graph: ExportGraph,
    heads: Heads,
    model_bytes: bytes,
    outputs: dict[str, Any],
    x_held: np.ndarray,
    classes_held: np.ndarray,
) -> dict[str, float]:
    """Agreement and errors of the exported model against float torch and the numpy heads."""
    with torch.no_grad():
        latent, scores, activation = (
            t.numpy() for t in graph(torch.as_tensor(x_held, dtype=torch.float32))
        )
    lite = tflite_outputs(model_bytes, x_held, outputs)
    labels = np.array(heads.labels)
    float_pred, lite_pred = np.argmax(scores, axis=1), np.argmax(lite["scores"], axis=1)
    numpy_pred = np.argmax(heads.scores(latent.astype(np.float64)), axis=1)
    labelled = classes_held >= 0
    truth = labels[classes_held[labelled]]
    bacc_float = balanced_accuracy(truth, labels[float_pred[labelled]])
    bacc_lite = balanced_accuracy(truth, labels[lite_pred[labelled]])
    act_error = np.abs(lite["activation"].reshape(-1) - activation.reshape(-1))
    return {
        "n_held_out": int(len(x_held)),
        "argmax_agreement": float(np.mean(float_pred == lite_pred)),
        "argmax_agreement_numpy_heads": float(np.mean(float_pred == numpy_pred)),
        "balanced_accuracy_float": bacc_float,
        "balanced_accuracy_tflite": bacc_lite,
        "balanced_accuracy_points_diff": abs(bacc_lite - bacc_float) * 100,
        "activation_max_abs_error": float(act_error.max()),
        "activation_mean_abs_error": float(act_error.mean()),
        "latent_max_abs_error": float(np.abs(lite["latent"] - latent).max()),
    }


def parity_failures(metrics: dict[str, float]) -> list[str]:
    """Which acceptance bounds the metrics miss (empty = all held)."""
    problems = []
    if metrics["argmax_agreement"] < MIN_AGREEMENT:
        problems.append(f"argmax agreement {metrics['argmax_agreement']:.3f} < {MIN_AGREEMENT}")
    if metrics["balanced_accuracy_points_diff"] > MAX_BACC_POINTS:
        problems.append(
            f"balanced accuracy differs by {metrics['balanced_accuracy_points_diff']:.2f} points"
        )
    if metrics["activation_max_abs_error"] > MAX_ACTIVATION_ERROR:
        problems.append(f"activation error up to {metrics['activation_max_abs_error']:.3f}")
    return problems

"""From a run folder to NAME.tflite + NAME.json (the verified sidecar)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from serdevice.device import __version__
from serdevice.device.stream.contracts import (
    ACTIVATION_SCALE,
    FEATURE_NAMES,
    FEATURE_SET,
    SAMPLE_RATE,
    SIDECAR_SCHEMA,
    InputError,
)
from serdevice.device.stream.files import write_atomically
from serdevice.device.stream.model import sha256_of
from serdevice.device.stream.normalize import Normalizer
from serdevice.device.stream.sidecar import validate
from serdevice.train.run import TrainedRun, load_run

from .parity import parity, split_rows
from .tflite import ExportGraph, convert, io_dtypes, output_map


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportResult:
    """What was written and what parity measured."""

    tflite: Path
    sidecar: Path
    size_bytes: int
    metrics: dict[str, Any]


def representative_rows(run: TrainedRun, calibration_spec: str | None) -> np.ndarray:
    """Rows that calibrate the quantizer: the run's own, or a corpus standardized with its stats."""
    if calibration_spec is None:
        return run.train_features
    from serdevice.train.dataset import load_features

    data = load_features([calibration_spec], level=run.config.level)
    return standardized(run, data.x)


def standardized(run: TrainedRun, x: np.ndarray) -> np.ndarray:
    """Raw rows z-scored with the run's statistics and clipped as it trained."""
    return Normalizer(run.norm_mean, run.norm_std, run.config.input_clip)(x)


def build_sidecar(
    run: TrainedRun,
    name: str,
    model_bytes: bytes,
    outputs: dict[str, Any],
    quantization: str,
    metrics: dict[str, Any],
    created: str,
) -> dict[str, Any]:
    """Every sidecar key ``serdevice.device.stream.sidecar.validate`` requires."""
    config = run.config
    params = dict(config.params)
    return {
        "schema": SIDECAR_SCHEMA, "name": name, "created": created,
        "serdevice_version": __version__, "opensmile_version": config.opensmile_version,
        "feature_set": FEATURE_SET, "feature_names": list(FEATURE_NAMES),
        "window_s": float(config.window_s), "hop_s": float(config.hop_s),
        "sample_rate": SAMPLE_RATE, "norm_mean": [float(v) for v in run.norm_mean],
        "norm_std": [float(v) for v in run.norm_std], "labels": list(run.heads.labels),
        "activation_scale": list(ACTIVATION_SCALE), "outputs": outputs,
        "quantization": quantization, "tflite_sha256": sha256_of(model_bytes), "params": params,
        "training": {
            "method": config.method, "corpora": list(config.corpora), "data": list(config.data),
            "seed": config.seed, "folds": None, "level": config.level,
            "epochs": config.epochs, "n_train": config.n_train,
            "normalization": config.normalization, "metric_form": config.metric_form,
            **({"recipe": config.recipe} if config.recipe is not None else {}),
            "train_metrics": run.metrics,
        },
        "metrics": metrics,
        "input_clip": config.input_clip,
    }  # fmt: skip


def export_run(
    run_dir: Path,
    out: Path,
    *,
    quantization: str = "int8",
    calibration_spec: str | None = None,
    created: str = "",
    name: str | None = None,
    parity_data: Any = None,
) -> ExportResult:
    """Convert, measure parity, validate and write the artifact pair.

    Parity is measured on ``parity_data`` (a FeatureSet of raw rows, e.g. speakers the model
    never saw, standardized here with the run's statistics) when given, else on every fifth of
    the run's own rows (which then do not calibrate the quantizer).
    """
    if out.suffix != ".tflite":
        raise InputError(f"--out must end in .tflite (got {out.name})")
    run = load_run(run_dir)
    graph = ExportGraph(run.encoder, run.heads).eval()
    calibrate, held = split_rows(len(run.train_features))
    representative = representative_rows(run, calibration_spec)
    if calibration_spec is None:
        representative = representative[calibrate]
    model_bytes = convert(graph, representative, quantization=quantization)
    outputs = output_map(model_bytes)
    if parity_data is None:
        parity_x, parity_classes = run.train_features[held], run.train_classes[held]
    else:
        parity_x, parity_classes = standardized(run, parity_data.x), parity_data.class_index
    metrics = {"parity": parity(graph, run.heads, model_bytes, outputs, parity_x, parity_classes),
               "size_bytes": len(model_bytes), "io_dtypes": io_dtypes(model_bytes, outputs)}  # fmt: skip
    sidecar = build_sidecar(
        run, name or out.stem, model_bytes, outputs, quantization, metrics, created
    )
    validate(sidecar)  # the device's own schema: refuse to write what it would refuse to load
    write_atomically(out, model_bytes)
    write_atomically(out.with_suffix(".json"), (json.dumps(sidecar, indent=1) + "\n").encode())
    return ExportResult(tflite=out, sidecar=out.with_suffix(".json"), size_bytes=len(model_bytes),
                        metrics=metrics)  # fmt: skip

"""From a run folder to NAME.tflite + NAME.json (the verified sidecar)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from serdevice.device import __version__
from serdevice.device.contracts import (
    ACTIVATION_SCALE,
    FEATURE_NAMES,
    FEATURE_SET,
    SAMPLE_RATE,
    SIDECAR_SCHEMA,
    InputError,
)
from serdevice.device.model import sha256_of
from serdevice.device.normalize import Normalizer
from serdevice.device.sidecar import validate
from serdevice.train.run import TrainedRun, load_run

from .parity import parity, split_rows
from .tflite import ExportGraph, convert, io_dtypes, output_map, write_atomically


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
    return Normalizer(run.norm_mean, run.norm_std, run.config.input_clip)(data.x)


def build_sidecar(
    run: TrainedRun,
    name: str,
    model_bytes: bytes,
    outputs: dict[str, Any],
    quantization: str,
    metrics: dict[str, Any],
    created: str,
) -> dict[str, Any]:
    """Every sidecar key DESIGN.md lists."""
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
) -> ExportResult:
    """Convert, measure parity, validate and write the artifact pair."""
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
    metrics = {"parity": parity(graph, run.heads, model_bytes, outputs,
                                run.train_features[held], run.train_classes[held]),
               "size_bytes": len(model_bytes), "io_dtypes": io_dtypes(model_bytes, outputs)}  # fmt: skip
    sidecar = build_sidecar(
        run, name or out.stem, model_bytes, outputs, quantization, metrics, created
    )
    validate(sidecar)  # the device's own schema: refuse to write what it would refuse to load
    write_atomically(out, model_bytes)
    write_atomically(out.with_suffix(".json"), (json.dumps(sidecar, indent=1) + "\n").encode())
    return ExportResult(tflite=out, sidecar=out.with_suffix(".json"), size_bytes=len(model_bytes),
                        metrics=metrics)  # fmt: skip

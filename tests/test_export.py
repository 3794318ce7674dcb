"""Export end to end: a quick training run -> int8 .tflite + sidecar, loaded by the device.

The loader's refusals are in test_model_loading.py, parity bounds in test_parity.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from serdevice.device.stream.contracts import FEATURE_NAMES
from serdevice.device.stream.model import Model
from serdevice.device.stream.sidecar import validate


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """A quick run (synthetic corpus, 15 epochs) exported to int8."""
    from serdevice.export.exporter import export_run
    from serdevice.train.corpora.generate import generate
    from serdevice.train.trainer import TrainRequest, train_run

    base = tmp_path_factory.mktemp("export")
    generate(base / "corpus", quick=True, progress=False)
    train_run(TrainRequest(method="dae-metric-act", specs=(f"synth:{base / 'corpus'}",),
                           out=base / "run", epochs=15, cache_dir=base / "cache"), progress=False)  # fmt: skip
    export_run(base / "run", base / "m.tflite", created="2026-01-01T00:00:00+00:00")
    return base / "m.tflite"


def test_artifact_size_sidecar_and_io(exported):
    sidecar = json.loads(exported.with_suffix(".json").read_text())
    assert exported.stat().st_size <= 8 * 1024
    assert sidecar["labels"] == ["neutral", "sad", "happy", "angry"]
    assert sidecar["quantization"] == "int8"
    assert sidecar["params"]["encoder_plus_head"] < 400
    assert sidecar["feature_names"] == list(FEATURE_NAMES)
    assert set(sidecar["outputs"]) == {"latent", "scores", "activation"}
    assert sidecar["metrics"]["size_bytes"] == exported.stat().st_size
    assert sidecar["metrics"]["io_dtypes"]["input"] == "int8"
    validate(sidecar)
    model = Model.load(exported)
    assert model.backend == "ai_edge_litert"
    prediction = model.predict(np.zeros(88, dtype=np.float32))
    assert prediction.latent.shape == (2,) and prediction.scores.shape == (4,)
    assert 1.0 <= prediction.activation <= 5.0


def test_int8_follows_float_torch(exported):
    import torch

    from serdevice.export.tflite import ExportGraph
    from serdevice.train.run import load_run

    run = load_run(exported.parent / "run")
    graph = ExportGraph(run.encoder, run.heads).eval()
    model = Model.load(exported)
    rows = run.train_features[1::5][:40]
    with torch.no_grad():
        latent, scores, activation = graph(torch.as_tensor(rows))
    for i, row in enumerate(rows):
        got = model.run(row)
        np.testing.assert_allclose(got[0].reshape(-1), latent[i].numpy(), atol=0.05)
        np.testing.assert_allclose(got[1].reshape(-1), scores[i].numpy(), atol=0.08)
        assert abs(float(got[2].reshape(-1)[0]) - float(activation[i, 0])) < 0.1


def test_parity_is_recorded_in_the_sidecar(exported):
    parity = json.loads(exported.with_suffix(".json").read_text())["metrics"]["parity"]
    assert parity["n_held_out"] > 0
    assert parity["argmax_agreement_numpy_heads"] == 1.0  # the baked dense layer is the SVC
    assert parity["activation_max_abs_error"] < 0.1
    assert parity["argmax_agreement"] >= 0.9  # the stricter acceptance is checked on bundled models


def test_export_cli_and_bad_run(cli, exported, tmp_path):
    result = cli("export", str(exported.parent / "run"), "--out", str(tmp_path / "x.tflite"),
                 "--quantization", "float32")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "argmax agreement" in result.stderr and "Traceback" not in result.stderr
    assert json.loads((tmp_path / "x.json").read_text())["quantization"] == "float32"
    bad = cli("export", str(tmp_path / "nope"), "--out", str(tmp_path / "y.tflite"))
    assert bad.returncode == 2 and "no such run folder" in bad.stderr

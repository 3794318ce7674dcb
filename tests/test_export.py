"""Export: the int8 graph, its sidecar, the loader's refusals, parity, and `model info`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from serdevice.device.contracts import FEATURE_NAMES, InputError
from serdevice.device.model import Model, resolve_model
from serdevice.device.sidecar import validate


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


def copy_model(exported: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "m.tflite"
    shutil.copy(exported, target)
    shutil.copy(exported.with_suffix(".json"), target.with_suffix(".json"))
    return target


def test_flipped_byte_is_refused(exported, tmp_path):
    model = copy_model(exported, tmp_path)
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"does not match its sidecar \(sha256\)"):
        Model.load(model)


def test_missing_sidecar_is_refused(exported, tmp_path):
    model = copy_model(exported, tmp_path)
    model.with_suffix(".json").unlink()
    with pytest.raises(InputError, match="sidecar missing"):
        Model.load(model)


def test_sidecar_from_another_model_is_refused(exported, tmp_path):
    model = copy_model(exported, tmp_path)
    sidecar = json.loads(model.with_suffix(".json").read_text())
    sidecar["tflite_sha256"] = "0" * 64
    model.with_suffix(".json").write_text(json.dumps(sidecar))
    with pytest.raises(InputError, match="sha256"):
        Model.load(model)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.update(schema=2), "schema: version 2 is not supported"),
        (lambda s: s.pop("norm_mean"), "norm_mean: missing"),
        (lambda s: s.update(norm_std=[1.0] * 87), "norm_std: expected 88"),
        (
            lambda s: s.update(feature_names=list(reversed(s["feature_names"]))),
            "feature names differ",
        ),
        (lambda s: s.update(labels=["neutral", "neutral"]), "labels"),
        (lambda s: s["outputs"]["scores"].update(shape=[1, 3]), "outputs.scores.shape"),
        (lambda s: s.update(quantization="int4"), "quantization"),
    ],
)
def test_invalid_sidecars_name_the_field(exported, change, message):
    sidecar = json.loads(exported.with_suffix(".json").read_text())
    change(sidecar)
    with pytest.raises(InputError, match=message):
        validate(sidecar)


def test_tensor_names_are_checked(exported, tmp_path):
    model = copy_model(exported, tmp_path)
    sidecar = json.loads(model.with_suffix(".json").read_text())
    sidecar["outputs"]["latent"]["name"] = "something_else"
    model.with_suffix(".json").write_text(json.dumps(sidecar))
    with pytest.raises(InputError, match="tensor shapes do not match the sidecar"):
        Model.load(model)


def test_resolve_model_errors(tmp_path):
    with pytest.raises(InputError, match="model file not found: nosuch"):
        resolve_model("nosuch")
    with pytest.raises(InputError, match="is a directory"):
        resolve_model(str(tmp_path))


def test_export_cli_and_bad_run(cli, exported, tmp_path):
    result = cli("export", str(exported.parent / "run"), "--out", str(tmp_path / "x.tflite"),
                 "--quantization", "float32")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "argmax agreement" in result.stderr and "Traceback" not in result.stderr
    assert json.loads((tmp_path / "x.json").read_text())["quantization"] == "float32"
    bad = cli("export", str(tmp_path / "nope"), "--out", str(tmp_path / "y.tflite"))
    assert bad.returncode == 2 and "no such run folder" in bad.stderr

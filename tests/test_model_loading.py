"""Loading a model: every refusal names its reason; quantization maths; backends; model info/list.

Runs on the bundled models only (no torch, no training), so it is fast.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from serdevice.device.stream import model as model_module
from serdevice.device.stream.contracts import InputError, RuntimeFailure
from serdevice.device.stream.model import MODELS_DIR, Model, _Quant, bundled_models, resolve_model
from serdevice.device.stream.sidecar import Sidecar

HEADLINE = MODELS_DIR / "dae_metric_act.tflite"


def copy_model(folder: Path, name: str = "m") -> Path:
    """The headline model and its sidecar, copied to ``folder/name.tflite`` + ``.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.tflite"
    shutil.copy(HEADLINE, target)
    shutil.copy(HEADLINE.with_suffix(".json"), target.with_suffix(".json"))
    return target


def edit_sidecar(model: Path, change) -> None:
    sidecar = json.loads(model.with_suffix(".json").read_text())
    change(sidecar)
    model.with_suffix(".json").write_text(json.dumps(sidecar))


def test_quantize_and_dequantize_by_hand():
    q = _Quant(index=0, dtype=np.int8, scale=0.5, zero_point=-1)
    # 1.0 / 0.5 - 1 = 1; 0.26 / 0.5 - 1 = -0.48 -> 0; far values saturate at the int8 range.
    assert q.quantize(np.array([1.0, 0.26, -100.0, 100.0])).tolist() == [1, 0, -128, 127]
    assert q.quantize(np.array([1.0])).dtype == np.int8
    assert q.dequantize(np.array([1, -128, 127], dtype=np.int8)).tolist() == [1.0, -63.5, 64.0]
    plain = _Quant(index=0, dtype=np.float32, scale=0.0, zero_point=0)  # a float tensor
    assert plain.quantize(np.array([0.123])).tolist() == pytest.approx([0.123])
    assert plain.dequantize(np.array([2.5], dtype=np.float32)).tolist() == [2.5]


def test_bundled_model_loads_and_predicts():
    model = Model.load("dae_metric_act")
    assert isinstance(model.sidecar, Sidecar)
    assert model.path == HEADLINE and model.name == "dae_metric_act"
    assert model.backend == "ai_edge_litert"
    assert model.labels == ("neutral", "sad", "happy", "angry")
    x = np.random.default_rng(0).standard_normal(88).astype(np.float32)
    flat, batched = model.predict(x), model.predict(x.reshape(1, 88))
    assert flat.latent.shape == (2,) and flat.scores.shape == (4,)
    assert flat.latent.dtype == np.float32 and flat.scores.dtype == np.float32
    assert 1.0 <= flat.activation <= 5.0
    np.testing.assert_array_equal(flat.scores, batched.scores)


def test_predict_holds_no_interpreter_buffers():
    model = Model.load("dae_metric_act")
    rng = np.random.default_rng(1)
    first = model.predict(rng.standard_normal(88).astype(np.float32))
    kept = first.scores.copy(), first.latent.copy()
    second = model.predict(rng.standard_normal(88).astype(np.float32) * 3)
    assert not np.array_equal(second.scores, kept[0])  # a different input, different scores
    np.testing.assert_array_equal(first.scores, kept[0])  # the earlier result did not change
    np.testing.assert_array_equal(first.latent, kept[1])


def test_the_normalizer_uses_the_sidecar_and_clips():
    from serdevice.device.stream.normalize import Normalizer

    model = Model.load("dae_metric_act")
    normalize = Normalizer.for_model(model)
    mean, std = np.array(model.sidecar.norm_mean), np.array(model.sidecar.norm_std)
    np.testing.assert_allclose(normalize(mean + 2 * std), 2.0, atol=1e-4)
    assert model.sidecar.input_clip == 4.0
    assert np.all(normalize(mean + 100 * std) == 4.0)  # clipped as in training
    assert np.all(normalize(mean - 100 * std) == -4.0)


def test_resolve_model_names_paths_and_working_directory(tmp_path, monkeypatch):
    assert resolve_model("dae_metric_act") == HEADLINE
    assert resolve_model("dae_metric_act.tflite") == HEADLINE
    assert bundled_models() == sorted(MODELS_DIR.glob("*.tflite"))
    assert [p.stem for p in bundled_models()] == ["dae_metric_act", "dae_metric_val", "vae_cluster"]
    monkeypatch.chdir(tmp_path)
    local = copy_model(tmp_path, "dae_metric_act")  # a file in the working directory wins
    assert resolve_model("dae_metric_act.tflite") == Path("dae_metric_act.tflite")
    assert Model.load("dae_metric_act.tflite").path.resolve() == local.resolve()
    with pytest.raises(InputError, match="model file not found: nosuch .*dae_metric_act"):
        resolve_model("nosuch")
    with pytest.raises(InputError, match="model file not found"):
        resolve_model("elsewhere/dae_metric_act.tflite")  # a path is a path, not a bundled name
    with pytest.raises(InputError, match="is a directory"):
        resolve_model(str(tmp_path))


def test_flipped_byte_is_refused(tmp_path):
    model = copy_model(tmp_path)
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0x01
    model.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"^model file does not match its sidecar \(sha256\)"):
        Model.load(model)


def test_missing_sidecar_is_refused(tmp_path):
    model = copy_model(tmp_path)
    model.with_suffix(".json").unlink()
    with pytest.raises(InputError, match=r"^sidecar missing \(expected .*m\.json beside"):
        Model.load(model)


def test_sidecar_of_another_model_is_refused(tmp_path):
    model = copy_model(tmp_path)
    shutil.copy(MODELS_DIR / "dae_metric_val.json", model.with_suffix(".json"))
    with pytest.raises(InputError, match=r"^model file does not match its sidecar \(sha256\)"):
        Model.load(model)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.update(schema=2), r"^sidecar invalid: schema: version 2 is not supported"),
        (lambda s: s.update(schema="1"), r"^sidecar invalid: schema: expected int"),
        (lambda s: s.pop("tflite_sha256"), r"^sidecar invalid: tflite_sha256: missing"),
        (lambda s: s.pop("norm_mean"), r"^sidecar invalid: norm_mean: missing"),
        (lambda s: s.update(norm_std=[1.0] * 87), r"^sidecar invalid: norm_std: expected 88"),
        (lambda s: s.update(norm_std=[0.0] * 88), r"^sidecar invalid: norm_std: every value"),
        (lambda s: s.update(labels=["neutral", "neutral"]), r"^sidecar invalid: labels"),
        (
            lambda s: s["outputs"]["scores"].update(shape=[1, 3]),
            r"^sidecar invalid: outputs\.scores",
        ),
        (lambda s: s.update(quantization="int4"), r"^sidecar invalid: quantization"),
        (
            lambda s: s.update(labels=["neutral", "joy", "sad", "angry"]),
            r"^sidecar invalid: labels",
        ),
        (lambda s: s["feature_names"].reverse(), r"^feature names differ from the extractor's"),
    ],
)
def test_invalid_sidecar_is_refused_with_the_field(tmp_path, change, message):
    model = copy_model(tmp_path)
    edit_sidecar(model, change)
    with pytest.raises(InputError, match=message):
        Model.load(model)


def test_sidecar_that_is_not_json_is_refused(tmp_path):
    model = copy_model(tmp_path)
    model.with_suffix(".json").write_text("{not json")
    with pytest.raises(InputError, match=r"^sidecar \S*m\.json: not a JSON sidecar file"):
        Model.load(model)


def test_tensor_shapes_are_checked_against_the_sidecar(tmp_path):
    model = copy_model(tmp_path)
    edit_sidecar(model, lambda s: s["outputs"]["latent"].update(shape=[1, 3]))
    with pytest.raises(InputError, match=r"^tensor shapes do not match the sidecar: latent"):
        Model.load(model)


def test_backends_are_tried_in_order(monkeypatch):
    monkeypatch.setattr(model_module, "BACKENDS", (
        ("missing_one", "serdevice_no_such_backend"),
        ("ai_edge_litert", "ai_edge_litert.interpreter"),
    ))  # fmt: skip
    module, name = model_module.backend_module()
    assert name == "ai_edge_litert" and hasattr(module, "Interpreter")
    monkeypatch.setattr(model_module, "BACKENDS", (("missing_one", "serdevice_no_such_backend"),))
    with pytest.raises(
        RuntimeFailure, match="no LiteRT backend .*missing_one: ModuleNotFoundError"
    ):
        model_module.backend_module()


def test_model_info_json_has_the_sidecar_and_where_it_came_from(cli):
    result = cli("model", "info", "dae_metric_act.tflite", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    sidecar = json.loads(HEADLINE.with_suffix(".json").read_text())
    assert set(info) == set(sidecar) | {"path", "size_bytes", "backend"}
    assert info["path"] == str(HEADLINE.resolve())
    assert info["size_bytes"] == HEADLINE.stat().st_size <= 8 * 1024
    assert info["params"]["encoder_plus_head"] < 400
    assert info["backend"] == "ai_edge_litert"


def test_model_info_text_and_a_refusal_through_the_cli(cli, tmp_path):
    text = cli("model", "info", "vae_cluster")
    assert (
        text.returncode == 0 and "vae_cluster:" in text.stdout and "argmax agreement" in text.stdout
    )
    model = copy_model(tmp_path)
    model.with_suffix(".json").unlink()
    refused = cli("model", "info", str(model))
    assert refused.returncode == 2
    assert refused.stderr.startswith("serdevice: error: sidecar missing")
    assert "Traceback" not in refused.stderr and len(refused.stderr.splitlines()) == 1

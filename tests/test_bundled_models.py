"""The bundled models: what `serdevice model info` promises, and what the issue accepts."""

from __future__ import annotations

import hashlib
import json

import pytest

from serdevice.device.stream.model import MODELS_DIR, Model

BUNDLED = ("dae_metric_act", "dae_metric_val", "vae_cluster")


def test_model_info_json_of_the_headline_model(cli):
    result = cli("model", "info", "dae_metric_act", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["params"]["encoder_plus_head"] < 400
    assert info["size_bytes"] <= 8 * 1024
    assert info["labels"] == ["neutral", "sad", "happy", "angry"]
    assert info["quantization"] == "int16x8"
    assert info["backend"] == "ai_edge_litert"
    data = (MODELS_DIR / "dae_metric_act.tflite").read_bytes()
    assert info["tflite_sha256"] == hashlib.sha256(data).hexdigest()
    # Trained on real corpora, whose licences it inherits; parity on speakers it never heard.
    training = info["training"]
    assert training["corpora"] == ["ravdess", "tess", "savee", "urdu", "emovo", "ased", "nemo",
                                   "emotiontts"]  # fmt: skip
    assert set(training["licences"]) == set(training["corpora"])
    assert training["licences"]["ased"] == "research use only"
    assert training["licences"]["nemo"].startswith("CC BY-NC-SA 4.0")
    assert "non-commercial" in training["licence_note"]
    assert training["recipe"]["normalization"] == "speaker"
    assert training["recipe"]["childlike"] is True
    assert info["metrics"]["parity_on"].startswith("unseen speakers")
    loco = info["metrics"]["loco"]
    assert set(loco["per_corpus"]) == set(training["corpora"])
    for voice in ("adult", "child-like"):
        for mode in ("plain", "calibrated"):
            assert 0.0 < loco["mean"][voice][mode]["N-S-A"] < 1.0
    # measured over three training seeds; the bundled model is the first
    assert list(loco["seeds"]["per_seed"]) == ["0", "1", "2"]
    assert loco["seeds"]["per_seed"]["0"] == loco["mean"]


def test_model_info_prints_licences_recipe_and_loco(cli):
    result = cli("model", "info", "dae_metric_act")
    assert result.returncode == 0, result.stderr
    for text in ("licences", "CC BY-NC-SA 4.0", "recipe", "unseen speakers",
                 "leave-one-corpus-out mean (adult", "N-S-A over training seeds 0, 1, 2"):  # fmt: skip
        assert text in result.stdout


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_model_loads_and_records_its_parity(name):
    model = Model.load(f"{name}.tflite")
    parity = model.sidecar.metrics["parity"]
    assert parity["n_held_out"] > 1000
    assert parity["argmax_agreement"] >= 0.99
    assert model.sidecar.training["level"] == "window"
    assert model.sidecar.input_clip == 4.0


# The real-speaker-v3 build (2026-12-02) of dae_metric_val misses the export's balanced-accuracy
# bound: 0.59 points (float 0.436, int16x8 0.442: 4 of 1,020 windows of the unseen speakers
# answer differently, argmax agreement 0.996). Reported, not hidden: strict, so the day a build
# meets the bound again this test says so and the mark must go.
PARITY_MISSES = {"dae_metric_val": "v3 build: balanced accuracy 0.59 points from float (bound 0.5)"}


@pytest.mark.parametrize(
    "name",
    [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=PARITY_MISSES[name]))
     if name in PARITY_MISSES else name for name in BUNDLED],
)  # fmt: skip
def test_every_bundled_model_keeps_balanced_accuracy_within_half_a_point_of_float(name):
    # Measured at export on the unseen speakers' windows (export/parity.py: MAX_BACC_POINTS).
    parity = Model.load(f"{name}.tflite").sidecar.metrics["parity"]
    assert parity["balanced_accuracy_points_diff"] <= 0.5


def test_model_list_names_the_bundled_models(cli):
    result = cli("model", "list")
    assert result.returncode == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == list(BUNDLED)

"""Parity: the exported .tflite against float torch and the numpy heads, and the bundled figures.

The graph here is a seeded random encoder (the train package's own architecture) on four
clusters of rows, with nearest-centroid heads, so the measured parity is the converter's and the quantizer's,
not a training run's; it converts in seconds. The bundled models' parity was measured by
`make model` on the windows of speakers they never heard and is checked from their sidecars.
"""

from __future__ import annotations

import numpy as np
import pytest

from serdevice.device.stream.model import Model

LABELS = ("neutral", "sad", "happy", "angry")
BUNDLED = ("dae_metric_act", "dae_metric_val", "vae_cluster")


@pytest.fixture(scope="module")
def graph_and_rows():
    """A seeded encoder + nearest-centroid heads as one ExportGraph, calibration and held rows."""
    import torch

    from serdevice.export.tflite import ExportGraph
    from serdevice.train.heads import Heads
    from serdevice.train.models import build_encoder

    torch.manual_seed(0)
    encoder = build_encoder("dae", 4).eval()
    rng = np.random.default_rng(0)
    # Four clusters of standardized rows, one per class, like a corpus a model separates.
    classes = rng.integers(0, len(LABELS), 3000)
    centres = rng.standard_normal((len(LABELS), 88))
    x = np.clip(centres[classes] + 0.7 * rng.standard_normal((3000, 88)), -4, 4).astype(np.float32)
    with torch.no_grad():
        latent = encoder(torch.as_tensor(x)).numpy().astype(np.float64)
    means = np.stack([latent[classes == k].mean(axis=0) for k in range(len(LABELS))])
    scale = 1 / latent.var(axis=0).mean()  # scores of order 1, as an SVC's are
    activation_coef = np.array([0.8, -0.5]) / latent.std(axis=0)
    heads = Heads(labels=LABELS, svc_coef=means * scale,
                  svc_intercept=-0.5 * np.sum(means**2, axis=1) * scale,
                  activation_coef=activation_coef,
                  activation_intercept=3.0 - float(activation_coef @ latent.mean(axis=0)))  # fmt: skip
    return ExportGraph(encoder, heads).eval(), heads, x[:2000], x[2000:], classes[2000:]


def measured(graph_and_rows, quantization: str) -> dict[str, float]:
    from serdevice.export.parity import parity
    from serdevice.export.tflite import convert, output_map

    graph, heads, calibration, held, classes = graph_and_rows
    model_bytes = convert(graph, calibration, quantization=quantization)
    return parity(graph, heads, model_bytes, output_map(model_bytes), held, classes)


def test_int8_meets_the_acceptance_bounds(graph_and_rows):
    from serdevice.export.parity import parity_failures

    metrics = measured(graph_and_rows, "int8")
    assert metrics["n_held_out"] == 1000
    assert parity_failures(metrics) == []
    assert metrics["argmax_agreement"] >= 0.99
    assert metrics["balanced_accuracy_points_diff"] <= 0.5
    assert metrics["activation_max_abs_error"] <= 0.1
    assert metrics["argmax_agreement_numpy_heads"] == 1.0  # the baked dense layer is the SVC
    assert 0 < metrics["latent_max_abs_error"] < 0.1  # quantized, but close


def test_int16x8_keeps_the_int8_weights_and_rounds_less(graph_and_rows):
    """16x8: the same int8 weights and size, the layer's input and output in int16."""
    from serdevice.export.parity import parity_failures
    from serdevice.export.tflite import convert, io_dtypes, output_map

    graph, _, calibration, _, _ = graph_and_rows
    int8 = measured(graph_and_rows, "int8")
    int16x8 = measured(graph_and_rows, "int16x8")
    assert parity_failures(int16x8) == []
    # the input's rounding was most of int8's error: finer activations at least halve it
    assert 0 < int16x8["latent_max_abs_error"] < int8["latent_max_abs_error"] / 2
    model_bytes = convert(graph, calibration, quantization="int16x8")
    assert io_dtypes(model_bytes, output_map(model_bytes))["input"] == "int16"
    # written in the form tflite-runtime 2.14 loads: FULLY_CONNECTED version 7, int64 bias
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
    fc = schema.BuiltinOperator.FULLY_CONNECTED
    assert [c.version for c in model.operatorCodes if c.builtinCode == fc] == [7]
    assert schema.TensorType.INT64 in {t.type for t in model.subgraphs[0].tensors}
    assert abs(len(model_bytes) - len(convert(graph, calibration, quantization="int8"))) <= 64


def test_float32_export_is_the_float_graph(graph_and_rows):
    metrics = measured(graph_and_rows, "float32")
    assert metrics["argmax_agreement"] == 1.0
    assert metrics["latent_max_abs_error"] < 1e-4
    assert metrics["activation_max_abs_error"] < 1e-4


def test_split_rows_holds_out_every_fifth_row():
    from serdevice.export.parity import split_rows

    calibrate, held = split_rows(12)
    assert np.flatnonzero(held).tolist() == [0, 5, 10]
    assert not np.any(calibrate & held) and np.all(calibrate | held)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"argmax_agreement": 0.985}, "argmax agreement 0.985 < 0.99"),
        ({"balanced_accuracy_points_diff": 0.7}, "balanced accuracy differs by 0.70 points"),
        ({"activation_max_abs_error": 0.15}, "activation error up to 0.150"),
    ],
)
def test_parity_failures_name_the_bound(change, complaint):
    from serdevice.export.parity import parity_failures

    good = {"argmax_agreement": 0.995, "balanced_accuracy_points_diff": 0.2,
            "activation_max_abs_error": 0.05}  # fmt: skip
    assert parity_failures(good) == []
    assert parity_failures({**good, **change}) == [complaint]


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_models_met_the_acceptance_at_export(name):
    model = Model.load(name)
    metrics = model.sidecar.metrics
    parity = metrics["parity"]
    assert parity["n_held_out"] > 1000
    assert parity["argmax_agreement"] >= 0.99
    # the balanced-accuracy bound (0.5 points), with its one known miss, is
    # tests/test_bundled_models.py's test_every_bundled_model_keeps_balanced_accuracy_...
    assert parity["activation_max_abs_error"] <= 0.1
    # int8 weights and int16 activations where the work is (input and the 88 -> h layer);
    # latent and scores come out float.
    assert metrics["io_dtypes"] == {"input": "int16", "latent": "float32", "scores": "float32",
                                    "activation": "float32"}  # fmt: skip
    assert model.sidecar.quantization == "int16x8"

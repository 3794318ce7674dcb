"""Calibration: the shrinkage arithmetic, the file's contract, and calibrate -> listen end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from serdevice.device.stream.calibration import (
    CALIBRATION_SCHEMA,
    Calibration,
    compute_calibration,
    load_calibration,
    read_calibration,
    shrink_weight,
    validate_calibration,
    write_calibration,
)
from serdevice.device.stream.contracts import FEATURE_NAMES, N_FEATURES, InputError
from serdevice.device.stream.model import Model

SAMPLE = Path(__file__).resolve().parents[1] / "device" / "data" / "sample.wav"


@pytest.fixture(scope="module")
def model() -> Model:
    return Model.load("dae_metric_act")


def test_shrinkage_follows_n_over_n_plus_n0_by_hand():
    rows = np.array([[1.0] * N_FEATURES, [3.0] * N_FEATURES])  # wearer mean 2, variance 1
    model_mean, model_std = np.zeros(N_FEATURES), np.full(N_FEATURES, 2.0)  # variance 4
    calib = compute_calibration(rows, model_mean, model_std, prior_windows=6)
    assert calib.n_windows == 2 and calib.weight == pytest.approx(0.25)
    np.testing.assert_allclose(calib.mean, 0.25 * 2.0, rtol=1e-6)
    np.testing.assert_allclose(calib.std, np.sqrt(0.25 * 1.0 + 0.75 * 4.0), rtol=1e-6)


def test_more_speech_moves_the_statistics_toward_the_wearer():
    rng = np.random.default_rng(0)
    model_mean, model_std = np.zeros(N_FEATURES), np.ones(N_FEATURES)
    wearer = rng.normal(5.0, 0.5, size=(2000, N_FEATURES))
    few = compute_calibration(wearer[:20], model_mean, model_std, prior_windows=240)
    many = compute_calibration(wearer, model_mean, model_std, prior_windows=240)
    assert few.weight < 0.1 < 0.85 < many.weight
    assert float(np.mean(few.mean)) < 0.6 and float(np.mean(many.mean)) > 4.0
    assert np.all(np.abs(many.std - 0.5) < np.abs(few.std - 0.5))


def test_no_rows_or_non_finite_rows_keep_the_model_statistics():
    model_mean, model_std = np.arange(N_FEATURES, dtype=float), np.full(N_FEATURES, 3.0)
    rows = np.full((5, N_FEATURES), np.nan)
    calib = compute_calibration(rows, model_mean, model_std, prior_windows=10)
    assert calib.n_windows == 0 and calib.weight == 0.0
    np.testing.assert_allclose(calib.mean, model_mean)
    np.testing.assert_allclose(calib.std, model_std)


def test_constant_feature_never_gives_zero_std():
    rows = np.ones((1000, N_FEATURES))
    calib = compute_calibration(rows, np.zeros(N_FEATURES), np.ones(N_FEATURES), prior_windows=1)
    assert (calib.std > 0).all()


def test_prior_must_be_positive():
    assert shrink_weight(3, 1) == 0.75
    with pytest.raises(InputError):
        shrink_weight(3, 0)


def make_file(model: Model, tmp_path: Path, **changes: object) -> Path:
    rows = np.random.default_rng(1).normal(size=(50, N_FEATURES)) + np.array(
        model.sidecar.norm_mean
    )
    calib = compute_calibration(rows, model.sidecar.norm_mean, model.sidecar.norm_std,
                                model_name=model.name, model_sha256=model.sidecar.tflite_sha256)  # fmt: skip
    path = write_calibration(calib, tmp_path / "calib.json")
    if changes:
        data = json.loads(path.read_text())
        data.update(changes)
        path.write_text(json.dumps(data))
    return path


def test_round_trip_through_the_file(model, tmp_path):
    path = make_file(model, tmp_path)
    data = json.loads(path.read_text())
    assert data["schema"] == CALIBRATION_SCHEMA and data["feature_names"] == list(FEATURE_NAMES)
    assert path.stat().st_size < 20_000  # four vectors of 88 (in use, and the wearer's own)
    assert not list(tmp_path.glob(".*partial"))  # the atomic write left nothing behind
    calib = load_calibration(path, model)
    assert isinstance(calib, Calibration) and calib.n_windows == 50
    assert calib.mean.shape == calib.std.shape == (N_FEATURES,)
    np.testing.assert_allclose(calib.mean, data["mean"], rtol=1e-6)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"schema": 3}, "schema: version 3 is not supported"),
        ({"kind": "sidecar"}, "kind"),
        ({"feature_names": list(FEATURE_NAMES)[::-1]}, "feature names differ"),
        ({"std": [0.0] * N_FEATURES}, "std: every value must be > 0"),
        ({"mean": [1.0] * 87}, "mean: expected 88 numbers, got 87"),
        ({"mean": None}, "mean: expected list"),
        ({"tflite_sha256": "xyz"}, "tflite_sha256"),
        ({"n_windows": -1}, "n_windows"),
        ({"prior_windows": 0}, "prior_windows"),
        ({"prior_windows": 3e-239}, "prior_windows: expected 1-1e+06"),  # found by make fuzz
        ({"n_windows": 10**20}, "n_windows: expected 0-"),
    ],
)
def test_invalid_files_are_refused_naming_why(model, tmp_path, changes, message):
    path = make_file(model, tmp_path, **changes)
    with pytest.raises(InputError, match="calibration invalid") as info:
        read_calibration(path)
    assert message in str(info.value)


def test_a_calibration_for_another_model_is_refused(model, tmp_path):
    path = make_file(model, tmp_path, tflite_sha256="0" * 64)
    with pytest.raises(InputError, match="made for dae_metric_act .* not for dae_metric_act"):
        load_calibration(path, model)


@pytest.mark.parametrize("content", [b"", b"\xff\xfe", b"[1, 2]", b"{not json"])
def test_non_calibration_files_are_refused(tmp_path, content):
    path = tmp_path / "c.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match="calibration"):
        read_calibration(path)


def test_missing_and_directory_are_refused(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_calibration(tmp_path / "absent.json")
    with pytest.raises(InputError, match="is a directory"):
        read_calibration(tmp_path)


def test_validate_takes_what_to_json_gives(model):
    calib = compute_calibration(np.zeros((3, N_FEATURES)), model.sidecar.norm_mean,
                                model.sidecar.norm_std, model_sha256="a" * 64)  # fmt: skip
    again = validate_calibration(json.loads(json.dumps(calib.to_json())))
    np.testing.assert_array_equal(again.mean, calib.mean)
    assert again.weight == pytest.approx(calib.weight)


def test_calibrate_then_listen_with_it(cli, tmp_path):
    out = tmp_path / "c.json"
    done = cli("calibrate", "--model", "dae_metric_act", "--source", str(SAMPLE), "--out", str(out))
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    assert data["n_windows"] >= 15 and data["model"] == "dae_metric_act"
    assert 0 < data["weight"] < 1
    # the stored mean is exactly the shrinkage of the speech windows toward the sidecar
    sidecar = json.loads(Path(Model.load("dae_metric_act").path.with_suffix(".json")).read_text())
    assert data["tflite_sha256"] == sidecar["tflite_sha256"]
    assert not np.allclose(data["mean"], sidecar["norm_mean"])
    listened = cli("listen", "--source", str(SAMPLE), "--fast", "--calibration", str(out))
    assert listened.returncode == 0, listened.stderr
    events = [json.loads(line) for line in listened.stdout.splitlines()]
    assert events[-1]["type"] == "stop"
    assert sum(e["type"] == "activation" for e in events) >= 15
    other = cli("listen", "--model", "vae_cluster", "--source", str(SAMPLE), "--fast",
                "--calibration", str(out))  # fmt: skip
    assert other.returncode == 2 and "made for dae_metric_act" in other.stderr
    assert len(other.stderr.strip().splitlines()) == 1


def test_calibrate_refuses_audio_without_speech(cli, tmp_path):
    import soundfile as sf

    silent = tmp_path / "silence.wav"
    sf.write(silent, np.zeros(16000 * 4, np.float32), 16000)
    done = cli("calibrate", "--source", str(silent), "--out", str(tmp_path / "c.json"))
    assert done.returncode == 2 and "no speech heard" in done.stderr
    assert not (tmp_path / "c.json").exists()


def test_collected_rows_equal_the_gated_speech_windows_of_listen(cli, tmp_path):
    """Calibration keeps exactly the windows listen would classify (same gate, same rows)."""
    from serdevice.device.stream.calibration import collect_speech_rows
    from serdevice.device.stream.model import Model
    from serdevice.device.stream.sources import FileSource

    collected = collect_speech_rows(
        FileSource(SAMPLE, realtime=False), Model.load("dae_metric_act")
    )
    listened = cli("listen", "--source", str(SAMPLE), "--fast")
    stop = json.loads(listened.stdout.splitlines()[-1])
    assert len(collected.rows) == stop["speech_windows"]
    assert collected.windows == stop["windows"]
    assert collected.rows.shape[1] == N_FEATURES and np.isfinite(collected.rows).all()

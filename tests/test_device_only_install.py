"""A wristband companion installs only `serdevice[device]`: no torch, no sklearn, <= 100 MB.

The venv is .venv-device/ (tests/venvs.py builds it once and refreshes serdevice in it).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from venvs import REPO, run_measured, side_venv

SAMPLE = REPO / "device" / "data" / "sample.wav"


@pytest.fixture(scope="module")
def device_python() -> Path:
    return side_venv(".venv-device", [f"{REPO}[device]"])


def test_device_extra_brings_no_training_packages(device_python):
    code = "import importlib.util as u, json; print(json.dumps({m: u.find_spec(m) is not None for m in ('torch', 'sklearn', 'litert_torch', 'tensorflow', 'ai_edge_litert', 'opensmile', 'psycopg')}))"
    found = json.loads(subprocess.run([str(device_python), "-c", code], capture_output=True,
                                      text=True, check=True).stdout)  # fmt: skip
    assert found == {"torch": False, "sklearn": False, "litert_torch": False, "tensorflow": False,
                     "ai_edge_litert": True, "opensmile": True, "psycopg": False}  # fmt: skip


def test_listen_runs_within_100_mb(device_python):
    result, rss = run_measured(device_python, "listen", "--model", "dae_metric_act.tflite",
                               "--source", str(SAMPLE), "--fast")  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["type"] == "start" and events[-1]["type"] == "stop"
    assert any(e["type"] == "activation" for e in events)
    print(f"\n[device]-only listen peak RSS: {rss:.1f} MB")
    assert rss <= 100


def test_predict_runs_and_training_commands_name_the_extra(device_python):
    result, rss = run_measured(device_python, "predict", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[0])["n_windows"] > 10
    assert rss <= 100
    train, _ = run_measured(
        device_python, "train", "--method", "dae", "--data", "x:y", "--out", "z"
    )
    assert train.returncode == 2 and "pip install 'serdevice[train]'" in train.stderr


def test_recording_into_postgresql_names_the_server_extra(device_python):
    """The recorder is clinic-side: a wristband's venv has no database driver."""
    result, _ = run_measured(device_python, "record", "--mqtt", "mqtt://127.0.0.1:9/clinic",
                             "--db", "postgresql://nobody@127.0.0.1:9/none")  # fmt: skip
    assert result.returncode == 2 and "pip install 'serdevice[server]'" in result.stderr

"""The older runtime: `tflite-runtime` (2.14, numpy < 2) without `ai-edge-litert` still works.

Some Pi images ship tflite-runtime and an older numpy; the loader falls back to it. The venv
(.venv-tflite, built by tests/venvs.py) has the [device] packages with tflite-runtime in place
of ai-edge-litert, and the events it produces must be the ai_edge_litert ones.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from venvs import REPO, side_venv

SAMPLE = REPO / "device" / "data" / "sample.wav"
# pyarrow (opensmile -> audformat imports it) 26 needs NumPy 2 without saying so in its metadata:
# with numpy < 2 it fails at import ("pyarrow requires NumPy 2.0 or newer"); 25.0.1 works.
PACKAGES = ["numpy<2", "tflite-runtime>=2.14", "click>=8.1", "opensmile>=2.5", "soundfile>=0.12",
            "soxr>=0.3", "sounddevice>=0.4", "webrtcvad-wheels>=2.0.10", "paho-mqtt>=2.0",
            "pyarrow<26"]  # fmt: skip


@pytest.fixture(scope="module")
def tflite_python():
    return side_venv(".venv-tflite", PACKAGES)


def serdevice(python, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), "-m", "serdevice.device.cli", *args], capture_output=True,
                          text=True, cwd="/")  # fmt: skip


def test_the_venv_really_lacks_ai_edge_litert(tflite_python):
    code = "import importlib.util as u, numpy; print(u.find_spec('ai_edge_litert') is None, numpy.__version__)"
    out = subprocess.run([str(tflite_python), "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    assert out[0] == "True" and out[1].startswith("1.")


@pytest.mark.parametrize("name", ["dae_metric_act", "dae_metric_val", "vae_cluster"])
def test_bundled_models_load_with_tflite_runtime(tflite_python, name):
    result = serdevice(tflite_python, "model", "info", name, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["backend"] == "tflite_runtime"


def test_listen_events_match_ai_edge_litert(tflite_python, tmp_path):
    # each backend adapts from its own empty state (a shared one would carry from one to the other)
    old = serdevice(tflite_python, "listen", "--source", str(SAMPLE), "--fast", "--state",
                    str(tmp_path / "old.json"))  # fmt: skip
    new = subprocess.run([sys.executable, "-m", "serdevice.device.cli", "listen", "--source",
                          str(SAMPLE), "--fast", "--state", str(tmp_path / "new.json")],
                         capture_output=True, text=True)  # fmt: skip
    assert old.returncode == 0 and new.returncode == 0, old.stderr + new.stderr
    old_events = [json.loads(line) for line in old.stdout.splitlines()]
    new_events = [json.loads(line) for line in new.stdout.splitlines()]
    assert old_events[0]["backend"] == "tflite_runtime"
    assert new_events[0]["backend"] == "ai_edge_litert"
    assert [e["type"] for e in old_events] == [e["type"] for e in new_events]
    pairs = [
        (a, b) for a, b in zip(old_events, new_events, strict=True) if a["type"] == "activation"
    ]
    assert len(pairs) > 10
    for a, b in pairs:
        assert a["label"] == b["label"]
        # events carry 4 decimals; the two runtimes' int16x8 kernels may round one step apart
        assert a["activation_raw"] == pytest.approx(b["activation_raw"], abs=2.5e-4)

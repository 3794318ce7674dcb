"""`serdevice doctor`: exit 0 on a machine that can run (no microphone = warning), 1 otherwise."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pulse import pulse_daemon

from serdevice.device.commands.doctor import FAIL, OK, WARN, Check, format_table, verdict
from serdevice.device.stream.model import MODELS_DIR


def report(done) -> dict[str, dict]:
    assert "Traceback" not in done.stderr
    data = json.loads(done.stdout)
    assert data["ok"] == (done.returncode == 0)
    return {c["name"]: c for c in data["checks"]}


def copy_model(tmp_path: Path, name: str = "dae_metric_act") -> Path:
    for suffix in (".tflite", ".json"):
        shutil.copy(MODELS_DIR / f"{name}{suffix}", tmp_path / f"{name}{suffix}")
    return tmp_path / f"{name}.tflite"


def test_this_machine_can_run(cli, tmp_path):
    done = cli("doctor", "--json", "--output", str(tmp_path), "--no-level-check")
    assert done.returncode == 0, done.stdout
    checks = report(done)
    for name in ("python", "litert backend", "features", "portaudio",
                 f"write access {tmp_path}"):  # fmt: skip
        assert checks[name]["status"] == OK, checks[name]
    bundled = [n for n in checks if n.endswith("(bundled)")]
    assert len(bundled) == len(list(MODELS_DIR.glob("*.tflite"))) >= 1
    assert all(checks[n]["status"] == OK for n in bundled)
    assert checks["microphone"]["status"] in (OK, WARN)  # never FAIL for a missing microphone
    assert list(tmp_path.iterdir()) == []  # the write check left nothing behind


def test_the_table_ends_with_a_verdict(cli, tmp_path):
    done = cli("doctor", "--output", str(tmp_path), "--no-level-check")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[-1].startswith("ready") and any(line.startswith("features") for line in lines)


def test_a_missing_or_tampered_model_fails(cli, tmp_path):
    tampered = copy_model(tmp_path)
    data = tampered.read_bytes()
    tampered.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    done = cli("doctor", "--json", "--no-level-check", "--model", str(tampered),
               "--model", str(tmp_path / "absent.tflite"))  # fmt: skip
    assert done.returncode == 1
    checks = report(done)
    assert checks[f"model {tampered}"]["status"] == FAIL
    assert "sha256" in checks[f"model {tampered}"]["detail"]
    assert checks[f"model {tmp_path / 'absent.tflite'}"]["status"] == FAIL


def test_an_older_opensmile_in_the_sidecar_is_a_warning(cli, tmp_path):
    model = copy_model(tmp_path)
    sidecar = json.loads(model.with_suffix(".json").read_text())
    sidecar["opensmile_version"] = "2.4.1"
    model.with_suffix(".json").write_text(json.dumps(sidecar))
    done = cli("doctor", "--json", "--no-level-check", "--model", str(model))
    assert done.returncode == 0
    checks = report(done)
    assert checks["opensmile for dae_metric_act"]["status"] in (OK, WARN)
    rows = json.loads(done.stdout)["checks"]
    given = [r for r in rows if r["name"] == "opensmile for dae_metric_act"][-1]
    assert given["status"] == WARN and "2.4.1" in given["detail"]


def test_an_unwritable_output_folder_fails(cli, tmp_path):
    done = cli("doctor", "--json", "--no-level-check", "--output", str(tmp_path / "nope"))
    assert done.returncode == 1
    assert report(done)[f"write access {tmp_path / 'nope'}"]["status"] == FAIL


def test_an_unknown_capture_device_fails(cli):
    done = cli("doctor", "--json", "--no-level-check", "--device", "no-such-microphone-xyz")
    checks = report(done)
    assert checks["microphone"]["status"] in (FAIL, WARN)
    assert done.returncode == (1 if checks["microphone"]["status"] == FAIL else 0)


def test_doctor_never_imports_torch_or_sklearn():
    code = ("import sys; from serdevice.device.commands.doctor import run_checks; "
            "rows = run_checks(level_check=False); "
            "print(sorted(m for m in ('torch', 'sklearn', 'tensorflow', 'pandas', "
            "'serdevice.train', 'serdevice.export') if m in sys.modules))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_verdict_and_table():
    rows = [Check(name="a", status=OK, detail="x"), Check(name="long name", status=WARN, detail="")]
    assert verdict(rows) and not verdict([*rows, Check(name="b", status=FAIL, detail="y")])
    assert format_table(rows).splitlines()[0] == "a          ok    x"


@pytest.fixture
def pulse(tmp_path):
    """A private PulseAudio daemon with a 16 kHz null sink whose monitor is the default source."""
    if shutil.which("pulseaudio") is None or shutil.which("pactl") is None:
        pytest.skip("pulseaudio not installed (make setup installs it)")
    with pulse_daemon(tmp_path, 16000) as env:
        yield env


def test_level_check_on_a_real_capture_device(pulse):
    done = subprocess.run(
        [sys.executable, "-m", "serdevice.device.cli", "doctor", "--json", "--device", "pulse"],
        capture_output=True, text=True, env=pulse, timeout=120,
    )  # fmt: skip
    checks = report(done)
    assert done.returncode == 0, done.stdout
    assert checks["microphone"]["status"] == OK and "pulse" in checks["microphone"]["detail"]
    level = checks["mic level (1 s)"]
    # nothing plays into the null sink: a silent monitor is a warning, not a failure
    assert level["status"] == WARN and "silent" in level["detail"], level

"""arm64, the Raspberry Pi companion: install ``.[device]`` and run it, under qemu-user emulation.

``make pi`` runs this file (SERDEVICE_ARM64=1); the plain ``pytest tests`` skips it, so
``make test`` runs it once. deploy/arm64/chroot.sh builds or reuses a Debian bookworm arm64
root; deploy/arm64/job.py installs there ``.[device]`` and the tflite-runtime venv of
tests/test_tflite_runtime.py and runs the serdevice commands below, which this x86 venv runs
too (meanwhile): event types and labels must be equal, every number within TOLERANCE. Without
arm64 emulation (not root, no binfmt_misc, no qemu-user-static) every test skips, one line.
Timings under emulation say nothing about a Pi (``serdevice bench`` on the device does).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from importlib import metadata
from pathlib import Path

import pytest
from test_tflite_runtime import PACKAGES as TFLITE_PACKAGES
from venvs import REPO, run_measured

CHROOT = REPO / "deploy" / "arm64" / "chroot.sh"


def unavailable() -> str | None:
    """Why the check cannot run here (a skip, folded into one line), else None."""
    if os.environ.get("SERDEVICE_ARM64") != "1":
        return "the arm64 check runs in make pi (SERDEVICE_ARM64=1)"
    probe = subprocess.run([str(CHROOT), "--probe"], capture_output=True, text=True)
    return probe.stderr.strip() if probe.returncode == 77 else None  # no root, binfmt, qemu


SKIP = unavailable()
pytestmark = [pytest.mark.skip(reason=SKIP)] if SKIP else []
SAMPLE = REPO / "device" / "data" / "sample.wav"
CLIPS_DIR = REPO / "out" / "arm64" / "clips"  # sox cuts of the sample, /share in the root
AUDIO = sorted(path.name for path in SAMPLE.parent.iterdir() if path.suffix in (".wav", ".flac"))
MODELS = ["dae_metric_act", "dae_metric_val", "vae_cluster"]
CLIPS = {"sample.wav": [], "first-2s.wav": ["trim", "0", "2"], "middle-6s.wav": ["trim", "3", "6"],
         "short-0.3s.wav": ["trim", "0", "0.3"]}  # fmt: skip
DEVICE, TFLITE = "/opt/serdevice/venv", "/opt/serdevice/venv-tflite"
BROKEN = "/opt/serdevice/venv-broken"  # [device] with ai-edge-litert 1.0.1: no aarch64 wheel
# |arm64 - x86| for every number an event or a prediction carries (activation, latent, scores,
# confidence, speech). The largest seen: 0.021 (a latent coordinate, last window of
# real_voice.flac), activation 0.003; ai_edge_litert and tflite_runtime differ from x86 alike,
# so it comes from the features (openSMILE's aarch64 build), not from the interpreter.
TOLERANCE = 0.05
IGNORED = {"wall", "latency_ms", "cpu_s", "seq", "source", "backend", "file", "path", "state"}
LARGEST: dict[str, float] = {}
PREFIX = {"ai_edge_litert": "", "tflite_runtime": "tflite "}  # the venv's runs, by backend


def commands(data: str, clips: str, state: str) -> dict[str, list[str]]:
    """The serdevice commands both sides run: bundled audio in ``data``, clips in ``clips``, and
    each listen adapting from an empty state of its own in ``state`` (a folder not yet there)."""
    runs = {"doctor": ["doctor"], "predict": ["predict", *(f"{clips}/{name}" for name in CLIPS)]}
    for audio in AUDIO:
        runs[f"listen {audio}"] = ["listen", "--model", "dae_metric_act.tflite", "--source",
                                   f"{data}/{audio}", "--fast", "--state",
                                   f"{state}/{audio}.state.json"]  # fmt: skip
    for name in MODELS:
        runs[f"model info {name}"] = ["model", "info", name, "--json"]
    return runs


def broken_requirements() -> list[str]:
    """[device] (this venv's serdevice metadata) with ai-edge-litert pinned to 1.0.1, which has
    x86_64 and macOS wheels only; first, so that pip stops at it."""
    requires = metadata.requires("serdevice") or []
    device = [r.split(";")[0] for r in requires if r.endswith('extra == "device"')]
    return ["ai-edge-litert==1.0.1", *(r for r in device if not r.startswith("ai-edge-litert"))]


def pi_job(runs: dict[str, tuple[str, list[str]]], venvs: dict[str, list[str]],
           log: str) -> tuple[subprocess.Popen[str], Path]:  # fmt: skip
    """job.py in the arm64 root, started; CLIPS_DIR is its /share, out/arm64/LOG its stderr."""
    job = {"venvs": venvs, "runs": {name: [path, *args] for name, (path, args) in runs.items()}}
    CLIPS_DIR.mkdir(parents=True, exist_ok=True)
    path = CLIPS_DIR.parent / log
    with path.open("w") as stderr:
        process = subprocess.Popen([str(CHROOT), "--share", str(CLIPS_DIR), "python3",
                                    "deploy/arm64/job.py"], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=stderr, text=True)  # fmt: skip
    assert process.stdin is not None
    process.stdin.write(json.dumps(job))
    process.stdin.close()
    return process, path


def finished(process: subprocess.Popen[str], log: Path, timeout: float = 1500) -> dict:
    """job.py's results; a skip (exit 77) or a failure with chroot.sh's or job.py's last line."""
    out = process.stdout.read() if process.stdout else ""
    process.wait(timeout=timeout)
    lines = log.read_text().strip().splitlines()
    reason = lines[-1] if lines else f"exit {process.returncode}"
    if process.returncode == 77:
        pytest.skip(reason)
    if process.returncode != 0:
        pytest.fail(f"arm64 check failed: {reason} (all of it: {log})", pytrace=False)
    return json.loads(out)


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> dict:
    """{"arm64": job.py's results, "x86": the same runs here, "wall_s": the whole check's}."""
    CLIPS_DIR.mkdir(parents=True, exist_ok=True)
    for name, effect in CLIPS.items():
        subprocess.run(["sox", str(SAMPLE), str(CLIPS_DIR / name), *effect], check=True)
    start = time.monotonic()
    state = f"/tmp/serdevice-check/{uuid.uuid4().hex}"  # in the root
    arm = commands("/src/device/data", "/share", state)
    tflite = commands("/src/device/data", "/share", f"{state}/tflite")
    arm_runs = {name: (DEVICE, args) for name, args in arm.items()}
    arm_runs.update({f"tflite {name}": (TFLITE, tflite[name])
                     for name in ("doctor", "listen sample.wav")})  # fmt: skip
    venvs = {DEVICE: ["/src[device]"], TFLITE: TFLITE_PACKAGES, BROKEN: broken_requirements()}
    process, log = pi_job(arm_runs, venvs, "check.log")
    x86 = {}
    state = str(tmp_path_factory.mktemp("state") / "listen")
    for name, args in commands(str(SAMPLE.parent), str(CLIPS_DIR), state).items():
        done, rss_mb = run_measured(REPO / ".venv" / "bin" / "python", *args)
        x86[name] = {"rc": done.returncode, "stdout": done.stdout, "rss_mb": rss_mb,
                     "stderr": "\n".join(done.stderr.splitlines()[:-1])}  # fmt: skip
    arm64 = finished(process, log)
    for path in (DEVICE, TFLITE):
        if "error" in arm64["venvs"][path]:
            pytest.fail(arm64["venvs"][path]["error"], pytrace=False)
    (CLIPS_DIR.parent / "results.json").write_text(json.dumps({"arm64": arm64, "x86": x86}))
    built = re.search(r"arm64 root built in (\d+) s", log.read_text())
    return {"arm64": arm64, "x86": x86, "wall_s": time.monotonic() - start,
            "root_built_s": int(built[1]) if built else None}  # fmt: skip


def ok(run: dict) -> str:
    assert run["rc"] == 0, run["stderr"]
    return run["stdout"]


def close(arm: object, x86: object, where: str, field: str = "") -> None:
    """Equal strings and counts, numbers within TOLERANCE (the largest kept per event field)."""
    if isinstance(arm, dict) and isinstance(x86, dict):
        assert arm.keys() == x86.keys(), where
        for key in sorted(arm.keys() - IGNORED):
            close(arm[key], x86[key], f"{where}.{key}", field or key)
    elif isinstance(arm, list) and isinstance(x86, list):
        assert len(arm) == len(x86), where
        for i, (a, b) in enumerate(zip(arm, x86, strict=True)):
            close(a, b, f"{where}[{i}]", field)
    elif isinstance(arm, float) or isinstance(x86, float):
        difference = abs(arm - x86)  # type: ignore[operator]
        LARGEST[field] = max(LARGEST.get(field, 0.0), difference)
        assert difference <= TOLERANCE, f"{where}: arm64 {arm}, x86 {x86}"
    else:
        assert arm == x86, where


def events(text: str) -> list[dict]:
    """listen's events, each ``stats`` as its type and t only, last: the audio thread emits
    those among the events thread's at no fixed place, counting the windows done by then."""
    parsed = [json.loads(line) for line in text.splitlines()]
    stats = [{"type": "stats", "t": e["t"]} for e in parsed if e.get("type") == "stats"]
    return [e for e in parsed if e.get("type") != "stats"] + stats


# Cases as fixture params, not parametrize marks: so a skip folds into one line.
@pytest.fixture(params=["ai_edge_litert", "tflite_runtime"])
def backend(request) -> str:
    return request.param


@pytest.fixture(params=[*((a, "ai_edge_litert") for a in AUDIO), ("sample.wav", "tflite_runtime")],
                ids=lambda case: "-".join(case))  # fmt: skip
def listened(request) -> tuple[str, str]:
    return request.param


@pytest.fixture(params=MODELS)
def model(request) -> str:
    return request.param


def test_doctor_is_ready_on_aarch64_and_verifies_the_bundled_models(both, backend):
    out = ok(both["arm64"]["runs"][PREFIX[backend] + "doctor"])
    assert "on aarch64" in out and "ready: this machine can run serdevice" in out, out
    assert re.search(rf"litert backend +ok +{backend} ", out), out
    for name in MODELS:
        assert re.search(rf"model {name} \(bundled\) +ok +verified", out), out


def test_listen_events_match_x86(both, listened):
    audio, backend = listened
    arm = events(ok(both["arm64"]["runs"][PREFIX[backend] + f"listen {audio}"]))
    x86 = events(ok(both["x86"][f"listen {audio}"]))
    assert arm[0]["backend"] == backend
    assert [e["type"] for e in arm] == [e["type"] for e in x86]
    assert sum(e["type"] == "activation" for e in arm) > 10
    close(arm, x86, audio)


def test_predict_matches_x86_on_the_sample_and_its_cuts(both):
    arm = events(ok(both["arm64"]["runs"]["predict"]))
    x86 = events(ok(both["x86"]["predict"]))
    assert [p["label"] for p in arm] == [p["label"] for p in x86]
    assert arm[-1]["reason"] == "shorter than 0.5 s"
    close(arm, x86, "predict")


def test_model_info_matches_x86(both, model):
    arm = json.loads(ok(both["arm64"]["runs"][f"model info {model}"]))
    x86 = json.loads(ok(both["x86"][f"model info {model}"]))
    assert arm["backend"] == "ai_edge_litert"
    close(arm, x86, model)


def test_device_footprint_on_aarch64(both):
    device, tflite = both["arm64"]["venvs"][DEVICE], both["arm64"]["venvs"][TFLITE]
    for packages in (device["packages"], tflite["packages"]):
        assert not {"torch", "scikit-learn", "litert-torch"} & set(packages), packages
    assert "ai-edge-litert" in device["packages"] and "ai-edge-litert" not in tflite["packages"]
    assert "tflite-runtime" in tflite["packages"]


def test_a_package_without_an_aarch64_wheel_fails_naming_it(both):
    """What the check says when [device] cannot install on arm64 (here on purpose)."""
    message = both["arm64"]["venvs"][BROKEN]["error"]
    assert f"arm64 install of {BROKEN} (ai-edge-litert==1.0.1 " in message, message
    assert "No matching distribution found for ai-edge-litert==1.0.1" in message, message


def test_report(both):
    """One line for `make pi`: times, listen's peak RSS, the largest differences seen (also
    out/arm64/report.json; every run's output is in out/arm64/results.json)."""
    arm, x86 = both["arm64"], both["x86"]
    report = {
        "check_s": round(both["wall_s"], 1),
        "root_built_s": both["root_built_s"],
        "install_s": {path: venv.get("install_s") for path, venv in arm["venvs"].items()},
        "run_s": round(sum(run["wall_s"] for run in arm["runs"].values()), 1),
        "listen_rss_mb": {
            "arm64 (qemu-user, indicative)": arm["runs"]["listen sample.wav"]["rss_mb"],
            "x86": x86["listen sample.wav"]["rss_mb"],
        },
        "largest_difference": {field: round(d, 4) for field, d in sorted(LARGEST.items()) if d},
        "tolerance": TOLERANCE,
    }
    (REPO / "out" / "arm64" / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"\narm64: {json.dumps(report)}", file=sys.__stderr__)

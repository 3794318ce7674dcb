"""arm64, the Raspberry Pi companion: install ``.[device]`` and run it, under qemu-user emulation.

``make pi`` (and so ``make test``) runs this file with SERDEVICE_ARM64=1; the plain
``pytest tests`` skips it. deploy/arm64/chroot.sh builds or reuses a Debian bookworm arm64 root
(outside the checkout, a week at a time); this venv's pip, on x86, installs into venvs there
the aarch64 wheels that ``.[device]`` and tests/test_tflite_runtime.py's tflite-runtime set
resolve to (wheels only: the root has no compiler); deploy/arm64/job.py, under arm64, runs
``pip check`` on a venv just installed and the serdevice commands below, which this x86 venv
runs too (meanwhile): event types and labels must be equal, every number within TOLERANCE.
Without arm64 emulation (not root, no binfmt_misc, no qemu-user-static) every test skips, one
line. Timings under emulation say nothing about a Pi (``serdevice bench`` on the device does).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from test_tflite_runtime import PACKAGES as TFLITE_PACKAGES
from venvs import REPO, run_measured

CHROOT = REPO / "deploy" / "arm64" / "chroot.sh"
FORKRUN = REPO / "deploy" / "arm64" / "forkrun.py"


def unavailable() -> str | None:
    """Why the check cannot run here (a skip, folded into one line), else None."""
    if os.environ.get("SERDEVICE_ARM64") != "1":
        return "the arm64 check runs in make pi (SERDEVICE_ARM64=1)"
    probe = subprocess.run([str(CHROOT), "--probe"], capture_output=True, text=True)
    return probe.stderr.strip() if probe.returncode == 77 else None  # no root, binfmt, qemu


SKIP = unavailable()
pytestmark = [pytest.mark.skip(reason=SKIP)] if SKIP else []
SAMPLE = REPO / "device" / "data" / "sample.wav"
OUT = REPO / "out" / "arm64"
CLIPS_DIR = OUT / "clips"  # sox cuts of the sample, /share in the root
AUDIO = sorted(path.name for path in SAMPLE.parent.iterdir() if path.suffix in (".wav", ".flac"))
MODELS = ["dae_metric_act", "dae_metric_val", "vae_cluster"]
# sox cuts of the sample: predict's three, and CUT, that the tflite-runtime venv listens to (its
# twin here too): the [device] venv listens to all of the bundled audio, and emulation costs
# about 0.8 s of CPU an audio second.
CLIPS = {"first-2s.wav": ["trim", "0", "2"], "middle-3s.wav": ["trim", "4", "3"],
         "short-0.3s.wav": ["trim", "0", "0.3"], "middle-6s.wav": ["trim", "3", "6"]}  # fmt: skip
PREDICTED, CUT = list(CLIPS)[:3], "middle-6s.wav"
DEVICE, TFLITE = "/opt/serdevice/venv", "/opt/serdevice/venv-tflite"
# What each venv installs; {wheel} is serdevice's, built from the working tree on x86.
VENVS = {DEVICE: ["{wheel}[device]"], TFLITE: ["{wheel}", *TFLITE_PACKAGES]}
BROKEN = "/opt/serdevice/venv-broken"  # a package whose dependency has x86_64 wheels only
GLIBC = (2, 36)  # bookworm's: pip on the root's python3 takes manylinux wheels up to it
# |arm64 - x86| for every number an event or a prediction carries (activation, latent, scores,
# confidence, speech). The largest seen (real-speaker-v3 models): activation_raw 0.023 and
# latent 0.023 at 10 s of the sample, activation 0.018; ai_edge_litert and tflite_runtime differ
# from x86 alike, so it comes from the features (openSMILE's aarch64 build), not the interpreter.
TOLERANCE = 0.05
IGNORED = {"wall", "latency_ms", "cpu_s", "seq", "source", "backend", "file", "path", "state"}
LARGEST: dict[str, float] = {}
PREFIX = {"ai_edge_litert": "", "tflite_runtime": "tflite "}  # the venv's runs, by backend


def commands(data: str, clips: str, state: str) -> dict[str, list[str]]:
    """The serdevice commands both sides run: bundled audio in ``data``, clips in ``clips``, and
    each listen adapting from an empty state of its own in ``state`` (a folder not yet there)."""
    runs = {}  # the longest first: forkrun.py starts them in this order
    for name, source in {**{a: f"{data}/{a}" for a in AUDIO}, CUT: f"{clips}/{CUT}"}.items():
        runs[f"listen {name}"] = ["listen", "--model", "dae_metric_act.tflite", "--source",
                                  source, "--fast", "--state", f"{state}/{name}.state.json"]  # fmt: skip
    runs["predict"] = ["predict", *(f"{clips}/{name}" for name in PREDICTED)]
    runs["doctor"] = ["doctor"]
    for name in MODELS:
        runs[f"model info {name}"] = ["model", "info", name, "--json"]
    return runs


def aarch64(root: Path) -> list[str]:
    """pip options for what pip on the root's python3 would take: its CPython version, aarch64
    manylinux wheels up to bookworm's glibc, wheels only (the root has no compiler)."""
    version = os.readlink(root / "usr" / "bin" / "python3").removeprefix("python")  # 3.11
    platforms = ["manylinux2014_aarch64",
                 *(f"manylinux_2_{minor}_aarch64" for minor in range(17, GLIBC[1] + 1))]  # fmt: skip
    return ["--python-version", version, "--implementation", "cp", "--abi",
            "cp" + version.replace(".", ""), "--only-binary", ":all:",
            *(option for platform in platforms for option in ("--platform", platform))]  # fmt: skip


def site_packages(root: Path, path: str) -> Path:
    version = os.readlink(root / "usr" / "bin" / "python3")
    return root / path.lstrip("/") / "lib" / version / "site-packages"


def install(root: Path, path: str, requirements: list[str], *options: str) -> dict[str, object]:
    """This venv's pip puts the aarch64 wheels of ``requirements`` into ROOT/PATH's
    site-packages; {"install_s": s} or {"error": why}, the why quoting pip's ERROR lines."""
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-warn-conflicts",
                           "--disable-pip-version-check", "--target",
                           str(site_packages(root, path)), *aarch64(root), *options,
                           *requirements], capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
        reason = " ".join(lines or done.stderr.strip().splitlines()[-1:])
        return {"error": f"arm64 install of {path} ({' '.join(requirements)}) failed: {reason}"}
    return {"install_s": round(time.monotonic() - start, 1)}


def venvs(root: Path, wheel: Path) -> dict[str, dict[str, object]]:
    """VENVS in the root: third-party packages kept while pyproject.toml and the recipe stay
    the same (the root itself is rebuilt each week), serdevice's wheel reinstalled every time.
    A venv just installed gets the root's pip wheel too (for ``pip check`` there) and "check"."""
    done: dict[str, dict[str, object]] = {}
    pip = [str(path) for path in (root / "usr" / "share" / "python-wheels").glob("pip-*.whl")]
    for path, recipe in VENVS.items():
        digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes() + json.dumps(
            [recipe, aarch64(root)]).encode()).hexdigest()  # fmt: skip
        stamp = root / path.lstrip("/") / ".recipe-sha256"
        requirements = [r.format(wheel=wheel) for r in recipe]
        if stamp.is_file() and stamp.read_text() == digest:
            done[path] = install(root, path, [str(wheel)], "--no-deps", "--upgrade")
        else:
            shutil.rmtree(root / path.lstrip("/"), ignore_errors=True)
            done[path] = install(root, path, [*requirements, *pip])
            done[path].update(check=True, digest=digest)
    return done


def wheel(folder: Path, name: str, tag: str, requires: tuple[str, ...] = ()) -> None:
    """A minimal wheel NAME 1.0 (metadata only) in ``folder``."""
    dist = f"{name.replace('-', '_')}-1.0"
    files = {f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
             + "".join(f"Requires-Dist: {r}\n" for r in requires),
             f"{dist}.dist-info/WHEEL": f"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: {tag}\n"}  # fmt: skip
    files[f"{dist}.dist-info/RECORD"] = "".join(
        f"{n},,\n" for n in [*files, f"{dist}.dist-info/RECORD"]
    )
    with zipfile.ZipFile(folder / f"{dist}-{tag}.whl", "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)


def broken(root: Path) -> dict[str, object]:
    """The install path above on a package whose dependency has an x86_64 wheel only (both
    local, --no-index: seconds, no network): what the check says when [device] cannot install."""
    folder = OUT / "broken"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    wheel(folder, "serdevice-probe", "py3-none-any", ("x86-only-dependency==1.0",))
    wheel(folder, "x86-only-dependency", "cp311-cp311-manylinux_2_17_x86_64")
    return install(root, BROKEN, ["serdevice-probe"], "--dry-run", "--no-index", "--find-links",
                   str(folder))  # fmt: skip


def pi_job(job: dict, log: Path) -> subprocess.Popen[str]:
    """job.py in the arm64 root, started; CLIPS_DIR is its /share, LOG its stderr."""
    with log.open("a") as stderr:
        process = subprocess.Popen([str(CHROOT), "--share", str(CLIPS_DIR), "python3",
                                    "deploy/arm64/job.py"], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=stderr, text=True)  # fmt: skip
    assert process.stdin is not None
    process.stdin.write(json.dumps(job))
    process.stdin.close()
    return process


def finished(process: subprocess.Popen[str], log: Path, timeout: float = 900) -> dict:
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


def preload(backend: str) -> list[str]:
    """What forkrun.py imports once for a batch: the LiteRT build and serdevice's modules that
    the commands share, as listen imports them: openSMILE's C binding (device/stream/features.py), not
    the opensmile package (pandas, pyarrow: 7 s more under emulation, and their pages in every
    child's RSS); not PortAudio either (sounddevice initializes it on import)."""
    return ["soundfile", "soxr", "webrtcvad", f"{backend}.interpreter",
            *(f"serdevice.device.stream.{name}" for name in ("runtime", "model", "events", "features"))]  # fmt: skip


def forkrun(python: Path, runs: dict[str, list[str]]) -> dict:
    job = json.dumps({"preload": preload("ai_edge_litert"), "jobs": 2, "runs": runs})
    done = subprocess.run([str(python), str(FORKRUN)], input=job, capture_output=True, text=True,
                          check=True)  # fmt: skip
    return json.loads(done.stdout)["runs"]


def x86_side(state: str) -> dict:
    """The commands run here: listen on the sample as a process of its own (its peak RSS), the
    others through forkrun.py as under arm64."""
    runs = commands(str(SAMPLE.parent), str(CLIPS_DIR), state)
    done, rss_mb = run_measured(REPO / ".venv" / "bin" / "python", *runs.pop("listen sample.wav"))
    x86 = {"listen sample.wav": {"rc": done.returncode, "stdout": done.stdout, "rss_mb": rss_mb,
                                 "stderr": "\n".join(done.stderr.splitlines()[:-1])}}  # fmt: skip
    x86.update(forkrun(REPO / ".venv" / "bin" / "python", runs))
    return x86


@pytest.fixture(scope="module")
def both(tmp_path_factory) -> dict:
    """{"arm64": job.py's results, "x86": the same runs here, "times": the check's, in s}."""
    start = time.monotonic()
    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / "check.log"
    log.write_text("")
    times: dict[str, object] = {}
    CLIPS_DIR.mkdir(parents=True, exist_ok=True)
    for name, effect in CLIPS.items():
        subprocess.run(["sox", str(SAMPLE), str(CLIPS_DIR / name), *effect], check=True)
    # x86's runs go on beside the root, the wheel and the installs (one core each, mostly)
    x86_future = ThreadPoolExecutor(1).submit(
        x86_side, str(tmp_path_factory.mktemp("state") / "listen")
    )
    with log.open("a") as stderr:
        made = subprocess.run([str(CHROOT), "--root"], stdout=subprocess.PIPE, stderr=stderr,
                              text=True)  # fmt: skip
    if made.returncode == 77:
        pytest.skip(log.read_text().strip().splitlines()[-1])
    assert made.returncode == 0, log.read_text()
    root = Path(made.stdout.strip())
    built = re.search(r"arm64 root built in (\d+) s", log.read_text())
    times["root_s"] = int(built[1]) if built else None
    times["root_or_reuse_s"] = round(time.monotonic() - start, 1)
    mark = time.monotonic()
    wheels = OUT / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(wheels), str(REPO)], check=True,
                   capture_output=True)  # fmt: skip
    (built_wheel,) = wheels.glob("serdevice-*.whl")
    times["wheel_s"] = round(time.monotonic() - mark, 1)
    with open(root.parent / "lock", "w") as lock:  # chroot.sh's: one build or run at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        installed = venvs(root, built_wheel)
        installed[BROKEN] = broken(root)
    for path in VENVS:
        if "error" in installed[path]:
            pytest.fail(str(installed[path]["error"]), pytrace=False)
    times["install_s"] = {path: result.get("install_s") for path, result in installed.items()}
    state = f"/tmp/serdevice-check/{uuid.uuid4().hex}"  # in the root
    arm = commands("/src/device/data", "/share", state)
    tflite = commands("/src/device/data", "/share", f"{state}/tflite")
    del arm[f"listen {CUT}"]  # the [device] venv has heard all of the sample
    job = {"venvs": {path: {"check": bool(installed[path].get("check"))} for path in VENVS},
           "fresh": {"listen sample.wav": [DEVICE, *arm.pop("listen sample.wav")]},
           "batches": {DEVICE: {"preload": preload("ai_edge_litert"), "runs": arm},
                       TFLITE: {"preload": preload("tflite_runtime"), "runs": {
                           f"tflite {name}": tflite[name] for name in
                           (f"listen {CUT}", *(f"model info {m}" for m in MODELS))}}}}  # fmt: skip
    mark = time.monotonic()
    arm64 = finished(pi_job(job, log), log)
    x86 = x86_future.result()
    times["job_s"] = round(time.monotonic() - mark, 1)
    for path in VENVS:
        if "error" in arm64["venvs"][path]:
            pytest.fail(arm64["venvs"][path]["error"], pytrace=False)
        if installed[path].get("check"):  # pip check passed: keep the venv's packages
            (root / path.lstrip("/") / ".recipe-sha256").write_text(str(installed[path]["digest"]))
        arm64["venvs"][path].update(installed[path])
    arm64["venvs"][BROKEN] = installed[BROKEN]
    times["check_s"] = round(time.monotonic() - start, 1)
    (OUT / "results.json").write_text(json.dumps({"arm64": arm64, "x86": x86}))
    return {"arm64": arm64, "x86": x86, "times": times}


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


@pytest.fixture(params=[*((a, "ai_edge_litert") for a in AUDIO), (CUT, "tflite_runtime")],
                ids=lambda case: "-".join(case))  # fmt: skip
def listened(request) -> tuple[str, str]:
    return request.param


@pytest.fixture(params=MODELS)
def model(request) -> str:
    return request.param


def test_doctor_is_ready_on_aarch64_and_verifies_the_bundled_models(both):
    out = ok(both["arm64"]["runs"]["doctor"])
    assert "on aarch64" in out and "ready: this machine can run serdevice" in out, out
    assert re.search(r"litert backend +ok +ai_edge_litert ", out), out
    for name in MODELS:
        assert re.search(rf"model {name} \(bundled\) +ok +verified", out), out


def test_listen_events_match_x86(both, listened):
    audio, backend = listened
    arm = events(ok(both["arm64"]["runs"][PREFIX[backend] + f"listen {audio}"]))
    x86 = events(ok(both["x86"][f"listen {audio}"]))
    assert arm[0]["backend"] == backend
    assert [e["type"] for e in arm] == [e["type"] for e in x86]
    assert sum(e["type"] == "activation" for e in arm) >= 5  # 8 in the 6 s cut, 23 in the sample
    close(arm, x86, audio)


def test_predict_matches_x86_on_cuts_of_the_sample(both):
    arm = events(ok(both["arm64"]["runs"]["predict"]))
    x86 = events(ok(both["x86"]["predict"]))
    assert [p["label"] for p in arm] == [p["label"] for p in x86]
    assert arm[-1]["reason"] == "shorter than 0.5 s"
    close(arm, x86, "predict")


def test_model_info_matches_x86(both, model, backend):
    """Every bundled model loads with either LiteRT build (tests/test_tflite_runtime.py's twin)."""
    arm = json.loads(ok(both["arm64"]["runs"][PREFIX[backend] + f"model info {model}"]))
    x86 = json.loads(ok(both["x86"][f"model info {model}"]))
    assert arm["backend"] == backend
    close(arm, x86, model)


def test_device_footprint_on_aarch64(both):
    device, tflite = both["arm64"]["venvs"][DEVICE], both["arm64"]["venvs"][TFLITE]
    for packages in (device["packages"], tflite["packages"]):
        assert not {"torch", "scikit-learn", "litert-torch"} & set(packages), packages
    assert "ai-edge-litert" in device["packages"] and "ai-edge-litert" not in tflite["packages"]
    assert "tflite-runtime" in tflite["packages"]


def test_a_package_without_an_aarch64_wheel_fails_naming_it(both):
    """What the check says when [device] cannot install on arm64 (here on purpose, offline)."""
    message = both["arm64"]["venvs"][BROKEN]["error"]
    assert f"arm64 install of {BROKEN} (serdevice-probe) failed: ERROR: " in message, message
    assert "No matching distribution found for x86-only-dependency==1.0" in message, message


def test_report(both):
    """One line for `make pi`: times, listen's peak RSS, the largest differences seen (also
    out/arm64/report.json; every run's output is in out/arm64/results.json)."""
    arm, x86 = both["arm64"], both["x86"]
    report = {
        **both["times"],
        "run_s": {name: run["wall_s"] for name, run in arm["runs"].items()},
        "pip_check_s": {
            path: venv.get("check_s") for path, venv in arm["venvs"].items() if venv.get("check")
        },  # fmt: skip
        "listen_rss_mb": {
            "arm64 (qemu-user, indicative)": arm["runs"]["listen sample.wav"]["rss_mb"],
            "x86": x86["listen sample.wav"]["rss_mb"],
        },
        "largest_difference": {field: round(d, 4) for field, d in sorted(LARGEST.items()) if d},
        "tolerance": TOLERANCE,
    }
    (OUT / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"\narm64: {json.dumps(report)}", file=sys.__stderr__)

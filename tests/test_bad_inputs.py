"""The bad-input matrix: every case is a valid event stream or a one-line error with exit 2.

Audio files, stdin PCM, model files, sidecars, calibration files and CLI options, each run
through the real CLI in a subprocess. Never a traceback.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from serdevice.device.stream.contracts import N_FEATURES
from serdevice.device.stream.model import MODELS_DIR

SAMPLE = Path(__file__).resolve().parents[1] / "device" / "data" / "sample.wav"
STREAM, ERROR = "stream", "error"


@dataclass(frozen=True)
class Case:
    """argv (with {tmp} placeholders), what to prepare, stdin, and what must come out."""

    argv: tuple[str, ...]
    expect: str  # STREAM or ERROR
    prepare: Callable[[Path], None] = lambda tmp: None
    stdin: Callable[[], bytes] = lambda: b""
    says: str = ""  # a word the one-line error must contain
    extra: dict[str, object] = field(default_factory=dict)


def speech(seconds: float = 4.0) -> np.ndarray:
    data, rate = sf.read(SAMPLE, dtype="float32")
    assert rate == 16000
    return data[int(5 * rate) : int((5 + seconds) * rate)]


def wav(name: str, make: Callable[[], np.ndarray], rate: int = 16000, subtype: str = "PCM_16"):
    def prepare(tmp: Path) -> None:
        sf.write(tmp / name, make(), rate, subtype=subtype)

    return prepare


def write_bytes(name: str, data: bytes) -> Callable[[Path], None]:
    def prepare(tmp: Path) -> None:
        (tmp / name).write_bytes(data)

    return prepare


def truncated(tmp: Path) -> None:
    sf.write(tmp / "cut.wav", speech(), 16000, subtype="PCM_16")
    data = (tmp / "cut.wav").read_bytes()
    (tmp / "cut.wav").write_bytes(data[: len(data) // 2 + 1])  # header promises twice the data


def with_nan(tmp: Path) -> None:
    x = speech()
    x[::50] = np.nan
    x[1::97] = np.inf
    sf.write(tmp / "nan.wav", x, 16000, subtype="FLOAT")


def model_copy(tmp: Path) -> Path:
    for suffix in (".tflite", ".json"):
        shutil.copy(MODELS_DIR / f"dae_metric_act{suffix}", tmp / f"m{suffix}")
    return tmp / "m.tflite"


def tampered(tmp: Path) -> None:
    path = model_copy(tmp)
    data = path.read_bytes()
    path.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])


def orphaned(tmp: Path) -> None:
    model_copy(tmp).with_suffix(".json").unlink()


def sidecar_of_another(tmp: Path) -> None:
    model_copy(tmp)
    shutil.copy(MODELS_DIR / "vae_cluster.json", tmp / "m.json")


def edit_sidecar(**changes: object) -> Callable[[Path], None]:
    def prepare(tmp: Path) -> None:
        sidecar = model_copy(tmp).with_suffix(".json")
        data = json.loads(sidecar.read_text())
        data.update(changes)
        sidecar.write_text(json.dumps(data))

    return prepare


def garbage_model_matching_sidecar(tmp: Path) -> None:
    import hashlib

    path = model_copy(tmp)
    path.write_bytes(b"not a flatbuffer at all" * 10)
    edit_sidecar(tflite_sha256=hashlib.sha256(path.read_bytes()).hexdigest())(tmp)


def calibration(tmp: Path, **changes: object) -> None:
    from serdevice.device.stream.calibration import calibrate_for, write_calibration
    from serdevice.device.stream.sidecar import read_sidecar

    sidecar = read_sidecar(MODELS_DIR / "dae_metric_act.json")
    rows = np.tile(np.asarray(sidecar.norm_mean), (10, 1))
    write_calibration(calibrate_for(rows, sidecar), tmp / "c.json")
    if changes:
        data = json.loads((tmp / "c.json").read_text())
        data.update(changes)
        (tmp / "c.json").write_text(json.dumps(data))


def calibration_nan(tmp: Path) -> None:
    calibration(tmp)
    data = json.loads((tmp / "c.json").read_text())
    data["mean"][0], data["std"][1] = float("nan"), float("inf")
    (tmp / "c.json").write_text(json.dumps(data))  # Python writes the NaN / Infinity literals
    assert "NaN" in (tmp / "c.json").read_text()


def pcm(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


LISTEN_FILE = ("listen", "--fast", "--source")
CASES: dict[str, Case] = {
    # audio files
    "file-empty": Case((*LISTEN_FILE, "{tmp}/e.wav"), ERROR, write_bytes("e.wav", b""), says="empty"),
    "file-not-audio": Case((*LISTEN_FILE, "{tmp}/t.wav"), ERROR,
                           write_bytes("t.wav", b"hello, not audio\n" * 100), says="audio"),
    "file-truncated": Case((*LISTEN_FILE, "{tmp}/cut.wav"), STREAM, truncated),
    "file-directory": Case((*LISTEN_FILE, "{tmp}"), ERROR, says="directory"),
    "file-missing": Case((*LISTEN_FILE, "{tmp}/absent.wav"), ERROR, says="no such file"),
    "file-nan-inf": Case((*LISTEN_FILE, "{tmp}/nan.wav"), STREAM, with_nan),
    "file-8bit": Case((*LISTEN_FILE, "{tmp}/a.wav"), STREAM, wav("a.wav", speech, subtype="PCM_U8")),
    "file-24bit": Case((*LISTEN_FILE, "{tmp}/a.wav"), STREAM, wav("a.wav", speech, subtype="PCM_24")),
    "file-8khz": Case((*LISTEN_FILE, "{tmp}/a.wav"), STREAM,
                      wav("a.wav", lambda: speech()[::2], rate=8000)),
    "file-stereo": Case((*LISTEN_FILE, "{tmp}/a.wav"), STREAM,
                        wav("a.wav", lambda: np.stack([speech(), 0.5 * speech()], axis=1))),
    "file-silence": Case((*LISTEN_FILE, "{tmp}/a.wav"), STREAM,
                         wav("a.wav", lambda: np.zeros(16000 * 3, np.float32))),
    "file-clipping": Case((*LISTEN_FILE, "{tmp}/a.wav"), STREAM,
                          wav("a.wav", lambda: np.clip(speech() * 30, -1, 1))),
    "file-noise": Case((*LISTEN_FILE, "{tmp}/a.wav"), STREAM,
                       wav("a.wav", lambda: np.random.default_rng(0).uniform(-1, 1, 48000))),
    "file-tiny": Case((*LISTEN_FILE, "{tmp}/a.wav"), STREAM,
                      wav("a.wav", lambda: speech()[:100])),
    # stdin PCM
    "stdin-odd-bytes": Case(("listen", "--source", "-", "--rate", "16000"), STREAM,
                            stdin=lambda: pcm(speech()) + b"\x01"),
    "stdin-empty": Case(("listen", "--source", "-", "--rate", "16000"), STREAM),
    "stdin-random-bytes": Case(("listen", "--source", "-", "--rate", "16000"), STREAM,
                               stdin=lambda: np.random.default_rng(1).bytes(64001)),
    "stdin-stereo-44k": Case(("listen", "--source", "-", "--rate", "44100", "--channels", "2"),
                             STREAM, stdin=lambda: pcm(np.repeat(speech(), 2)) + b"\x00\x00\x00"),
    "stdin-no-rate": Case(("listen", "--source", "-"), ERROR, says="--rate"),
    "stdin-rate-zero": Case(("listen", "--source", "-", "--rate", "0"), ERROR, says="rate"),
    # model files and sidecars
    "model-tampered": Case(("listen", "--model", "{tmp}/m.tflite", "--source", str(SAMPLE)),
                           ERROR, tampered, says="sha256"),
    "model-orphaned": Case(("listen", "--model", "{tmp}/m.tflite", "--source", str(SAMPLE)),
                           ERROR, orphaned, says="sidecar missing"),
    "model-sidecar-of-another": Case(("listen", "--model", "{tmp}/m.tflite", "--source",
                                      str(SAMPLE)), ERROR, sidecar_of_another, says="sha256"),
    "predict-model-tampered": Case(("predict", str(SAMPLE), "--model", "{tmp}/m.tflite"), ERROR,
                                   tampered, says="sha256"),
    "predict-model-orphaned": Case(("predict", str(SAMPLE), "--model", "{tmp}/m.tflite"), ERROR,
                                   orphaned, says="sidecar missing"),
    "predict-sidecar-of-another": Case(("predict", str(SAMPLE), "--model", "{tmp}/m.tflite"),
                                       ERROR, sidecar_of_another, says="sha256"),
    "model-missing": Case(("listen", "--model", "{tmp}/none.tflite"), ERROR, says="not found"),
    "model-directory": Case(("listen", "--model", "{tmp}"), ERROR, says="directory"),
    "model-not-tflite": Case(("listen", "--model", "{tmp}/m.tflite", "--source", str(SAMPLE)),
                             ERROR, garbage_model_matching_sidecar, says="TFLite"),
    "sidecar-wrong-version": Case(("listen", "--model", "{tmp}/m.tflite", "--source", str(SAMPLE)),
                                  ERROR, edit_sidecar(schema=2), says="schema"),
    "sidecar-bad-std": Case(("listen", "--model", "{tmp}/m.tflite", "--source", str(SAMPLE)),
                            ERROR, edit_sidecar(norm_std=[0.0] * N_FEATURES), says="norm_std"),
    "sidecar-not-json": Case(("listen", "--model", "{tmp}/m.tflite", "--source", str(SAMPLE)),
                             ERROR, lambda tmp: (model_copy(tmp).with_suffix(".json")
                                                 .write_text("{oops")), says="JSON"),  # fmt: skip
    # calibration files
    "calibration-mismatched": Case(
        ("listen", "--fast", "--source", str(SAMPLE), "--model", "vae_cluster", "--calibration",
         "{tmp}/c.json"), ERROR, calibration, says="made for"),
    "calibration-not-json": Case(
        ("listen", "--fast", "--source", str(SAMPLE), "--calibration", "{tmp}/c.json"), ERROR,
        write_bytes("c.json", b"\x00\x01garbage"), says="calibration"),
    "calibration-missing": Case(
        ("listen", "--fast", "--source", str(SAMPLE), "--calibration", "{tmp}/none.json"), ERROR,
        says="no such file"),
    "calibration-nan": Case(
        ("listen", "--fast", "--source", str(SAMPLE), "--calibration", "{tmp}/c.json"), ERROR,
        calibration_nan, says="finite"),
    "calibration-future-schema": Case(
        ("listen", "--fast", "--source", str(SAMPLE), "--calibration", "{tmp}/c.json"), ERROR,
        lambda tmp: calibration(tmp, schema=9), says="schema"),
    "calibrate-silence": Case(("calibrate", "--source", "{tmp}/a.wav", "--out", "{tmp}/c.json"),
                              ERROR, wav("a.wav", lambda: np.zeros(48000, np.float32)),
                              says="no speech"),
    "calibrate-out-directory": Case(("calibrate", "--source", str(SAMPLE), "--out", "{tmp}"),
                                    ERROR, says="directory"),
    "calibrate-not-audio": Case(("calibrate", "--source", "{tmp}/t.wav", "--out", "{tmp}/c.json"),
                                ERROR, write_bytes("t.wav", b"RIFF1234WAVEjunk"), says="audio"),
    # options
    "unknown-device": Case(("listen", "--source", "mic", "--device", "no-such-mic-xyz"), ERROR,
                           says="capture device"),
    "predict-directory": Case(("predict", "{tmp}"), ERROR, says="directory"),
    "unknown-option": Case(("listen", "--bogus"), ERROR, says="--bogus"),
    "negative-duration": Case(("listen", "--duration", "-1"), ERROR, says="--duration"),
    "bad-format": Case(("listen", "--format", "xml"), ERROR, says="--format"),
    "calibrate-without-out": Case(("calibrate", "--source", str(SAMPLE)), ERROR, says="--out"),
}  # fmt: skip


def fill(argv: tuple[str, ...], tmp: Path) -> list[str]:
    return [a.replace("{tmp}", str(tmp)) for a in argv]


def check_stream(stdout: str) -> list[dict]:
    """Every line an event; start first, stop last, seq contiguous, nothing audio-sized."""
    events = [json.loads(line) for line in stdout.splitlines()]
    assert events and events[0]["type"] == "start" and events[-1]["type"] == "stop"
    assert [e["seq"] for e in events] == list(range(len(events)))
    for event in events:
        for value in event.values():
            assert not (isinstance(value, list) and len(value) > N_FEATURES)
    return events


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(cli, tmp_path, name):
    case = CASES[name]
    case.prepare(tmp_path)
    done = cli(*fill(case.argv, tmp_path), input=case.stdin(), timeout=120)
    assert "Traceback" not in done.stderr, done.stderr
    if case.expect == STREAM:
        assert done.returncode == 0, done.stderr
        check_stream(done.stdout)
        return
    assert done.returncode == 2, (done.returncode, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("serdevice: error:")
    assert case.says.lower() in lines[0].lower(), lines[0]


def test_the_matrix_is_big_enough():
    assert len(CASES) >= 20
    assert sum(c.expect == STREAM for c in CASES.values()) >= 8


def test_silence_and_noise_stream_no_emotions(cli, tmp_path):
    for name in ("file-silence", "file-noise"):
        CASES[name].prepare(tmp_path)
        events = check_stream(cli(*fill(CASES[name].argv, tmp_path)).stdout)
        assert not [e for e in events if e["type"] in ("emotion", "activation")], name


def test_repairs_are_counted(cli, tmp_path):
    with_nan(tmp_path)
    stop = check_stream(cli(*LISTEN_FILE, str(tmp_path / "nan.wav")).stdout)[-1]
    assert stop["nonfinite"] > 0
    done = cli("listen", "--source", "-", "--rate", "16000", input=pcm(speech()) + b"\x01")
    assert check_stream(done.stdout)[-1]["odd_bytes"] == 1

"""Privacy: listen and calibrate write nothing but the requested outputs, and those hold no audio.

HOME, TMPDIR and the working folder point at empty temporary folders; every file in them is
listed before and after each run. Besides its outputs, listen writes its adaptation state (the
wearer's feature statistics) in the user's state directory: that file is checked too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from serdevice.device.stream.contracts import N_FEATURES

SAMPLE = Path(__file__).resolve().parents[1] / "device" / "data" / "sample.wav"


@pytest.fixture
def places(tmp_path: Path) -> dict[str, Path]:
    dirs = {name: tmp_path / name for name in ("home", "tmp", "cwd", "out")}
    for path in dirs.values():
        path.mkdir()
    return dirs


def env_for(places: dict[str, Path]) -> dict[str, str]:
    home, tmp = str(places["home"]), str(places["tmp"])
    return {"HOME": home, "TMPDIR": tmp, "TMP": tmp, "TEMP": tmp,
            "XDG_CACHE_HOME": f"{home}/.cache", "XDG_CONFIG_HOME": f"{home}/.config",
            "XDG_DATA_HOME": f"{home}/.local/share", "XDG_RUNTIME_DIR": tmp,
            "XDG_STATE_HOME": f"{home}/.local/state"}  # fmt: skip


def files_under(places: dict[str, Path]) -> set[Path]:
    return {p for root in places.values() for p in root.rglob("*") if p.is_file()}


def longest_number_list(value: object) -> int:
    """The longest list of numbers anywhere in a JSON value."""
    if isinstance(value, dict):
        return max((longest_number_list(v) for v in value.values()), default=0)
    if isinstance(value, list):
        numbers = sum(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        return max([numbers, *(longest_number_list(v) for v in value)])
    return 0


def assert_no_audio(path: Path, audio: np.ndarray) -> None:
    """No audio-sized arrays, no WAV header, no run of the raw PCM bytes, no float samples."""
    data = path.read_bytes()
    assert b"RIFF" not in data and b"fLaC" not in data and b"OggS" not in data
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    loud = int(np.argmax(np.abs(audio)))
    assert pcm[2 * loud : 2 * loud + 32] not in data
    text = data.decode()
    documents = ([json.loads(text)] if path.suffix == ".json"
                 else [json.loads(line) for line in text.splitlines() if line.strip()])  # fmt: skip
    assert all(longest_number_list(doc) <= N_FEATURES for doc in documents)
    samples = {f"{v:.4f}" for v in audio[loud : loud + 8]}
    assert sum(s in text for s in samples if abs(float(s)) > 0.05) < 4


def run_in(places, cli, *args: str, input: bytes | None = None):
    before = files_under(places)
    done = cli(*args, cwd=places["cwd"], env=env_for(places), input=input)
    assert done.returncode == 0, done.stderr
    return done, files_under(places) - before


def test_listen_from_a_file_writes_only_the_events_file(cli, places):
    out = places["out"] / "events.jsonl"
    done, new = run_in(places, cli, "listen", "--source", str(SAMPLE), "--fast", "--output",
                       str(out))  # fmt: skip
    state = places["home"] / ".local" / "state" / "serdevice" / "dae_metric_act.state.json"
    assert new == {out, state}
    audio, _ = sf.read(SAMPLE, dtype="float32")
    assert_no_audio(out, audio)
    assert_no_audio(state, audio)
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert any(e["type"] == "activation" for e in events)
    assert all(longest_number_list(e) <= N_FEATURES for e in events)


def test_listen_from_stdin_writes_only_its_statistics(cli, places):
    audio, _ = sf.read(SAMPLE, dtype="float32")
    pcm = (audio * 32767).astype("<i2").tobytes()
    done, new = run_in(places, cli, "listen", "--source", "-", "--rate", "16000", input=pcm)
    assert [p.name for p in new] == ["dae_metric_act.state.json"]  # statistics only:
    assert_no_audio(next(iter(new)), audio)
    assert pcm[1000:1032] not in done.stdout.encode(errors="replace")


def test_calibrate_writes_only_statistics(cli, places):
    out = places["out"] / "calib.json"
    _, new = run_in(places, cli, "calibrate", "--source", str(SAMPLE), "--out", str(out))
    assert new == {out}
    audio, _ = sf.read(SAMPLE, dtype="float32")
    assert_no_audio(out, audio)
    data = json.loads(out.read_text())
    assert set(data) == {
        "schema",
        "kind",
        "created",
        "model",
        "tflite_sha256",
        "feature_set",
        "feature_names",
        "n_windows",
        "prior_windows",
        "weight",
        "mean",
        "std",
        "wearer_mean",
        "wearer_std",
    }
    assert out.stat().st_size < 20_000  # 12 s of 16-bit audio would be 384 KB


def test_nothing_is_left_in_the_temporary_folder_even_on_error(cli, places):
    bad = places["cwd"] / "silence.wav"
    sf.write(bad, np.zeros(48000, np.float32), 16000)
    before = files_under(places)
    done = cli("calibrate", "--source", str(bad), "--out", str(places["out"] / "c.json"),
               cwd=places["cwd"], env=env_for(places))  # fmt: skip
    assert done.returncode == 2
    assert files_under(places) == before
    assert os.listdir(places["tmp"]) == []

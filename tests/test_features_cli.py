"""``serdevice features extract`` as a user runs it."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from serdevice.device.stream.contracts import FEATURE_NAMES

ALSA_SPEECH = Path("/usr/share/sounds/alsa/Front_Center.wav")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_window_level_on_48k_human_speech(cli, tmp_path):
    out = tmp_path / "f.csv"
    result = cli(
        "features",
        "extract",
        str(ALSA_SPEECH),
        "--level",
        "window",
        "--out",
        str(out),
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    assert result.returncode == 0, result.stderr
    rows = read_csv(out)
    assert rows and list(rows[0]) == ["file", "start_s", "end_s", *FEATURE_NAMES]
    assert all(np.isfinite(float(rows[0][name])) for name in FEATURE_NAMES[:10])


def test_folder_input_window_rows_and_cache(cli, tmp_path):
    rng = np.random.default_rng(0)
    folder = tmp_path / "audio"
    (folder / "sub").mkdir(parents=True)
    t = np.arange(16000 * 3) / 16000
    voiced = (0.3 * np.sin(2 * np.pi * 160 * t) + 0.01 * rng.standard_normal(t.size)).astype(
        np.float32
    )
    sf.write(folder / "a.wav", voiced, 16000)
    sf.write(folder / "sub" / "b.flac", voiced, 16000)
    (folder / "notes.txt").write_text("ignored")
    args = (
        "features",
        "extract",
        str(folder),
        "--level",
        "window",
        "--out",
        str(tmp_path / "w.csv"),
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    first = cli(*args)
    assert first.returncode == 0, first.stderr
    rows = read_csv(tmp_path / "w.csv")
    assert [(Path(r["file"]).name, r["start_s"], r["end_s"]) for r in rows] == [
        ("a.wav", "0.0", "2.0"),
        ("a.wav", "0.5", "2.5"),
        ("b.flac", "0.0", "2.0"),
        ("b.flac", "0.5", "2.5"),
    ]
    second = cli(*args)
    assert "(2 from cache)" in second.stderr
    assert read_csv(tmp_path / "w.csv") == rows


def test_clip_level_is_one_row_per_file(cli, tmp_path):
    out = tmp_path / "c.csv"
    result = cli(
        "features",
        "extract",
        str(ALSA_SPEECH),
        "/usr/share/sounds/alsa/Noise.wav",
        "--level",
        "clip",
        "--out",
        str(out),
        "--no-cache",
    )
    assert result.returncode == 0, result.stderr
    assert len(read_csv(out)) == 2


@pytest.mark.parametrize(
    ("content", "reason"),
    [("text", "not a readable audio file"), ("empty", "empty file"), ("missing", "no such")],
)
def test_bad_inputs_give_one_line_and_exit_2(cli, tmp_path, content, reason):
    path = tmp_path / "input.wav"
    if content == "text":
        path.write_text("this is a text file\n")
    elif content == "empty":
        path.write_bytes(b"")
    result = cli("features", "extract", str(path), "--out", str(tmp_path / "o.csv"), "--no-cache")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0]
    assert not (tmp_path / "o.csv").exists()

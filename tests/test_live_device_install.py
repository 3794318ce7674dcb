"""The live page and the report in the `[device]`-only install: no new packages, RSS <= 100 MB."""

from __future__ import annotations

import json

import pytest
from report_events import session_events, write_jsonl
from venvs import REPO, run_measured, side_venv

SAMPLE = REPO / "device" / "data" / "sample.wav"


@pytest.fixture(scope="module")
def device_python():
    return side_venv(".venv-device", [f"{REPO}[device]"])  # the same venv as the other install test


def test_listen_serving_the_live_page_runs_within_100_mb(device_python):
    result, rss = run_measured(device_python, "listen", "--source", str(SAMPLE), "--fast",
                               "--serve", "127.0.0.1:0")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "live page on http://127.0.0.1:" in result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[-1]["type"] == "stop" and any(e["type"] == "activation" for e in events)
    print(f"\n[device]-only listen --serve peak RSS: {rss:.1f} MB")
    assert rss <= 100


def test_report_works_without_matplotlib_and_png_names_the_extra(device_python, tmp_path):
    events = write_jsonl(tmp_path / "ev.jsonl", session_events(["sad", "sad", "angry"]))
    result, _ = run_measured(
        device_python, "report", str(events), "--out", str(tmp_path / "r.html")
    )
    assert result.returncode == 0, result.stderr
    assert "<svg" in (tmp_path / "r.html").read_text()
    png, _ = run_measured(device_python, "report", str(events), "--out", str(tmp_path / "r.png"))
    assert png.returncode == 2 and "pip install 'serdevice[train]'" in png.stderr

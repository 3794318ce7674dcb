"""Faults the companion must survive: a full disk under --output, a broker that goes away."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[1] / "device" / "data" / "sample.wav"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_full_disk_under_output_gives_an_error_event_and_stdout_keeps_going(cli):
    result = cli("listen", "--source", str(SAMPLE), "--fast", "--output", "/dev/full")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    errors = [e for e in events if e["type"] == "error"]
    assert len(errors) == 1 and "No space left on device" in errors[0]["message"]
    assert events[0]["type"] == "start" and events[-1]["type"] == "stop"
    assert sum(e["type"] == "activation" for e in events) >= 15  # the stream carried on

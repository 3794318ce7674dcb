"""`serdevice report` on a long session: render time and HTML size (budgets: 5 s, 5 MB for 8 h).

A synthetic session (tests/report_events.py: 20 s speech turns, 10 s pauses, arousal waves
with peaks, a capture fault an hour) is written as JSONL, then read, measured and drawn the way
the command does it. Quick mode (CI) renders 2 h; full mode the 8 h of the issue.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from report_events import long_session, write_jsonl  # noqa: E402

from serdevice.device.clinic.report import render_html  # noqa: E402
from serdevice.device.clinic.timeline import TimelineConfig, load_sessions  # noqa: E402


def render(path: Path, out: Path) -> int:
    """What ``serdevice report PATH --out OUT`` does; returns the HTML's size in bytes."""
    summaries, notes = load_sessions([str(path)], TimelineConfig())
    text = render_html(summaries, notes, title="Session report")
    out.write_text(text, encoding="utf-8")
    return out.stat().st_size


def test_report_of_a_long_session(benchmark, figures, quick, tmp_path):
    hours = 2.0 if quick else 8.0
    events = long_session(hours)
    path = write_jsonl(tmp_path / "long.jsonl", events)
    out = tmp_path / "long.html"
    started = time.perf_counter()
    size = render(path, out)
    seconds = time.perf_counter() - started
    benchmark.pedantic(render, args=(path, out), rounds=1, iterations=1)
    figures.add(f"report: {hours:g} h session render", seconds, "s", budget=5.0 * hours / 8)
    figures.add(f"report: {hours:g} h session HTML size", size / 1e6, "MB", budget=5.0)
    figures.add(f"report: {hours:g} h session events file", path.stat().st_size / 1e6, "MB")
    page = out.read_text()
    assert page.count('class="act"') == 1 and "capture gap" in page  # it drew the session
    assert page.count('class="peak"') > 0

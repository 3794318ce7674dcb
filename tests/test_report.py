"""`serdevice report`: reading event files as they come, measuring sessions, one offline HTML."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from report_events import session_events, write_jsonl

from serdevice.device.clinic.event_log import parse_lines, rotation_order, split_sessions
from serdevice.device.clinic.report import decimate
from serdevice.device.clinic.timeline import Hop, TimelineConfig, find_peaks, load_sessions
from serdevice.device.stream.contracts import InputError

SAMPLE = Path(__file__).resolve().parents[1] / "device" / "data" / "sample.wav"
# 4 label runs: neutral x4, angry x3, sad x2, neutral x1; activation rises to 4.5 and comes back
KNOWN_LABELS = ["neutral"] * 4 + ["angry"] * 3 + ["sad"] * 2 + ["neutral"]
KNOWN_ACTIVATION = [2.0, 2.1, 2.0, 2.2, 3.8, 4.5, 4.0, 2.6, 2.0, 1.9]


def known_events() -> list[dict]:
    return session_events(KNOWN_LABELS, activation=KNOWN_ACTIVATION)


def test_a_torn_last_line_is_skipped_and_noted_but_garbage_is_counted():
    text = '{"type": "start", "seq": 0}\nnot json\n{"type": "stop", "seq": 1}\n{"type": "activ'
    parsed = parse_lines("f", text)
    assert [e["type"] for e in parsed.events] == ["start", "stop"]
    assert parsed.bad_lines == 1 and parsed.torn_tail
    complete = parse_lines("f", '{"type": "start"}\n{"type": "stop"}')  # no final newline
    assert len(complete.events) == 2 and not complete.torn_tail and complete.bad_lines == 0


def test_rotated_files_are_read_oldest_first():
    assert rotation_order(["a.jsonl", "b.jsonl", "a.jsonl.1", "a.jsonl.2"]) == [
        "a.jsonl.2", "a.jsonl.1", "a.jsonl", "b.jsonl"]  # fmt: skip


def test_sessions_split_at_start_and_record_missing_events():
    first, second = session_events(["sad"] * 3), session_events(["happy"] * 2)
    del first[3]  # one activation event lost
    parsed = parse_lines("f", "".join(json.dumps(e) + "\n" for e in first + second))
    sessions = split_sessions([parsed])
    assert len(sessions) == 2
    assert [m.text for m in sessions[0].missing_events] == ["1 events missing"]
    assert sessions[1].missing_events == []


def test_peaks_and_return_to_baseline_are_measured_from_every_hop():
    hops = [
        Hop(t=2.0 + i * 0.5, activation=a, raw=None, label="x")
        for i, a in enumerate(KNOWN_ACTIVATION)
    ]
    peaks = find_peaks(hops, threshold=3.5, baseline=2.1, hop_s=0.5)
    assert [(p.t, p.activation, p.above_s) for p in peaks] == [(4.5, 4.5, 1.5)]
    assert peaks[0].return_s == pytest.approx(1.5)  # 4.5 at t=4.5 -> 2.0 at t=6.0


def test_known_session_summary(tmp_path):
    path = write_jsonl(tmp_path / "ev.jsonl", known_events())
    (summary,), notes = load_sessions([str(path)], TimelineConfig(threshold=3.5))
    assert notes == []
    assert summary.speech_s == pytest.approx(5.0)  # 10 hops of 0.5 s
    assert summary.above_s == pytest.approx(1.5)  # 3.8, 4.5, 4.0
    assert summary.baseline == pytest.approx(2.15)  # median of the activations
    assert [b.kind for b in summary.bands] == ["neutral", "angry", "sad", "neutral"]
    assert summary.label_shares == {"neutral": 0.5, "angry": 0.3, "sad": 0.2}
    assert summary.calibration == "none: the model's own statistics"
    assert len(summary.speech) == 1


def test_decimation_keeps_the_peaks_but_not_every_point():
    points = [(i * 0.5, 2.0 + (4.0 if i == 5000 else 0.0)) for i in range(20_000)]
    drawn = decimate(points, 10.0)
    assert len(drawn) < 3000 and max(v for _, v in drawn) == 6.0


def test_report_on_the_events_of_listen(cli, tmp_path):
    events = tmp_path / "events.jsonl"
    listened = cli("listen", "--source", str(SAMPLE), "--fast", "--output", str(events))
    assert listened.returncode == 0, listened.stderr
    out = tmp_path / "session.html"
    result = cli("report", str(events), "--out", str(out))
    assert result.returncode == 0, result.stderr
    page = out.read_text()
    assert page.count("<svg") == 1 and 'class="act"' in page and 'class="summary"' in page
    # self-contained: nothing fetched from anywhere (the SVG namespace is a name, not a fetch)
    assert not re.search(
        r"""(src|href)\s*=|@import|url\(|https?://(?!www\.w3\.org/2000/svg)""", page
    )
    n_activation = sum(
        1 for line in events.read_text().splitlines() if '"activation"' in line.split(",")[0]
    )
    assert f'class="act" data-points="{n_activation}"' in page


def test_known_file_gives_the_expected_points_and_bands(cli, tmp_path):
    path = write_jsonl(tmp_path / "ev.jsonl", known_events())
    out = tmp_path / "r.html"
    assert cli("report", str(path), "--out", str(out)).returncode == 0
    page = out.read_text()
    assert page.count('class="band"') == 4
    assert 'class="act" data-points="10"' in page and 'class="act-raw" data-points="10"' in page
    assert page.count('class="peak"') == 1 and page.count('class="speech"') == 1


def test_several_files_torn_tail_stdin_and_rotation(cli, tmp_path):
    events = known_events()
    old = write_jsonl(tmp_path / "ev.jsonl.1", events[:6])
    new = write_jsonl(tmp_path / "ev.jsonl", events[6:], tail='{"type": "activation", "t": 9')
    out = tmp_path / "r.html"
    result = cli("report", str(new), str(old), "--out", str(out))
    assert result.returncode == 0, result.stderr
    page = out.read_text()
    assert "1 session(s)" in page and "torn write" in page
    assert page.count('class="band"') == 4  # one session across the two files, in order
    piped = cli("report", "-", "--out", str(out), input=(tmp_path / "ev.jsonl.1").read_bytes())
    assert piped.returncode == 0, piped.stderr


def test_two_models_give_a_clearly_labelled_report(cli, tmp_path):
    a = write_jsonl(tmp_path / "a.jsonl", session_events(["sad"] * 4))
    b = write_jsonl(tmp_path / "b.jsonl", session_events(["angry"] * 6, model="vae_cluster"))
    out = tmp_path / "r.html"
    assert cli("report", str(a), str(b), "--out", str(out)).returncode == 0
    page = out.read_text()
    assert "2 session(s)" in page and "2 different models (dae_metric_act, vae_cluster)" in page
    assert page.count("<svg") == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty, no events in it"),
        (b"\n\n  \n", "empty, no events in it"),
        (b"\x00\xff\x13garbage\nmore garbage\n[1, 2]\n", "no serdevice events in it"),
        (b'{"no_type": 1}\n', "no serdevice events in it"),
    ],
    ids=["empty", "blank-lines", "garbage", "json-not-events"],
)
def test_bad_event_files_exit_2_with_one_line(cli, tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    result = cli("report", str(path), "--out", str(tmp_path / "r.html"))
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.jsonl"], "no such file"),
        (["EV", "--threshold", "7"], "--threshold"),
        (["EV", "--baseline", "4", "--threshold", "3"], "must be below --threshold"),
        (["-", "-"], "stdin (-) can be read only once"),
    ],
)
def test_bad_report_options_exit_2(cli, tmp_path, args, message):
    path = write_jsonl(tmp_path / "ev.jsonl", known_events())
    args = [str(path) if a == "EV" else a for a in args]
    result = cli("report", *args, "--out", str(tmp_path / "r.html"))
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unwritable_out_exits_2(cli, tmp_path):
    path = write_jsonl(tmp_path / "ev.jsonl", known_events())
    result = cli("report", str(path), "--out", str(tmp_path))
    assert result.returncode == 2 and "is a directory" in result.stderr


def test_png_is_written_with_matplotlib(cli, tmp_path):
    pytest.importorskip("matplotlib")
    path = write_jsonl(tmp_path / "ev.jsonl", known_events())
    html_out, png = tmp_path / "r.html", tmp_path / "r.png"
    result = cli("report", str(path), "--out", str(html_out), "--png", str(png))
    assert result.returncode == 0, result.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and html_out.exists()
    only = cli("report", str(path), "--out", str(tmp_path / "only.png"))
    assert only.returncode == 0 and (tmp_path / "only.png").read_bytes()[:4] == b"\x89PNG"


def test_load_sessions_refuses_no_events(tmp_path):
    path = tmp_path / "e.jsonl"
    path.write_text("hello\n")
    with pytest.raises(InputError, match="no serdevice events"):
        load_sessions([str(path)], TimelineConfig())


@pytest.mark.parametrize("module", ["clinic.timeline", "clinic.report", "sinks.live"])
def test_doctests(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"serdevice.device.{module}"))
    assert result.attempted > 0 and result.failed == 0


def test_non_finite_and_odd_values_are_skipped_not_drawn(cli, tmp_path):
    events = known_events()
    events[3]["t"] = float("inf")  # json.dumps writes Infinity, json.loads reads it back
    events[4]["activation"] = "high"
    events[5]["label"] = 7
    path = write_jsonl(tmp_path / "ev.jsonl", events)
    out = tmp_path / "r.html"
    result = cli("report", str(path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert 'class="act" data-points="8"' in out.read_text() and "nan" not in out.read_text()


def test_the_calibration_in_use_reaches_the_report(cli, tmp_path):
    calibration = tmp_path / "wearer.json"
    made = cli("calibrate", "--source", str(SAMPLE), "--out", str(calibration))
    assert made.returncode == 0, made.stderr
    listened = cli("listen", "--source", str(SAMPLE), "--fast", "--calibration", str(calibration))
    assert listened.returncode == 0, listened.stderr
    start = json.loads(listened.stdout.splitlines()[0])
    assert start["calibration"]["file"] == "wearer.json" and start["calibration"]["n_windows"] >= 15
    events = tmp_path / "ev.jsonl"
    events.write_text(listened.stdout)
    out = tmp_path / "r.html"
    assert cli("report", str(events), "--out", str(out)).returncode == 0
    assert re.search(
        r"calibration: wearer\.json, \d+ speech windows, wearer weight 0\.\d\d", out.read_text()
    )

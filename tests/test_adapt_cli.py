"""listen --state / --no-adapt / --freeze and predict --adapt, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

VOICE = Path(__file__).resolve().parents[1] / "device" / "data" / "real_voice.flac"
SAMPLE = VOICE.with_name("sample.wav")


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_listen_adapts_by_default_and_says_so(cli, tmp_path):
    done = cli("listen", "--source", str(SAMPLE), "--fast")
    assert done.returncode == 0, done.stderr
    stream = events(done.stdout)
    start, stop = stream[0], stream[-1]
    assert start["adaptation"]["mode"] == "adaptive" and start["adaptation"]["n_windows"] == 0
    hops = [e for e in stream if e["type"] == "activation"]
    assert [h["norm_windows"] for h in hops] == list(range(1, len(hops) + 1))
    assert stop["norm_windows"] == len(hops)
    # the default state file is the user's, one per model; the next run continues from it
    state = Path(start["adaptation"]["state"])
    assert state.name == "dae_metric_act.state.json" and json.loads(state.read_text())[
        "n_windows"] == len(hops)  # fmt: skip
    again = events(cli("listen", "--source", str(SAMPLE), "--fast").stdout)
    assert again[0]["adaptation"]["n_windows"] == len(hops)
    assert again[-1]["norm_windows"] == 2 * len(hops)


def test_no_adapt_is_the_old_behaviour(cli):
    done = cli("listen", "--source", str(SAMPLE), "--fast", "--no-adapt")
    stream = events(done.stdout)
    assert stream[0]["adaptation"] == {"mode": "off"}
    assert all("norm_windows" not in e for e in stream)


def test_freeze_uses_the_state_without_updating_it(cli, tmp_path):
    state = tmp_path / "wearer.json"
    cli("listen", "--source", str(SAMPLE), "--fast", "--state", str(state))
    before = state.read_bytes()
    done = cli("listen", "--source", str(SAMPLE), "--fast", "--state", str(state), "--freeze")
    assert done.returncode == 0, done.stderr
    hops = [e for e in events(done.stdout) if e["type"] == "activation"]
    assert {h["norm_windows"] for h in hops} == {json.loads(before)["n_windows"]}
    assert state.read_bytes() == before
    missing = cli("listen", "--source", str(SAMPLE), "--fast", "--freeze", "--state",
                  str(tmp_path / "none.json"))  # fmt: skip
    assert missing.returncode == 2 and "--freeze: no adaptation state" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_a_corrupt_state_is_one_error_event_and_the_stream_goes_on(cli, tmp_path):
    state = tmp_path / "wearer.json"
    state.write_text('{"kind": "serdevice-calibration", "schema": 2, "mean": [')
    done = cli("listen", "--source", str(SAMPLE), "--fast", "--state", str(state))
    assert done.returncode == 0, done.stderr
    stream = events(done.stdout)
    errors = [e for e in stream if e["type"] == "error"]
    assert len(errors) == 1 and errors[0]["fault"] == "state" and errors[0]["recoverable"]
    assert "moved aside" in errors[0]["message"]
    assert stream[-1]["type"] == "stop" and any(e["type"] == "activation" for e in stream)
    assert json.loads(state.read_text())["n_windows"] > 0  # adapting afresh, and kept
    assert len(list(tmp_path.glob("wearer.json.bad-*"))) == 1


def test_conflicting_options_are_refused_in_one_line(cli, tmp_path):
    calib = tmp_path / "c.json"
    both = cli("listen", "--no-adapt", "--freeze", "--source", str(SAMPLE), "--fast")
    assert both.returncode == 2 and "--no-adapt" in both.stderr
    cal = cli("listen", "--calibration", str(calib), "--state", str(calib), "--source",
              str(SAMPLE), "--fast")  # fmt: skip
    assert cal.returncode == 2 and "--calibration" in cal.stderr
    for done in (both, cal):
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_predict_adapt_treats_the_files_as_one_wearer(cli, tmp_path):
    files = [str(VOICE), str(SAMPLE), str(VOICE)]
    alone = [json.loads(line) for line in cli("predict", *files).stdout.splitlines()]
    assert all("norm_windows" not in r for r in alone)
    state = tmp_path / "wearer.json"
    done = cli("predict", "--adapt", "--state", str(state), *files)
    assert done.returncode == 0, done.stderr
    adapted = [json.loads(line) for line in done.stdout.splitlines()]
    heard = [r["norm_windows"] for r in adapted]
    assert heard == [sum(r["n_windows"] for r in adapted[: i + 1]) for i in range(3)]
    assert json.loads(state.read_text())["n_windows"] == heard[-1]
    # the first file from an empty state differs from the same file heard after the others
    assert adapted[0]["activation"] != adapted[2]["activation"]
    # --state seeds the next run: it continues from what the last one heard
    more = [json.loads(line) for line in
            cli("predict", "--adapt", "--state", str(state), str(SAMPLE)).stdout.splitlines()]  # fmt: skip
    assert more[0]["norm_windows"] == heard[-1] + more[0]["n_windows"]
    lone = cli("predict", "--state", str(state), str(SAMPLE))
    assert lone.returncode == 2 and "--state needs --adapt" in lone.stderr

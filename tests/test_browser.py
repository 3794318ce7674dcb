"""The report and the live page in a real browser (headless Chromium from Debian).

Screenshots go to each test's tmp dir. The browser reaches 127.0.0.1 and file:// only.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest
from browser import chromium, missing
from live_listen import served_url, start_listen
from report_events import session_events, write_jsonl

from serdevice.device.stream.audio import read_audio

pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))
SAMPLE = Path(__file__).resolve().parents[1] / "device" / "data" / "sample.wav"
KNOWN_LABELS = ["neutral"] * 4 + ["angry"] * 3 + ["sad"] * 2 + ["neutral"]

# vertices of every drawn line, bands and table rows, as the browser sees the document
COUNT_JS = """
const vertices = (el) => el ? (el.getAttribute('d').match(/-?[0-9.]+,-?[0-9.]+/g) || []).length : 0;
return {svgs: document.querySelectorAll('svg.timeline').length,
        bands: document.querySelectorAll('svg.timeline rect.band').length,
        act: vertices(document.querySelector('path.act')),
        raw: vertices(document.querySelector('path.act-raw')),
        speech: document.querySelectorAll('svg.timeline rect.speech').length,
        rows: document.querySelectorAll('table.summary tr').length - 1,
        width: document.querySelector('svg.timeline').getBoundingClientRect().width};
"""


def render(cli, events: Path, out: Path) -> Path:
    result = cli("report", str(events), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_report_renders_the_expected_points_and_bands(cli, tmp_path):
    known = render(cli, write_jsonl(tmp_path / "known.jsonl", session_events(KNOWN_LABELS)),
                   tmp_path / "known.html")  # fmt: skip
    listened = tmp_path / "sample.jsonl"
    result = cli("listen", "--source", str(SAMPLE), "--fast", "--output", str(listened))
    assert result.returncode == 0, result.stderr
    sample = render(cli, listened, tmp_path / "sample.html")
    n_hops = sum(
        1 for line in listened.read_text().splitlines() if json.loads(line)["type"] == "activation"
    )
    with chromium(tmp_path / "profile") as driver:
        driver.get(known.as_uri())
        counts = driver.execute_script(COUNT_JS)
        assert counts == {"svgs": 1, "bands": 4, "act": 10, "raw": 10, "speech": 1, "rows": 1,
                          "width": counts["width"]}  # fmt: skip
        assert counts["width"] > 500  # drawn, not collapsed
        driver.get(sample.as_uri())
        counts = driver.execute_script(COUNT_JS)
        assert counts["svgs"] == 1 and counts["rows"] == 1 and counts["act"] == n_hops > 10
        assert "Session report" in driver.title
        assert driver.save_screenshot(str(tmp_path / "report.png"))
    assert (tmp_path / "report.png").read_bytes()[:4] == b"\x89PNG"


def wait_for(driver, script: str, timeout_s: float = 20.0):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout_s, poll_frequency=0.02).until(
        lambda d: d.execute_script(script)
    )


def feed_sample(process: subprocess.Popen) -> None:
    """The bundled sample as raw s16le PCM on stdin, then end of input."""
    import numpy as np

    pcm = (np.clip(read_audio(SAMPLE).samples, -1, 1) * 32767).astype("<i2").tobytes()
    assert process.stdin is not None
    for start in range(0, len(pcm), 16000):  # half a second at a time
        process.stdin.write(pcm[start : start + 16000])
        process.stdin.flush()
    process.stdin.close()


def test_live_page_shows_each_new_event(tmp_path):
    process = start_listen("--source", "-", "--rate", "16000", "--serve", "127.0.0.1:0")
    try:
        url = served_url(process)
        assert url.startswith("http://127.0.0.1:")
        with chromium(tmp_path / "profile", width=1400, height=900) as driver:
            driver.get(url)
            wait_for(driver, "return document.body.dataset.lastSeq === '0'")  # the start event
            feeder = threading.Thread(target=feed_sample, args=(process,), daemon=True)
            feeder.start()
            shown_after = []
            assert process.stdout is not None
            for line in process.stdout:
                event = json.loads(line)
                written = time.perf_counter()
                wait_for(driver, f"return +document.body.dataset.lastSeq >= {event['seq']}")
                shown_after.append(time.perf_counter() - written)
            feeder.join()
            state = driver.execute_script(
                "return {state: document.body.dataset.state, hops: +document.body.dataset.hops,"
                " label: document.getElementById('label').textContent,"
                " bands: document.querySelectorAll('#timeline rect.band').length,"
                " act: document.querySelectorAll('#timeline path.act').length}"
            )
            driver.save_screenshot(str(tmp_path / "live.png"))
    finally:
        if process.stdin and not process.stdin.closed:
            process.stdin.close()
        assert process.wait(timeout=60) == 0
    assert len(shown_after) > 20
    assert state["state"] == "stopped" and state["hops"] > 10 and state["act"] == 1
    assert state["label"] in ("neutral", "sad", "happy", "angry") and state["bands"] >= 1
    print(
        f"\nlive page: each event shown {max(shown_after) * 1000:.0f} ms at most after stdout had it"
    )
    assert (tmp_path / "live.png").read_bytes()[:4] == b"\x89PNG"


def test_off_loopback_page_needs_the_token(tmp_path):
    process = start_listen("--source", "-", "--rate", "16000", "--serve", "0.0.0.0:0")
    try:
        url = served_url(process)
        port, token = re.fullmatch(r"http://0\.0\.0\.0:(\d+)/\?token=(\S+)", url).groups()  # type: ignore[union-attr]
        with chromium(tmp_path / "profile") as driver:
            driver.get(f"http://127.0.0.1:{port}/")
            assert "unauthorized" in driver.find_element("tag name", "body").text
            driver.get(f"http://127.0.0.1:{port}/?token={token}")
            wait_for(driver, "return document.body.dataset.lastSeq === '0'")
    finally:
        process.stdin.close()  # type: ignore[union-attr]
        assert process.wait(timeout=60) == 0

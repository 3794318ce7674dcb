"""The live page: from an event written by `listen` to the same event shown in Chromium.

`listen --serve` reads the bundled sample as raw PCM on stdin; for every event it writes on
stdout, the benchmark waits until the page's last shown ``seq`` reaches it. Budget: 1 s (the
issue's "within 1 s of being written"). Skipped where there is no browser.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser import chromium, missing  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "device" / "data" / "sample.wav"


def feed(process: subprocess.Popen, seconds: float) -> None:
    import numpy as np

    from serdevice.device.stream.audio import read_audio

    samples = read_audio(SAMPLE).samples
    pcm = np.clip(np.tile(samples, int(seconds * 16000 / len(samples)) + 1), -1, 1) * 32767
    data = pcm[: int(seconds * 16000)].astype("<i2").tobytes()
    assert process.stdin is not None
    for start in range(0, len(data), 3200):  # 100 ms blocks, as fast as listen takes them
        process.stdin.write(data[start : start + 3200])
    process.stdin.close()


@pytest.mark.skipif(missing() is not None, reason=str(missing()))
def test_live_page_event_to_screen(benchmark, figures, quick, tmp_path):
    seconds = 12.0 if quick else 60.0
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "serdevice.device.cli", "listen", "--source",
                                "-", "--rate", "16000", "--serve", "127.0.0.1:0"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env)  # fmt: skip
    delays: list[float] = []
    try:
        assert process.stderr is not None and process.stdout is not None
        url = re.search(r"(http://\S+)", process.stderr.readline().decode())
        assert url
        with chromium(tmp_path / "profile") as driver:
            from selenium.webdriver.support.ui import WebDriverWait

            driver.get(url.group(1))
            WebDriverWait(driver, 30, poll_frequency=0.01).until(
                lambda d: d.execute_script("return document.body.dataset.lastSeq === '0'"))  # fmt: skip
            threading.Thread(target=feed, args=(process, seconds), daemon=True).start()
            for line in process.stdout:
                seq, written = json.loads(line)["seq"], time.perf_counter()
                WebDriverWait(driver, 30, poll_frequency=0.005).until(
                    lambda d, n=seq: d.execute_script(f"return +document.body.dataset.lastSeq >= {n}"))  # fmt: skip
                delays.append(time.perf_counter() - written)
    finally:
        process.wait(timeout=120)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)  # the figures are the measurement
    delays.sort()
    figures.add("live page: event written -> shown p50", delays[len(delays) // 2] * 1000, "ms")
    figures.add("live page: event written -> shown max", delays[-1] * 1000, "ms", budget=1000.0)
    assert len(delays) > 20

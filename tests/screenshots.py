"""Regenerate docs/report.png and docs/live.png from the bundled sample (`make screenshot`).

The report: `listen --fast` on device/data/sample.wav -> events -> `serdevice report` -> a
headless Chromium screenshot. The live page: `listen --serve 127.0.0.1:0` on the sample in real
time, captured at 9 s of audio (after the angry sentence). Needs chromium, chromium-driver
and selenium (make setup); everything stays on this machine (file:// and 127.0.0.1).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from browser import chromium  # tests/ is on the path: this file is run as a script from there

REPO = Path(__file__).resolve().parents[1]
SAMPLE = "device/data/sample.wav"  # relative: the pictures show no local paths
OUT = REPO / "out" / "screenshots"
SERDEVICE = [sys.executable, "-m", "serdevice.device.cli"]


def viewport(driver, width: int, height: int) -> None:
    """Exactly this many CSS pixels of page in the screenshot (no window decorations)."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def report_png(driver, target: Path) -> None:
    events, html = OUT / "sample-events.jsonl", OUT / "sample-report.html"
    with events.open("w") as stream:
        subprocess.run(
            [*SERDEVICE, "listen", "--source", str(SAMPLE), "--fast"], stdout=stream, check=True
        )
    subprocess.run([*SERDEVICE, "report", str(events), "--out", str(html), "--title",
                    "Session report: bundled sample (synthetic speech)"], check=True)  # fmt: skip
    viewport(driver, 1180, 700)
    driver.get(html.as_uri())
    viewport(driver, 1180, driver.execute_script("return document.documentElement.scrollHeight"))
    driver.save_screenshot(str(target))


def live_png(driver, target: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    process = subprocess.Popen([*SERDEVICE, "listen", "--source", str(SAMPLE), "--serve", "127.0.0.1:0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)  # fmt: skip
    try:
        assert process.stderr is not None and process.stdout is not None
        url = re.search(r"(http://\S+)", process.stderr.readline().decode())
        assert url, "listen did not print the live page's address"
        viewport(driver, 1180, 760)
        driver.get(url.group(1))
        for line in process.stdout:  # real time: wait until 9 s of audio were heard
            event = json.loads(line)
            if event["type"] == "activation" and event["t"] >= 9.0:
                break
        WebDriverWait(driver, 10).until(
            lambda d: d.execute_script(f"return +document.body.dataset.lastSeq >= {event['seq']}")
        )
        driver.save_screenshot(str(target))
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with chromium(OUT / "profile") as driver:
        report_png(driver, REPO / "docs" / "report.png")
        live_png(driver, REPO / "docs" / "live.png")
    for name in ("report.png", "live.png"):
        print(f"wrote docs/{name} ({(REPO / 'docs' / name).stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()

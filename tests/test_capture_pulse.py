"""Real capture: PulseAudio with a null sink, a WAV played into it, `listen --source mic`.

The fixture starts its own PulseAudio daemon (as whoever runs the tests, root included) on a
socket in a temporary folder, makes the null sink's monitor the default source, and stops the
daemon it started, by pid.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pulse import pulse_daemon

SAMPLE = Path(__file__).resolve().parents[1] / "device" / "data" / "sample.wav"


@pytest.fixture
def pulse(tmp_path):
    if shutil.which("pulseaudio") is None or shutil.which("paplay") is None:
        pytest.fail("pulseaudio/paplay missing: `make setup` installs pulseaudio pulseaudio-utils")
    with pulse_daemon(tmp_path, 16000) as env:
        yield env


def activations(stdout: str) -> list[tuple[float, float]]:
    events = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    assert events[0]["type"] == "start" and events[-1]["type"] == "stop"
    return [(e["t"], e["activation"]) for e in events if e["type"] == "activation"]


def test_microphone_capture_matches_the_file(pulse):
    listen = subprocess.Popen(
        [sys.executable, "-m", "serdevice.device.cli", "listen", "--source", "mic", "--device",
         "pulse", "--duration", "16"],
        env={**pulse, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert listen.stdout is not None
    first = listen.stdout.readline()  # the stream is open once `start` is out
    assert json.loads(first)["source"] == "mic:pulse"
    time.sleep(1.0)  # PortAudio's first callback can take a moment
    subprocess.run(["paplay", "--device=capture", str(SAMPLE)], env=pulse, check=True, timeout=60)
    out, err = listen.communicate(timeout=60)
    assert listen.returncode == 0, err
    captured = activations(first + out)
    from_file = activations(subprocess.run(
        [sys.executable, "-m", "serdevice.device.cli", "listen", "--source", str(SAMPLE), "--fast"],
        capture_output=True, text=True, check=True).stdout)  # fmt: skip
    assert len(captured) >= 0.7 * len(from_file)
    # the same shape: an angry (high) middle above a sad (lower) end, whatever the capture lag
    # (the bundled models learned real voices and hear espeak-ng's as aroused throughout, so the
    # shape is asserted, not the synthetic levels: real-speaker-v2 spans 4.22-4.42 on the file)
    for series in (captured, from_file):
        values = [a for _, a in series]
        assert max(values) - min(values) > 0.1
    assert abs(max(a for _, a in captured) - max(a for _, a in from_file)) < 0.5


class EventReader:
    """Collects a running process's JSONL events (and its stderr) on threads; ``wait_for`` polls
    them. The only reader of both pipes: ``communicate()`` beside it would take lines from it."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.events: list[dict] = []
        self._proc = proc
        self._stderr: list[str] = []
        self._threads = [threading.Thread(target=self._read, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]  # fmt: skip
        for thread in self._threads:
            thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            if line.strip():
                self.events.append(json.loads(line))

    def _read_stderr(self) -> None:
        assert self._proc.stderr is not None
        self._stderr.append(self._proc.stderr.read())

    def finish(self, timeout: float = 30.0) -> str:
        """Wait for the process to exit and both pipes to end; its stderr."""
        self._proc.wait(timeout=timeout)
        for thread in self._threads:
            thread.join(timeout)
        return "".join(self._stderr)

    def wait_for(self, test, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in list(self.events):
                if test(event):
                    return event
            time.sleep(0.1)
        raise AssertionError(
            f"no such event within {timeout} s: {[e['type'] for e in self.events]}"
        )


def test_capture_device_lost_and_back_resumes_the_stream(pulse, tmp_path):
    import soundfile

    audio, rate = soundfile.read(SAMPLE, dtype="float32")
    clip = tmp_path / "speech.wav"
    soundfile.write(clip, audio[: 6 * rate], rate)  # 6 s of the (synthetic) sample's speech
    listen = subprocess.Popen(
        [sys.executable, "-m", "serdevice.device.cli", "listen", "--source", "mic", "--device",
         "pulse"],
        env={**pulse, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    reader = EventReader(listen)
    try:
        reader.wait_for(lambda e: e["type"] == "start")
        time.sleep(1.0)
        subprocess.run(["paplay", "--device=capture", str(clip)], env=pulse, check=True, timeout=60)
        reader.wait_for(lambda e: e["type"] == "activation")

        subprocess.run(["pactl", "unload-module", "module-null-sink"], env=pulse, check=True)
        error = reader.wait_for(lambda e: e["type"] == "error")
        assert error["fault"] == "capture_lost" and "reconnecting" in error["message"]
        lost = reader.wait_for(lambda e: e["type"] == "stats" and e.get("capture") == "lost")
        assert lost["reconnects"] == 1
        time.sleep(2.0)  # the device stays away a while

        subprocess.run(["pactl", "load-module", "module-null-sink", "sink_name=capture",
                        "rate=16000", "channels=1"], env=pulse, check=True, capture_output=True)  # fmt: skip
        subprocess.run(["pactl", "set-default-source", "capture.monitor"], env=pulse, check=True)
        back = reader.wait_for(lambda e: e["type"] == "stats" and e.get("capture") == "resumed")
        assert back["gap_s"] >= 2.0
        time.sleep(1.0)
        subprocess.run(["paplay", "--device=capture", str(clip)], env=pulse, check=True, timeout=60)
        reader.wait_for(lambda e: e["type"] == "activation" and e["seq"] > back["seq"])
    finally:
        listen.send_signal(signal.SIGINT)
        err = reader.finish(timeout=30)
    assert listen.returncode == 0, err
    assert reader.events[-1]["type"] == "stop" and reader.events[-1]["reason"] == "interrupted"
    assert reader.events[-1]["reconnects"] == 1
    assert "Traceback" not in err

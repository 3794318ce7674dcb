"""Faults the companion must survive: a full disk under --output, signals at any moment.

A capture device that goes away and returns is in test_capture_pulse.py (real PulseAudio), a
broker that goes away and returns in test_mqtt.py (real mosquitto).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
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


LISTEN = [sys.executable, "-m", "serdevice.device.cli", "listen"]
UNBUFFERED = {**os.environ, "PYTHONUNBUFFERED": "1"}


def stopped_cleanly(proc: subprocess.Popen[str], first: str) -> list[dict]:
    """The whole stream of a process that was signalled: exit 0, start ... stop, no traceback."""
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    stream = [json.loads(line) for line in (first + out).splitlines()]
    assert stream[0]["type"] == "start" and stream[-1]["type"] == "stop"
    assert [e["type"] for e in stream].count("stop") == 1
    return stream


@pytest.mark.parametrize(
    ("signum", "after_s"),
    [(signal.SIGINT, 0.0), (signal.SIGTERM, 0.0), (signal.SIGINT, 0.7), (signal.SIGTERM, 2.1),
     (signal.SIGINT, 2.5), (signal.SIGTERM, 4.3)],
)  # fmt: skip
def test_a_signal_at_any_moment_ends_with_stop_and_exit_0(signum, after_s):
    """Right after start, before the first window, while windows are being processed."""
    proc = subprocess.Popen([*LISTEN, "--source", str(SAMPLE)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=UNBUFFERED)  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()
    time.sleep(after_s)
    proc.send_signal(signum)
    stream = stopped_cleanly(proc, first)
    reason = "interrupted" if signum == signal.SIGINT else "terminated"
    assert stream[-1]["reason"] == reason
    assert stream[-1]["audio_s"] < after_s + 3  # it stopped soon, not at the end of the file


def test_a_signal_ends_a_silent_stdin_stream():
    """The producer sends 3 s of PCM, then nothing (pipe open): SIGTERM must not wait for it."""
    proc = subprocess.Popen([*LISTEN, "--source", "-", "--rate", "16000"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=UNBUFFERED)  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    tone = (3000 * np.sin(np.arange(48_000) * 0.05)).astype("<i2").tobytes()
    os.write(proc.stdin.fileno(), tone)
    first = proc.stdout.readline()
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=5)  # stdin still open: communicate() would close it and end the stream
    stream = stopped_cleanly(proc, first)
    assert stream[-1]["reason"] == "terminated" and stream[-1]["audio_s"] == pytest.approx(3.0)


def test_a_signal_during_set_up_is_kept_until_the_stream_exists():
    """Handlers go in first; a signal before the listener exists stops it as soon as it does."""
    from serdevice.device.commands.listen import StopRequest

    class Target:
        stopped: str | None = None

        def stop(self, reason: str | None = None) -> None:
            self.stopped = reason or "stopped"

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        request = StopRequest()
        os.kill(os.getpid(), signal.SIGTERM)  # while "loading the model"
        listener, audio = Target(), Target()
        request.attach(listener, audio)
        assert listener.stopped == "terminated" and audio.stopped == "stopped"
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def test_waiting_for_a_lost_device_backs_off_and_keeps_the_watchdog_fed(monkeypatch):
    """No PortAudio here: the reopen fails twice, then works; the wait pings about every second."""
    from serdevice.device.stream import microphone as sources
    from serdevice.device.stream.contracts import RuntimeFailure

    monkeypatch.setattr(sources, "find_input_device",
                        lambda spec: (0, {"name": "usb mic", "default_samplerate": 48000}))  # fmt: skip
    mic = sources.MicSource("usb")
    mic.BACKOFF_S = (0.5, 1.5)
    attempts: list[float] = []

    def reopen():
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise RuntimeFailure("cannot open capture device mic:usb mic")
        return "stream"

    pings: list[float] = []
    monkeypatch.setattr(mic, "_reopen", reopen)
    mic.on_waiting = lambda: pings.append(time.monotonic())
    started = time.monotonic()
    assert mic._wait_for_device() == "stream"
    gaps = np.diff([started, *attempts])
    assert gaps == pytest.approx([0.5, 1.5, 1.5], abs=0.2)  # backoff, then its last step
    # About every second; 2 s allows for a loaded machine, far inside systemd's WatchdogSec=30.
    assert len(pings) >= 5 and np.max(np.diff([started, *pings, attempts[-1]])) <= 2.0

    mic.stop()  # a stopped source stops waiting at once
    assert mic._wait_for_device() is None


def test_overflows_and_a_reader_left_behind_are_counted(monkeypatch):
    """PortAudio's overflow flag counts as an xrun; a reader a whole ring behind drops the oldest."""
    from serdevice.device.stream import microphone as sources

    monkeypatch.setattr(sources, "find_input_device",
                        lambda spec: (0, {"name": "usb mic", "default_samplerate": 16000}))  # fmt: skip
    mic = sources.MicSource("usb", ring_s=1.0)
    block = np.full((1600, 1), 0.1, dtype=np.float32)
    mic.store(block, True)  # PortAudio's read said the input overflowed
    mic.store(block, False)
    assert mic.stats.overflows == 1

    class Capture:
        lost = None

    for _ in range(10):  # 1.1 s more than the 1 s ring: the reader fell behind
        mic.store(block, False)
    chunk = next(mic._drain(Capture(), sources.resampler_for(16000, live=True)))
    assert mic.stats.dropped_chunks == 1 and len(chunk) == 16000  # one ring's worth, newest

"""A PulseAudio daemon of the tests' own, with a null sink: the microphone without hardware.

Used by tests/test_capture_pulse.py and benchmarks/bench_mic.py. The daemon runs as whoever
runs the tests (root included) on a socket in a temporary folder, the null sink's monitor is
the default source, and it is stopped by pid.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def pulse_daemon(folder: Path, rate: int) -> Iterator[dict[str, str]]:
    """A PulseAudio daemon with a null sink at ``rate``; yields the environment that reaches it."""
    env = {**os.environ, "XDG_RUNTIME_DIR": str(folder), "HOME": str(folder),
           "PULSE_SERVER": f"unix:{folder}/native"}  # fmt: skip
    daemon = subprocess.Popen(
        ["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "-n", "--use-pid-file=no",
         "--disable-shm=yes", "--log-target=stderr", "--log-level=error",
         f"--load=module-native-protocol-unix socket={folder}/native auth-anonymous=1",
         f"--load=module-null-sink sink_name=capture rate={rate} channels=1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode != 0:
            if time.monotonic() > deadline or daemon.poll() is not None:
                pytest.fail("PulseAudio did not start")
            time.sleep(0.1)
        subprocess.run(["pactl", "set-default-source", "capture.monitor"], env=env, check=True)
        yield env
    finally:
        daemon.terminate()  # the daemon started here, by pid
        daemon.wait(timeout=10)

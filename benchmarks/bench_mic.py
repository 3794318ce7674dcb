"""listen --source mic on a PulseAudio null sink at 48 and 16 kHz: window end -> event latency.

A PulseAudio daemon of its own (a socket in a temporary folder; stopped by pid) with a null sink
at the rate, its monitor the default source; ``serdevice listen --source mic --device pulse``
captures it while paplay plays the bundled sample (repeated) into the sink in real time. The
events' own ``latency_ms`` (the window's last sample reaching the loop -> its events written)
is judged against openSMILE's look-ahead, the floor: p99 <= floor + 40 ms. Skips where
pulseaudio or paplay is missing (``make setup`` installs them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from serdevice.device.benchmark import bench_signal, lookahead_ms
from serdevice.device.stream.audio import resample
from serdevice.device.stream.contracts import SAMPLE_RATE

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test servers
from pulse import pulse_daemon  # noqa: E402

PULSE_RATES = (48000, 16000)
OVER_FLOOR_P99_MS = 40.0


def mic_latencies(env: dict[str, str], signal: np.ndarray, rate: int,
                  folder: Path) -> tuple[list[float], float]:  # fmt: skip
    """``listen --source mic`` while ``signal`` (16 kHz) plays into the sink at ``rate``: the
    activation events' latencies and listen's CPU per audio-second (ms) while it played."""
    import soundfile

    wav = folder / f"played-{rate}.wav"
    soundfile.write(str(wav), resample(signal, SAMPLE_RATE, rate), rate, subtype="PCM_16")
    seconds = len(signal) / SAMPLE_RATE
    listen = subprocess.Popen(
        [sys.executable, "-m", "serdevice.device.cli", "listen", "--source", "mic", "--device",
         "pulse", "--duration", f"{seconds + 3:g}", "--state", str(folder / f"{rate}.state.json")],
        env={**env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert listen.stdout is not None
    first = listen.stdout.readline()  # the stream is open once `start` is out
    time.sleep(1.0)  # PortAudio's first callback can take a moment
    cpu_s = process_cpu_s(listen.pid)
    subprocess.run(["paplay", "--device=capture", str(wav)], env=env, check=True,
                   timeout=seconds + 30)  # fmt: skip
    cpu_ms = 1000 * (process_cpu_s(listen.pid) - cpu_s) / seconds
    out, err = listen.communicate(timeout=60)
    assert listen.returncode == 0, err
    events = [json.loads(line) for line in (first + out).splitlines() if line.strip()]
    return [e["latency_ms"] for e in events if e["type"] == "activation"], cpu_ms


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process, its threads included (/proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(shutil.which("pulseaudio") is None or shutil.which("paplay") is None,
                    reason="pulseaudio/paplay missing (make setup installs them)")  # fmt: skip
def test_microphone_latency_on_a_pulseaudio_null_sink(figures, quick, tmp_path):
    signal = bench_signal(8.0 if quick else 30.0)
    floor = lookahead_ms(signal, windows=3 if quick else 8)["latency_floor_ms"]
    figures.add("mic: latency_floor_ms", floor, "ms")
    for rate in PULSE_RATES:
        folder = tmp_path / str(rate)
        folder.mkdir()
        with pulse_daemon(folder, rate) as env:
            latencies, cpu_ms = mic_latencies(env, signal, rate, folder)
        assert len(latencies) > 5, f"{rate} Hz: {len(latencies)} activation events"
        figures.add(f"mic {rate} Hz: latency_ms_p50", float(np.percentile(latencies, 50)), "ms")
        figures.add(f"mic {rate} Hz: latency_ms_p99", float(np.percentile(latencies, 99)), "ms",
                    budget=floor + OVER_FLOOR_P99_MS)  # fmt: skip
        figures.add(f"mic {rate} Hz: cpu_ms_per_audio_s", cpu_ms, "ms/audio-s")

"""Soak: long audio through `listen` on stdin, checking memory, threads, fds and event counts.

The audio is a 30 s block (espeak-ng speech repeated with varying gain, silences between) fed
SERDEVICE_SOAK_MINUTES long (default 10; `make soak` runs 60) as s16le PCM on stdin, so no big
file is written. Because the block is a whole number of hops and every utterance ends in a
silence that closes the speech gate, each block must give the same events as the second block
of a two-block reference run. RSS, threads and open fds are read from /proc after the first
minute (warm) and at the end: RSS may grow at most 2 MB, threads and fds not at all.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

MINUTES = float(os.environ.get("SERDEVICE_SOAK_MINUTES", "10"))
BLOCK_S = 30.0  # a whole number of 0.5 s hops
RATE = 16000
MAX_RSS_GROWTH_KB = 2048
SENTENCES = [
    ("The children played in the garden all afternoon.", 40, 150, 1.0),
    ("Stop that right now, I told you already!", 80, 210, 0.6),
    ("I miss my grandmother very much.", 20, 110, 0.3),
]
STEADY = ("activation", "emotion", "speech_start", "speech_end")


def speak(text: str, pitch: int, speed: int) -> np.ndarray:
    """One espeak-ng sentence as 16 kHz float32."""
    import soundfile as sf
    import soxr

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "s.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), "-p", str(pitch), "-s", str(speed), text],
                       check=True, capture_output=True)  # fmt: skip
        audio, rate = sf.read(wav, dtype="float32")
    return np.asarray(soxr.resample(audio, rate, RATE), dtype=np.float32)


def make_block() -> bytes:
    """BLOCK_S of s16le PCM: each sentence at its gain, then 3.5 s of near-silence."""
    parts, gap = [], np.zeros(int(3.5 * RATE), np.float32)
    for text, pitch, speed, gain in SENTENCES:
        parts += [gain * speak(text, pitch, speed), gap]
    block = np.concatenate(parts)
    assert len(block) <= BLOCK_S * RATE, "the sentences no longer fit in one block"
    block = np.pad(block, (0, int(BLOCK_S * RATE) - len(block)))
    dither = np.random.default_rng(0).normal(0, 1e-4, len(block)).astype(np.float32)
    return (np.clip(block + dither, -1, 1) * 32767).astype("<i2").tobytes()


def proc_figures(pid: int) -> dict[str, int]:
    """RSS (kB), threads and open fds of a running process."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in status if ":" in line)
    return {"rss_kb": int(fields["VmRSS"].split()[0]), "threads": int(fields["Threads"]),
            "fds": len(os.listdir(f"/proc/{pid}/fd"))}  # fmt: skip


def listen_cmd() -> list[str]:
    # --no-adapt: every block must give the same events, which an adapting device (whose
    # statistics move as it hears the same block again) does not; its memory is 88-vectors.
    return [sys.executable, "-m", "serdevice.device.cli", "listen", "--source", "-", "--rate",
            str(RATE), "--fast", "--no-adapt"]  # fmt: skip


def per_block(events: list[dict]) -> list[Counter[str]]:
    """Counts of the steady event types by the block their window ends in."""
    blocks: dict[int, Counter[str]] = {}
    for e in events:
        if e["type"] in STEADY:
            index = int((e["t"] - 1e-6) // BLOCK_S)
            blocks.setdefault(index, Counter())[e["type"]] += 1
    return [blocks.get(i, Counter()) for i in range(max(blocks, default=-1) + 1)]


def soak(block: bytes, n_blocks: int) -> tuple[list[dict], list[dict[str, int]]]:
    """Stream ``n_blocks`` blocks; the events, and /proc figures after each block."""
    process = subprocess.Popen(listen_cmd(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    trace = []
    for _ in range(n_blocks):
        process.stdin.write(block)  # blocks while listen is busy: the pipe paces us
        process.stdin.flush()
        trace.append(proc_figures(process.pid))
    process.stdin.close()
    stderr = process.stderr.read() if process.stderr else b""
    assert process.wait(timeout=600) == 0, stderr.decode()
    reader.join()
    return [json.loads(line) for line in lines], trace


@pytest.fixture(scope="module")
def block() -> bytes:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (make setup installs it)")
    return make_block()


def test_soak(block):
    n_blocks = max(3, round(MINUTES * 60 / BLOCK_S))
    reference, _ = soak(block, 2)
    expected = per_block(reference)
    assert len(expected) == 2 and expected[1]["activation"] > 0, expected
    events, trace = soak(block, n_blocks)
    warm, end = trace[min(n_blocks - 2, round(60 / BLOCK_S) - 1)], trace[-1]
    every = max(1, len(trace) // 12)
    print("\nRSS MB by minute: " + ", ".join(
        f"{(i + 1) * BLOCK_S / 60:g}: {f['rss_kb'] / 1024:.1f}" for i, f in enumerate(trace)
        if (i + 1) % every == 0))  # fmt: skip
    counts = per_block(events)
    stop = events[-1]
    growth = end["rss_kb"] - warm["rss_kb"]
    print(f"soak: {n_blocks * BLOCK_S / 60:.0f} min of audio, {len(events)} events, "
          f"RSS {warm['rss_kb'] / 1024:.1f} -> {end['rss_kb'] / 1024:.1f} MB "
          f"({growth:+d} kB), threads {warm['threads']} -> {end['threads']}, "
          f"fds {warm['fds']} -> {end['fds']}, cpu {stop['cpu_s']:.1f} s")  # fmt: skip
    assert stop["type"] == "stop" and stop["audio_s"] == pytest.approx(n_blocks * BLOCK_S)
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert counts[0] == expected[0]
    different = [i for i in range(1, n_blocks) if counts[i] != expected[1]]
    assert not different, f"blocks {different[:5]} differ: {counts[different[0]]} vs {expected[1]}"
    assert sum(e["type"] == "stats" for e in events) == int(n_blocks * BLOCK_S // 30)
    assert growth <= MAX_RSS_GROWTH_KB
    assert end["threads"] == warm["threads"] and end["fds"] == warm["fds"]

"""Streaming eGeMAPS: agreement with batch, chunk-size invariance, timing, bounds, threads."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import soundfile as sf

from serdevice.device.stream.audio import read_audio
from serdevice.device.stream.contracts import FEATURE_NAMES, N_FEATURES, SAMPLE_RATE
from serdevice.device.stream.features import StreamingEgemaps, extract_windows
from serdevice.device.stream.windowing import Windowing


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> np.ndarray:
    """About 7 s of espeak-ng speech at 16 kHz (synthetic, but real speech structure)."""
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    text = "The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore."
    subprocess.run(["espeak-ng", "-v", "en", "-s", "150", "-w", str(path), text], check=True)
    return read_audio(path).samples


def stream_in_chunks(signal: np.ndarray, sizes) -> np.ndarray:
    with StreamingEgemaps() as stream:
        start = 0
        for size in sizes:
            if start >= len(signal):
                break
            stream.push(signal[start : start + size])
            start += size
        stream.push(signal[start:])
    return np.stack([row.values for row in stream.drain()])


def test_feature_names_are_opensmiles_own():
    import opensmile

    smile = opensmile.Smile(opensmile.FeatureSet.eGeMAPSv02, opensmile.FeatureLevel.Functionals)
    assert list(FEATURE_NAMES) == smile.feature_names
    assert N_FEATURES == 88


def test_streaming_rows_match_batch_window_rows(speech, tmp_path):
    from serdevice.train.features_batch import extract_table

    sf.write(tmp_path / "s.wav", speech, SAMPLE_RATE)
    batch = extract_table([tmp_path / "s.wav"], level="window", progress=False)
    rows = extract_windows(speech)
    assert len(rows) == len(batch) >= 8
    streamed = np.stack([r.values for r in rows])
    offline = batch[list(FEATURE_NAMES)].to_numpy()
    rel = np.abs(streamed - offline) / (np.abs(offline) + 1e-6)
    assert np.median(rel) <= 0.02
    np.testing.assert_allclose([r.t_end for r in rows], batch["end_s"].to_numpy())


def test_rows_do_not_depend_on_chunk_size(speech):
    short = speech[: int(3.2 * SAMPLE_RATE)]  # chunk size 1 is slow in Python: keep it short
    reference = stream_in_chunks(short, [len(short)])
    assert reference.shape == (3, N_FEATURES)
    for size in (1, 160, 1600, 16000):
        np.testing.assert_array_equal(stream_in_chunks(short, [size] * len(short)), reference)
    rng = np.random.default_rng(7)
    random_sizes = rng.integers(0, 5000, size=len(short)).tolist()
    np.testing.assert_array_equal(stream_in_chunks(short, random_sizes), reference)


def test_t_end_is_the_window_end_on_the_audio_clock(speech):
    rows = extract_windows(speech, Windowing(2.0, 0.5))
    assert [r.t_end for r in rows[:4]] == [2.0, 2.5, 3.0, 3.5]
    rows = extract_windows(speech, Windowing(1.0, 0.25))
    assert [r.t_end for r in rows[:3]] == [1.0, 1.25, 1.5]
    assert rows[-1].t_end <= len(speech) / SAMPLE_RATE


def test_rows_are_finite_float32(speech):
    rows = extract_windows(speech)
    values = np.stack([r.values for r in rows])
    assert values.dtype == np.float32 and np.isfinite(values).all()


@pytest.mark.parametrize("seconds", [0.0, 0.3, 1.9])
def test_input_shorter_than_a_window_gives_no_rows_and_no_error(seconds):
    signal = np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)
    assert extract_windows(signal) == []


def test_a_reused_clip_extractor_gives_a_fresh_instances_rows(speech):
    """predict reuses one openSMILE per thread for short clips (reset between them)."""
    from serdevice.device.stream.features import ClipExtractor, _whole_row

    clips = [speech[: int(s * SAMPLE_RATE)] for s in (0.6, 1.9, 1.0)] + [speech[8000:20000]]
    extractor = ClipExtractor()
    for clip in clips + clips[:1]:  # a second pass: nothing carries over between clips
        reused, fresh = extractor(clip), _whole_row(clip)
        assert reused is not None and fresh is not None
        assert reused.t_end == fresh.t_end == round(len(clip) / SAMPLE_RATE, 6)
        np.testing.assert_array_equal(reused.values, fresh.values)
    assert extractor(np.zeros(0, dtype=np.float32)) is None


def test_fed_as_live_sources_feed_it_each_row_comes_without_later_audio(speech):
    """Chunks that end where ``Windowing.next_cut`` says (as a paced file or a microphone delivers them)
    bring each window's row once openSMILE's look-ahead is in: no window waits for a later
    chunk (the old 100 ms blocks held most windows back ~100 ms)."""
    from serdevice.device.stream.windowing import LOOKAHEAD_S

    rows = threading.Semaphore(0)
    pushed = 0
    with StreamingEgemaps(on_row=lambda row: rows.release()) as stream:
        for end in (2.0, 2.5, 3.0):
            first = round((end + LOOKAHEAD_S) * SAMPLE_RATE)
            while True:
                cut = stream.windowing.next_cut(
                    rows=stream.rows_emitted, written=stream.written, pushed=pushed
                )
                assert cut > pushed
                stream.push(speech[pushed:cut])
                pushed = cut
                if pushed >= first and rows.acquire(timeout=1.0):  # ms, unless it cannot yet
                    break
                assert pushed <= first + 0.2 * SAMPLE_RATE, f"no row for the window ending {end}"
            assert pushed < (end + 0.5) * SAMPLE_RATE  # long before the next window's end


def test_callback_receives_rows_on_the_opensmile_thread(speech):
    seen: list[tuple[float, str]] = []
    with StreamingEgemaps(on_row=lambda r: seen.append((r.t_end, threading.current_thread().name))):
        pass
    assert seen == []
    with StreamingEgemaps(
        on_row=lambda r: seen.append((r.t_end, threading.current_thread().name))
    ) as s:
        s.push(speech)
    assert len(seen) == s.rows_emitted > 0
    assert {name for _, name in seen} == {"opensmile"}


def test_close_mid_stream_leaves_no_thread_and_is_idempotent(speech):
    before = set(threading.enumerate())
    stream = StreamingEgemaps()
    stream.push(speech[:SAMPLE_RATE])
    stream.close()
    stream.close()
    assert set(threading.enumerate()) == before


def test_ten_minutes_of_streamed_audio_keep_rss_flat():
    code = textwrap.dedent(
        """
        import resource, numpy as np
        from serdevice.device.stream.features import StreamingEgemaps

        def rss_mb():
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024

        rng = np.random.default_rng(0)
        t = np.arange(16000) / 16000
        second = (0.3 * np.sin(2 * np.pi * 180 * t * (1 + 0.05 * np.sin(6 * t)))
                  + 0.02 * rng.standard_normal(16000)).astype(np.float32)
        marks = []
        with StreamingEgemaps(on_row=lambda row: None) as stream:
            for s in range(600):
                stream.push(second)
                if s in (60, 599):
                    marks.append(rss_mb())
        print(marks[0], marks[1], stream.rows_emitted)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    early, late, rows = map(float, out.stdout.split())
    assert rows >= 1190
    assert late - early < 5.0, f"RSS grew from {early:.1f} to {late:.1f} MB over 9 minutes"

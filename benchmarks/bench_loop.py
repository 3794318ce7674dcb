"""The device loop against its budgets (the same code as `serdevice bench`)."""

from __future__ import annotations

from serdevice.device.benchmark import (
    bench_signal,
    import_ms,
    invoke_us,
    lookahead_ms,
    loop,
    naive_ms,
    realtime,
    realtime_by_rate,
)
from serdevice.device.commands.bench import BUDGETS, OVER_FLOOR_MS, budget


def test_device_loop_figures(benchmark, figures, quick):
    signal = bench_signal(20.0 if quick else 60.0)
    naive = naive_ms(signal)
    measured = loop(signal, "dae_metric_act")
    benchmark.pedantic(loop, args=(signal[: 16000 * 5], "dae_metric_act"), rounds=1, iterations=1)
    measured.update(naive_features_ms_per_audio_s=naive, invoke_us_p50=invoke_us("dae_metric_act"),
                    import_ms=import_ms())  # fmt: skip
    measured["loop_over_naive"] = measured["loop_ms_per_audio_s"] / naive
    for key in ("loop_ms_per_audio_s", "naive_features_ms_per_audio_s", "loop_over_naive", "rtf",
                "row_to_event_ms_p50", "row_to_event_ms_p99", "invoke_us_p50", "import_ms"):  # fmt: skip
        unit, limit = BUDGETS[key]
        figures.add(f"loop: {key}", measured[key], unit, budget=limit)
    assert measured["speech_windows"] > 0  # the loop really ran the model


def test_window_end_to_event_in_real_time(figures, quick):
    """listen on a file played in real time: the events' own latency_ms (window end -> written),
    CPU per audio-second, and openSMILE's look-ahead, the floor under that latency."""
    signal = bench_signal(10.0 if quick else 30.0)
    measured = {**realtime(signal, "dae_metric_act"),
                **lookahead_ms(signal, windows=3 if quick else 8)}  # fmt: skip
    for key in ("latency_ms_p50", "latency_ms_p99", "realtime_cpu_ms_per_audio_s",
                "lookahead_ms_min", "lookahead_ms_max"):  # fmt: skip
        figures.add(f"real time: {key}", measured[key], BUDGETS[key][0],
                    budget=budget(key, measured["latency_floor_ms"]))  # fmt: skip
    assert measured["lookahead_ms_min"] >= 50  # openSMILE cannot close a window before its frames


def test_window_end_to_event_at_every_source_rate(figures, quick):
    """The same in real time from a file at 16, 22.05, 44.1 and 48 kHz (listen's resampler in the
    path): p50 within 10 ms and p99 within 25 ms of the floor (openSMILE's look-ahead)."""
    signal = bench_signal(8.0 if quick else 30.0)
    floor = lookahead_ms(signal, windows=3 if quick else 8)["latency_floor_ms"]
    figures.add("real time: latency_floor_ms", floor, "ms")
    rates = (16000, 48000) if quick else (16000, 22050, 44100, 48000)
    measured = realtime_by_rate(signal, "dae_metric_act", rates)
    for rate in rates:
        for key in OVER_FLOOR_MS:
            figures.add(f"real time {rate} Hz: {key}", measured[f"{key}_{rate}hz"], "ms",
                        budget=budget(f"{key}_{rate}hz", floor))  # fmt: skip
        figures.add(f"real time {rate} Hz: realtime_cpu_ms_per_audio_s",
                    measured[f"realtime_cpu_ms_per_audio_s_{rate}hz"], "ms/audio-s")  # fmt: skip


def test_listen_peak_rss_in_a_fresh_process(figures):
    import subprocess
    import sys

    from serdevice.device.benchmark import SAMPLE

    # A wrapper process runs listen as its only child, so RUSAGE_CHILDREN is listen's alone.
    code = (
        "import resource, subprocess, sys; subprocess.run([sys.executable, '-m', "
        f"'serdevice.device.cli', 'listen', '--source', {str(SAMPLE)!r}, '--fast'], check=True, "
        "capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    figures.add("listen: peak RSS (full venv)", float(out.stdout), "MB", budget=100.0)

"""``serdevice bench``: the device budgets, measured on this machine (run it on the Pi)."""

from __future__ import annotations

import json
import re

import click

from ..stream.model import DEFAULT_MODEL

BUDGETS = {
    "features_ms_per_audio_s": ("ms/audio-s", None),
    "naive_features_ms_per_audio_s": ("ms/audio-s", None),
    "loop_ms_per_audio_s": ("ms/audio-s", None),
    "loop_over_naive": ("ratio", 0.35),
    "rtf": ("x real time", 0.03),
    "realtime_cpu_ms_per_audio_s": ("ms/audio-s", None),
    "latency_ms_p50": ("ms", None),  # judged against the floor: budget() below
    "latency_ms_p99": ("ms", None),
    "lookahead_ms_min": ("ms", None),
    "lookahead_ms_max": ("ms", None),
    "latency_floor_ms": ("ms", None),
    "row_to_event_ms_p50": ("ms", 3.0),
    "row_to_event_ms_p99": ("ms", 15.0),
    "invoke_us_p50": ("us", 5.0),
    "import_ms": ("ms", None),
    "rss_mb": ("MB", 100.0),
}
# Window end -> event at each source rate, against the floor (openSMILE's look-ahead): a file in
# real time within +10 ms (p50) and +25 ms (p99) of it.
OVER_FLOOR_MS = {"latency_ms_p50": 10.0, "latency_ms_p99": 25.0}


def budget(key: str, floor_ms: float) -> float | None:
    """A figure's budget: latency (``latency_ms_p50``, ``latency_ms_p99_48000hz`` ...) is judged
    against the floor, the rest against BUDGETS."""
    figure = re.sub(r"_\d+hz$", "", key)  # the same figure at one source rate
    if figure in OVER_FLOOR_MS:
        return floor_ms + OVER_FLOOR_MS[figure]
    return BUDGETS[key][1]


@click.command()
@click.option(
    "--seconds",
    type=click.FloatRange(5, 3600),
    default=60.0,
    show_default=True,
    help="Length of the test signal (the bundled synthetic sample, repeated).",
)
@click.option(
    "--realtime-seconds",
    type=click.FloatRange(5, 3600),
    default=20.0,
    show_default=True,
    help="Seconds of it played in real time, for window end -> event latency.",
)
@click.option("--rates", default="16000,22050,44100,48000", show_default=True,
              metavar="HZ,HZ,...",
              help="Source rates the real-time run is played at (the signal resampled to each, "
              "then back to 16 kHz by listen's own resampler, as a microphone's audio is).")  # fmt: skip
@click.option("--model", "model_name", default=DEFAULT_MODEL, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench(seconds: float, realtime_seconds: float, rates: str, model_name: str,
          as_json: bool) -> None:  # fmt: skip
    """Measure features, loop CPU, real-time factor, latency, invoke time and memory.

    latency_ms is window end -> events written with the audio played in real time (what the
    wearer waits); its floor is openSMILE's look-ahead (lookahead_ms). row_to_event_ms is the
    part after openSMILE hands over a window's features. latency_ms_p50_48000hz ... are the same
    at each of --rates, judged against latency_floor_ms (+10 ms p50, +25 ms p99).
    """
    from ..benchmark import run_all

    rate_list = _rates(rates)
    figures = run_all(seconds=seconds, realtime_s=realtime_seconds, model_name=model_name,
                      rates=rate_list)  # fmt: skip
    if as_json:
        click.echo(json.dumps({k: round(v, 4) for k, v in figures.items()}))
        return
    click.echo(f"{'figure':<31} {'value':>10}  {'unit':<12} {'budget':>8}  ok")
    floor = figures["latency_floor_ms"]
    rows = [(key, unit) for key, (unit, _) in BUDGETS.items()]
    rows += [(f"{key}_{rate}hz", "ms") for rate in rate_list for key in OVER_FLOOR_MS]
    for key, unit in rows:
        value, limit = figures[key], budget(key, floor)
        ok = "" if limit is None else ("yes" if value <= limit else "NO")
        shown = "" if limit is None else f"<={limit:g}"
        click.echo(f"{key:<31} {value:>10.3f}  {unit:<12} {shown:>8}  {ok}")


def _rates(text: str) -> tuple[int, ...]:
    """``16000,48000`` -> (16000, 48000); one clear error for anything else."""
    from ..stream.contracts import InputError

    try:
        rates = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise InputError(
            f"--rates: expected comma-separated sample rates in Hz, got {text!r}"
        ) from None
    if not rates or any(not 8000 <= rate <= 192000 for rate in rates):
        raise InputError(f"--rates {text}: each rate must be 8000-192000 Hz")
    return rates

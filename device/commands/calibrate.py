"""``serdevice calibrate``: the wearer's speech statistics (never audio) for ``listen --calibration``."""

from __future__ import annotations

import signal
from pathlib import Path

import click

from ..stream.calibration import DEFAULT_PRIOR_WINDOWS
from ..stream.contracts import InputError
from ..stream.gate import GateConfig
from ..stream.model import DEFAULT_MODEL
from .options import vad_aggressiveness_option

DEFAULT_MIC_MINUTES = 5.0


@click.command()
@click.option(
    "--model",
    "model_name",
    default=DEFAULT_MODEL,
    show_default=True,
    help="The model the calibration is for (a .tflite path or a bundled model name).",
)
@click.option(
    "--source",
    default="mic",
    show_default=True,
    help="mic, an audio FILE of the wearer speaking, or - for raw s16le PCM on stdin (--rate).",
)
@click.option(
    "--minutes",
    type=click.FloatRange(0, 600, min_open=True),
    default=None,
    help=f"Minutes of audio to take (microphone default {DEFAULT_MIC_MINUTES:g}; file: all).",
)
@click.option(
    "--device", default=None, help="Capture device: index or name substring (serdevice devices)."
)
@click.option("--rate", type=int, default=None, help="Sample rate of stdin PCM.")
@click.option("--channels", type=click.IntRange(1, 32), default=1, show_default=True,
              help="Channels of stdin PCM.")  # fmt: skip
@click.option(
    "--prior-windows",
    type=click.FloatRange(1, 1e6),
    default=None,
    help=f"Shrinkage prior strength n0 in speech windows (w = n/(n+n0)); default "
    f"{DEFAULT_PRIOR_WINDOWS:g}.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="Where to write the calibration JSON (statistics only).",
)
@vad_aggressiveness_option
def calibrate(
    model_name: str,
    source: str,
    minutes: float | None,
    device: str | None,
    rate: int | None,
    channels: int,
    prior_windows: float | None,
    out: Path,
    vad_aggressiveness: int,
) -> None:
    """Learn the wearer's voice statistics, without labels, for this model.

    Only the speech windows' eGeMAPS features are kept, in memory; the file holds their
    per-feature mean and standard deviation, shrunk toward the model's training statistics by the
    amount of speech heard. Ctrl-C ends a microphone session early and still writes the file.
    """
    from ..stream.calibration import (
        MIN_SPEECH_WINDOWS,
        calibrate_for,
        collect_speech_rows,
        write_calibration,
    )
    from .listen import make_source, open_model

    if out.is_dir():
        raise InputError(f"--out {out}: is a directory")
    model = open_model(model_name)
    audio = make_source(source, device=device, fast=True, rate=rate, channels=channels)
    if minutes is None and source == "mic":
        minutes = DEFAULT_MIC_MINUTES
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: audio.stop())
    collected = collect_speech_rows(
        audio, model, max_audio_s=None if minutes is None else minutes * 60,
        gate=GateConfig(aggressiveness=vad_aggressiveness),
    )  # fmt: skip
    n_speech = len(collected.rows)
    if n_speech < MIN_SPEECH_WINDOWS:
        raise InputError(
            f"no speech heard in {audio.name}: {n_speech} of {collected.windows} windows had "
            f"speech, calibration needs at least {MIN_SPEECH_WINDOWS}"
        )
    calibration = calibrate_for(
        collected.rows, model.sidecar, prior_windows=prior_windows or DEFAULT_PRIOR_WINDOWS
    )
    write_calibration(calibration, out)
    click.echo(
        f"calibration for {model.name}: {calibration.n_windows} speech windows of "
        f"{collected.windows} ({collected.audio_s / 60:.1f} min of audio), wearer weight "
        f"{calibration.weight:.2f} -> {out}"
    )

"""``serdevice export``: a trained run -> int8 (or int16x8) TFLite with the heads baked in, plus its sidecar."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import click

from serdevice.device.stream.sidecar import QUANTIZATIONS


@click.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="NAME.tflite to write; NAME.json (the sidecar) goes beside it.",
)
@click.option(
    "--quantization",
    type=click.Choice(QUANTIZATIONS),
    default="int8",
    show_default=True,
    help="int8: input and the encoder's 88 -> h layer in int8 (post-training, calibrated), "
    "the 2-D latent and heads in float32; int16x8: the same int8 weights with that layer's "
    "input and output in int16 (finer steps, same size; the bundled models' kind); "
    "float32: no quantization.",
)
@click.option(
    "--calibration-data",
    "calibration_spec",
    default=None,
    help="Corpus spec whose features calibrate the quantizer (default: the run's training features).",
)
@click.option("--name", default=None, help="Model name in the sidecar [default: NAME].")
def export(
    run: Path, out: Path, quantization: str, calibration_spec: str | None, name: str | None
) -> None:
    """Export the training RUN folder to a .tflite model and its verified sidecar."""
    from serdevice.export.exporter import export_run
    from serdevice.export.parity import parity_failures

    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    result = export_run(run, out, quantization=quantization, calibration_spec=calibration_spec,
                        created=created, name=name)  # fmt: skip
    p = result.metrics["parity"]
    click.echo(
        f"{result.tflite} ({result.size_bytes} bytes, {quantization}) + {result.sidecar.name}: "
        f"argmax agreement {p['argmax_agreement']:.3f}, balanced accuracy "
        f"{p['balanced_accuracy_tflite']:.3f} vs float {p['balanced_accuracy_float']:.3f}, "
        f"activation error max {p['activation_max_abs_error']:.3f}",
        err=True,
    )
    for problem in parity_failures(p):
        click.echo(f"serdevice: warning: parity: {problem}", err=True)

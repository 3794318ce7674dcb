"""``serdevice train``: fit one compact encoder and its heads, write a run folder."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import click

from serdevice.device.stream.contracts import DEFAULT_HOP_S, DEFAULT_WINDOW_S, InputError

from ..defaults import DEFAULT_EPOCHS


def resolve_device(requested: str) -> str:
    """cpu, cuda, or auto -> what torch can use here (cuda falls back to cpu, with a message)."""
    import torch

    if requested == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if requested == "cuda":
        click.echo("serdevice: note: --device cuda asked for, but no CUDA GPU is available here; "
                   "training on the CPU", err=True)  # fmt: skip
    return "cpu"


@click.command()
@click.option(
    "--method", required=True, help="dae, vae, vae-kl, vae-cluster, dae-metric-act, dae-metric-val."
)
@click.option(
    "--data",
    "data_specs",
    required=True,
    help="Corpus spec(s), comma-separated, e.g. synth:DIR?language=en.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Run folder to write.",
)
@click.option("--epochs", type=click.IntRange(1, 10000), default=DEFAULT_EPOCHS, show_default=True)
@click.option("--batch", type=click.IntRange(1, 100000), default=64, show_default=True)
@click.option("--lr", type=click.FloatRange(0, 1, min_open=True), default=1e-3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--device", type=click.Choice(["cpu", "cuda", "auto"]), default="cpu", show_default=True
)
@click.option(
    "--level",
    type=click.Choice(["clip", "window"]),
    default="clip",
    show_default=True,
    help="clip: one vector per utterance (the seed); window: the device's 2 s windows.",
)
@click.option(
    "--hidden",
    type=click.IntRange(1, 4),
    default=4,
    show_default=True,
    help="Encoder width (at most 4 keeps encoder + head under 400 parameters).",
)
@click.option(
    "--noise",
    type=click.FloatRange(0, 10),
    default=0.1,
    show_default=True,
    help="Std of the denoising AE's Gaussian input noise (standardized units).",
)
@click.option(
    "--metric-form",
    type=click.Choice(["distance", "signed-first"]),
    default="distance",
    show_default=True,
    help="Metric loss (dae-metric-*): the seed's distances between consecutive latents, or the "
    "signed difference of the first latent coordinate.",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Feature extraction processes.",
)
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
def train(
    method: str,
    data_specs: str,
    out: Path,
    epochs: int,
    batch: int,
    lr: float,
    seed: int,
    device: str,
    level: str,
    hidden: int,
    noise: float,
    metric_form: str,
    jobs: int,
    cache_dir: Path | None,
) -> None:
    """Train one compact encoder with its method's loss, then its SVC and activation heads."""
    from serdevice.train.models import ENCODER_METHODS, REFERENCE_METHOD
    from serdevice.train.trainer import TrainRequest, train_run

    if method == REFERENCE_METHOD:
        raise InputError(f"{method} has no encoder to train or export; "
                         "it is the reference row of serdevice evaluate")  # fmt: skip
    if method not in ENCODER_METHODS:
        raise InputError(f"unknown method {method!r}: choose one of {', '.join(ENCODER_METHODS)}")
    import torch

    # Same seed, same run folder on the CPU; warn_only: CUDA kernels without a deterministic
    # variant still run (with a warning) instead of failing.
    torch.use_deterministic_algorithms(True, warn_only=True)
    specs = [s.strip() for s in data_specs.split(",") if s.strip()]
    started = time.time()
    request = TrainRequest(
        method=method, specs=tuple(specs), out=out, epochs=epochs, batch=batch, lr=lr, seed=seed,
        device=resolve_device(device), level=level, hidden=hidden, noise=noise, jobs=jobs,
        metric_form=metric_form, cache_dir=cache_dir, window_s=DEFAULT_WINDOW_S, hop_s=DEFAULT_HOP_S,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )  # fmt: skip
    metrics = train_run(request, progress=True)
    click.echo(
        f"{method}: {metrics['n_train']} rows, train balanced accuracy "
        f"{metrics['train_balanced_accuracy']:.3f}, activation Spearman "
        f"{metrics['train_activation_spearman']:.3f} -> {out} ({time.time() - started:.1f} s)",
        err=True,
    )

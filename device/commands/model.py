"""``serdevice model``: list the bundled models, show one model's verified sidecar."""

from __future__ import annotations

import json

import click

from ..stream.model import Model, bundled_models


@click.group()
def model() -> None:
    """Inspect models (bundled ones by name, or any NAME.tflite with its NAME.json)."""


@model.command("list")
def list_command() -> None:
    """The bundled models: name, size, labels, parameters, quantization."""
    paths = bundled_models()
    if not paths:
        click.echo("no bundled models are installed")
        return
    for path in paths:
        loaded = Model.load(path)
        sidecar = loaded.sidecar
        click.echo(f"{sidecar.name:<16} {path.stat().st_size:>6} bytes  {sidecar.quantization:<7} "
                   f"params {sidecar.params.get('encoder_plus_head', '?'):<4} "
                   f"{sidecar.training.get('method', '?'):<15} labels {', '.join(sidecar.labels)}")  # fmt: skip


@model.command("info")
@click.argument("name")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the sidecar plus path, size_bytes, backend."
)
def info_command(name: str, as_json: bool) -> None:
    """Verify NAME (a path, or a bundled name with or without .tflite) and show its sidecar."""
    loaded = Model.load(name)
    data = {**loaded.sidecar.to_json(), "path": str(loaded.path.resolve()),
            "size_bytes": loaded.path.stat().st_size, "backend": loaded.backend}  # fmt: skip
    if as_json:
        click.echo(json.dumps(data))
        return
    parity = data["metrics"].get("parity", {})
    click.echo(f"{data['name']}: {data['path']} ({data['size_bytes']} bytes, {data['quantization']}, "
               f"loaded with {data['backend']})")  # fmt: skip
    click.echo(
        f"  labels: {', '.join(data['labels'])}; activation scale {data['activation_scale']}"
    )
    click.echo(f"  method: {data['training'].get('method')} on {', '.join(data['training'].get('corpora', []))} "
               f"({data['training'].get('level')} level); parameters: {data['params']}")  # fmt: skip
    click.echo(f"  features: {data['feature_set']} window {data['window_s']} s hop {data['hop_s']} s "
               f"at {data['sample_rate']} Hz; opensmile {data['opensmile_version']}")  # fmt: skip
    training = data["training"]
    if training.get("licences"):
        click.echo("  licences (the model inherits them): " + "; ".join(
            f"{k} {v}" for k, v in training["licences"].items()))  # fmt: skip
    if training.get("recipe"):
        click.echo(f"  recipe: {json.dumps(training['recipe'])}")
    if parity:
        click.echo(f"  parity ({data['quantization']} vs float, {parity['n_held_out']} rows of "
                   f"{data['metrics'].get('parity_on', 'held-out rows')}): argmax agreement "
                   f"{parity['argmax_agreement']:.3f}, balanced accuracy "
                   f"{parity['balanced_accuracy_points_diff']:.2f} points apart, activation error "
                   f"max {parity['activation_max_abs_error']:.3f}")  # fmt: skip
    loco = data["metrics"].get("loco")
    if loco:
        for voice, modes in loco["mean"].items():
            click.echo(f"  leave-one-corpus-out mean ({voice}, {loco['date']}): " + "; ".join(
                f"{mode} N-S-A {m['N-S-A']:.2f} N-S-H-A {m['N-S-H-A']:.2f} "
                f"rho {m['activation_rho']:.2f}" for mode, m in modes.items()
                if isinstance(m, dict)))  # fmt: skip
        seeds = loco.get("seeds")
        for voice, modes in (seeds or {}).get("spread", {}).items():
            click.echo(f"  N-S-A over training seeds {', '.join(seeds['per_seed'])} ({voice}): "
                       + "; ".join(f"{mode} {m['N-S-A']['mean']:.2f} ({m['N-S-A']['min']:.2f}-"
                                   f"{m['N-S-A']['max']:.2f})" for mode, m in modes.items()))  # fmt: skip
    click.echo(f"  sha256: {data['tflite_sha256']}")

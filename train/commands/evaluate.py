"""``serdevice evaluate``: the seed's protocol, its tables and plots."""

from __future__ import annotations

import os
import shlex
import sys
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import click

from serdevice.device.stream.contracts import InputError

from ..defaults import DEFAULT_EPOCHS

if TYPE_CHECKING:
    from serdevice.train.protocol import Protocol, Results

DEFAULT_TARGETS = ("de", "fr", "da", "ur", "el")


def default_corpus(quick: bool, jobs: int) -> Path:
    """The synthetic corpus under ./cache, generated on first use."""
    from serdevice.train.corpora.generate import generate

    folder = Path("cache") / ("synth-quick" if quick else "synth-default")
    if not (folder / "manifest.csv").is_file():
        click.echo(f"generating the synthetic corpus into {folder} (once) ...", err=True)
        generate(folder, quick=quick, jobs=jobs)
    return folder


def display_name(spec: str) -> str:
    """'synth:/x/y?language=de' -> 'synth[de]'; 'emodb:/data' -> 'emodb'."""
    from serdevice.train.corpora import parse_spec

    parsed = parse_spec(spec)
    suffix = ",".join(("!" if neg else "") + "+".join(v) for _, v, neg in parsed.filters)
    return f"{parsed.name}[{suffix}]" if suffix else parsed.name


def chosen_methods(methods: str) -> tuple[str, ...]:
    """The --methods value as a tuple of methods ('all': every one); unknown names are an error."""
    from serdevice.train.models import METHODS

    chosen = METHODS if methods == "all" else tuple(m.strip() for m in methods.split(","))
    unknown = [m for m in chosen if m not in METHODS]
    if unknown:
        raise InputError(
            f"unknown method(s) {', '.join(unknown)}: choose from {', '.join(METHODS)}"
        )
    return chosen


def run_levels(protocol: Protocol, levels: tuple[str, ...], train_spec: str, targets: list[str],
               extras: str, cache_dir: Path | None, results: Results) -> dict[str, int]:  # fmt: skip
    """Run the protocol at each level into ``results``; returns the corpora's sizes (clip level's
    where it ran). The extras (--extras) run only at the levels that ask for them."""
    from serdevice.train.dataset import load_features
    from serdevice.train.protocol import Corpus

    sizes: dict[str, int] = {}
    for lvl in levels:
        click.echo(f"features ({lvl} level) ...", err=True)
        source, *corpora = [
            Corpus(name=display_name(spec),
                   data=load_features([spec], level=lvl, jobs=protocol.jobs, cache_dir=cache_dir))
            for spec in [train_spec, *targets]
        ]  # fmt: skip
        if lvl == "clip" or not sizes:
            sizes = {c.name: len(c.data) for c in [source, *corpora]}
        with_extras = extras == "both" or extras == lvl
        replace(protocol, variants=with_extras, supervised=with_extras,
                unlabeled_seeds=protocol.unlabeled_seeds if with_extras else 0).run(
            lvl, source, corpora, results
        )  # fmt: skip
    return sizes


@click.command()
@click.option(
    "--train",
    "train_spec",
    default=None,
    help="Training corpus spec [default: the synthetic corpus's English part].",
)
@click.option(
    "--transfer",
    "transfer_specs",
    default=None,
    help="Comma-separated target specs [default: each other synthetic language].",
)
@click.option(
    "--methods",
    default="all",
    show_default=True,
    help="Comma-separated methods, or 'all' (the six encoders and svc-egemaps).",
)
@click.option("--folds", type=click.IntRange(2, 20), default=5, show_default=True)
@click.option(
    "--unlabeled-fraction", type=click.FloatRange(0.01, 0.9), default=0.2, show_default=True
)
@click.option(
    "--unlabeled-seeds",
    type=click.IntRange(1, 20),
    default=3,
    show_default=True,
    help="Seeds of the with/without unlabeled comparison (mean ± std over them).",
)
@click.option(
    "--extras",
    type=click.Choice(["clip", "both", "none"]),
    default="clip",
    show_default=True,
    help="Levels that also run the signed-first metric rows, the VAE metric rows, the rows "
    "trained on each target's labels and the with/without unlabeled comparison (the seed reports "
    "them at clip level; at window level they double that level's run time).",
)
@click.option(
    "--tuning",
    "tuning_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="choices.json of `python -m serdevice.train.tuning` (hyper-parameters chosen on a "
    "speaker-disjoint validation split of the training corpus) [default: the seed's values].",
)
@click.option(
    "--epochs",
    type=click.IntRange(1, 10000),
    default=None,
    help=f"Training epochs [default: {DEFAULT_EPOCHS}, or 5 with --quick].",
)
@click.option("--batch", type=click.IntRange(1, 100000), default=64, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--level",
    type=click.Choice(["clip", "window", "both"]),
    default="both",
    show_default=True,
    help="Features per utterance (clip, the seed's) or per device window, or both.",
)
@click.option(
    "--quick",
    is_flag=True,
    help="A tiny corpus and few epochs: the whole protocol in about a minute.",
)
@click.option("--jobs", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Feature cache [default: ~/.cache/serdevice/features]; trained rows are "
    "cached beside it (rows/).",
)
@click.option(
    "--no-row-cache", is_flag=True, help="Retrain every row even when an identical one is cached."
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def evaluate(train_spec: str | None, transfer_specs: str | None, methods: str, folds: int,
             unlabeled_fraction: float, unlabeled_seeds: int, extras: str, tuning_file: Path | None,
             epochs: int | None, batch: int, lr: float, seed: int, level: str, quick: bool, jobs: int,
             cache_dir: Path | None, no_row_cache: bool, out: Path) -> None:  # fmt: skip
    """Run the seed's evaluation protocol; write results.json, report.md and plots to OUT."""
    import torch

    from serdevice.train import cache
    from serdevice.train.protocol import Protocol, Results
    from serdevice.train.report import write_outputs
    from serdevice.train.tuning import read_choices

    torch.set_num_threads(1)
    started = time.time()
    chosen = chosen_methods(methods)
    if train_spec is None or transfer_specs is None:
        folder = default_corpus(quick, jobs).resolve()
    train_spec = train_spec or f"synth:{folder}?language=en"
    targets = ([s.strip() for s in transfer_specs.split(",") if s.strip()] if transfer_specs
               else [f"synth:{folder}?language={lang}" for lang in DEFAULT_TARGETS])  # fmt: skip
    synthetic = any(spec.startswith("synth:") for spec in [train_spec, *targets])
    levels = ("clip", "window") if level == "both" else (level,)
    choices = read_choices(tuning_file) if tuning_file else {}
    protocol = Protocol(
        methods=chosen, folds=folds, unlabeled_fraction=unlabeled_fraction,
        unlabeled_seeds=unlabeled_seeds, epochs=epochs or (5 if quick else DEFAULT_EPOCHS), batch=batch,
        lr=lr, seed=seed, overrides=choices, jobs=jobs,
        row_cache=None if no_row_cache else cache.folder("rows", cache_dir),
        on_step=lambda message: click.echo(f"  {message} ({time.time() - started:.0f} s)", err=True),
    )  # fmt: skip
    results = Results()
    sizes = run_levels(protocol, levels, train_spec, targets, extras, cache_dir, results)
    meta = {
        "command": "serdevice " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": time.time() - started, "cpus": os.cpu_count(), "synthetic": synthetic,
        "source": display_name(train_spec), "targets": [display_name(t) for t in targets],
        "sizes": sizes, "methods": list(chosen), "folds": folds, "epochs": protocol.epochs,
        "batch": batch, "lr": lr, "seed": seed, "unlabeled_fraction": unlabeled_fraction,
        "unlabeled_seeds": unlabeled_seeds, "extras": extras, "tuning": choices,
        "tuning_file": str(tuning_file) if tuning_file else None,
        "levels": list(levels), "train_spec": train_spec, "transfer_specs": targets,
    }  # fmt: skip
    write_outputs(out, results, meta)
    click.echo(f"report: {out / 'report.md'} ({time.time() - started:.0f} s)", err=True)

"""``serdevice loco``: leave-one-corpus-out on the device path (see serdevice.export.loco)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from serdevice.device.stream.contracts import InputError
from serdevice.device.stream.sidecar import QUANTIZATIONS
from serdevice.train.dataset import WEIGHTINGS
from serdevice.train.recipe import REAL_CORPORA


@click.command()
@click.argument("corpora", type=click.Path(path_type=Path))
@click.option(
    "--corpus",
    "names",
    default=",".join(REAL_CORPORA),
    show_default=True,
    help="Comma-separated corpora, each in CORPORA/NAME (loader NAME); each is held out once.",
)
@click.option("--out", type=click.Path(path_type=Path), default=Path("reports/loco"),
              show_default=True, help="Folder for loco.json, loco.md, runs and models.")  # fmt: skip
@click.option("--method", default="dae-metric-act", show_default=True)
@click.option("--no-child", is_flag=True, help="Skip the child-like versions of held-out clips.")
@click.option(
    "--recipe",
    "recipe_option",
    default="bundled",
    show_default=True,
    help="bundled (real-speaker-v3: speaker normalization, a child-like copy of every "
    "training clip, int16x8, every window drawn alike), or one of its variants: adult-only "
    "(no child-like copies), global (training-set normalization), speaker-heard (each training "
    "speaker z-scored with the statistics of a random 10-100 % of their windows, as an adapting "
    "device has them). child-aug is the bundled recipe.",
)
@click.option("--weighting", type=click.Choice(WEIGHTINGS), default=None,
              help="Override the recipe's draw of training rows: none (every window alike), "
              "corpus (each corpus an equal share of every epoch), speaker (each speaker an "
              "equal share).")  # fmt: skip
@click.option("--quantization", type=click.Choice(QUANTIZATIONS), default=None,
              help="Override the recipe's export (int16x8).")  # fmt: skip
@click.option("--epochs", type=click.IntRange(1, 10000), default=None,
              help="Override the recipe's epochs (50).")  # fmt: skip
@click.option("--seeds", default=None, metavar="S1,S2,...",
              help="Training seeds, e.g. 0,1,2: the table is the first seed's; the folds are "
              "trained again with each other seed (about 20 s a fold warm) and loco.md adds the "
              "mean, min and max over seeds [default: the recipe's seed, 0].")  # fmt: skip
@click.option("--jobs", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--cache-dir", type=click.Path(path_type=Path), default=None,
              help="Feature cache [default: $XDG_CACHE_HOME/serdevice/features].")  # fmt: skip
def loco(corpora: Path, names: str, out: Path, method: str, no_child: bool, recipe_option: str,
         weighting: str | None, quantization: str | None, epochs: int | None, seeds: str | None, jobs: int,
         cache_dir: Path | None) -> None:  # fmt: skip
    """Leave-one-corpus-out benchmark of a recipe on the device path, over real CORPORA.

    For each corpus: train on the others, export (int16x8), score the held-out clips through the
    device's streaming front half and the .tflite model, plain and with per-speaker calibration
    (half of each speaker's clips calibrate, the other half is scored), for adult and child-like
    voices. Writes OUT/loco.md (the README table) and OUT/loco.json. Example:

      serdevice loco ../shared/corpora
    """
    from dataclasses import replace

    from serdevice.export.loco import run_loco
    from serdevice.train.recipe import BUNDLED_RECIPE

    if not corpora.is_dir():
        raise InputError(f"{corpora}: no such folder (expected one folder per corpus in it)")
    variants = {
        "bundled": BUNDLED_RECIPE,
        "child-aug": BUNDLED_RECIPE,
        "adult-only": replace(BUNDLED_RECIPE, name="adult-only", childlike=False),
        "global": replace(BUNDLED_RECIPE, name="global-norm", normalization="global"),
        "speaker-heard": replace(
            BUNDLED_RECIPE, name="speaker-heard", normalization="speaker-heard"
        ),
    }
    if recipe_option not in variants:
        raise InputError(f"unknown recipe {recipe_option!r}: choose one of {', '.join(variants)}")
    recipe = variants[recipe_option]
    if epochs is not None:
        recipe = replace(recipe, epochs=epochs)
    if quantization is not None:
        recipe = replace(recipe, quantization=quantization)
    if weighting is not None:
        recipe = replace(recipe, weighting=weighting, name=f"{recipe.name}+{weighting}")
    seed_list = _seeds(seeds) if seeds is not None else [recipe.seed]
    recipe = replace(recipe, seed=seed_list[0])
    selected = tuple(n.strip() for n in names.split(",") if n.strip())
    missing = [n for n in selected if not (corpora / n).is_dir()]
    if missing:
        raise InputError(f"{corpora}: no folder for {', '.join(missing)}")
    started = time.time()
    run_loco(corpora, out, recipe=recipe, names=selected, method=method,
                       child=not no_child, jobs=jobs, cache_dir=cache_dir,
                       log=lambda line: click.echo(line, err=True),
                       extra_seeds=seed_list[1:])  # fmt: skip
    click.echo((out / "loco.md").read_text(encoding="utf-8"))
    click.echo(f"{len(selected)} folds x {len(seed_list)} seed(s) in "
               f"{time.time() - started:.0f} s -> {out}/loco.json", err=True)  # fmt: skip


def _seeds(text: str) -> list[int]:
    """``0,1,2`` -> [0, 1, 2]; a clear error for anything else."""
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(f"--seeds: expected comma-separated integers, got {text!r}") from None
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise InputError(f"--seeds: expected distinct non-negative integers, got {text!r}")
    return seeds

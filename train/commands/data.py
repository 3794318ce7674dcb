"""``serdevice data``: the corpus loaders, corpus checks, and the synthetic corpus."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click

from serdevice.device.stream.contracts import Label


@click.group()
def data() -> None:
    """Corpora: list the loaders, check a corpus, generate the synthetic corpus.

    A corpus is named by a spec NAME:/path, optionally with filters:
    synth:cache/synth?language=en   emodb:/data/emodb?label=angry,sad   synth:DIR?language=!en
    """


@data.command("list")
def list_command() -> None:
    """Every corpus loader, the layout it expects, and its languages."""
    from serdevice.train.corpora import CORPORA, EMOTIONS

    width = max(map(len, CORPORA))
    for name, module in CORPORA.items():
        click.echo(f"{name:<{width}} [{', '.join(module.LANGUAGES)}]  {module.LAYOUT}")
    click.echo("\nLabels: neutral, sad, happy, angry; every other emotion -> other (kept, excluded "
               "from the 3- and 4-class tasks).")  # fmt: skip
    click.echo("Activation/valence (1-5) where a corpus has no ratings of its own "
               "(override per file with a CSV: file, activation, valence):")  # fmt: skip
    for emotion, (label, activation, valence) in EMOTIONS.items():
        click.echo(
            f"  {emotion:<12} -> {label.value:<8} activation {activation:.1f}  valence {valence:.1f}"
        )


@data.command("check")
@click.argument("spec")
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object.")
def check_command(spec: str, as_json: bool) -> None:
    """Validate the corpus SPEC and print its counts."""
    from serdevice.train.corpora import load_spec

    loaded = load_spec(spec)
    labels = Counter(u.label.value for u in loaded.utterances)
    report = {
        "corpus": loaded.name,
        "n": len(loaded.utterances),
        "labels": {label.value: labels.get(label.value, 0) for label in Label},
        "speakers": len({u.speaker for u in loaded.utterances}),
        "languages": sorted({u.language for u in loaded.utterances}),
        "skipped": loaded.skipped,
    }
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"{loaded.name} at {loaded.root}: {report['n']} utterances, "
               f"{report['speakers']} speakers, languages {', '.join(report['languages'])}")  # fmt: skip
    click.echo("labels: " + ", ".join(f"{k} {v}" for k, v in report["labels"].items()))
    if loaded.skipped:
        click.echo(f"skipped: {loaded.skipped} file(s) whose names do not parse")


@data.command("synth")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--languages",
    default="en,de,fr,da,ur,el",
    show_default=True,
    help="Comma-separated languages (espeak-ng voices).",
)
@click.option(
    "--speakers",
    type=click.IntRange(1, 50),
    default=None,
    help="Speakers per language [default: 8, or 2 with --quick].",
)
@click.option(
    "--sentences",
    type=click.IntRange(1, 200),
    default=None,
    help="Sentences per speaker, each in every emotion [default: 12, or 4 with --quick].",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--quick", is_flag=True, help="A small corpus (<= 200 utterances) in seconds.")
@click.option("--jobs", type=click.IntRange(1, 64), default=2, show_default=True)
def synth_command(
    out: Path,
    languages: str,
    speakers: int | None,
    sentences: int | None,
    seed: int,
    quick: bool,
    jobs: int,
) -> None:
    """Generate the SYNTHETIC emotional-speech corpus (espeak-ng) into OUT."""
    from serdevice.train.corpora.generate import generate

    langs = tuple(x.strip() for x in languages.split(",") if x.strip())
    manifest = generate(out, languages=langs, speakers=speakers, sentences_per_speaker=sentences,
                        seed=seed, quick=quick, jobs=jobs)  # fmt: skip
    n = sum(1 for _ in manifest.open(encoding="utf-8")) - 1
    click.echo(f"{n} synthetic utterances -> {manifest} (use it as synth:{out})", err=True)


@data.command("sample")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seed", type=int, default=0, show_default=True)
def sample_command(out: Path, seed: int) -> None:
    """Write the short SYNTHETIC sample (neutral, angry, sad; ~12 s) that ships in device/data/."""
    from serdevice.train.corpora.generate import make_sample

    click.echo(f"wrote {make_sample(out, seed=seed)}", err=True)

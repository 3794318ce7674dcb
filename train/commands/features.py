"""``serdevice features extract``: eGeMAPS for files, folders or corpora, to one CSV."""

from __future__ import annotations

import re
from pathlib import Path

import click

from serdevice.device.stream.contracts import (
    DEFAULT_HOP_S,
    DEFAULT_WINDOW_S,
    InputError,
    RuntimeFailure,
)
from serdevice.device.stream.files import replacing

_SPEC = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*:")


def is_spec(text: str) -> bool:
    """A corpus spec looks like ``NAME:/path`` and is not an existing path."""
    return bool(_SPEC.match(text)) and not Path(text).exists()


def expand_inputs(inputs: tuple[str, ...]) -> list[Path]:
    """Files, folders (recursively) and corpus specs -> the audio files, in order."""
    from serdevice.device.stream.audio import audio_files_under

    files: list[Path] = []
    for item in inputs:
        if is_spec(item):
            from serdevice.train.corpora import load_spec

            files.extend(u.path for u in load_spec(item).utterances)
            continue
        path = Path(item)
        if path.is_dir():
            found = audio_files_under(path)
            if not found:
                raise InputError(f"{path}: folder holds no .wav, .flac or .ogg files")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise InputError(f"{path}: no such file, folder or corpus spec")
    return files


@click.group()
def features() -> None:
    """eGeMAPSv02 features (88 functionals), as the training side uses them."""


@features.command("extract")
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--level",
    type=click.Choice(["clip", "window"]),
    default="clip",
    show_default=True,
    help="clip: one row per file (the seed's protocol); window: the device's sliding windows.",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="CSV to write: file, start_s, end_s, then the 88 feature names.",
)
@click.option(
    "--window",
    "window_s",
    type=click.FloatRange(0.1, 60),
    default=DEFAULT_WINDOW_S,
    show_default=True,
    help="Window length in seconds (window level).",
)
@click.option(
    "--hop",
    "hop_s",
    type=click.FloatRange(0.01, 60),
    default=DEFAULT_HOP_S,
    show_default=True,
    help="Hop between windows in seconds (window level).",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Files processed in parallel.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Feature cache (default: $XDG_CACHE_HOME/serdevice/features).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache.")
def extract_command(
    inputs: tuple[str, ...],
    level: str,
    out: Path,
    window_s: float,
    hop_s: float,
    jobs: int,
    cache_dir: Path | None,
    no_cache: bool,
) -> None:
    """Extract eGeMAPS from INPUTS: audio files, folders, or corpus specs such as emodb:/data/emodb."""
    from serdevice.train.cache import default_cache_dir
    from serdevice.train.features_batch import extract

    if hop_s > window_s:
        raise InputError(f"--hop ({hop_s}) must not exceed --window ({window_s})")
    files = expand_inputs(inputs)
    cache = None if no_cache else (cache_dir or default_cache_dir())
    result = extract(files, level=level, window_s=window_s, hop_s=hop_s, jobs=jobs, cache_dir=cache)
    try:
        with replacing(out) as partial:
            result.table.to_csv(partial, index=False)
    except OSError as exc:  # the disk, not the input: exit 1
        raise RuntimeFailure(f"{out}: cannot write ({exc.strerror or exc})") from None
    click.echo(
        f"{len(files)} file(s), {len(result.table)} row(s) x 88 features -> {out} "
        f"({result.cache_hits} from cache)",
        err=True,
    )

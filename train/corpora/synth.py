"""The synthetic corpus made by ``serdevice data synth`` (espeak-ng): its ``manifest.csv``."""

from __future__ import annotations

from pathlib import Path

from serdevice.device.stream.contracts import InputError

from .schema import CorpusLoad, read_manifest

NAME = "synth"
LANGUAGES = ("en", "de", "fr", "da", "ur", "el")
LAYOUT = "OUT/manifest.csv + OUT/wav/<language>/<speaker>/*.wav, as written by `serdevice data synth OUT`"


def load(root: Path) -> CorpusLoad:
    """The generated corpus in ``root`` (a folder with manifest.csv)."""
    csv_path = root / "manifest.csv"
    if not csv_path.is_file():
        raise InputError(f"{root}: no manifest.csv (make one with: serdevice data synth {root})")
    rows = read_manifest(csv_path, corpus=NAME)
    present = [u for u in rows if u.path.is_file()]
    return CorpusLoad(name=NAME, root=root, utterances=present, skipped=len(rows) - len(present))

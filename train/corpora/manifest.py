"""Any corpus described by a CSV in the unified schema (paths relative to the CSV)."""

from __future__ import annotations

from pathlib import Path

from serdevice.device.stream.contracts import InputError

from .schema import CorpusLoad, read_manifest

NAME = "manifest"
LANGUAGES: tuple[str, ...] = ("any",)
LAYOUT = "a CSV with columns path, corpus, speaker, gender, language, label, activation, valence, split_group"


def load(root: Path) -> CorpusLoad:
    """The utterances a manifest CSV lists; a listed file that is missing is skipped."""
    csv_path = root / "manifest.csv" if root.is_dir() else root
    if not csv_path.is_file():
        raise InputError(f"{csv_path}: no such manifest file")
    rows = read_manifest(csv_path)
    present = [u for u in rows if u.path.is_file()]
    return CorpusLoad(name=NAME, root=root, utterances=present, skipped=len(rows) - len(present))

"""Shared walking of a corpus tree: parse each audio file's name, count what does not parse."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from .schema import CorpusLoad, Utterance


def scan(
    name: str, root: Path, files: Iterable[Path], parse: Callable[[Path], Utterance | None]
) -> CorpusLoad:
    """Apply ``parse`` to each file; ``None`` means 'does not parse' and is counted as skipped."""
    found: list[Utterance] = []
    skipped = 0
    for path in sorted(files):
        utterance = parse(path.resolve())
        if utterance is None:
            skipped += 1
        else:
            found.append(utterance)
    return CorpusLoad(name=name, root=root, utterances=found, skipped=skipped)

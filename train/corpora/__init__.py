"""Corpus loaders, registered by name, and corpus specs ``NAME:/path[?language=..&label=..]``.

A spec names a loader and the root its distributor's layout starts at. Optional filters after
``?`` keep a subset: ``language=en`` or ``language=de,fr``, ``label=angry,sad``; a leading ``!``
negates (``language=!en`` keeps every language but English). Files whose names do not parse
are skipped and counted (a warning on stderr), never silently dropped.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType

from serdevice.device.stream.contracts import InputError

from . import (
    aesdd,
    ased,
    cafe,
    cremad,
    emodb,
    emotiontts,
    emovo,
    iemocap,
    manifest,
    nemo,
    ravdess,
    savee,
    synth,
    tess,
    urdu,
)
from .schema import EMOTIONS, MANIFEST_COLUMNS, CorpusLoad, Utterance, read_manifest, write_manifest

__all__ = [
    "CORPORA", "EMOTIONS", "MANIFEST_COLUMNS", "CorpusLoad", "Utterance",
    "generate", "load_spec", "parse_spec", "read_manifest", "write_manifest",
]  # fmt: skip

CORPORA: dict[str, ModuleType] = {
    module.NAME: module
    for module in (
        iemocap,
        emodb,
        savee,
        cafe,
        urdu,
        aesdd,
        ravdess,
        cremad,
        tess,
        emovo,
        ased,
        nemo,
        emotiontts,
        manifest,
        synth,
    )
}
_SPEC = re.compile(r"^(?P<name>[a-z][a-z0-9_-]*):(?P<rest>.+)$")


@dataclass(frozen=True, slots=True, kw_only=True)
class CorpusSpec:
    """A parsed spec: loader name, root, and the subset filters."""

    name: str
    root: Path
    filters: tuple[tuple[str, tuple[str, ...], bool], ...] = ()  # (field, values, negated)


def parse_spec(spec: str) -> CorpusSpec:
    """``NAME:/path?language=en&label=angry,sad`` -> CorpusSpec (InputError when malformed)."""
    match = _SPEC.match(spec.strip())
    if match is None:
        raise InputError(f"{spec!r} is not a corpus spec: write NAME:/path (NAME one of "
                         f"{', '.join(CORPORA)})")  # fmt: skip
    name, rest = match.group("name"), match.group("rest")
    if name not in CORPORA:
        raise InputError(f"unknown corpus {name!r}: known corpora are {', '.join(CORPORA)}")
    path, _, query = rest.partition("?")
    filters = []
    for part in filter(None, query.split("&")):
        key, _, value = part.partition("=")
        if key not in ("language", "label", "speaker", "gender") or not value:
            raise InputError(
                f"{spec!r}: bad filter {part!r} (use language=, label=, speaker=, gender=)"
            )
        negated = value.startswith("!")
        filters.append((key, tuple(value.lstrip("!").split(",")), negated))
    return CorpusSpec(name=name, root=Path(path).expanduser(), filters=tuple(filters))


def _keep(utterance: Utterance, filters: tuple[tuple[str, tuple[str, ...], bool], ...]) -> bool:
    for key, values, negated in filters:
        value = getattr(utterance, key)
        value = value.value if key == "label" else value
        if (value in values) == negated:
            return False
    return True


def load_spec(spec: str) -> CorpusLoad:
    """Load the corpus a spec names (InputError: unknown name, missing folder, empty corpus)."""
    parsed = parse_spec(spec)
    if not parsed.root.exists():
        raise InputError(f"{parsed.root}: no such folder (corpus {parsed.name})")
    loaded = CORPORA[parsed.name].load(parsed.root)
    if loaded.skipped:
        print(
            f"serdevice: warning: {parsed.name}: skipped {loaded.skipped} file(s) below "
            f"{parsed.root} that do not parse as this corpus's layout",
            file=sys.stderr,
        )
    kept = [u for u in loaded.utterances if _keep(u, parsed.filters)]
    if not kept:
        raise InputError(f"{spec}: no utterances found (expected layout: "
                         f"{CORPORA[parsed.name].LAYOUT})")  # fmt: skip
    return replace(loaded, utterances=kept)


def generate(*args: object, **kwargs: object) -> Path:
    """Make the synthetic corpus (see ``serdevice.train.corpora.generate``)."""
    from .generate import generate as _generate

    return _generate(*args, **kwargs)  # type: ignore[arg-type]

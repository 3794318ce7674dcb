"""Events files as a report reads them: JSONL lines -> events -> sessions.

Tolerant readers: a torn last line (the writer was killed mid-line), lines of other programs,
``error`` and ``stats`` events and rotated files (``FILE.1`` is older than ``FILE``) are all
expected in a real session's log. ``timeline.py`` measures what this module reads.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..stream.contracts import InputError

MAX_LINE_CHARS = 1_000_000  # an event is ~400 bytes; a longer "line" is not one


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedFile:
    """Events read from one file, and what was skipped."""

    name: str
    events: list[dict[str, Any]]
    bad_lines: int  # lines that were not an event (torn tail not counted)
    torn_tail: bool  # the last line was cut off


@dataclass(frozen=True, slots=True, kw_only=True)
class Mark:
    """A point on the audio clock: an emotion change, a fault, missing events."""

    t: float
    kind: str  # "emotion" | "fault" | "missing"
    text: str


@dataclass
class Session:
    """Consecutive events of one ``listen`` run (one model, increasing ``seq``)."""

    events: list[dict[str, Any]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    missing_events: list[Mark] = field(default_factory=list)

    @property
    def start(self) -> dict[str, Any] | None:
        """The ``start`` event, when the session's beginning is in the files."""
        first = self.events[0] if self.events else None
        return first if first is not None and first.get("type") == "start" else None

    @property
    def model(self) -> str:
        """The model name the events carry."""
        return str(self.events[0].get("model", "?")) if self.events else "?"


def parse_lines(name: str, text: str) -> ParsedFile:
    """Events (JSON objects with a string ``type``) from JSONL text; count what is not one."""
    lines = text.split("\n")
    torn = bool(lines) and lines[-1].strip() != ""  # no newline after the last line
    events: list[dict[str, Any]] = []
    bad = 0
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line:
            continue
        event = _event_or_none(line)
        if event is not None:
            events.append(event)
            if number == len(lines):
                torn = False  # a complete event that only lacks its newline
        elif not (torn and number == len(lines)):
            bad += 1
    return ParsedFile(name=name, events=events, bad_lines=bad, torn_tail=torn)


def _event_or_none(line: str) -> dict[str, Any] | None:
    if len(line) > MAX_LINE_CHARS or not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        return value
    return None


def read_file(path: str) -> ParsedFile:
    """One events file, or ``-`` for stdin; an empty or event-less input is an InputError."""
    if path == "-":
        name, text = "stdin", sys.stdin.buffer.read().decode("utf-8", errors="replace")
    else:
        file = Path(path)
        name = path
        if file.is_dir():
            raise InputError(f"{path}: is a directory, not an events file")
        try:
            text = file.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    parsed = parse_lines(name, text)
    if not text.strip():
        raise InputError(f"{name}: empty, no events in it")
    if not parsed.events:
        raise InputError(
            f"{name}: no serdevice events in it (expected JSON lines with a 'type', "
            f"as written by serdevice listen)"
        )
    return parsed


def rotation_order(paths: Sequence[str]) -> list[str]:
    """Oldest first within each rotated family (``F.2``, ``F.1``, ``F``); families keep order.

    >>> rotation_order(["ev.jsonl", "ev.jsonl.1", "x.jsonl"])
    ['ev.jsonl.1', 'ev.jsonl', 'x.jsonl']
    """
    family: dict[str, int] = {}
    keyed = []
    for index, path in enumerate(paths):
        match = re.fullmatch(r"(.*)\.(\d+)", path)
        base, generation = (match.group(1), int(match.group(2))) if match else (path, 0)
        family.setdefault(base, index)
        keyed.append((family[base], -generation, index, path))
    return [path for *_, path in sorted(keyed)]


def split_sessions(files: Iterable[ParsedFile]) -> list[Session]:
    """Cut the concatenated events into sessions: at each ``start``, a model change, or a
    ``seq`` that goes back; a forward jump in ``seq`` is recorded as missing events."""
    sessions: list[Session] = []
    current: Session | None = None
    last_seq: int | None = None
    last_t = 0.0
    for parsed in files:
        for event in parsed.events:
            seq = event.get("seq") if isinstance(event.get("seq"), int) else None
            new = (
                current is None
                or event["type"] == "start"
                or event.get("model") != current.model
                or (seq is not None and last_seq is not None and seq <= last_seq)
            )
            if new:
                current = Session()
                sessions.append(current)
                last_seq, last_t = None, 0.0
            assert current is not None
            if parsed.name not in current.files:
                current.files.append(parsed.name)
            t = number(event.get("t"))
            if seq is not None and last_seq is not None and seq > last_seq + 1:
                missing = seq - last_seq - 1
                current.missing_events.append(
                    Mark(t=last_t, kind="missing", text=f"{missing} events missing")
                )
            current.events.append(event)
            last_seq = seq if seq is not None else last_seq
            last_t = t if t is not None else last_t
    return sessions


def number(value: Any) -> float | None:
    """A finite number, or None (bools, strings, NaN and inf are not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None  # NaN, inf (json.loads reads them)

"""One small validator for the JSON that serdevice reads: sidecars, calibration and state files,
and the events the clinic's recorder stores.

``read_json`` reads a file (missing, a folder, too large or not JSON: InputError), and
``Fields`` checks a parsed object field by field: the first bad one raises InputError
"<what> invalid: <field>: <why>", which the CLI prints as one line (exit 2). Each document's
own rules (value ranges, label sets, schema versions) stay beside its dataclass; this only
knows JSON's types. No dependency: msgspec or pydantic would add a compiled wheel to
``[device]`` for three small documents.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .contracts import InputError

# A JSON number this large is never a feature statistic: a corrupted or hostile file.
LARGEST_NUMBER = 1e30


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return "a number" if float in kinds else " or ".join(k.__name__ for k in kinds)


class Fields:
    """The fields of one JSON object, each read with its type checked."""

    def __init__(self, data: object, what: str) -> None:
        if not isinstance(data, dict):
            raise InputError(f"{what} invalid: the top level must be a JSON object")
        self.data: dict[str, Any] = data
        self.what = what

    def bad(self, field: str, why: str) -> InputError:
        return InputError(f"{self.what} invalid: {field}: {why}")

    def has(self, field: str) -> bool:
        return field in self.data

    def get(self, field: str, kind: type | tuple[type, ...]) -> Any:
        """The field's value, of ``kind`` (bool is never an int or a float here)."""
        if field not in self.data:
            raise self.bad(field, "missing")
        value = self.data[field]
        if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
            raise self.bad(field, f"expected {_type_name(kind)}, got {type(value).__name__}")
        return value

    def numbers(self, field: str, length: int, *, minimum: float | None = None,
                strict: bool = True) -> tuple[float, ...]:  # fmt: skip
        """A list of ``length`` finite numbers, each > ``minimum`` (>= when not ``strict``)."""
        values = self.get(field, list)
        if len(values) != length:
            raise self.bad(field, f"expected {length} numbers, got {len(values)}")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                   and abs(v) < LARGEST_NUMBER for v in values):  # fmt: skip
            raise self.bad(field, "every value must be a finite number")
        if minimum is not None and not all(v > minimum if strict else v >= minimum
                                           for v in values):  # fmt: skip
            raise self.bad(field, f"every value must be {'>' if strict else '>='} {minimum:g}")
        return tuple(float(v) for v in values)


def read_json(path: Path, what: str, *, max_bytes: int | None = None) -> object:
    """A JSON file's parsed contents; InputError "<what> PATH: ..." when it cannot be read."""
    if path.is_dir():
        raise InputError(f"{what} {path}: is a directory, not a {what} file")
    if not path.is_file():
        raise InputError(f"{what} {path}: no such file")
    if max_bytes is not None and path.stat().st_size > max_bytes:
        raise InputError(f"{what} {path}: too large to be a {what} file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InputError(f"{what} {path}: not a JSON {what} file ({exc})") from None


__all__ = ["Fields", "read_json"]

"""Writing a file so that no reader ever sees half of it: one mechanism for every writer.

``replacing(path)`` gives a temporary name beside ``path`` (same folder, same file system, the
same extension at the end, so writers that go by it still do) and renames it onto ``path`` when
the block ends without an error; on an error the temporary file is removed and ``path`` is left
as it was. The process id in the name keeps two processes that write one cache entry apart.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from .contracts import RuntimeFailure


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path to write; renamed onto ``path`` once the block is done."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial{path.suffix}")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


def write_atomically(path: Path, data: bytes | str, *, what: str | None = None) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` whole or not at all; a failing disk is one
    ``RuntimeFailure`` line naming ``what`` (default: the path)."""
    try:
        with replacing(path) as partial:
            partial.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    except OSError as exc:  # the disk, not the input: exit 1
        raise RuntimeFailure(f"{what or path}: cannot write ({exc.strerror or exc})") from None
    return path

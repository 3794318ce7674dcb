"""Progress bars on stderr (tqdm when installed), and a silent stand-in otherwise."""

from __future__ import annotations

import sys
from typing import Any


class _Silent:
    def update(self, n: int = 1) -> None:
        """Nothing to show."""

    def set_postfix_str(self, text: str) -> None:
        """Nothing to show."""

    def close(self) -> None:
        """Nothing to close."""


def progress_bar(total: int, *, desc: str, unit: str, enabled: bool = True) -> Any:
    """A tqdm bar on stderr, or a silent object with the same methods."""
    if not enabled or total < 2:
        return _Silent()
    try:
        from tqdm import tqdm
    except ModuleNotFoundError:
        return _Silent()
    # disable=None: no bar when stderr is not a terminal (logs, CI), only the caller's own lines.
    return tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, leave=False, disable=None)

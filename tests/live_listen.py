"""Starting ``serdevice listen --serve`` in a subprocess and reading its page's address."""

from __future__ import annotations

import os
import re
import subprocess
import sys


def start_listen(*args: str) -> subprocess.Popen:
    """``serdevice listen ARGS`` with pipes on stdin, stdout and stderr."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "serdevice.device.cli", "listen", *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env)  # fmt: skip


def served_url(process: subprocess.Popen) -> str:
    """The live page's address, from the line listen prints on stderr."""
    assert process.stderr is not None
    line = process.stderr.readline().decode()
    match = re.search(r"live page on (http://\S+)", line)
    assert match, line
    return match.group(1)

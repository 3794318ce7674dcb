"""Shared test helpers: run the CLI as a user would, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str,
    input: bytes | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run ``serdevice ARGS`` in a fresh interpreter; stdin is bytes, stdout/stderr text."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    done = subprocess.run(
        [sys.executable, "-m", "serdevice.device.cli", *args],
        input=input if input is not None else b"",
        capture_output=True,
        cwd=cwd,
        env=full_env,
        timeout=timeout,
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(errors="replace"),
        done.stderr.decode(errors="replace"),
    )  # fmt: skip


@pytest.fixture
def cli():
    """The ``run_cli`` helper as a fixture."""
    return run_cli


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for the whole session (tests/fleet.py), torn down at the end."""
    from fleet import running_postgres

    yield from running_postgres()


@pytest.fixture(autouse=True)
def own_state_directory(tmp_path_factory, monkeypatch):
    """Each test its own adaptation-state directory: listen adapts by default and keeps what it
    learnt in the user's state directory, which must not carry from one test into another."""
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))

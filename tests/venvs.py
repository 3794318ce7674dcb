"""Side venvs for install tests, built once under the repository (ignored by git).

A venv's third-party packages are installed when it is missing or its recipe (pyproject.toml
plus the requirement list) changed; serdevice itself is reinstalled, non-editable and without
dependencies, on every use, so a side venv never tests stale code and the package data is
checked too.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def side_venv(name: str, requirements: list[str]) -> Path:
    """The python of ``REPO/name`` with ``requirements`` and the current serdevice installed."""
    folder = REPO / name
    recipe = (REPO / "pyproject.toml").read_bytes() + "\n".join(requirements).encode()
    digest = hashlib.sha256(recipe).hexdigest()
    stamp = folder / ".recipe-sha256"
    python = folder / "bin" / "python"
    if not (stamp.is_file() and stamp.read_text() == digest and python.exists()):
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *requirements], check=True,
                       capture_output=True, timeout=900)  # fmt: skip
        stamp.write_text(digest)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall",
                    str(REPO)], check=True, capture_output=True, timeout=600)  # fmt: skip
    return python


def run_measured(device_python: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``serdevice ARGS`` in the device venv; return the result and its peak RSS in MB."""
    code = (
        "import resource, subprocess, sys; r = subprocess.run([sys.executable, '-m', "
        f"'serdevice.device.cli', *{list(args)!r}], capture_output=True, text=True); "
        "sys.stdout.write(r.stdout); sys.stderr.write(r.stderr); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, file=sys.stderr); "
        "sys.exit(r.returncode)"
    )
    result = subprocess.run([str(device_python), "-c", code], capture_output=True, text=True,
                            cwd="/")  # fmt: skip
    return result, float(result.stderr.strip().splitlines()[-1])

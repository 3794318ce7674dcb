"""Inside the arm64 root: build a job's venvs, run its serdevice commands, print the results.

    deploy/arm64/chroot.sh python3 deploy/arm64/job.py < job.json > results.json

job.json:     {"venvs": {"/opt/serdevice/venv": ["/src[device]"], ...},
               "runs": {"name": ["/opt/serdevice/venv", "listen", "--source", ...], ...}}
results.json: {"venvs": {path: {"install_s": s, "packages": [name, ...]} or {"error": why}},
               "runs": {name: {"rc": n, "stdout": s, "stderr": s, "rss_mb": mb, "wall_s": s}}}

The venvs are tests/venvs.py's side venvs (third-party packages kept while the recipe holds,
serdevice reinstalled every time), at absolute paths in the root, so they outlive the copy of
the working tree in /src. They install one after the other (side_venv builds serdevice inside
/src, and two builds in one tree collide; on 2 cores, parallel installs took longer anyway), a
venv's runs going on beside the next install. A venv that does not install has one line
instead, naming it and quoting pip's ERROR lines, and its runs are left out. Standard library
only: the root's python3 runs this.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from venvs import run_measured, side_venv  # noqa: E402

PACKAGES = (
    "import importlib.metadata as m, json; "
    "print(json.dumps(sorted({d.metadata['Name'].lower() for d in m.distributions()})))"
)


def venv(path: str, requirements: list[str]) -> dict[str, object]:
    """side_venv at ``path`` (absolute: REPO / path is path): the venv's python, install time
    and packages, or why it did not install."""
    start = time.monotonic()
    try:
        python = side_venv(path, requirements)
    except subprocess.CalledProcessError as error:
        text = error.stderr.decode(errors="replace") if error.stderr else ""
        lines = [line for line in text.splitlines() if line.startswith("ERROR")]
        reason = " ".join(lines or text.strip().splitlines()[-1:]) or f"exit {error.returncode}"
        return {"error": f"arm64 install of {path} ({' '.join(requirements)}) failed: {reason}",
                "install_s": round(time.monotonic() - start, 1)}  # fmt: skip
    listed = subprocess.run([python, "-c", PACKAGES], capture_output=True, text=True, check=True)
    return {"python": str(python), "install_s": round(time.monotonic() - start, 1),
            "packages": json.loads(listed.stdout)}  # fmt: skip


def run(python: str, args: list[str]) -> dict[str, object]:
    start = time.monotonic()
    done, rss_mb = run_measured(Path(python), *args)
    return {"rc": done.returncode, "stdout": done.stdout, "rss_mb": rss_mb,
            "stderr": "\n".join(done.stderr.splitlines()[:-1]),  # less run_measured's RSS line
            "wall_s": round(time.monotonic() - start, 2)}  # fmt: skip


def main() -> None:
    job = json.load(sys.stdin)
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever the installs print goes to stderr; stdout is the results alone
    # Byte-compiling every installed file (pandas, pyarrow, ...) took minutes under emulation;
    # without it the first import compiles only what is imported.
    os.environ.setdefault("PIP_NO_COMPILE", "1")
    venvs, started = {}, {}
    with ThreadPoolExecutor(2) as runs:
        for path, requirements in job["venvs"].items():
            venvs[path] = venv(path, requirements)
            if "error" not in venvs[path]:
                started.update({name: runs.submit(run, str(venvs[path]["python"]), args)
                                for name, (at, *args) in job["runs"].items() if at == path})  # fmt: skip
        results = {name: future.result() for name, future in started.items()}
    json.dump({"venvs": venvs, "runs": results}, out)
    out.close()


if __name__ == "__main__":
    main()

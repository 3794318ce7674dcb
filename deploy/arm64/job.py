"""Inside the arm64 root: finish a job's venvs, run its serdevice commands, print the results.

    deploy/arm64/chroot.sh --share DIR python3 deploy/arm64/job.py < job.json > results.json

job.json:     {"venvs": {"/opt/serdevice/venv": {"check": true}, ...},
               "batches": {"/opt/serdevice/venv": {"preload": [module, ...],
                                                   "runs": {"name": [arg, ...], ...}}, ...},
               "fresh": {"name": ["/opt/serdevice/venv", arg, ...], ...}}
results.json: {"venvs": {path: {"packages": [name, ...], "check_s": s, "error": why?}},
               "runs": {name: {"rc": n, "stdout": s, "stderr": s, "rss_mb": mb, "wall_s": s}}}

tests/test_arm64.py has already put each venv's packages in its site-packages (the host's pip,
choosing aarch64 wheels: pip under qemu-user took 3 min a venv). Here a venv missing its
pyvenv.cfg is made with the root's ``python3 -m venv --without-pip``, and one with "check"
(just installed) gets ``pip check`` by its own pip under arm64, so that dependencies are judged
with aarch64's environment markers; one that fails has {"error": why}, quoting pip. A venv's
"batches" run through forkrun.py (one Python start-up for them all: about 10 s each under
emulation); a "fresh" run is a process of its own, started from this small one, for its peak
RSS (wait4). All go on side by side, pip check included.
Standard library only: the root's python3 runs this.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

FORKRUN = str(Path(__file__).with_name("forkrun.py"))


def venv(path: str) -> None:
    """The venv at ``path`` (its packages already in place) made usable here."""
    if not Path(path, "pyvenv.cfg").is_file():
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", path], check=True)


def pip_check(path: str) -> dict[str, object]:
    """``pip check`` by the venv's own pip under arm64: {"check_s": s} or {"error": why}."""
    start = time.monotonic()
    done = subprocess.run([f"{path}/bin/python", "-m", "pip", "check"], capture_output=True,
                          text=True)  # fmt: skip
    if done.returncode != 0:
        reason = " ".join((done.stdout + done.stderr).strip().splitlines())
        return {"error": f"arm64 pip check of {path} failed: {reason}"}
    return {"check_s": round(time.monotonic() - start, 1)}


def batch(python: str, spec: dict[str, object]) -> dict[str, object]:
    job = json.dumps({"jobs": 2, **spec})
    done = subprocess.run([python, FORKRUN], input=job, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"forkrun in {python} failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def fresh(python: str, args: list[str]) -> dict[str, object]:
    """``serdevice ARGS`` as a process of its own, with its peak RSS."""
    start = time.monotonic()
    process = subprocess.Popen([python, "-m", "serdevice.device.cli", *args], cwd="/",
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    out, err = process.stdout.read(), process.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return {"rc": process.returncode, "stdout": out.decode(), "stderr": err.decode(),
            "rss_mb": round(usage.ru_maxrss / 1024, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "wall_s": round(time.monotonic() - start, 2)}  # fmt: skip


def main() -> None:
    job = json.load(sys.stdin)
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever the venvs print goes to stderr; stdout is the results alone
    for path in job["venvs"]:
        venv(path)
    venvs: dict[str, dict[str, object]] = {path: {} for path in job["venvs"]}
    batches: dict[str, Future] = {}
    singles: dict[str, Future] = {}
    checks: dict[str, Future] = {}
    with ThreadPoolExecutor(6) as pool:  # the commands go on beside pip check
        for name, (path, *args) in job.get("fresh", {}).items():
            singles[name] = pool.submit(fresh, f"{path}/bin/python", args)
        for path, spec in job.get("batches", {}).items():
            batches[path] = pool.submit(batch, f"{path}/bin/python", spec)
        for path, spec in job["venvs"].items():
            if spec.get("check"):
                checks[path] = pool.submit(pip_check, path)
        runs = {name: future.result() for name, future in singles.items()}
        for path, future in batches.items():
            result = future.result()
            venvs[path].update(packages=result["packages"], preload_cpu_s=result["preload_cpu_s"])
            runs.update(result["runs"])
        for path, future in checks.items():
            venvs[path].update(future.result())
    json.dump({"venvs": venvs, "runs": runs}, out)
    out.close()


if __name__ == "__main__":
    main()

"""Run serdevice commands, each in a process of its own, with one Python start-up for them all.

    VENV/bin/python deploy/arm64/forkrun.py < runs.json > results.json

runs.json:    {"preload": ["opensmile", ...], "jobs": 2, "runs": {"name": [arg, ...], ...}}
results.json: {"packages": [name, ...], "preload_cpu_s": s, "runs": {name: {"rc": n,
               "stdout": s, "stderr": s, "rss_mb": mb, "cpu_s": s, "wall_s": s}}}

Under qemu-user a Python start-up that imports opensmile (pandas, pyarrow) takes about 10 s,
most of a short command's time. So this imports the ``preload`` modules and serdevice's CLI
once, then forks a child per command (``jobs`` at a time), each with its own stdout and
stderr, running ``serdevice ARGS`` as the console script does (``cli.main``, its exit code).
A child starts from the parent's imports and nothing else: no command sees another's state.
``rss_mb`` is the child's peak RSS (wait4), which counts the preloaded modules' pages it
touches; under qemu-user it counts the emulator too and is indicative only. ``packages`` are
the venv's distributions (importlib.metadata). Standard library only, besides serdevice.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import json
import os
import sys
import tempfile
import time


def child(args: list[str], out: int, err: int) -> None:
    """In the forked child: ``serdevice ARGS`` with stdout/stderr on ``out``/``err``; never returns."""
    code = 1
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.argv = ["serdevice", *args]
        from serdevice.device import cli

        cli.main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - reported as the console script would, exit 1
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed stream has nothing to flush
                stream.flush()
        os._exit(code)


def main() -> None:
    job = json.load(sys.stdin)
    os.chdir("/")
    start = time.process_time()
    for module in job.get("preload", []):
        importlib.import_module(module)
    importlib.import_module("serdevice.device.cli")
    preload_s = round(time.process_time() - start, 2)
    pending = list(job["runs"].items())
    running: dict[int, tuple[str, object, object, float]] = {}
    results: dict[str, dict[str, object]] = {}
    while pending or running:
        while pending and len(running) < int(job.get("jobs", 2)):
            name, args = pending.pop(0)
            out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115 - closed when the child is reaped
            sys.stdout.flush()
            sys.stderr.flush()
            start = time.monotonic()
            pid = os.fork()
            if pid == 0:
                child(args, out.fileno(), err.fileno())
            running[pid] = (name, out, err, start)
        pid, status, usage = os.wait4(-1, 0)
        name, out, err, start = running.pop(pid)
        texts = []
        for stream in (out, err):
            stream.seek(0)  # type: ignore[attr-defined]
            texts.append(stream.read().decode(errors="replace"))  # type: ignore[attr-defined]
            stream.close()  # type: ignore[attr-defined]
        results[name] = {"rc": os.waitstatus_to_exitcode(status), "stdout": texts[0],
                         "stderr": texts[1], "rss_mb": round(usage.ru_maxrss / 1024, 1),
                         "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
                         "wall_s": round(time.monotonic() - start, 2)}  # fmt: skip
    packages = sorted({d.metadata["Name"].lower() for d in importlib.metadata.distributions()})
    json.dump({"packages": packages, "preload_cpu_s": preload_s, "runs": results}, sys.stdout)


if __name__ == "__main__":
    main()

"""A process pool that is safe to open after litert-torch (JAX) has been imported."""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from .progress import progress_bar

T = TypeVar("T")
R = TypeVar("R")


def process_pool(jobs: int) -> ProcessPoolExecutor:
    """``jobs`` worker processes.

    After JAX (imported by litert-torch for export) a plain fork() can deadlock, so forkserver is
    used then; fork otherwise, because forkserver re-imports ``__main__`` (which fails for a
    script read from stdin).
    """
    method = "forkserver" if "jax" in sys.modules else "fork"
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context(method))


def map_in_order(
    work: Callable[[T], R],
    tasks: Sequence[T],
    *,
    jobs: int,
    desc: str,
    unit: str = "file",
    chunksize: int = 4,
    progress: bool = True,
) -> list[R]:
    """``[work(t) for t in tasks]`` over ``jobs`` processes (in order), with a progress bar."""
    results: list[R] = []
    bar = progress_bar(len(tasks), desc=desc, unit=unit, enabled=progress)
    if jobs > 1 and len(tasks) > 1:
        with process_pool(jobs) as pool:
            for result in pool.map(work, tasks, chunksize=chunksize):
                results.append(result)
                bar.update(1)
    else:
        for task in tasks:
            results.append(work(task))
            bar.update(1)
    bar.close()
    return results

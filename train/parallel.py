"""A process pool that is safe to open after litert-torch (JAX) has been imported."""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor


def process_pool(jobs: int) -> ProcessPoolExecutor:
    """``jobs`` worker processes.

    After JAX (imported by litert-torch for export) a plain fork() can deadlock, so forkserver is
    used then; fork otherwise, because forkserver re-imports ``__main__`` (which fails for a
    script read from stdin).
    """
    method = "forkserver" if "jax" in sys.modules else "fork"
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context(method))

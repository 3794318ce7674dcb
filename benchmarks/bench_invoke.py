"""Model invoke time per LiteRT backend and bundled model, and Model.predict end to end.

The raw interpreter invoke is timed call by call with ``perf_counter_ns`` (p50 and p99; a 1-2 µs
call is too short for pytest-benchmark's rounds to resolve percentiles), budget p50 <= 5 µs
(DESIGN.md). ``Model.predict`` (quantize the input, invoke, dequantize and copy the outputs) runs
under pytest-benchmark. Backends that are not installed are skipped. Quick mode
(SERDEVICE_BENCH_QUICK=1) times fewer calls and never fails on timings; full mode asserts the
invoke budget.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from serdevice.device.stream import model as model_module
from serdevice.device.stream.model import Model, bundled_models

INVOKE_BUDGET_US = 5.0
MODELS = [path.stem for path in bundled_models()]
BACKENDS = [name for name, _ in model_module.BACKENDS]


def load_with(backend: str, name: str, monkeypatch: pytest.MonkeyPatch) -> Model:
    """The bundled model ``name`` opened with one given backend (skip if it is not installed)."""
    only = tuple(entry for entry in model_module.BACKENDS if entry[0] == backend)
    monkeypatch.setattr(model_module, "BACKENDS", only)
    try:
        loaded = Model.load(name)
    except model_module.RuntimeFailure:
        pytest.skip(f"backend {backend} is not installed")
    assert loaded.backend == backend
    return loaded


def invoke_us(model: Model, calls: int) -> np.ndarray:
    """Microseconds of each of ``calls`` bare invokes (after a warm-up predict)."""
    model.predict(np.zeros(88, dtype=np.float32))
    times = np.empty(calls, dtype=np.int64)
    for i in range(calls):
        start = time.perf_counter_ns()
        model.invoke_only()
        times[i] = time.perf_counter_ns() - start
    return times / 1000


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_invoke(benchmark, figures, quick, monkeypatch, backend, name):
    model = load_with(backend, name, monkeypatch)
    times = invoke_us(model, 2_000 if quick else 50_000)
    p50, p99 = float(np.percentile(times, 50)), float(np.percentile(times, 99))
    figures.add(f"invoke p50 {name} ({backend})", p50, "us", budget=INVOKE_BUDGET_US)
    figures.add(f"invoke p99 {name} ({backend})", p99, "us")

    x = np.random.default_rng(0).standard_normal(88).astype(np.float32)
    prediction = benchmark.pedantic(model.predict, args=(x,), rounds=200 if quick else 5_000,
                                    iterations=1, warmup_rounds=10)  # fmt: skip
    figures.add(f"predict median {name} ({backend})", benchmark.stats.stats.median * 1e6, "us")
    assert prediction.scores.shape == (len(model.labels),)  # it really ran the model
    if not quick:
        assert p50 <= INVOKE_BUDGET_US, f"invoke p50 {p50:.2f} us > {INVOKE_BUDGET_US} us"

"""``serdevice bench``'s table: latency is judged against the floor (openSMILE's look-ahead)."""

from __future__ import annotations

from click.testing import CliRunner

from serdevice.device import benchmark
from serdevice.device.commands.bench import BUDGETS, OVER_FLOOR_MS, bench, budget


def test_latency_budgets_follow_the_floor_and_the_rest_stay_fixed():
    assert budget("latency_ms_p50", 70.0) == 80.0
    assert budget("latency_ms_p99", 80.0) == 105.0
    assert budget("latency_ms_p99_48000hz", 70.0) == 95.0
    assert budget("rss_mb", 70.0) == BUDGETS["rss_mb"][1] == 100.0
    assert budget("latency_floor_ms", 70.0) is None


def test_the_table_judges_the_16_khz_latency_against_the_floor(monkeypatch):
    figures = {key: 1.0 for key in BUDGETS}
    figures.update(latency_floor_ms=70.0, latency_ms_p50=75.0, latency_ms_p99=96.0)
    for key in OVER_FLOOR_MS:
        figures[f"{key}_48000hz"] = 72.0
    monkeypatch.setattr(benchmark, "run_all", lambda **options: figures)
    result = CliRunner().invoke(bench, ["--rates", "48000"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines()[1:]}
    assert rows["latency_ms_p50"][-2:] == ["<=80", "yes"]
    assert rows["latency_ms_p99"][-2:] == ["<=95", "NO"]
    assert rows["latency_ms_p99_48000hz"][-2:] == ["<=95", "yes"]
    assert rows["rss_mb"][-2:] == ["<=100", "yes"]

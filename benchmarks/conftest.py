"""Benchmark plumbing: quick mode, and one table of figures printed at the end of the run.

``SERDEVICE_BENCH_QUICK=1`` (what ``make test`` sets) shortens the signals and rounds; timings
are reported, never asserted. Each benchmark records its figures with
``figures.add(name, value, unit, budget=...)``; the table shows whether each is within budget.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest

QUICK = os.environ.get("SERDEVICE_BENCH_QUICK", "") not in ("", "0")


def pytest_collect_file(parent, file_path):
    """Collect ``bench_*.py`` as test modules (a file named on the command line is collected
    by pytest itself; collecting it here too would run it twice)."""
    named = parent.session.isinitpath(file_path)
    if file_path.suffix == ".py" and file_path.name.startswith("bench_") and not named:
        return pytest.Module.from_parent(parent, path=file_path)
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Figure:
    """One measured number, with its unit and, where DESIGN.md sets one, its budget."""

    name: str
    value: float
    unit: str
    budget: float | None = None
    lower_is_better: bool = True

    @property
    def verdict(self) -> str:
        """'yes' / 'NO' against the budget, '' when there is none."""
        if self.budget is None:
            return ""
        ok = self.value <= self.budget if self.lower_is_better else self.value >= self.budget
        return "yes" if ok else "NO"


@dataclass
class Figures:
    """Collected figures of the whole benchmark session."""

    rows: list[Figure] = field(default_factory=list)

    def add(
        self,
        name: str,
        value: float,
        unit: str,
        budget: float | None = None,
        lower_is_better: bool = True,
    ) -> None:
        """Record one figure."""
        self.rows.append(
            Figure(
                name=name,
                value=float(value),
                unit=unit,
                budget=budget,
                lower_is_better=lower_is_better,
            )
        )


_FIGURES = Figures()


@pytest.fixture(scope="session")
def figures() -> Figures:
    """The session's figure table."""
    return _FIGURES


@pytest.fixture(scope="session")
def quick() -> bool:
    """True in quick mode (CI)."""
    return QUICK


def pytest_terminal_summary(terminalreporter):
    """Print every figure as one table."""
    if not _FIGURES.rows:
        return
    mode = "quick mode: figures are indicative" if QUICK else "full mode"
    terminalreporter.section(f"serdevice benchmark figures ({mode})")
    width = max(len(f.name) for f in _FIGURES.rows)
    terminalreporter.write_line(
        f"{'figure':<{width}}  {'value':>12}  {'unit':<10} {'budget':>10}  within"
    )
    for f in _FIGURES.rows:
        budget = "" if f.budget is None else f"{'<=' if f.lower_is_better else '>='}{f.budget:g}"
        terminalreporter.write_line(
            f"{f.name:<{width}}  {f.value:>12.4g}  {f.unit:<10} {budget:>10}  {f.verdict}"
        )

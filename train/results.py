"""The protocol's results: per-fold metrics by level, row, corpus and setting, the latents for
the plots, the outlier counts, and their mean and std (``summary``, what report.py tabulates)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Results:
    """results[level][row][corpus][setting][metric] = per-fold values; latents for plots.

    ``outliers[level][corpus][split] = [dropped, rows]`` counts the |z| > 10 rule per split.
    """

    folds: dict[str, Any] = field(default_factory=dict)
    latents: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    outliers: dict[str, Any] = field(default_factory=dict)

    def add(
        self, level: str, method: str, corpus: str, setting: str, fold: dict[str, float]
    ) -> None:
        """Append one fold's metrics."""
        slot = self.folds.setdefault(level, {}).setdefault(method, {}).setdefault(corpus, {})
        metrics = slot.setdefault(setting, {})
        for key, value in fold.items():
            metrics.setdefault(key, []).append(float(value))

    def merge(self, other: Results) -> None:
        """Take in the rows another Results holds (a worker's)."""
        for level, rows in other.folds.items():
            self.folds.setdefault(level, {}).update(rows)
        for level, rows in other.latents.items():
            self.latents.setdefault(level, {}).update(rows)

    def count_outliers(self, level: str, corpus: str, keep: np.ndarray) -> None:
        """Record how many rows of a corpus the |z| > 10 rule dropped."""
        self.outliers.setdefault(level, {})[corpus] = [int((~keep).sum()), int(len(keep))]


def summary(results: Results) -> dict[str, Any]:
    """Mean and std over folds, same nesting as ``results.folds``."""
    from .metrics import mean_std

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            mean, std = mean_std(node)
            return {"mean": mean, "std": std, "n": len(node)}
        return {key: walk(value) for key, value in node.items()}

    return walk(results.folds)

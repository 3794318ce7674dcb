"""The evaluation protocol end to end (quick), and its metric functions by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from serdevice.train.metrics import adjusted_r2, balanced_accuracy, mean_std, spearman
from serdevice.train.models import METHODS


def test_balanced_accuracy_by_hand():
    y = np.array(["a", "a", "a", "b"])
    assert balanced_accuracy(y, np.array(["a", "a", "b", "b"])) == pytest.approx((2 / 3 + 1) / 2)


def test_adjusted_r2_by_hand():
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    assert adjusted_r2(2 * x[:, 0] + 1, x) == pytest.approx(1.0)
    y = np.array([1.0, 3.0, 2.0, 4.0])  # OLS fit: y = 0.8 x + 1.3, R^2 = 0.64
    assert adjusted_r2(y, x) == pytest.approx(1 - (1 - 0.64) * 3 / 2)


def test_spearman_and_mean_std():
    assert spearman(np.array([1, 2, 3]), np.array([10, 20, 30])) == pytest.approx(1.0)
    assert np.isnan(spearman(np.array([1, 1, 1]), np.array([1, 2, 3])))
    assert mean_std([1.0, 3.0, float("nan")]) == (2.0, 1.0)


def test_evaluate_quick_writes_report_results_and_plots(cli, tmp_path):
    out = tmp_path / "eval"
    result = cli("evaluate", "--quick", "--out", str(out), "--cache-dir", str(tmp_path / "cache"),
                 cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    report = (out / "report.md").read_text()
    for heading in ("N-S-A", "N-S-H-A", "Adjusted R²", "Spearman", "transfer + 20 %",
                    "published, not run here", "SUPERB", "SYNTHETIC DATA",
                    "Clip level (the seed) vs the device's 2 s windows"):  # fmt: skip
        assert heading in report, heading
    results = json.loads((out / "results.json").read_text())
    for level in ("clip", "window"):
        assert set(results["folds"][level]) == set(METHODS)
        dae = results["folds"][level]["dae-metric-act"]
        assert set(dae["synth[en]"]) == {"in-domain"}
        assert set(dae["synth[da]"]) == {"transfer", "transfer+unlabeled"}
        fold_values = dae["synth[da]"]["transfer"]["bacc_nsha"]
        assert len(fold_values) >= 2 and all(0 <= v <= 1 for v in fold_values)
    assert len(list((out / "plots").glob("*.png"))) >= 2


def test_evaluate_rejects_an_unknown_method(cli, tmp_path):
    result = cli("evaluate", "--quick", "--methods", "dae,pca", "--out", str(tmp_path / "e"),
                 cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2 and "unknown method(s) pca" in result.stderr

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
    # ~2 min on two idle cores; 297 s when other jobs share them (the default 300 s cut it off).
    result = cli("evaluate", "--quick", "--out", str(out), "--cache-dir", str(tmp_path / "cache"),
                 cwd=tmp_path, timeout=900)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    report = (out / "report.md").read_text()
    for heading in ("N-S-A", "N-S-H-A", "Adjusted R²", "Spearman", "transfer + 20 %",
                    "published, not run here", "SUPERB", "SYNTHETIC DATA",
                    "Clip level (the seed) vs the device's 2 s windows",
                    "Which level serves the device", "Against the seed's findings",
                    "ρ-Act +unl.", "Spearman's ρ, valence", "z_d on l_d — the seed's first table",
                    "the seed's second table", "the seed's third table",
                    "dae-metric-act (supervised on target)", "dae-metric-act:signed-first",
                    "*seed, published: DAE-Metric-act*", "Gain from the 20 % unlabeled audio",
                    "rows dropped (|z| > 10)"):  # fmt: skip
        assert heading in report, heading
    results = json.loads((out / "results.json").read_text())
    extras = {"dae-metric-act:signed-first", "dae-metric-val:signed-first", "vae-metric-act",
              "vae-metric-val"}  # fmt: skip
    assert set(results["folds"]["clip"]) == set(METHODS) | extras
    assert set(results["folds"]["window"]) == set(METHODS)  # extras at clip level only
    for level in ("clip", "window"):
        dae = results["folds"][level]["dae-metric-act"]
        assert set(dae["synth[en]"]) == {"in-domain"}
        # the extras (supervised rows, the unlabeled comparison) run at clip level by default
        extra = (
            {"supervised", "transfer-heldout", "transfer+unlabeled"} if level == "clip" else set()
        )
        assert set(dae["synth[da]"]) == {"transfer"} | extra
        fold_values = dae["synth[da]"]["transfer"]["bacc_nsha"]
        assert len(fold_values) >= 2 and all(0 <= v <= 1 for v in fold_values)
        assert "zd_r2_act" in dae["synth[en]"]["in-domain"]
        dropped, total = results["outliers"][level]["synth[da]"]
        assert 0 <= dropped < total
    # with and without the unlabeled share: one value per seed, on the same rows
    dae = results["folds"]["clip"]["dae-metric-act"]
    assert len(dae["synth[da]"]["transfer+unlabeled"]["bacc_nsha"]) == 3
    assert len(dae["synth[da]"]["transfer-heldout"]["bacc_nsha"]) == 3
    assert "Not run at this level" in report  # the window level says where its comparison is
    assert len(list((out / "plots").glob("*.png"))) >= 2


def test_evaluate_rejects_an_unknown_method(cli, tmp_path):
    result = cli("evaluate", "--quick", "--methods", "dae,pca", "--out", str(tmp_path / "e"),
                 cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2 and "unknown method(s) pca" in result.stderr


def _summary(numbers: dict[tuple[str, str, str, str], float]) -> dict:
    """A protocol summary with the given fold means (std 0)."""
    out: dict = {}
    for (level, method, corpus, metric), mean in numbers.items():
        slot = out.setdefault(level, {}).setdefault(method, {}).setdefault(corpus, {})
        setting = "in-domain" if corpus == "en" else "transfer"
        slot.setdefault(setting, {})[metric] = {"mean": mean, "std": 0.0, "n": 5}
    return out


def test_level_verdict_picks_the_level_with_more_transfer_wins():
    from serdevice.train.report import level_verdict

    numbers = {}
    for target in ("de", "fr"):
        numbers[("clip", "dae-metric-act", target, "bacc_nsha")] = 0.40
        numbers[("window", "dae-metric-act", target, "bacc_nsha")] = 0.50
        numbers[("clip", "dae-metric-act", target, "spearman_act")] = 0.70
        numbers[("window", "dae-metric-act", target, "spearman_act")] = 0.60
        numbers[("clip", "dae", target, "bacc_nsha")] = 0.20
        numbers[("window", "dae", target, "bacc_nsha")] = 0.30
    text = " ".join(level_verdict(_summary(numbers), ["clip", "window"],
                                  ["dae", "dae-metric-act"], ["de", "fr"]))  # fmt: skip
    assert "serves the device: window" in text
    assert "window wins 2 and clip 1" in text
    assert "N-S-H-A 0.40 (clip) vs 0.50 (window), ρ-Act 0.70 vs 0.60" in text
    numbers[("window", "dae", "de", "bacc_nsha")] = numbers[
        ("window", "dae", "fr", "bacc_nsha")
    ] = 0.1
    text = " ".join(level_verdict(_summary(numbers), ["clip", "window"],
                                  ["dae", "dae-metric-act"], ["de", "fr"]))  # fmt: skip
    assert "serves the device: clip" in text
    assert level_verdict(_summary(numbers), ["clip"], ["dae"], ["de"]) == []


def test_seed_comparison_states_whether_metric_act_raises_r2():
    from serdevice.train.protocol import Results
    from serdevice.train.report import seed_comparison

    numbers = {("clip", "dae", "en", "adj_r2_act"): 0.41, ("clip", "dae-metric-act", "en", "adj_r2_act"): 0.49,
               ("clip", "dae", "de", "adj_r2_act"): 0.2, ("clip", "dae-metric-act", "de", "adj_r2_act"): 0.3}  # fmt: skip
    s = _summary(numbers)
    results = Results(folds={"clip": {"dae": {}, "dae-metric-act": {}}})
    text = "\n".join(seed_comparison(s, results, "en", ["de"]))
    assert "dae-metric-act raises the adjusted R² of activation over dae: 0.49 vs 0.41" in text
    assert "0.30 vs 0.20 over the transfer targets" in text
    s["clip"]["dae"]["en"]["in-domain"]["adj_r2_act"]["mean"] = 0.6
    assert "does not raise" in "\n".join(seed_comparison(s, results, "en", ["de"]))

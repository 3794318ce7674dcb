"""Online adaptation: the wearer's running statistics, on a fake stream of feature rows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from serdevice.device.stream.adaptation import (
    DEFAULT_ADAPT,
    AdaptConfig,
    AdaptiveNormalizer,
    RunningStats,
)
from serdevice.device.stream.calibration import CALIBRATION_KIND, read_calibration
from serdevice.device.stream.contracts import N_FEATURES
from serdevice.device.stream.model import Model
from serdevice.device.stream.state import StateFile, StateKeeper

PRIOR_MEAN, PRIOR_STD = np.zeros(N_FEATURES), np.ones(N_FEATURES)


def wearer(n: int, *, mean: float = 5.0, std: float = 2.0, seed: int = 0) -> np.ndarray:
    """``n`` windows of a fake wearer whose features sit far from the model's statistics."""
    return np.random.default_rng(seed).normal(mean, std, size=(n, N_FEATURES))


def adaptive(config: AdaptConfig = DEFAULT_ADAPT) -> AdaptiveNormalizer:
    return AdaptiveNormalizer(PRIOR_MEAN, PRIOR_STD, stats=RunningStats(config=config))


def test_nothing_heard_is_the_model_s_own_normalization():
    z = adaptive()(np.full(N_FEATURES, 3.0))
    np.testing.assert_allclose(z, 3.0, rtol=1e-6)


def test_hands_over_to_the_wearer_within_tens_of_windows():
    normalizer = adaptive(AdaptConfig(prior_windows=20))
    rows = wearer(600)
    for row in rows[:100]:
        normalizer.update(row)
    # 100 windows (50 s of speech): the wearer's weight is 100 / 120 and their mean is near 5
    assert normalizer.stats.weight == pytest.approx(100 / 120)
    assert np.abs(normalizer.mean_ - 5.0).max() < 1.5
    for row in rows[100:]:
        normalizer.update(row)
    z = np.stack([normalizer(row) for row in wearer(500, seed=1)])
    assert np.abs(z.mean(axis=0)).max() < 0.4 and np.abs(z.std(axis=0) - 1).max() < 0.3


def test_running_statistics_are_exact_below_the_horizon():
    stats = RunningStats(config=AdaptConfig(outlier_z=1e9))
    rows = wearer(300)
    for row in rows:
        assert stats.update(row)
    np.testing.assert_allclose(stats.mean, rows.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(stats.var, rows.var(axis=0), rtol=1e-9)


def test_the_horizon_keeps_a_long_episode_from_becoming_the_new_normal():
    config = AdaptConfig(horizon_windows=2000, warmup_windows=10**9)
    long, short = RunningStats(config=config), RunningStats(config=AdaptConfig(horizon_windows=100))
    for row in wearer(4000, mean=0.0, std=1.0):  # hours of ordinary speech
        long.update(row)
        short.update(row)
    for row in wearer(400, mean=3.0, std=1.0, seed=2):  # then a long angry episode
        long.update(row)
        short.update(row)
    # 400 windows move a 2000-window memory by 1 - (1 - 1/2000)^400 = 18 % of the way
    assert long.mean.mean() == pytest.approx(3.0 * (1 - (1 - 1 / 2000) ** 400), abs=0.1)
    assert short.mean.mean() > 2.9  # a short memory has forgotten the wearer's normal voice


def test_outlier_windows_barely_move_the_statistics():
    stats = RunningStats(config=AdaptConfig(outlier_z=4.0, warmup_windows=60))
    for row in wearer(200, mean=0.0, std=1.0):
        stats.update(row)
    before, std = stats.mean.copy(), np.sqrt(stats.var)
    stats.update(np.full(N_FEATURES, 1e6))  # a glitch: a million standard deviations away
    assert (np.abs(stats.mean - before) <= 4.0 * std / 201 + 1e-9).all()
    assert not stats.update(np.full(N_FEATURES, np.nan))  # non-finite windows are not heard
    assert stats.n == 201


def test_frozen_normalizer_does_not_learn():
    normalizer = AdaptiveNormalizer(PRIOR_MEAN, PRIOR_STD, frozen=True)
    for row in wearer(50):
        normalizer.update(row)
    assert normalizer.windows == 0
    np.testing.assert_allclose(normalizer.mean_, 0.0)


@pytest.fixture(scope="module")
def model():
    return Model.load("dae_metric_act")


def test_state_persists_across_a_restart(model, tmp_path):
    path = tmp_path / "wearer.state.json"
    first, problem = StateFile(path).load(model)
    assert problem is None and first.windows == 0
    rows = wearer(150) + np.asarray(model.sidecar.norm_mean)
    for row in rows[:100]:
        first.update(row)
    assert StateFile(path).save(first, model)
    data = json.loads(path.read_text())
    assert data["kind"] == CALIBRATION_KIND and data["n_windows"] == 100  # statistics only
    assert set(data) >= {"wearer_mean", "wearer_std", "mean", "std"}
    # a restart continues where it was: the same answers as a device that never stopped
    again, problem = StateFile(path).load(model)
    assert problem is None and again.windows == 100
    for row in rows[100:]:
        first.update(row)
        again.update(row)
    np.testing.assert_allclose(again.mean_, first.mean_, rtol=1e-5)
    np.testing.assert_allclose(again(rows[0]), first(rows[0]), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b'{"kind": "serdevice-calibration", "schema": 2}', b"\xff\xfe garbage"],
    ids=["empty", "truncated", "fields-missing", "binary"],
)
def test_a_corrupt_state_is_set_aside_and_adaptation_restarts(model, tmp_path, content):
    path = tmp_path / "wearer.state.json"
    path.write_bytes(content)
    normalizer, problem = StateFile(path).load(model)
    assert problem is not None and "moved aside" in problem and "\n" not in problem
    assert normalizer.windows == 0 and not path.exists()
    assert [p.read_bytes() for p in tmp_path.glob("wearer.state.json.bad-*")] == [content]


def test_a_state_for_other_features_is_refused(model, tmp_path):
    path = tmp_path / "wearer.state.json"
    normalizer, _ = StateFile(path).load(model)
    normalizer.update(np.asarray(model.sidecar.norm_mean))
    StateFile(path).save(normalizer, model)
    data = json.loads(path.read_text())
    data["feature_names"] = data["feature_names"][::-1]
    path.write_text(json.dumps(data))
    _, problem = StateFile(path).load(model)
    assert problem is not None and "feature names differ" in problem


def test_a_failed_write_is_reported_once_and_never_raises(model, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    normalizer, _ = StateFile(blocker / "state.json").load(model)
    messages: list[str] = []
    keeper = StateKeeper(StateFile(blocker / "state.json"), normalizer, model, messages.append)
    for row in wearer(3) + np.asarray(model.sidecar.norm_mean):
        normalizer.update(row)
        keeper.save()
    assert len(messages) == 1 and "not saved" in messages[0]


def test_a_calibration_file_seeds_the_state(model, tmp_path):
    from serdevice.device.stream.calibration import calibrate_for, write_calibration

    rows = wearer(80) + np.asarray(model.sidecar.norm_mean)
    path = write_calibration(calibrate_for(rows, model.sidecar), tmp_path / "c.json")
    normalizer, problem = StateFile(path).load(model)
    assert problem is None and normalizer.windows == 80
    np.testing.assert_allclose(normalizer.stats.mean, rows.mean(axis=0), rtol=1e-5)
    assert read_calibration(path).wearer_mean is not None

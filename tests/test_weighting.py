"""How training rows are drawn: every window alike, or every corpus / speaker an equal share."""

from __future__ import annotations

import numpy as np
import pytest

from serdevice.device.stream.contracts import InputError
from serdevice.train.dataset import FeatureSet, row_weights
from serdevice.train.training import TrainConfig, fit


def rows(corpora: list[str], groups: list[str]) -> FeatureSet:
    n = len(corpora)
    return FeatureSet(
        x=np.zeros((n, 88)), label=np.array(["neutral"] * n), activation=np.full(n, 3.0),
        valence=np.full(n, 3.0), group=np.array(groups), language=np.array(["en"] * n),
        corpus=np.array(corpora), file=np.array([f"f{i}" for i in range(n)]),
    )  # fmt: skip


def shares(weights: np.ndarray, units: np.ndarray) -> dict[str, float]:
    return {u: float(weights[units == u].sum() / weights.sum()) for u in np.unique(units)}


def test_corpus_and_speaker_weights_give_equal_shares():
    # corpus a: one speaker with 6 rows; corpus b: three speakers with 1 row each
    data = rows(["a"] * 6 + ["b"] * 3, ["s1"] * 6 + ["t1", "t2", "t3"])
    assert row_weights(data, "none") is None
    by_corpus = shares(row_weights(data, "corpus"), data.corpus)
    assert by_corpus == pytest.approx({"a": 0.5, "b": 0.5})
    by_speaker = shares(row_weights(data, "speaker"), data.group)
    assert by_speaker == pytest.approx({g: 0.25 for g in ("s1", "t1", "t2", "t3")})


def test_same_speaker_code_in_two_corpora_is_two_speakers():
    data = rows(["a", "a", "b"], ["s1", "s1", "s1"])
    assert shares(row_weights(data, "speaker"), np.array(["a", "a", "b"])) == pytest.approx(
        {"a": 0.5, "b": 0.5}
    )


def test_unknown_weighting_is_refused():
    with pytest.raises(InputError, match="unknown weighting 'clips'"):
        row_weights(rows(["a"], ["s"]), "clips")


def test_weighted_fit_draws_by_weight():
    # rows of weight 0 are never drawn: a fit on weights [1, 0, ...] sees only row 0, whose value
    # is the only one the reconstruction can learn (the others are far away)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 88)).astype(np.float32)
    config = TrainConfig(method="dae", epochs=2, seed=0)
    args = dict(classes=np.zeros(64, np.int64), activation=np.full(64, 3.0),
                valence=np.full(64, 3.0))  # fmt: skip
    plain = fit(x, config=config, **args)
    only_first = fit(x, config=config, weights=np.r_[1.0, np.zeros(63)], **args)
    uniform = fit(x, config=config, weights=np.ones(64), **args)
    assert only_first.history[-1]["rec"] != pytest.approx(plain.history[-1]["rec"])
    assert np.isfinite(uniform.history[-1]["total"])

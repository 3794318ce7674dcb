"""The protocol's row cache: a key that changes with what decides a row, a faithful round trip."""

from __future__ import annotations

import numpy as np

from serdevice.train import rowcache
from serdevice.train.dataset import FeatureSet


def _data(shift: float = 0.0) -> FeatureSet:
    n = 6
    return FeatureSet(x=np.arange(n * 88, dtype=np.float64).reshape(n, 88) + shift,
                      label=np.array(["neutral", "sad", "happy", "angry", "sad", "happy"]),
                      activation=np.linspace(1, 5, n), valence=np.linspace(5, 1, n),
                      group=np.array(["a", "a", "b", "b", "c", "c"]), language=np.full(n, "en"),
                      corpus=np.full(n, "x"), file=np.array([f"f{i}.wav" for i in range(n)]))  # fmt: skip


def test_row_key_changes_with_settings_and_data_only():
    settings = {"row": ["dae", "dae", "distance"], "epochs": 50}
    key = rowcache.row_key(settings, [("src", _data())])
    assert key == rowcache.row_key(dict(settings), [("src", _data())])
    assert key != rowcache.row_key({**settings, "epochs": 51}, [("src", _data())])
    assert key != rowcache.row_key(settings, [("src", _data(1e-9))])
    assert key != rowcache.row_key(settings, [("other", _data())])


def test_save_then_load_gives_the_same_folds_and_latents(tmp_path):
    folds = {"src": {"in-domain": {"bacc_nsha": [0.5, float("nan")]}}}
    latents = {"src": np.array([[0.1, 0.2], [0.3, 0.4]]), "synth[de]": np.zeros((1, 2))}
    rowcache.save(tmp_path, "k", folds, latents)
    loaded_folds, loaded_latents = rowcache.load(tmp_path, "k")
    assert loaded_folds["src"]["in-domain"]["bacc_nsha"][0] == 0.5
    assert np.isnan(loaded_folds["src"]["in-domain"]["bacc_nsha"][1])
    np.testing.assert_array_equal(loaded_latents["src"], latents["src"])
    assert set(loaded_latents) == set(latents)
    assert rowcache.load(tmp_path, "missing") is None
    (tmp_path / "k.npz").write_bytes(b"not a zip")
    assert rowcache.load(tmp_path, "k") is None  # damaged: recomputed, not trusted

"""The seed's preprocessing: z-scores from training statistics, |z| > 10 rows dropped."""

from __future__ import annotations

import numpy as np

from serdevice.train.preprocess import Standardizer, outlier_mask, standardize_and_drop


def test_standardizer_hand_computed():
    x = np.array([[1.0, 5.0], [3.0, 5.0]])
    s = Standardizer().fit(x)
    assert s.mean_.tolist() == [2.0, 5.0]
    assert s.std_.tolist() == [1.0, 1.0]  # constant column -> std 1, not a division by zero
    assert s.transform(np.array([[4.0, 6.0]])).tolist() == [[2.0, 1.0]]


def test_outlier_mask_keeps_rows_within_ten():
    z = np.array([[0.0, -10.0], [10.01, 0.0], [0.0, np.inf], [-3.0, 3.0]])
    assert outlier_mask(z).tolist() == [True, False, False, True]


def test_standardize_and_drop_removes_an_extreme_row_and_refits():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 3))
    x[7, 1] = 1e4
    scaler, z, keep = standardize_and_drop(x)
    assert keep.sum() == 499 and not keep[7]
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(scaler.mean_, x[keep].mean(axis=0))

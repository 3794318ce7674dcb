"""Model sizes (the device budget) and training determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from serdevice.train.models import (
    ENCODER_METHODS,
    build_autoencoder,
    build_encoder,
    head_params,
    inference_params,
    n_params,
)
from serdevice.train.training import TrainConfig, encode, fit


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny nets, as the CLI trains them: one thread (two spin-waiting on a busy box cost 10x)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("method", ENCODER_METHODS)
def test_encoder_plus_four_class_head_under_400_parameters(method):
    encoder = build_encoder(method, 4)
    mean_path = n_params(encoder) - (
        n_params(encoder.log_var) if encoder.log_var is not None else 0
    )
    assert mean_path == inference_params(4) == 366
    assert head_params(4) == 12
    assert mean_path + head_params(4) < 400
    assert encoder(torch.zeros(3, 88)).shape == (3, 2)


def test_decoder_mirrors_encoder():
    model = build_autoencoder("dae", 4)
    x_hat, z, mean, log_var = model(torch.zeros(2, 88))
    assert x_hat.shape == (2, 88) and z.shape == (2, 2) and log_var is None


@pytest.mark.parametrize("method", ["dae", "vae-cluster", "dae-metric-act"])
def test_training_is_deterministic_for_a_seed(method):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((150, 88)).astype(np.float32)
    classes = rng.integers(0, 4, 150)
    act = rng.uniform(1, 5, 150)
    runs = [
        encode(fit(x, config=TrainConfig(method=method, epochs=3, seed=5), classes=classes,
                   activation=act, valence=act).model, x)
        for _ in range(2)
    ]  # fmt: skip
    np.testing.assert_array_equal(runs[0], runs[1])


def _activation_data():
    rng = np.random.default_rng(1)
    activation = rng.uniform(1, 5, 400)
    x = rng.standard_normal((400, 88)).astype(np.float32)
    x[:, :5] += 0.5 * activation[:, None]  # a few features carry activation, 83 are noise
    return (x - x.mean(axis=0)) / x.std(axis=0), activation


def _latent(method, x, activation, form="distance"):
    config = TrainConfig(method=method, epochs=60, metric_form=form)
    model = fit(x, config=config, classes=np.full(len(x), -1), activation=activation,
                valence=activation).model  # fmt: skip
    return encode(model, x)


def test_metric_loss_distance_form_shapes_latent_distances_by_activation_where_dae_does_not():
    from serdevice.train.metrics import adjusted_r2, pair_distance_r2

    x, activation = _activation_data()
    plain, metric = _latent("dae", x, activation), _latent("dae-metric-act", x, activation)
    # measured: R^2 of activation on z 0.70 vs 0.10; of z_d on l_d 0.39 vs 0.00
    assert adjusted_r2(activation, metric) > adjusted_r2(activation, plain) + 0.3
    assert pair_distance_r2(metric, activation) > pair_distance_r2(plain, activation) + 0.2


def test_metric_loss_signed_form_orders_the_first_latent_by_activation_where_dae_does_not():
    from scipy.stats import spearmanr

    x, activation = _activation_data()
    rho = {m: spearmanr(_latent(m, x, activation, "signed-first")[:, 0], activation)[0]
           for m in ("dae", "dae-metric-act")}  # fmt: skip
    assert rho["dae-metric-act"] > 0.5
    assert rho["dae-metric-act"] > abs(rho["dae"]) + 0.2

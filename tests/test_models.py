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


def test_metric_loss_orders_the_first_latent_by_activation_where_plain_dae_does_not():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(1)
    activation = rng.uniform(1, 5, 400)
    x = rng.standard_normal((400, 88)).astype(np.float32)
    x[:, :5] += 0.5 * activation[:, None]  # a few features carry activation, 83 are noise
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    rho = {}
    for method in ("dae", "dae-metric-act"):
        model = fit(x, config=TrainConfig(method=method, epochs=60), classes=np.full(400, -1),
                    activation=activation, valence=activation).model  # fmt: skip
        rho[method] = spearmanr(encode(model, x)[:, 0], activation)[0]
    assert rho["dae-metric-act"] > 0.5
    assert rho["dae-metric-act"] > abs(rho["dae"]) + 0.2

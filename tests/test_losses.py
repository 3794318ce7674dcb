"""The seed's loss terms against hand-computed values."""

from __future__ import annotations

import pytest
import torch

from serdevice.train import losses


@pytest.mark.parametrize(
    ("epoch", "total", "expected"),
    [(1, 50, 0.0), (2, 50, 0.04), (4, 50, 0.12), (7, 50, 0.24), (8, 50, 0.25), (13, 50, 0.25),
     (14, 50, 0.02), (1, 40, 0.0), (6, 40, 0.25), (11, 40, 0.0), (12, 40, 0.05)],
)  # fmt: skip
def test_cyclical_beta(epoch, total, expected):
    # T/M = 12.5 (or 10); tau = mod(e-1, T/M)/(T/M); beta = 0.25 tau / 0.5 up to R = 0.5
    assert losses.cyclical_beta(epoch, total) == pytest.approx(expected)


def test_kl_of_a_standard_normal_is_zero_and_positive_otherwise():
    mean, log_var = torch.zeros(5, 2), torch.zeros(5, 2)
    assert losses.kl_standard_normal(mean, log_var).item() == pytest.approx(0.0)
    # one sample, mean (1, 0), unit variance: KL = 0.5 * 1^2 = 0.5
    assert losses.kl_standard_normal(
        torch.tensor([[1.0, 0.0]]), torch.zeros(1, 2)
    ).item() == pytest.approx(0.5)


def test_reconstruction_is_mean_squared_error():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert losses.reconstruction(x, x + 2).item() == pytest.approx(4.0)


def test_gaussian_nll_sums_features_and_averages_samples():
    x = torch.zeros(2, 3)
    x_hat = torch.tensor([[1.0, 1.0, 1.0], [2.0, 0.0, 0.0]])  # squared norms 3 and 4
    assert losses.gaussian_nll(x, x_hat).item() == pytest.approx(0.5 * (3 + 4) / 2)


def test_metric_loss_distance_form_by_hand_on_four_samples():
    # The seed's form: consecutive rows as they come, l_d = |l_i - l_i+1|, z_d = ||z_i - z_i+1||.
    label = torch.tensor([1.0, 3.0, 2.0, 2.0])
    z = torch.tensor([[0.0, 0.0], [3.0, 4.0], [3.0, 0.0], [3.0, 0.0]], requires_grad=True)
    # l_d = (2, 1, 0); z_d = (5, 4, 0); p = (2*5 + 1*4 + 0) / (4 + 1 + 0) = 2.8
    # L_res = ((5 - 5.6)^2 + (4 - 2.8)^2 + 0^2) / 3 = 0.6; L_sl = |2.8 - 1| = 1.8
    residual, slope, p = losses.metric_terms(z, label)
    assert p.item() == pytest.approx(2.8)
    assert residual.item() == pytest.approx(0.6)
    assert slope.item() == pytest.approx(1.8)
    total = losses.metric_loss(z, label)
    assert total.item() == pytest.approx(2.4)
    total.backward()  # the last pair has z_d = 0: the gradient must stay finite
    assert torch.isfinite(z.grad).all()


def test_metric_loss_forms_differ_and_an_unknown_form_is_refused():
    label = torch.tensor([1.0, 3.0, 2.0, 2.0])
    z = torch.tensor([[0.0, 0.0], [3.0, 4.0], [3.0, 0.0], [3.0, 0.0]])
    # signed-first: sorted labels (1, 2, 2, 3), first coordinates (0, 3, 3, 3): l_d = (1, 0, 1),
    # z_d = (3, 0, 0), p = 3 / 2
    assert losses.metric_terms(z, label, form="signed-first")[2].item() == pytest.approx(1.5)
    assert losses.metric_terms(z, label)[2].item() == pytest.approx(2.8)
    with pytest.raises(ValueError, match="unknown metric form"):
        losses.metric_terms(z, label, form="cosine")


def test_metric_loss_is_zero_with_slope_one_when_latent_follows_the_label():
    label = torch.tensor([3.0, 1.0, 4.5, 2.0])
    z = torch.stack([label, torch.tensor([9.0, -1.0, 0.3, 5.0])], dim=1)  # 2nd coordinate free
    residual, slope, p = losses.metric_terms(z, label, form="signed-first")
    assert p.item() == pytest.approx(1.0)
    assert residual.item() == pytest.approx(0.0, abs=1e-7)
    assert losses.metric_loss(z, label, form="signed-first").item() == pytest.approx(0.0, abs=1e-6)


def test_metric_slope_for_a_known_scaling():
    label = torch.tensor([1.0, 2.0, 4.0, 5.0])
    z = torch.stack([2.0 * label + 7.0, torch.zeros(4)], dim=1)  # offset cancels in differences
    residual, slope, p = losses.metric_terms(z, label, form="signed-first")
    assert p.item() == pytest.approx(2.0)
    assert residual.item() == pytest.approx(0.0, abs=1e-6)
    assert slope.item() == pytest.approx(1.0)
    # hand-computed: l_d = (1, 2, 1), z_d = (1, 3, 1): p = (1+6+1)/(1+4+1) = 4/3
    z = torch.stack([torch.tensor([0.0, 1.0, 4.0, 5.0]), torch.zeros(4)], dim=1)
    residual, slope, p = losses.metric_terms(z, label, form="signed-first")
    assert p.item() == pytest.approx(4 / 3)
    expected = ((1 - 4 / 3) ** 2 + (3 - 8 / 3) ** 2 + (1 - 4 / 3) ** 2) / 3
    assert residual.item() == pytest.approx(expected)
    assert slope.item() == pytest.approx(1 / 3)


def test_metric_loss_ignores_unlabelled_rows_and_degenerate_batches():
    z = torch.tensor([[0.0, 0.0], [1.0, 0.0], [50.0, 0.0]])
    label = torch.tensor([1.0, 2.0, float("nan")])
    assert losses.metric_terms(z, label, form="signed-first")[2].item() == pytest.approx(1.0)
    assert losses.metric_loss(z, torch.full((3,), 3.0)).item() == 0.0


def test_cluster_loss_falls_when_clusters_tighten():
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    centres = torch.tensor([[0.0, 0.0], [0.0, 0.0], [4.0, 0.0], [4.0, 0.0], [0.0, 3.0], [0.0, 3.0]])
    spread = torch.tensor([[1.0, 0.0], [-1.0, 0.0]] * 3)
    loose = losses.cluster_loss(centres + spread, labels)
    tight = losses.cluster_loss(centres + 0.1 * spread, labels)
    assert tight < loose
    # hand-computed: intra = 6 * 1; inter = 4 + 3 + 5 = 12
    assert loose.item() == pytest.approx(0.5)


def test_cluster_loss_guards():
    z = torch.randn(4, 2)
    assert losses.cluster_loss(z, torch.tensor([1, 1, -1, -1])).item() == 0.0  # one class
    same = torch.zeros(4, 2)
    assert losses.cluster_loss(same, torch.tensor([0, 0, 1, 1])).item() == 0.0  # inter = 0

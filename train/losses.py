"""The seed's loss terms as plain functions of tensors (eqs. 1-10)."""

from __future__ import annotations

import torch


def reconstruction(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Eq. 1: E||x - g(f(x_n))||^2, as the mean squared error over samples and features.

    The mean (rather than the sum over 88 features) keeps it on the same scale as the metric
    terms, which the seed adds with unit weights (with the sum they are swamped: transfer
    N-S-H-A of dae-metric-act fell from 0.45 to 0.30 on the synthetic corpus). The VAEs use
    ``gaussian_nll`` instead.
    """
    return torch.mean((x - x_hat) ** 2)


def gaussian_nll(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Eq. 2's -log p(x|z) for a unit-variance Gaussian decoder: 0.5||x - x_hat||^2 per sample.

    Summed over the 88 features (constants dropped), averaged over samples: the scale at which
    the KL term is the ELBO's. The per-feature mean of ``reconstruction`` would weight the KL 44x
    and, measured on the synthetic corpus, collapse the plain VAE's latent (adjusted R^2 of
    activation 0.02 vs 0.37 with this term).
    """
    return 0.5 * torch.mean(torch.sum((x - x_hat) ** 2, dim=1))


def kl_standard_normal(mean: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """Eq. 2's D_KL(q(z|x) || N(0, I)), summed over latent dimensions, averaged over samples."""
    return torch.mean(-0.5 * torch.sum(1 + log_var - mean**2 - torch.exp(log_var), dim=1))


def cyclical_beta(epoch: int, total_epochs: int, *, cycles: int = 4, ratio: float = 0.5) -> float:
    """Eq. 3's beta_e: tau = mod(e-1, T/M)/(T/M); 0.25*tau/R for tau <= R, else 0.25 (e from 1).

    >>> [round(cyclical_beta(e, 40), 3) for e in (1, 3, 6, 7, 11, 12)]
    [0.0, 0.1, 0.25, 0.25, 0.0, 0.05]
    """
    period = total_epochs / cycles
    tau = ((epoch - 1) % period) / period
    return 0.25 * tau / ratio if tau <= ratio else 0.25


def cluster_loss(z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Eq. 5: D_intra / D_inter over the classes present (label < 0 = unlabelled, ignored).

    D_intra sums each sample's Euclidean distance to its class centroid; D_inter sums the
    distances between every pair of centroids. Fewer than two classes, or coinciding
    centroids, give 0 (no signal rather than a division by zero).
    """
    classes = [c for c in torch.unique(labels).tolist() if c >= 0]
    if len(classes) < 2:
        return z.new_zeros(())
    centroids = torch.stack([z[labels == c].mean(dim=0) for c in classes])
    intra = sum(torch.linalg.norm(z[labels == c] - centroids[i], dim=1).sum()
                for i, c in enumerate(classes))  # fmt: skip
    inter = torch.pdist(centroids).sum()
    if inter < 1e-8:
        return z.new_zeros(())
    return intra / inter


METRIC_FORMS = ("distance", "signed-first")
DEFAULT_METRIC_FORM = "distance"


def _pair_differences(
    z: torch.Tensor, label: torch.Tensor, form: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """(l_d, z_d) of consecutive labelled rows, in the seed's form or the signed one."""
    if form == "distance":
        # The seed: l_d = d(l_i, l_{i+1}), z_d = d(z_i, z_{i+1}), rows i, i+1 consecutive in the
        # (shuffled) mini-batch. The Euclidean norm's gradient at 0 is taken as 0 (safe sqrt).
        l_d = torch.abs(label[1:] - label[:-1])
        squared = torch.sum((z[1:] - z[:-1]) ** 2, dim=1)
        positive = squared > 0
        z_d = torch.where(positive, torch.sqrt(torch.where(positive, squared, 1.0)), 0.0)
        return l_d, z_d
    if form == "signed-first":
        order = torch.argsort(label)
        l_sorted, z_sorted = label[order], z[order, 0]
        return l_sorted[1:] - l_sorted[:-1], z_sorted[1:] - z_sorted[:-1]
    raise ValueError(f"unknown metric form {form!r}: one of {', '.join(METRIC_FORMS)}")


def metric_terms(
    z: torch.Tensor, label: torch.Tensor, *, form: str = DEFAULT_METRIC_FORM
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Eqs. 7-10 on a batch: (L_res, L_sl, p).

    ``form="distance"`` (the seed's, the default): pairs are consecutive rows of the batch as it
    comes (training shuffles it), l_d = |l_i - l_{i+1}| and z_d = ||z_i - z_{i+1}||_2 over the
    whole 2-D latent. ``form="signed-first"`` (this project's earlier variant): the batch sorted
    by the label, l_d = signed label difference, z_d = signed difference of the FIRST latent
    coordinate only (that coordinate becomes the emotion axis, the second stays free).
    Either way p = (l_d^T l_d)^-1 l_d^T z_d is the least-squares slope through the origin,
    L_res = mean (z_d - p l_d)^2 and L_sl = |p - 1| (eq. 10: for z_hat_d = p l_d every slope
    ratio is p). Rows with a NaN label (unlabelled) are left out first.
    """
    keep = ~torch.isnan(label)
    zero = z.new_zeros(())
    if int(keep.sum()) < 2:
        return zero, zero, zero
    l_d, z_d = _pair_differences(z[keep], label[keep], form)
    denominator = torch.dot(l_d, l_d)
    if denominator < 1e-12:
        return zero, zero, zero
    p = torch.dot(l_d, z_d) / denominator
    return torch.mean((z_d - p * l_d) ** 2), torch.abs(p - 1), p


def metric_loss(
    z: torch.Tensor, label: torch.Tensor, *, form: str = DEFAULT_METRIC_FORM
) -> torch.Tensor:
    """L_met = L_res + L_sl (eq. 7)."""
    residual, slope, _ = metric_terms(z, label, form=form)
    return residual + slope

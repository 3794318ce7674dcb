"""Fitting one compact autoencoder with its method's loss (the seed: Adam 1e-3, batch 64, 50 epochs)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from . import losses
from .defaults import DEFAULT_EPOCHS
from .models import (
    DEFAULT_HIDDEN,
    VAE_METRIC_METHODS,
    VARIATIONAL,
    AutoEncoder,
    build_autoencoder,
    metric_target,
)
from .progress import progress_bar


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainConfig:
    """Hyper-parameters of one fit (defaults are the seed's)."""

    method: str
    hidden: int = DEFAULT_HIDDEN
    epochs: int = DEFAULT_EPOCHS
    batch: int = 64
    lr: float = 1e-3
    seed: int = 0
    noise: float = 0.1  # std of the DAE's Gaussian input noise (standardized units)
    gamma: float = 1.0  # weight of the cluster loss (eq. 5)
    cycles: int = 4  # M of the cyclical beta schedule
    ratio: float = 0.5  # R of the cyclical beta schedule
    metric_form: str = losses.DEFAULT_METRIC_FORM  # "distance" (the seed's) or "signed-first"
    recon: str = "mean"  # the DAEs' reconstruction: "mean" over features or "sum" (88x)
    device: str = "cpu"


@dataclass
class FitResult:
    """The trained autoencoder and the mean loss terms of each epoch."""

    model: AutoEncoder
    history: list[dict[str, float]] = field(default_factory=list)


def _beta(config: TrainConfig, epoch: int) -> float:
    # The semi-supervised VAEs (cluster or metric loss) anneal like vae-kl (the seed's eq. 4).
    if config.method in ("vae-kl", "vae-cluster", *VAE_METRIC_METHODS):
        return losses.cyclical_beta(epoch, config.epochs, cycles=config.cycles, ratio=config.ratio)
    return 1.0


def batch_loss(
    model: AutoEncoder,
    x: torch.Tensor,
    *,
    config: TrainConfig,
    epoch: int,
    classes: torch.Tensor,
    activation: torch.Tensor,
    valence: torch.Tensor,
) -> dict[str, torch.Tensor]:
    """The method's loss terms on one batch; ``total`` is what is minimised."""
    method = config.method
    noisy = x + config.noise * torch.randn_like(x) if method.startswith("dae") else x
    x_hat, _, mean, log_var = model(noisy)
    variational = method in VARIATIONAL
    rec = losses.gaussian_nll if variational else losses.reconstruction
    terms = {"rec": rec(x, x_hat)}
    if not variational and config.recon == "sum":
        terms["rec"] = terms["rec"] * x.shape[1]
    if variational and log_var is not None:
        terms["kl"] = _beta(config, epoch) * losses.kl_standard_normal(mean, log_var)
    if method == "vae-cluster":
        terms["clus"] = config.gamma * losses.cluster_loss(mean, classes)
    dimension = metric_target(method)
    if dimension is not None:
        target = activation if dimension == "activation" else valence
        terms["res"], terms["sl"], _ = losses.metric_terms(mean, target, form=config.metric_form)
    terms["total"] = sum(terms.values(), torch.zeros(()))
    return terms


def fit(
    x_std: np.ndarray,
    *,
    config: TrainConfig,
    classes: np.ndarray,
    activation: np.ndarray,
    valence: np.ndarray,
    weights: np.ndarray | None = None,
    progress: bool = False,
) -> FitResult:
    """Train on standardized rows; rows with class -1 / NaN labels add reconstruction only.

    ``weights`` (one per row, any positive scale): each epoch draws its n rows with replacement in
    proportion to them instead of a permutation of all rows.
    """
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    device = torch.device(config.device)
    model = build_autoencoder(config.method, config.hidden).to(device)
    # foreach: one fused update for all parameters; the same values, bit for bit, as the
    # per-tensor loop (checked), at a fraction of its Python overhead on these tiny nets
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, foreach=True)
    tensors = [torch.as_tensor(a, device=device) for a in (
        np.asarray(x_std, np.float32), np.asarray(classes, np.int64),
        np.asarray(activation, np.float32), np.asarray(valence, np.float32))]  # fmt: skip
    n = len(x_std)
    draw = None if weights is None else np.asarray(weights, np.float64) / np.sum(weights)
    result = FitResult(model=model)
    bar = progress_bar(config.epochs, desc=config.method, unit="epoch", enabled=progress)
    model.train()
    for epoch in range(1, config.epochs + 1):
        picked = rng.permutation(n) if draw is None else rng.choice(n, n, replace=True, p=draw)
        order = torch.as_tensor(picked, device=device)
        weighted: list[torch.Tensor] = []  # each batch's terms times its share of the epoch
        for start in range(0, n, config.batch):
            idx = order[start : start + config.batch]
            terms = batch_loss(model, tensors[0][idx], config=config, epoch=epoch,
                               classes=tensors[1][idx], activation=tensors[2][idx],
                               valence=tensors[3][idx])  # fmt: skip
            optimizer.zero_grad(set_to_none=True)
            terms["total"].backward()
            optimizer.step()
            # kept as tensors: one conversion per epoch instead of one per term and batch
            weighted.append(torch.stack([v.detach() for v in terms.values()]) * (len(idx) / n))
        sums = dict(zip(terms, torch.stack(weighted).double().sum(0).tolist(), strict=True))
        result.history.append({"epoch": epoch, **sums})
        bar.set_postfix_str(" ".join(f"{k}={v:.3f}" for k, v in sums.items()))
        bar.update(1)
        if not math.isfinite(sums["total"]):
            break
    bar.close()
    model.eval()
    return result


def encode(model: AutoEncoder, x_std: np.ndarray) -> np.ndarray:
    """The latent (mean path) of standardized rows, as float64 numpy."""
    device = next(model.parameters()).device
    with torch.no_grad():
        z = model.encoder(torch.as_tensor(np.asarray(x_std, np.float32), device=device))
    return z.cpu().numpy().astype(np.float64)

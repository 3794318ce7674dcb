"""The seed's compact autoencoders: encoder 88 -> h -> 2 and a mirrored decoder.

With h = 4 the encoder has 366 parameters and the 4-class linear SVC head on its 2-D latent 12,
378 together (< 400, the device budget). Variational methods add a log-variance layer (10
parameters) used only in training; the exported encoder is the mean path.
"""

from __future__ import annotations

import torch
from torch import nn

from serdevice.device.stream.contracts import N_FEATURES

LATENT_DIM = 2
DEFAULT_HIDDEN = 4
ENCODER_METHODS = ("dae", "vae", "vae-kl", "vae-cluster", "dae-metric-act", "dae-metric-val")
REFERENCE_METHOD = "svc-egemaps"
METHODS = (*ENCODER_METHODS, REFERENCE_METHOD)
# The seed's Spearman table also lists VAEs trained with the metric loss ("Metric-act/-val").
VAE_METRIC_METHODS = ("vae-metric-act", "vae-metric-val")
TRAINABLE_METHODS = (*ENCODER_METHODS, *VAE_METRIC_METHODS)
VARIATIONAL = frozenset({"vae", "vae-kl", "vae-cluster", *VAE_METRIC_METHODS})


def metric_target(method: str) -> str | None:
    """'activation' / 'valence' for a method trained with the metric loss, else None."""
    if method.endswith("-metric-act"):
        return "activation"
    if method.endswith("-metric-val"):
        return "valence"
    return None


class Encoder(nn.Module):
    """88 -> h (tanh) -> 2. ``forward`` gives the latent used downstream (the mean for VAEs)."""

    def __init__(self, hidden: int = DEFAULT_HIDDEN, *, variational: bool = False) -> None:
        super().__init__()
        self.hidden = nn.Linear(N_FEATURES, hidden)
        self.mean = nn.Linear(hidden, LATENT_DIM)
        self.log_var = nn.Linear(hidden, LATENT_DIM) if variational else None

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(mean, log-variance or None)."""
        h = torch.tanh(self.hidden(x))
        return self.mean(h), None if self.log_var is None else self.log_var(h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encode(x)[0]


class Decoder(nn.Module):
    """2 -> h (tanh) -> 88, the encoder's mirror."""

    def __init__(self, hidden: int = DEFAULT_HIDDEN) -> None:
        super().__init__()
        self.hidden = nn.Linear(LATENT_DIM, hidden)
        self.out = nn.Linear(hidden, N_FEATURES)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(torch.tanh(self.hidden(z)))


class AutoEncoder(nn.Module):
    """Encoder + decoder; samples the latent in training when variational."""

    def __init__(self, hidden: int = DEFAULT_HIDDEN, *, variational: bool = False) -> None:
        super().__init__()
        self.encoder = Encoder(hidden, variational=variational)
        self.decoder = Decoder(hidden)

    def forward(
        self, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(reconstruction, latent used for the decoder, mean, log-variance or None)."""
        mean, log_var = self.encoder.encode(x)
        z = mean
        if log_var is not None and self.training:
            z = mean + torch.randn_like(mean) * torch.exp(0.5 * log_var)
        return self.decoder(z), z, mean, log_var


def check_method(method: str) -> None:
    """InputError-free guard used by code paths that already validated user input."""
    if method not in (*TRAINABLE_METHODS, REFERENCE_METHOD):
        raise ValueError(f"unknown method {method!r}")


def build_autoencoder(method: str, hidden: int = DEFAULT_HIDDEN) -> AutoEncoder:
    """The autoencoder a method trains."""
    check_method(method)
    return AutoEncoder(hidden, variational=method in VARIATIONAL)


def build_encoder(method: str, hidden: int = DEFAULT_HIDDEN) -> Encoder:
    """The encoder alone, as saved in a run's ``encoder.pt`` (for export)."""
    return build_autoencoder(method, hidden).encoder


def n_params(module: nn.Module) -> int:
    """Trainable parameter count."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def inference_params(hidden: int = DEFAULT_HIDDEN) -> int:
    """Parameters on the device path: 88*h + h + h*2 + 2 (no log-variance layer)."""
    return N_FEATURES * hidden + hidden + hidden * LATENT_DIM + LATENT_DIM


def head_params(n_classes: int) -> int:
    """A linear head on the 2-D latent: K*2 weights + K biases."""
    return n_classes * LATENT_DIM + n_classes

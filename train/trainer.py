"""One training run end to end: corpus -> features -> preprocessing -> fit -> heads -> run folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serdevice.device import __version__
from serdevice.device.stream.contracts import FEATURE_SET, InputError
from serdevice.device.stream.normalize import INPUT_CLIP, clip_z

from .dataset import FOUR_CLASSES, WEIGHTINGS, FeatureSet, load_features, row_weights
from .defaults import DEFAULT_EPOCHS
from .heads import fit_heads
from .losses import DEFAULT_METRIC_FORM
from .models import head_params, inference_params
from .preprocess import NORMALIZATIONS, normalize_and_drop
from .run import RunConfig, write_run
from .training import TrainConfig, encode, fit


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainRequest:
    """What ``serdevice train`` was asked to do."""

    method: str
    specs: tuple[str, ...]
    out: Path
    epochs: int = DEFAULT_EPOCHS
    batch: int = 64
    lr: float = 1e-3
    seed: int = 0
    device: str = "cpu"
    level: str = "clip"
    hidden: int = 4
    noise: float = 0.1
    metric_form: str = DEFAULT_METRIC_FORM
    jobs: int = 2
    cache_dir: Path | None = None
    window_s: float = 2.0
    hop_s: float = 0.5
    created: str = ""
    normalization: str = "global"  # or "speaker" (see preprocess.normalize_and_drop)
    recipe: dict[str, Any] | None = None  # recorded in config.json (and the sidecar) when given
    weighting: str = "none"  # dataset.WEIGHTINGS: how each epoch draws its rows

    def __post_init__(self) -> None:
        if self.normalization not in NORMALIZATIONS:
            raise InputError(f"unknown normalization {self.normalization!r}: choose one of "
                             f"{', '.join(NORMALIZATIONS)}")  # fmt: skip
        if self.weighting not in WEIGHTINGS:
            raise InputError(f"unknown weighting {self.weighting!r}: choose one of "
                             f"{', '.join(WEIGHTINGS)}")  # fmt: skip


def train_run(request: TrainRequest, *, progress: bool = True) -> dict[str, Any]:
    """Load the request's corpora, train and write the run folder; returns metrics.json's dict."""
    data = load_features(request.specs, level=request.level, window_s=request.window_s,
                         hop_s=request.hop_s, jobs=request.jobs, cache_dir=request.cache_dir,
                         progress=progress)  # fmt: skip
    return train_on(data, request, progress=progress)


def parameter_counts(hidden: int) -> dict[str, int]:
    """What the deployed model holds: the encoder, the SVC head, the activation head."""
    params = {
        "encoder": inference_params(hidden),
        "svc_head": head_params(len(FOUR_CLASSES)),
        "activation_head": head_params(1),
    }
    params["encoder_plus_head"] = params["encoder"] + params["svc_head"]
    return params


def train_on(data: FeatureSet, request: TrainRequest, *, progress: bool = True) -> dict[str, Any]:
    """Train on already loaded rows and write the run folder; returns metrics.json's dict."""
    import torch
    from scipy.stats import spearmanr
    from sklearn.metrics import balanced_accuracy_score

    from serdevice.device.stream.features import opensmile_version

    torch.set_num_threads(1)  # tiny nets: threads cost more than they give, and break determinism
    scaler, z_rows, keep = normalize_and_drop(data, request.normalization)
    # The deployable model sees z-scores clipped as the device's Normalizer clips them.
    z_rows = clip_z(z_rows, INPUT_CLIP)
    data = data.subset(keep)
    classes = data.class_index
    if len(set(classes[classes >= 0].tolist())) < 2:
        raise InputError(f"{', '.join(request.specs)}: need at least two of "
                         f"{', '.join(FOUR_CLASSES)} to train the classifier head")  # fmt: skip
    config = TrainConfig(method=request.method, hidden=request.hidden, epochs=request.epochs,
                         batch=request.batch, lr=request.lr, seed=request.seed,
                         noise=request.noise, device=request.device,
                         metric_form=request.metric_form)  # fmt: skip
    result = fit(z_rows, config=config, classes=classes, activation=data.activation,
                 valence=data.valence, weights=row_weights(data, request.weighting),
                 progress=progress)  # fmt: skip
    model = result.model.cpu()
    latent = encode(model, z_rows)
    heads = fit_heads(latent, data.label, data.activation, FOUR_CLASSES)
    labelled = classes >= 0
    metrics = {
        "n_train": int(len(data)),
        "n_outliers_dropped": int((~keep).sum()),
        "train_balanced_accuracy": float(balanced_accuracy_score(
            data.label[labelled], heads.predict(latent[labelled]))),
        "train_activation_spearman": float(spearmanr(heads.activation(latent), data.activation)[0]),
        "final_loss": result.history[-1] if result.history else {},
    }  # fmt: skip
    params = parameter_counts(request.hidden)
    corpora = sorted({str(c) for c in data.corpus})
    write_run(
        request.out,
        config=RunConfig(
            method=request.method, hidden=request.hidden, latent_dim=2, epochs=request.epochs,
            batch=request.batch, lr=request.lr, seed=request.seed, level=request.level,
            window_s=request.window_s, hop_s=request.hop_s, noise=request.noise,
            device=request.device, data=tuple(request.specs), corpora=tuple(corpora),
            labels=tuple(FOUR_CLASSES), feature_set=FEATURE_SET,
            opensmile_version=opensmile_version(), serdevice_version=__version__,
            created=request.created, params=params, n_train=int(len(data)),
            n_outliers_dropped=int((~keep).sum()), input_clip=INPUT_CLIP,
            metric_form=request.metric_form, normalization=request.normalization,
            recipe=request.recipe,
        ),  # fmt: skip
        metrics=metrics,
        encoder_state=model.encoder.state_dict(),
        norm_mean=scaler.mean_, norm_std=scaler.std_, heads=heads,
        train_features=z_rows, train_classes=classes, train_activation=data.activation,
        train_valence=data.valence, history=result.history,
    )  # fmt: skip
    return metrics

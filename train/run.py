"""A training run folder: the contract between ``serdevice train`` and ``serdevice export``.

RUN/config.json, metrics.json, encoder.pt (a state dict of tensors; loads with
weights_only=True), norm.json, heads.json, train_features.npy (standardized rows after outlier
removal), train_labels.npz (class index, activation, valence), history.json, loss.png.
No pickle anywhere.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from serdevice.device.stream.contracts import FEATURE_NAMES, InputError
from serdevice.device.stream.files import write_atomically

from .heads import Heads


@dataclass(frozen=True, slots=True, kw_only=True)
class RunConfig:
    """config.json: how the run was trained, and what export copies into the sidecar."""

    method: str
    hidden: int
    latent_dim: int
    epochs: int
    batch: int
    lr: float
    seed: int
    level: str
    window_s: float
    hop_s: float
    noise: float
    device: str
    data: tuple[str, ...]
    corpora: tuple[str, ...]
    labels: tuple[str, ...]
    feature_set: str
    opensmile_version: str
    serdevice_version: str
    created: str
    params: dict[str, int]  # parameter counts: encoder, svc_head, activation_head, ...
    n_train: int
    n_outliers_dropped: int
    input_clip: float | None  # z-scores clipped to +-input_clip (None: not clipped)
    metric_form: str = "signed-first"  # losses.METRIC_FORMS (runs before the choice: signed)
    normalization: str = "global"  # preprocess.NORMALIZATIONS
    recipe: dict[str, Any] | None = None  # train/recipe.py's Recipe, when trained with one

    def to_json(self) -> dict[str, Any]:
        """The file's content, keys in field order."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_json(cls, data: object, where: Path) -> RunConfig:
        """Read config.json's content back (InputError naming a missing key)."""
        if not isinstance(data, dict):
            raise InputError(f"{where}: expected a JSON object")
        values = {"input_clip": None, "level": "clip", **data}  # older runs lack these two
        optional = {"metric_form", "normalization", "recipe"}
        missing = [f.name for f in dataclasses.fields(cls)
                   if f.name not in values and f.name not in optional]  # fmt: skip
        if missing:
            raise InputError(f"{where}: missing {', '.join(missing)}")
        known = {f.name: values[f.name] for f in dataclasses.fields(cls) if f.name in values}
        for name in ("data", "corpora", "labels"):
            known[name] = tuple(known[name])
        return cls(**known)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainedRun:
    """Everything export needs from a run, loaded and checked."""

    path: Path
    config: RunConfig
    metrics: dict[str, Any]
    encoder: Any  # serdevice.train.models.Encoder, in eval mode
    norm_mean: np.ndarray
    norm_std: np.ndarray
    heads: Heads
    train_features: np.ndarray  # standardized, float32 (n, 88)
    train_classes: np.ndarray  # int, -1 = other
    train_activation: np.ndarray

    @property
    def labels(self) -> tuple[str, ...]:
        """Class order of the SVC scores (heads.json's ``labels``)."""
        return self.heads.labels


def write_json(path: Path, data: object) -> None:
    """Pretty JSON, written atomically."""
    write_atomically(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def write_run(
    out: Path,
    *,
    config: RunConfig,
    metrics: dict[str, Any],
    encoder_state: dict[str, Any],
    norm_mean: np.ndarray,
    norm_std: np.ndarray,
    heads: Heads,
    train_features: np.ndarray,
    train_classes: np.ndarray,
    train_activation: np.ndarray,
    train_valence: np.ndarray,
    history: list[dict[str, float]],
) -> None:
    """Write every file of a run folder."""
    import torch

    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "config.json", config.to_json())
    write_json(out / "metrics.json", metrics)
    write_json(out / "norm.json", {"feature_names": list(FEATURE_NAMES),
                                   "mean": [float(v) for v in norm_mean],
                                   "std": [float(v) for v in norm_std]})  # fmt: skip
    write_json(out / "heads.json", heads.to_json())
    write_json(out / "history.json", history)
    torch.save({k: v.detach().cpu() for k, v in encoder_state.items()}, out / "encoder.pt")
    np.save(out / "train_features.npy", np.asarray(train_features, np.float32), allow_pickle=False)
    np.savez(out / "train_labels.npz", classes=np.asarray(train_classes, np.int64),
             activation=np.asarray(train_activation, np.float64),
             valence=np.asarray(train_valence, np.float64))  # fmt: skip
    plot_history(history, out / "loss.png", title=config.method)


def plot_history(history: list[dict[str, float]], path: Path, *, title: str) -> None:
    """Loss terms per epoch."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for key in [k for k in history[0] if k != "epoch"] if history else []:
        ax.plot([h["epoch"] for h in history], [h[key] for h in history], label=key)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(f"{title}: loss terms")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise InputError(f"{path.parent}: not a training run (missing {path.name})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON ({exc.msg})") from None


def load_run(path: str | Path) -> TrainedRun:
    """Read a run folder back (InputError naming what is missing or malformed)."""
    import torch

    from .models import build_encoder

    run = Path(path)
    if not run.is_dir():
        raise InputError(f"{run}: no such run folder")
    config = RunConfig.from_json(_read_json(run / "config.json"), run / "config.json")
    norm = _read_json(run / "norm.json")
    if list(norm.get("feature_names", [])) != list(FEATURE_NAMES):
        raise InputError(f"{run}/norm.json: feature names differ from eGeMAPSv02's 88")
    encoder = build_encoder(config.method, config.hidden)
    if not (run / "encoder.pt").is_file():
        raise InputError(f"{run}: not a training run (missing encoder.pt)")
    state = torch.load(run / "encoder.pt", weights_only=True, map_location="cpu")
    encoder.load_state_dict(state)
    encoder.eval()
    labels = np.load(run / "train_labels.npz", allow_pickle=False)
    return TrainedRun(
        path=run, config=config, metrics=_read_json(run / "metrics.json"), encoder=encoder,
        norm_mean=np.asarray(norm["mean"], np.float64), norm_std=np.asarray(norm["std"], np.float64),
        heads=Heads.from_json(_read_json(run / "heads.json")),
        train_features=np.load(run / "train_features.npy", allow_pickle=False),
        train_classes=labels["classes"], train_activation=labels["activation"],
    )  # fmt: skip

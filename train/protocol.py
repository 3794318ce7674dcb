"""The seed's evaluation protocol: in-domain CV, transfer, transfer with 20 % unlabeled target audio.

For every method and corpus it records per fold: balanced accuracy for N-S-A and N-S-H-A (S-A /
S-H-A for a corpus without neutral), adjusted R^2 of activation and of valence on the 2-D latent,
and Spearman's rho between held-out activation/valence and their linear prediction from the latent.

- in-domain: speaker-independent K-fold CV on the training corpus; encoder, standardization and
  heads are all fitted on the training folds.
- transfer: one encoder on the whole training corpus; the heads are fitted and scored by
  speaker-independent K-fold CV on the target's latent (the seed's "transfer").
- transfer+unlabeled: as transfer, but a random 20 % of the target's utterances join the
  encoder's training *without labels* (reconstruction and KL terms only; they also inform the
  standardization); scored on the other 80 %.
- svc-egemaps (reference): LinearSVC on standardized eGeMAPS, in-domain CV on every corpus
  (the seed's "SVC (supervised)" row).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from serdevice.device.contracts import Task

from .dataset import FOUR_CLASSES, FeatureSet, concat
from .defaults import DEFAULT_EPOCHS
from .heads import fit_activation, fit_svc
from .metrics import adjusted_r2, balanced_accuracy, spearman
from .models import ENCODER_METHODS, REFERENCE_METHOD
from .preprocess import Standardizer, standardize_and_drop
from .training import TrainConfig, encode, fit

SETTINGS = ("in-domain", "transfer", "transfer+unlabeled")
TASKS = {task.value: tuple(label.value for label in task.labels) for task in Task}


@dataclass(frozen=True, slots=True, kw_only=True)
class Corpus:
    """A named feature set taking part in the protocol."""

    name: str
    data: FeatureSet


@dataclass
class Results:
    """results[level][method][corpus][setting][metric] = per-fold values; latents for plots."""

    folds: dict[str, Any] = field(default_factory=dict)
    latents: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(
        self, level: str, method: str, corpus: str, setting: str, fold: dict[str, float]
    ) -> None:
        """Append one fold's metrics."""
        slot = self.folds.setdefault(level, {}).setdefault(method, {}).setdefault(corpus, {})
        metrics = slot.setdefault(setting, {})
        for key, value in fold.items():
            metrics.setdefault(key, []).append(float(value))


def task_labels(task: str, present: set[str]) -> tuple[str, ...]:
    """The task's classes that a corpus has (S-A / S-H-A for a corpus without neutral)."""
    return tuple(label for label in TASKS[task] if label in present)


def group_folds(data: FeatureSet, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Speaker-independent folds (GroupKFold over split groups, shuffled by seed)."""
    from sklearn.model_selection import GroupKFold

    groups = data.group
    n_groups = len(set(groups.tolist()))
    if n_groups < 2:
        from sklearn.model_selection import StratifiedKFold

        splitter = StratifiedKFold(n_splits=min(k, 2), shuffle=True, random_state=seed)
        return [(a, b) for a, b in splitter.split(data.x, data.label)]
    names = np.unique(groups)
    shuffled = dict(zip(names, np.random.default_rng(seed).permutation(len(names)), strict=True))
    codes = np.array([shuffled[g] for g in groups])
    return list(GroupKFold(n_splits=min(k, n_groups)).split(data.x, groups=codes))


def score_latent(
    z_train: np.ndarray, train: FeatureSet, z_test: np.ndarray, test: FeatureSet
) -> dict[str, float]:
    """Fit the heads on one latent, score them on another."""
    out: dict[str, float] = {}
    present = set(train.label.tolist()) & set(test.label.tolist())
    for task in TASKS:
        labels = task_labels(task, present)
        keep = np.isin(test.label, labels)
        if len(labels) < 2 or not keep.any():
            out[f"bacc_{task}"] = float("nan")
            continue
        coef, intercept = fit_svc(z_train, train.label, labels)
        predicted = np.array(labels)[np.argmax(z_test[keep] @ coef.T + intercept, axis=1)]
        out[f"bacc_{task}"] = balanced_accuracy(test.label[keep], predicted)
    for name in ("activation", "valence"):
        coef_act, intercept_act = fit_activation(z_train, getattr(train, name))
        out[f"spearman_{name[:3]}"] = spearman(
            getattr(test, name), z_test @ coef_act + intercept_act
        )
        out[f"adj_r2_{name[:3]}"] = adjusted_r2(getattr(test, name), z_test)
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Protocol:
    """What to run and how."""

    methods: tuple[str, ...]
    folds: int = 5
    unlabeled_fraction: float = 0.2
    epochs: int = DEFAULT_EPOCHS
    batch: int = 64
    lr: float = 1e-3
    seed: int = 0
    on_step: Callable[[str], None] = lambda message: None

    def config(self, method: str) -> TrainConfig:
        """The training configuration of one method."""
        return TrainConfig(method=method, epochs=self.epochs, batch=self.batch, lr=self.lr,
                           seed=self.seed)  # fmt: skip

    def train_encoder(self, method: str, labelled: FeatureSet, unlabeled: FeatureSet | None = None):
        """Standardize (drop |z| > 10), fit; returns (model, standardizer)."""
        parts = [labelled] if unlabeled is None else [labelled, unlabeled]
        data = concat(parts)
        scaler, z, keep = standardize_and_drop(data.x)
        classes = data.class_index
        n_labelled = len(labelled)
        nan = np.full(len(data) - n_labelled, np.nan)
        activation = np.concatenate([labelled.activation, nan])
        valence = np.concatenate([labelled.valence, nan])
        classes[n_labelled:] = -1
        result = fit(z, config=self.config(method), classes=classes[keep],
                     activation=activation[keep], valence=valence[keep])  # fmt: skip
        return result.model, scaler

    def run_reference(self, level: str, corpora: list[Corpus], results: Results) -> None:
        """svc-egemaps: supervised LinearSVC on standardized eGeMAPS, in-domain on every corpus."""
        for corpus in corpora:
            for train_idx, test_idx in group_folds(corpus.data, self.folds, self.seed):
                train, test = corpus.data.subset(train_idx), corpus.data.subset(test_idx)
                scaler = Standardizer().fit(train.x)
                fold = score_latent(
                    scaler.transform(train.x), train, scaler.transform(test.x), test
                )
                # the latent metrics do not apply to an 88-D input
                fold = {k: v for k, v in fold.items() if k.startswith("bacc")}
                results.add(level, REFERENCE_METHOD, corpus.name, "in-domain", fold)

    def run_method(
        self, level: str, method: str, source: Corpus, targets: list[Corpus], results: Results
    ) -> None:
        """In-domain, transfer and transfer+unlabeled for one encoder method."""
        for train_idx, test_idx in group_folds(source.data, self.folds, self.seed):
            train, test = source.data.subset(train_idx), source.data.subset(test_idx)
            model, scaler = self.train_encoder(method, train)
            fold = score_latent(encode(model, scaler.transform(train.x)), train,
                                encode(model, scaler.transform(test.x)), test)  # fmt: skip
            results.add(level, method, source.name, "in-domain", fold)
        model, scaler = self.train_encoder(method, source.data)
        latents = {source.name: (encode(model, scaler.transform(source.data.x)), source.data)}
        for target in targets:
            z = encode(model, scaler.transform(target.data.x))
            latents[target.name] = (z, target.data)
            self.cross_validate(level, method, target, z, target.data, "transfer", results)
            unlabeled, held = self.split_unlabeled(target.data)
            model_u, scaler_u = self.train_encoder(method, source.data, unlabeled)
            z_held = encode(model_u, scaler_u.transform(held.x))
            self.cross_validate(level, method, target, z_held, held, "transfer+unlabeled", results)
        results.latents.setdefault(level, {})[method] = latents

    def cross_validate(
        self,
        level: str,
        method: str,
        target: Corpus,
        z: np.ndarray,
        data: FeatureSet,
        setting: str,
        results: Results,
    ) -> None:
        """Heads fitted and scored by speaker-independent CV on a fixed latent."""
        for train_idx, test_idx in group_folds(data, self.folds, self.seed):
            fold = score_latent(z[train_idx], data.subset(train_idx), z[test_idx],
                                data.subset(test_idx))  # fmt: skip
            results.add(level, method, target.name, setting, fold)

    def split_unlabeled(self, data: FeatureSet) -> tuple[FeatureSet, FeatureSet]:
        """A random share of the target's *files* (all their windows) as unlabeled audio."""
        files = np.unique(data.file)
        rng = np.random.default_rng(self.seed)
        chosen = rng.choice(files, size=max(1, round(self.unlabeled_fraction * len(files))),
                            replace=False)  # fmt: skip
        mask = np.isin(data.file, chosen)
        return data.subset(mask), data.subset(~mask)

    def run(self, level: str, source: Corpus, targets: list[Corpus], results: Results) -> None:
        """Every method at one feature level."""
        started = time.time()
        for method in self.methods:
            self.on_step(f"{level}: {method}")
            if method == REFERENCE_METHOD:
                self.run_reference(level, [source, *targets], results)
            elif method in ENCODER_METHODS:
                self.run_method(level, method, source, targets, results)
        results.seconds[level] = time.time() - started


def summary(results: Results) -> dict[str, Any]:
    """Mean and std over folds, same nesting as ``results.folds``."""
    from .metrics import mean_std

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            mean, std = mean_std(node)
            return {"mean": mean, "std": std, "n": len(node)}
        return {key: walk(value) for key, value in node.items()}

    return walk(results.folds)


__all__ = ["FOUR_CLASSES", "SETTINGS", "Corpus", "Protocol", "Results", "summary"]

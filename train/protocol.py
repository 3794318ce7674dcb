"""The seed's evaluation protocol: in-domain CV, transfer, transfer with 20 % unlabeled target audio.

For every row (a method, or a method with a named loss variant) and corpus it records per fold:
balanced accuracy for N-S-A and N-S-H-A (S-A / S-H-A for a corpus without neutral), adjusted R^2
of activation and of valence on the 2-D latent (the seed's "linear dependence of l on z"), adjusted
R^2 of the pair distances z_d on l_d (the seed's first table, eq. 8's pairs), and Spearman's rho
between held-out activation/valence and their linear prediction from the latent.

- in-domain: speaker-independent K-fold CV on the training corpus; encoder, standardization and
  heads are all fitted on the training folds.
- transfer: one encoder on the whole training corpus; the heads are fitted and scored by
  speaker-independent K-fold CV on the target's latent (the seed's "transfer").
- transfer+unlabeled vs transfer-heldout: for each of ``unlabeled_seeds`` seeds a random 20 % of
  each target's files join the encoder's training *without labels* (reconstruction and KL terms
  only; one encoder per seed sees the share of every target). The same seed's encoder without them ("transfer-heldout") is scored on the same other
  80 %, and both use the training corpus's standardization, so the difference is the encoder's.
  One value per seed (the mean over head folds): mean +- std over seeds.
- supervised: the seed's upper reference ("semi-supervision with the transfer data set labels"):
  the encoder is trained on the target itself, with the target's labels, by speaker-independent
  K-fold CV on the target.
- svc-egemaps (reference): LinearSVC on standardized eGeMAPS, in-domain CV on every corpus
  (the seed's "SVC (supervised)" row).

Outliers: the seed's preprocessing, "remove outliers using z-score normalization (-10 > z > 10)",
is applied once to every corpus, the training corpus and each target alike, before any split
(z-scores with the corpus's own statistics; a row with any |z| > 10 goes). So training folds,
test folds, targets, the unlabeled and the held-out shares all passed the same rule;
``Results.outliers`` counts what it dropped. (Applied per split with the training split's
statistics instead, it removed every test row of a 2-speaker fold of the quick synthetic corpus:
heavy-tailed stddevNorm features of an unseen voice lie beyond 10 of the training voices' std.)
Models then standardize with their training rows' statistics and drop nothing more.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from serdevice.device.stream.contracts import Task

from .dataset import FOUR_CLASSES, FeatureSet, concat
from .defaults import DEFAULT_EPOCHS
from .heads import fit_activation, fit_svc
from .losses import DEFAULT_METRIC_FORM
from .metrics import adjusted_r2, balanced_accuracy, pair_distance_r2, spearman
from .models import REFERENCE_METHOD, VAE_METRIC_METHODS
from .parallel import process_pool
from .preprocess import Standardizer, standardize_and_drop
from .results import Results, summary
from .training import TrainConfig, encode, fit

SETTINGS = ("in-domain", "transfer", "transfer-heldout", "transfer+unlabeled", "supervised")
TASKS = {task.value: tuple(label.value for label in task.labels) for task in Task}
# Rows the seed also trains on the target's own labels (its R^2 and Spearman reference rows).
SUPERVISED_ROWS = ("dae-metric-act", "dae-metric-val", "vae", "vae-cluster", "vae-metric-act",
                   "vae-metric-val")  # fmt: skip


def _silent(message: str) -> None:
    """The default progress callback: says nothing (a function, so a Protocol pickles)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One row of the tables: a training method and its metric-loss form."""

    name: str
    method: str
    metric_form: str = DEFAULT_METRIC_FORM


def make_rows(methods: tuple[str, ...], *, variants: bool) -> list[Row]:
    """The chosen methods; with ``variants`` also the signed-first metric forms and the VAEs
    with the metric loss (the seed's Spearman table)."""
    rows = [Row(name=m, method=m) for m in methods]
    if variants:
        rows += [Row(name=f"{m}:signed-first", method=m, metric_form="signed-first")
                 for m in methods if m.startswith("dae-metric")]  # fmt: skip
        rows += [Row(name=m, method=m) for m in ("vae-metric-act", "vae-metric-val")
                 if m not in methods]  # fmt: skip
    return rows


@dataclass(frozen=True, slots=True, kw_only=True)
class Corpus:
    """A named feature set taking part in the protocol."""

    name: str
    data: FeatureSet


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
        out[f"zd_r2_{name[:3]}"] = pair_distance_r2(z_test, getattr(test, name))
    return out


def drop_outliers(corpus: Corpus, level: str, results: Results) -> Corpus:
    """The seed's preprocessing on one whole corpus: rows with any |z| > 10 (own statistics) go."""
    keep = standardize_and_drop(corpus.data.x)[2]
    results.count_outliers(level, corpus.name, keep)
    return Corpus(name=corpus.name, data=corpus.data.subset(keep))


@dataclass(frozen=True, slots=True, kw_only=True)
class Protocol:
    """What to run and how."""

    methods: tuple[str, ...]
    folds: int = 5
    unlabeled_fraction: float = 0.2
    unlabeled_seeds: int = 3
    epochs: int = DEFAULT_EPOCHS
    batch: int = 64
    lr: float = 1e-3
    seed: int = 0
    variants: bool = True  # signed-first metric rows and the VAE metric rows
    supervised: bool = True  # the rows trained on each target's own labels
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # method -> TrainConfig
    jobs: int = 1  # rows trained in parallel worker processes
    row_cache: Path | None = None  # folder of cached rows (train/rowcache.py); None: no cache
    on_step: Callable[[str], None] = _silent

    def config(self, row: Row, seed: int | None = None) -> TrainConfig:
        """The training configuration of one row (tuned overrides, where recorded, win)."""
        settings: dict[str, Any] = {"epochs": self.epochs, "batch": self.batch, "lr": self.lr}
        settings.update(self.overrides.get(row.method, {}))
        return TrainConfig(method=row.method, metric_form=row.metric_form,
                           seed=self.seed if seed is None else seed, **settings)  # fmt: skip

    def train_encoder(
        self,
        row: Row,
        labelled: FeatureSet,
        unlabeled: FeatureSet | None = None,
        *,
        seed: int | None = None,
        scaler: Standardizer | None = None,
    ):
        """Fit on the labelled rows (+ unlabeled ones); returns (model, standardizer).

        The standardization is fitted on the labelled rows unless ``scaler`` is given; unlabeled
        rows are standardized with it and never change it.
        """
        scaler = scaler or Standardizer().fit(labelled.x)
        z = scaler.transform(labelled.x)
        classes, activation, valence = labelled.class_index, labelled.activation, labelled.valence
        if unlabeled is not None:
            z_u = scaler.transform(unlabeled.x)
            nan = np.full(len(unlabeled), np.nan)
            z = np.concatenate([z, z_u])
            classes = np.concatenate([classes, np.full(len(unlabeled), -1)])
            activation, valence = np.concatenate([activation, nan]), np.concatenate([valence, nan])
        result = fit(z, config=self.config(row, seed), classes=classes, activation=activation,
                     valence=valence)  # fmt: skip
        return result.model, scaler

    def run_reference(self, level: str, corpora: list[Corpus], results: Results) -> None:
        """svc-egemaps: supervised LinearSVC on standardized eGeMAPS, in-domain on every corpus."""
        for corpus in corpora:
            for train_idx, test_idx in group_folds(corpus.data, self.folds, self.seed):
                train, test = corpus.data.subset(train_idx), corpus.data.subset(test_idx)
                scaler = Standardizer().fit(train.x)
                fold = score_latent(scaler.transform(train.x), train, scaler.transform(test.x),
                                    test)  # fmt: skip
                # the latent metrics do not apply to an 88-D input
                fold = {k: v for k, v in fold.items() if k.startswith("bacc")}
                results.add(level, REFERENCE_METHOD, corpus.name, "in-domain", fold)

    def in_domain(
        self, level: str, row: Row, corpus: Corpus, setting: str, results: Results
    ) -> None:
        """Speaker-independent K-fold CV with the encoder trained on the training folds."""
        for train_idx, test_idx in group_folds(corpus.data, self.folds, self.seed):
            train, test = corpus.data.subset(train_idx), corpus.data.subset(test_idx)
            model, scaler = self.train_encoder(row, train)
            fold = score_latent(encode(model, scaler.transform(train.x)), train,
                                encode(model, scaler.transform(test.x)), test)  # fmt: skip
            results.add(level, row.name, corpus.name, setting, fold)

    def run_method(
        self, level: str, row: Row, source: Corpus, targets: list[Corpus], results: Results
    ) -> None:
        """In-domain, transfer, transfer+unlabeled (and supervised) for one row."""
        self.in_domain(level, row, source, "in-domain", results)
        model, scaler = self.train_encoder(row, source.data)
        latents = {source.name: (encode(model, scaler.transform(source.data.x)), source.data)}
        for target in targets:
            z = encode(model, scaler.transform(target.data.x))
            latents[target.name] = (z, target.data)
            self.cross_validate(level, row.name, target, z, target.data, "transfer", results)
            if self.supervised and row.name in SUPERVISED_ROWS:
                self.in_domain(level, row, target, "supervised", results)
        for seed in range(self.seed, self.seed + self.unlabeled_seeds):
            # One encoder per seed sees the unlabeled share of every target (the seed's "20 % of
            # the unlabeled transfer data sets"); the same seed's encoder without it is the
            # comparison, both on the same held-out rows with the training corpus's z-scores.
            shares = [self.split_unlabeled(t.data, seed) for t in targets]
            plain = model if seed == self.seed else self.train_encoder(
                row, source.data, seed=seed, scaler=scaler)[0]  # fmt: skip
            with_unlabeled, _ = self.train_encoder(
                row, source.data, concat([u for u, _ in shares]), seed=seed, scaler=scaler
            )
            for target, (_, held) in zip(targets, shares, strict=True):
                z_held = scaler.transform(held.x)
                for setting, encoder in (("transfer-heldout", plain),
                                         ("transfer+unlabeled", with_unlabeled)):  # fmt: skip
                    per_fold = Results()
                    self.cross_validate(level, row.name, target, encode(encoder, z_held), held,
                                        setting, per_fold)  # fmt: skip
                    fold_means = per_fold.folds[level][row.name][target.name][setting]
                    results.add(level, row.name, target.name, setting,
                                {k: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")
                                 for k, v in fold_means.items()})  # fmt: skip
        results.latents.setdefault(level, {})[row.name] = latents

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

    def split_unlabeled(self, data: FeatureSet, seed: int) -> tuple[FeatureSet, FeatureSet]:
        """A random share of the target's *files* (all their windows) as unlabeled audio."""
        files = np.unique(data.file)
        rng = np.random.default_rng(seed)
        chosen = rng.choice(files, size=max(1, round(self.unlabeled_fraction * len(files))),
                            replace=False)  # fmt: skip
        mask = np.isin(data.file, chosen)
        return data.subset(mask), data.subset(~mask)

    def run(self, level: str, source: Corpus, targets: list[Corpus], results: Results) -> None:
        """Every row at one feature level (outliers dropped per corpus first)."""
        started = time.time()
        source, *targets = [drop_outliers(c, level, results) for c in [source, *targets]]
        if REFERENCE_METHOD in self.methods:
            self.on_step(f"{level}: {REFERENCE_METHOD}")
            self.run_reference(level, [source, *targets], results)
        encoders = tuple(m for m in self.methods if m != REFERENCE_METHOD)
        rows = make_rows(encoders, variants=self.variants)
        tasks = [(replace(self, on_step=_silent), level, row, source, targets) for row in rows]
        parts: dict[int, Results] = {}
        for done, (index, row, part, hit) in enumerate(self._run_rows(tasks), start=1):
            parts[index] = part
            cached = ", cached" if hit else ""
            self.on_step(f"{level}: {row.name} done ({done}/{len(rows)}{cached})")
        for index in range(len(tasks)):  # merged in the rows' order, whichever finished first
            results.merge(parts[index])
        results.seconds[level] = time.time() - started

    def _run_rows(
        self, tasks: list[tuple[Protocol, str, Row, Corpus, list[Corpus]]]
    ) -> Iterator[tuple[int, Row, Results, bool]]:
        """(index, row, its results, cache hit) of each task as it finishes; with several jobs
        the slowest rows start first, so no worker is left alone with one at the end."""
        order = sorted(range(len(tasks)), key=lambda i: -self._expected_cost(tasks[i][2]))
        if self.jobs <= 1 or len(tasks) <= 1:
            for index in range(len(tasks)):
                yield (index, *_run_row(tasks[index]))
            return
        with process_pool(self.jobs) as pool:
            futures = {pool.submit(_run_row, tasks[index]): index for index in order}
            for future in as_completed(futures):
                yield (futures[future], *future.result())

    def _expected_cost(self, row: Row) -> float:
        """A rough measure of a row's training time: epochs (tuned ones included), twice for the
        cluster and metric VAEs (the slowest steps), and more for the rows that also train on
        each target's labels."""
        slow = row.method in ("vae-cluster", *VAE_METRIC_METHODS)
        supervised = self.supervised and row.name in SUPERVISED_ROWS
        return self.config(row).epochs * (1 + slow) * (1 + supervised)


def _run_row(
    task: tuple[Protocol, str, Row, Corpus, list[Corpus]],
) -> tuple[Row, Results, bool]:
    """One row's settings, in a worker process or in this one; (row, its results, cache hit)."""
    import torch

    from . import rowcache

    torch.set_num_threads(1)  # tiny nets: threads cost more than they give
    protocol, level, row, source, targets = task
    corpora = [source, *targets]
    key = ""
    if protocol.row_cache is not None:
        settings = {"row": [row.name, row.method, row.metric_form], "level": level,
                    "folds": protocol.folds, "fraction": protocol.unlabeled_fraction,
                    "seeds": protocol.unlabeled_seeds, "epochs": protocol.epochs,
                    "batch": protocol.batch, "lr": protocol.lr, "seed": protocol.seed,
                    "supervised": protocol.supervised,
                    "overrides": protocol.overrides.get(row.method, {})}  # fmt: skip
        key = rowcache.row_key(settings, [(c.name, c.data) for c in corpora])
        hit = rowcache.load(protocol.row_cache, key)
        by_name = {c.name: c.data for c in corpora}
        if hit is not None and set(hit[1]) == set(by_name):
            folds, latents = hit
            part = Results(folds={level: {row.name: folds}}, latents={level: {row.name: {
                name: (z, by_name[name]) for name, z in latents.items()}}})  # fmt: skip
            return row, part, True
    part = Results()
    protocol.run_method(level, row, source, targets, part)
    if key and protocol.row_cache is not None:
        latents = {name: z for name, (z, _) in part.latents[level][row.name].items()}
        rowcache.save(protocol.row_cache, key, part.folds[level][row.name], latents)
    return row, part, False


__all__ = ["FOUR_CLASSES", "SETTINGS", "Corpus", "Protocol", "Results", "Row", "summary"]

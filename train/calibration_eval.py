"""Does on-device calibration help? With/without on the synthetic transfer corpora.

The device-side form of the seed's "+20 % unlabeled target data": a model trained on English
windows is used unchanged (encoder and heads fixed, as on the device); only the normalization
differs. For each target language, 20 % of its files are the wearer's unlabeled calibration
audio and the other 80 % are scored:

- ``none``: the model's training statistics (what ``listen`` does without --calibration);
- ``calibrated``: ``serdevice.device.stream.calibration.compute_calibration`` with the default prior;
- ``wearer only``: the same with a negligible prior (w ~ 1), to show what the shrinkage costs;

each both per target corpus (20 % of the language's files) and per speaker (20 % of each
speaker's files, the case of one wristband per child). Metrics: 4-class balanced accuracy of
the fixed SVC head and Spearman's rho of the fixed activation head.

python -m serdevice.train.calibration_eval --out reports/calibration
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from serdevice.device.stream.calibration import DEFAULT_PRIOR_WINDOWS, compute_calibration
from serdevice.device.stream.normalize import INPUT_CLIP, Normalizer

from .dataset import FOUR_CLASSES, FeatureSet, load_features
from .defaults import DEFAULT_EPOCHS
from .metrics import balanced_accuracy, spearman
from .run import TrainedRun, load_run

TARGETS = ("de", "fr", "da", "ur", "el")
NEGLIGIBLE_PRIOR = 1e-6
MODES = ("none", "calibrated", "wearer only")


def split_files(files: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of rows whose file is in a random ``fraction`` of the distinct files."""
    names = np.unique(files)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(names, size=max(1, round(fraction * len(names))), replace=False)
    return np.isin(files, chosen)


def latent(run: TrainedRun, x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """The fixed encoder's latent for raw rows normalized with (mean, std), clipped as on device."""
    import torch

    z = Normalizer(mean, std, INPUT_CLIP)(x)
    with torch.no_grad():
        return run.encoder(torch.as_tensor(z)).numpy().astype(np.float64)


def normalizers(run: TrainedRun, calib_rows: np.ndarray, prior: float) -> dict[str, Any]:
    """(mean, std) per mode from the wearer's unlabeled rows."""
    out: dict[str, Any] = {"none": (run.norm_mean, run.norm_std)}
    for mode, n0 in (("calibrated", prior), ("wearer only", NEGLIGIBLE_PRIOR)):
        calib = compute_calibration(calib_rows, run.norm_mean, run.norm_std, prior_windows=n0)
        out[mode] = (calib.mean.astype(np.float64), calib.std.astype(np.float64))
    return out


def evaluate_target(run: TrainedRun, data: FeatureSet, *, per: str, fraction: float, prior: float,
                    seed: int) -> dict[str, dict[str, float]]:  # fmt: skip
    """Metrics per mode; ``per`` is 'corpus' (one calibration) or 'speaker' (one per speaker)."""
    groups = [np.ones(len(data), bool)] if per == "corpus" else [
        data.group == g for g in np.unique(data.group)]  # fmt: skip
    predictions: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {m: [] for m in MODES}
    for group in groups:
        part = data.subset(group)
        calib_mask = split_files(part.file, fraction, seed)
        held = part.subset(~calib_mask)
        for mode, (mean, std) in normalizers(run, part.x[calib_mask], prior).items():
            z = latent(run, held.x, mean, std)
            activation = np.stack([held.activation, run.heads.activation(z)])
            predictions[mode].append((held.label, run.heads.predict(z), activation))
    results = {}
    for mode, parts in predictions.items():
        labels = np.concatenate([p[0] for p in parts])
        predicted = np.concatenate([p[1] for p in parts])
        act = np.concatenate([p[2] for p in parts], axis=1)
        keep = np.isin(labels, FOUR_CLASSES)
        results[mode] = {"bacc": balanced_accuracy(labels[keep], predicted[keep]),
                         "spearman_act": spearman(act[0], act[1]),
                         "n_scored": int(len(labels))}  # fmt: skip
    return results


def train_source(corpus: Path, out: Path, *, method: str, epochs: int, seed: int) -> Path:
    """Train the English-only window-level model the experiment uses (once)."""
    from .trainer import TrainRequest, train_run

    run = out / f"run-{method}-en-seed{seed}-epochs{epochs}"
    if not (run / "encoder.pt").is_file():
        train_run(TrainRequest(method=method, specs=(f"synth:{corpus}?language=en",), out=run,
                               epochs=epochs, seed=seed, level="window"), progress=False)  # fmt: skip
    return run


def markdown(results: dict[str, Any], meta: dict[str, Any]) -> str:
    """The README table: balanced accuracy / activation Spearman per target and mode."""
    lines = [
        f"Model: {meta['method']} trained on English windows ({meta['epochs']} epochs, seed "
        f"{meta['seed']}); heads fixed. Calibration from {meta['fraction']:.0%} of each target's "
        f"files (unlabeled), scored on the other files; prior n0 = {meta['prior']:g} windows.",
        "",
        "| target | calibration per | none: BA / rho | calibrated: BA / rho | wearer only: BA / rho |",
        "|---|---|---|---|---|",
    ]
    for target, by_per in results.items():
        for per, modes in by_per.items():
            cells = [f"{modes[m]['bacc']:.3f} / {modes[m]['spearman_act']:.3f}" for m in MODES]
            lines.append(f"| {target} | {per} | " + " | ".join(cells) + " |")
    for per in ("corpus", "speaker"):
        means = {m: np.mean([results[t][per][m]["bacc"] for t in results]) for m in MODES}
        rhos = {m: np.mean([results[t][per][m]["spearman_act"] for t in results]) for m in MODES}
        cells = [f"**{means[m]:.3f} / {rhos[m]:.3f}**" for m in MODES]
        lines.append(f"| mean | {per} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: train (once), evaluate, write results.json and table.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=Path("cache/synth-default"))
    parser.add_argument("--out", type=Path, default=Path("reports/calibration"))
    parser.add_argument("--method", default="dae-metric-act")
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fraction", type=float, default=0.2)
    parser.add_argument("--prior-windows", type=float, default=DEFAULT_PRIOR_WINDOWS)
    parser.add_argument("--run", type=Path, default=None, help="Use this trained run instead.")
    args = parser.parse_args(argv)
    if not (args.corpus / "manifest.csv").is_file():
        sys.exit(f"{args.corpus}: no synthetic corpus (serdevice data synth --out {args.corpus})")
    started = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    run = load_run(args.run or train_source(args.corpus, args.out, method=args.method,
                                             epochs=args.epochs, seed=args.seed))  # fmt: skip
    results = {}
    for target in TARGETS:
        data = load_features([f"synth:{args.corpus}?language={target}"], level="window",
                             progress=False)  # fmt: skip
        results[target] = {per: evaluate_target(run, data, per=per, fraction=args.fraction,
                                                prior=args.prior_windows, seed=args.seed)
                           for per in ("corpus", "speaker")}  # fmt: skip
    meta = {"method": run.config.method, "epochs": run.config.epochs, "seed": args.seed,
            "fraction": args.fraction, "prior": args.prior_windows, "run": str(run.path),
            "seconds": round(time.time() - started, 1)}  # fmt: skip
    (args.out / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    table = markdown(results, meta)
    (args.out / "table.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()

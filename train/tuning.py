"""Hyper-parameters chosen on a speaker-disjoint validation split of the training corpus only.

    python -m serdevice.train.tuning --train ravdess:../shared/corpora/ravdess --out reports/tuning

A fifth of the training corpus's speakers (never a target corpus) is held out; each candidate is
trained on the other speakers and scored on the held-out ones (linear SVC on the latent, fitted
on the training speakers' latent: N-S-H-A balanced accuracy, the seed's headline). One knob at a
time around the seed's values (or this project's, where the seed gives none): a candidate is
adopted only when its mean over seeds beats the default by at least ``MARGIN``; the adopted set
is then checked as a whole against the defaults and dropped if it does not beat them too.
``choices.json`` (for ``serdevice evaluate --tuning``) and ``tuning.md`` record every choice
with its reason and the numbers behind it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from serdevice.device.stream.contracts import InputError

from .dataset import FOUR_CLASSES, FeatureSet
from .models import ENCODER_METHODS

VALIDATION_FRACTION = 0.2
MARGIN = 0.02  # balanced-accuracy points a candidate must gain over the default to be adopted
# knob -> (default, candidates, the methods it applies to, why the default)
KNOBS: dict[str, tuple[Any, tuple[Any, ...], tuple[str, ...], str]] = {
    "epochs": (50, (100,), ENCODER_METHODS, "the seed's 50"),
    "lr": (1e-3, (3e-3,), ENCODER_METHODS, "the seed's Adam 1e-3"),
    "hidden": (4, (3,), ENCODER_METHODS, "the widest that keeps encoder + head < 400 parameters"),
    "noise": (0.1, (0.05, 0.2), ("dae", "dae-metric-act", "dae-metric-val"),
              "the seed gives no noise level; 0.1 standardized units"),
    "recon": ("mean", ("sum",), ("dae", "dae-metric-act", "dae-metric-val"),
              "mean over features: on the metric terms' scale (the seed adds them unweighted)"),
    "cycles": (4, (1, 2), ("vae-kl", "vae-cluster"), "M = 4, the usual cyclical schedule"),
    "ratio": (0.5, (0.25, 0.75), ("vae-kl", "vae-cluster"), "R = 0.5, the usual value"),
    "gamma": (1.0, (0.5, 2.0), ("vae-cluster",), "the seed adds the cluster loss unweighted"),
}  # fmt: skip


def validation_split(
    data: FeatureSet, *, fraction: float = VALIDATION_FRACTION, seed: int = 0
) -> tuple[FeatureSet, FeatureSet]:
    """(fit part, validation part): a seeded ``fraction`` of the speaker groups held out whole."""
    groups = np.unique(data.group)
    if len(groups) < 2:
        raise InputError("the training corpus needs at least two speakers for a validation split")
    count = min(len(groups) - 1, max(1, round(fraction * len(groups))))
    held = np.random.default_rng(seed).choice(groups, size=count, replace=False)
    mask = np.isin(data.group, held)
    return data.subset(~mask), data.subset(mask)


def speakers(data: FeatureSet) -> set[str]:
    """The corpus-qualified speakers (split groups) of a feature set."""
    return {f"{c}:{g}" if not str(g).startswith(f"{c}:") else str(g)
            for c, g in zip(data.corpus, data.group, strict=True)}  # fmt: skip


def check_disjoint(validation: FeatureSet, others: Sequence[FeatureSet]) -> None:
    """Raise InputError when the validation split shares a speaker with another set (a target)."""
    shared = set().union(*(speakers(validation) & speakers(o) for o in others))
    if shared:
        raise InputError(f"validation speakers also in a target: {', '.join(sorted(shared)[:5])}")


def score(config: Any, fit_part: FeatureSet, validation: FeatureSet) -> dict[str, float]:
    """Train on the fit part, fit the SVC on its latent, score the validation speakers."""
    from .heads import fit_svc
    from .metrics import balanced_accuracy
    from .preprocess import Standardizer
    from .training import encode, fit

    scaler = Standardizer().fit(fit_part.x)
    z_fit, z_val = scaler.transform(fit_part.x), scaler.transform(validation.x)
    fit_rows, val_rows = fit_part, validation
    model = fit(z_fit, config=config, classes=fit_rows.class_index,
                activation=fit_rows.activation, valence=fit_rows.valence).model  # fmt: skip
    latent_fit, latent_val = encode(model, z_fit), encode(model, z_val)
    coef, intercept = fit_svc(latent_fit, fit_rows.label, FOUR_CLASSES)
    keep = np.isin(val_rows.label, FOUR_CLASSES)
    predicted = np.array(FOUR_CLASSES)[np.argmax(latent_val[keep] @ coef.T + intercept, axis=1)]
    return {"bacc_nsha": balanced_accuracy(val_rows.label[keep], predicted)}


def tune(
    fit_part: FeatureSet,
    validation: FeatureSet,
    *,
    methods: Sequence[str] = ENCODER_METHODS,
    seeds: Sequence[int] = (0, 1),
    epochs: int = 50,
    log: Any = None,
) -> dict[str, Any]:
    """One knob at a time per method; returns {method: {"choices", "trials", "reasons"}}."""
    from .training import TrainConfig

    def mean_score(config: TrainConfig) -> float:
        values = [score(replace(config, seed=s), fit_part, validation)["bacc_nsha"] for s in seeds]
        return float(np.mean(values))

    out: dict[str, Any] = {}
    for method in methods:
        base = TrainConfig(method=method, epochs=epochs)
        base_score = mean_score(base)
        trials: list[dict[str, Any]] = [{"knob": "default", "value": None, "bacc_nsha": base_score}]
        adopted: dict[str, Any] = {}
        reasons: dict[str, str] = {}
        for knob, (default, candidates, applies, why) in KNOBS.items():
            if method not in applies:
                continue
            best_value, best = default, base_score
            for value in candidates:
                result = mean_score(replace(base, **{knob: value}))
                trials.append({"knob": knob, "value": value, "bacc_nsha": result})
                if log:
                    log(f"{method}: {knob}={value}: {result:.3f} (default {base_score:.3f})")
                if result >= best + MARGIN and result >= base_score + MARGIN:
                    best_value, best = value, result
            if best_value != default:
                adopted[knob] = best_value
                reasons[knob] = (f"{best_value}: validation N-S-H-A {best:.3f} vs {base_score:.3f} "
                                 f"with {default} (gain >= {MARGIN})")  # fmt: skip
            else:
                reasons[knob] = (f"{default} ({why}): no candidate "
                                 f"({', '.join(map(str, candidates))}) gained >= {MARGIN}")  # fmt: skip
        if adopted:
            together = mean_score(replace(base, **adopted))
            trials.append({"knob": "adopted together", "value": adopted, "bacc_nsha": together})
            if together < base_score + MARGIN:
                reasons["adopted together"] = (f"dropped: together {together:.3f} vs default "
                                               f"{base_score:.3f}")  # fmt: skip
                adopted = {}
            else:
                reasons["adopted together"] = (f"kept: together {together:.3f} vs default "
                                               f"{base_score:.3f}")  # fmt: skip
        out[method] = {"choices": adopted, "trials": trials, "reasons": reasons}
    return out


def read_choices(path: Path) -> dict[str, dict[str, Any]]:
    """{method: {knob: value}} from a choices.json written by ``main``."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a readable choices file ({error})") from None
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, dict):
        raise InputError(f"{path}: no 'choices' object")
    for method, knobs in choices.items():
        unknown = set(knobs) - set(KNOBS) if isinstance(knobs, dict) else {"?"}
        if method not in ENCODER_METHODS or unknown:
            raise InputError(f"{path}: unknown method or knob in {method!r}")
    return choices


def write_report(out: Path, result: dict[str, Any], meta: dict[str, Any]) -> None:
    """choices.json and tuning.md."""
    out.mkdir(parents=True, exist_ok=True)
    choices = {m: r["choices"] for m, r in result.items()}
    (out / "choices.json").write_text(json.dumps({"meta": meta, "choices": choices,
                                                  "detail": result}, indent=1))  # fmt: skip
    lines = ["# Hyper-parameters chosen on the validation speakers", "",
             f"Training corpus {meta['train']}: {meta['n_fit']} rows from {meta['fit_speakers']} "
             f"speakers fit, {meta['n_validation']} rows from {meta['validation_speakers']} held-out "
             f"speakers ({', '.join(meta['validation_groups'])}) validate; seeds "
             f"{meta['seeds']}; criterion N-S-H-A balanced accuracy; margin {MARGIN}; "
             f"{meta['seconds']:.0f} s. No target corpus is read.", "",
             "| method | knob | choice and reason |", "|---|---|---|"]  # fmt: skip
    for method, r in result.items():
        lines += [f"| {method} | {knob} | {why} |" for knob, why in r["reasons"].items()]
    (out / "tuning.md").write_text("\n".join(lines) + "\n")


def _listing(spec: str) -> FeatureSet:
    """A target's speakers from its loader alone (no audio read), for ``check_disjoint``."""
    from .corpora import load_spec

    utterances = load_spec(spec).utterances
    n = len(utterances)
    column = {name: np.array([getattr(u, name) for u in utterances]) for name in ("corpus",)}
    return FeatureSet(x=np.zeros((n, 0)), label=np.full(n, "other"), activation=np.zeros(n),
                      valence=np.zeros(n), group=np.array([u.split_group for u in utterances]),
                      language=np.full(n, ""), corpus=column["corpus"],
                      file=np.array([str(u.path) for u in utterances]))  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: tune on the training corpus's validation speakers, write the choices."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, help="training corpus spec")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--methods", default=",".join(ENCODER_METHODS))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--targets",
        default="",
        help="comma-separated target specs: checked to share no validation speaker",
    )
    args = parser.parse_args(argv)
    try:
        import torch

        from .dataset import load_features
        from .preprocess import standardize_and_drop

        torch.set_num_threads(1)
        started = time.time()
        methods = [m.strip() for m in args.methods.split(",")]
        if set(methods) - set(ENCODER_METHODS):
            raise InputError(f"--methods: choose from {', '.join(ENCODER_METHODS)}")
        data = load_features([args.train], level="clip", jobs=args.jobs)
        data = data.subset(standardize_and_drop(data.x)[2])  # the seed's |z| > 10 rule
        fit_part, validation = validation_split(data)
        check_disjoint(validation, [_listing(spec) for spec in args.targets.split(",") if spec])
        result = tune(fit_part, validation, methods=methods, seeds=range(args.seeds),
                      epochs=args.epochs,
                      log=lambda m: print(f"  {m} ({time.time() - started:.0f} s)",
                                          file=sys.stderr))  # fmt: skip
        meta = {"train": args.train, "n_fit": len(fit_part), "n_validation": len(validation),
                "fit_speakers": len(set(fit_part.group)),
                "validation_speakers": len(set(validation.group)),
                "validation_groups": sorted(set(validation.group.tolist())),
                "targets_checked": [t for t in args.targets.split(",") if t],
                "seeds": list(range(args.seeds)), "seconds": time.time() - started}  # fmt: skip
        write_report(args.out, result, meta)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"choices: {args.out / 'choices.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

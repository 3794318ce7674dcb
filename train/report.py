"""The protocol's outputs: results.json, report.md (the seed's tables) and latent scatter plots."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .models import ENCODER_METHODS, REFERENCE_METHOD
from .protocol import Results, summary

CLASS_COLOURS = {"neutral": "#7f7f7f", "sad": "#1f77b4", "happy": "#2ca02c", "angry": "#d62728",
                 "other": "#dddddd"}  # fmt: skip

# The seed's published numbers on the real corpora (balanced accuracy N-S-A / N-S-H-A; AESD has
# no neutral: S-A / S-H-A). Quoted, not run here.
PUBLISHED_CORPORA = ["IEMOCAP", "EMO-DB", "SAVEE", "CAFE", "URDU", "AESD"]
PUBLISHED: dict[str, list[str]] = {
        "SVC (supervised)": ["0.65/0.65", "0.89/0.68", "0.74/0.68", "0.66/0.51", "0.89/0.82", "0.94/0.70"],
        "SUPERB (> 3x10^8 parameters)": ["0.79/0.79", "0.57/0.66", "0.70/0.68", "0.39/0.51", "0.26/0.39", "0.34/0.53"],
        "DAE-Unsupervised": ["0.51/0.51", "0.72/0.56", "0.59/0.49", "0.43/0.32", "0.51/0.38", "0.40/0.22"],
        "DAE-Metric-act": ["0.54/0.54", "0.74/0.57", "0.58/0.46", "0.46/0.33", "0.55/0.41", "0.44/0.27"],
        "DAE-Metric-val": ["0.54/0.54", "0.78/0.61", "0.61/0.49", "0.45/0.34", "0.60/0.43", "0.42/0.25"],
}  # fmt: skip


def fmt(cell: dict[str, float] | None) -> str:
    """'0.54 ± 0.02', or '—' when there is no number."""
    if not cell or not math.isfinite(cell["mean"]):
        return "—"
    return f"{cell['mean']:.2f} ± {cell['std']:.2f}"


def _cell(
    s: dict[str, Any], level: str, method: str, corpus: str, setting: str, metric: str
) -> Any:
    return s.get(level, {}).get(method, {}).get(corpus, {}).get(setting, {}).get(metric)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(row) + " |" for row in rows
    ]


def accuracy_table(s: dict[str, Any], level: str, methods: list[str], source: str,
                   targets: list[str], setting: str) -> list[str]:  # fmt: skip
    """Balanced accuracy N-S-A and N-S-H-A per corpus, the seed's layout."""
    header = ["Method", f"{source} N-S-A (in-domain)", f"{source} N-S-H-A (in-domain)"]
    for target in targets:
        header += [f"{target} N-S-A", f"{target} N-S-H-A"]
    rows = []
    for method in methods:
        row = [method + (" (supervised, in-domain on each)" if method == REFERENCE_METHOD else "")]
        for corpus in [source, *targets]:
            chosen = "in-domain" if corpus == source or method == REFERENCE_METHOD else setting
            row += [
                fmt(_cell(s, level, method, corpus, chosen, m)) for m in ("bacc_nsa", "bacc_nsha")
            ]
        rows.append(row)
    return _table(header, rows)


def metric_table(s: dict[str, Any], level: str, methods: list[str], corpora: list[tuple[str, str]],
                 metrics: list[tuple[str, str]]) -> list[str]:  # fmt: skip
    """One row per method; a column per (corpus, setting) x metric."""
    header = ["Method"] + [f"{c} {label}" for c, _ in corpora for label, _ in metrics]
    rows = [[m] + [fmt(_cell(s, level, m, c, setting, key)) for c, setting in corpora
                   for _, key in metrics] for m in methods]  # fmt: skip
    return _table(header, rows)


def latent_shift(latents: dict[str, Any], source: str) -> dict[str, float]:
    """Per method: mean over targets of |mean(z_target) - mean(z_source)| / source latent std.

    Lower = the latent distribution stays put across languages (the seed's 'consistency').
    """
    out = {}
    for method, by_corpus in latents.items():
        z_source = by_corpus[source][0]
        scale = float(np.sqrt(np.mean(np.var(z_source, axis=0)))) or 1.0
        shifts = [np.linalg.norm(z.mean(axis=0) - z_source.mean(axis=0)) / scale
                  for name, (z, _) in by_corpus.items() if name != source]  # fmt: skip
        out[method] = float(np.mean(shifts)) if shifts else float("nan")
    return out


def plot_latents(latents: dict[str, Any], out_dir: Path, level: str) -> list[Path]:
    """One PNG per method: latent scatter per corpus, coloured by class and by activation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for method, by_corpus in latents.items():
        names = list(by_corpus)
        fig, axes = plt.subplots(2, len(names), figsize=(2.6 * len(names), 5.2), squeeze=False)
        for col, name in enumerate(names):
            z, data = by_corpus[name]
            top, bottom = axes[0][col], axes[1][col]
            colours = [CLASS_COLOURS.get(str(label), "#000000") for label in data.label]
            top.scatter(z[:, 0], z[:, 1], c=colours, s=4, alpha=0.7)
            points = bottom.scatter(z[:, 0], z[:, 1], c=data.activation, cmap="viridis", s=4,
                                    vmin=1, vmax=5, alpha=0.7)  # fmt: skip
            top.set_title(name, fontsize=9)
            for ax in (top, bottom):
                ax.tick_params(labelsize=6)
        axes[0][0].set_ylabel("by class", fontsize=8)
        axes[1][0].set_ylabel("by activation", fontsize=8)
        handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=k)
                   for k, c in CLASS_COLOURS.items()]  # fmt: skip
        fig.legend(handles=handles, loc="upper right", fontsize=7, ncol=5)
        fig.colorbar(points, ax=axes[1].tolist(), shrink=0.8, label="activation")
        fig.suptitle(f"{method}: 2-D latent ({level} level; SYNTHETIC data)", fontsize=10, x=0.3)
        path = out_dir / f"latent_{level}_{method}.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        paths.append(path)
    return paths


def write_outputs(out: Path, results: Results, meta: dict[str, Any]) -> dict[str, Any]:
    """results.json, report.md and the plots; returns the summary."""
    out.mkdir(parents=True, exist_ok=True)
    s = summary(results)
    (out / "results.json").write_text(
        json.dumps({"meta": meta, "summary": s, "folds": results.folds}, indent=1, allow_nan=True)
    )
    plots = []
    for level, latents in results.latents.items():
        plots += plot_latents(latents, out / "plots", level)
    (out / "report.md").write_text("\n".join(report_lines(s, results, meta, plots, out)) + "\n")
    return s


def report_lines(s: dict[str, Any], results: Results, meta: dict[str, Any], plots: list[Path],
                 out: Path) -> list[str]:  # fmt: skip
    """The markdown report."""
    source, targets = meta["source"], meta["targets"]
    methods = [m for m in meta["methods"] if m in (REFERENCE_METHOD, *ENCODER_METHODS)]
    encoders = [m for m in methods if m != REFERENCE_METHOD]
    lines = [
        "# serdevice evaluation report", "",
        f"Command: `{meta['command']}`  ",
        f"Date: {meta['date']}; run time {meta['seconds']:.0f} s on {meta['cpus']} CPU core(s).  ",
        f"Training corpus: {source} ({meta['sizes'][source]} utterances); transfer targets: "
        + ", ".join(f"{t} ({meta['sizes'][t]})" for t in targets) + ".  ",
        f"{meta['folds']}-fold speaker-independent CV (fewer where a corpus has fewer speakers); {meta['epochs']} epochs, batch {meta['batch']}, "
        f"Adam {meta['lr']}; {int(meta['unlabeled_fraction'] * 100)} % unlabeled target audio in the "
        "last setting. Cells: mean ± std over folds.", "",
    ]  # fmt: skip
    if meta.get("synthetic"):
        lines += ["**SYNTHETIC DATA.** These corpora were generated with espeak-ng by "
                  "`serdevice data synth`; the languages stand in for the seed's corpora. The numbers "
                  "say whether the methods learn and transfer prosodic emotion cues, not how they do "
                  "on human speech.", ""]  # fmt: skip
    for level in results.folds:
        lines += [f"## Feature level: {level}", ""]
        lines += [f"### Balanced accuracy — transfer (encoder trained on {source})", ""]
        lines += accuracy_table(s, level, methods, source, targets, "transfer") + [""]
        lines += [f"### Balanced accuracy — transfer + {int(meta['unlabeled_fraction'] * 100)} % "
                  "unlabeled target audio in the encoder's training", ""]  # fmt: skip
        lines += accuracy_table(s, level, encoders, source, targets, "transfer+unlabeled") + [""]
        lines += ["### Adjusted R² of activation / valence on the latent (transfer)", ""]
        corpora = [(source, "in-domain")] + [(t, "transfer") for t in targets]
        lines += metric_table(s, level, encoders, corpora,
                              [("R²-Act", "adj_r2_act"), ("R²-Val", "adj_r2_val")]) + [""]  # fmt: skip
        lines += ["### Spearman's ρ, activation: transfer vs + unlabeled", ""]
        corpora = [(t, setting) for t in targets for setting in ("transfer", "transfer+unlabeled")]
        lines += metric_table(s, level, encoders, corpora, [("ρ-Act", "spearman_act")]) + [""]
        lines += ["Columns alternate transfer / transfer+unlabeled for each target.", ""]
        shift = latent_shift(results.latents.get(level, {}), source)
        lines += ["### Latent consistency across languages", "",
                  f"Mean distance of each target's latent centroid from {source}'s, in units of "
                  f"{source}'s latent spread (lower = more consistent).", ""]  # fmt: skip
        lines += _table(["Method", "latent shift"], [[m, f"{v:.2f}"] for m, v in shift.items()]) + [
            ""
        ]
        lines += [f"Run time at this level: {results.seconds.get(level, 0):.0f} s.", ""]
    if len(results.folds) > 1:
        lines += level_comparison(s, list(results.folds), encoders, targets)
    lines += [
        "## The seed's published numbers (real corpora) — published, not run here",
        "",
        "Balanced accuracy N-S-A / N-S-H-A (AESD: S-A / S-H-A), from Das et al.'s table.",
        "",
    ]
    lines += _table(["Method", *PUBLISHED_CORPORA], [[k, *v] for k, v in PUBLISHED.items()]) + [""]
    lines += ["## Plots", ""] + [f"- [{p.name}]({p.relative_to(out).as_posix()})" for p in plots]
    return lines


def level_comparison(s: dict[str, Any], levels: list[str], methods: list[str],
                     targets: list[str]) -> list[str]:  # fmt: skip
    """Mean transfer balanced accuracy (N-S-H-A) and activation ρ over targets, per level."""
    rows = []
    for method in methods:
        row = [method]
        for level in levels:
            for metric in ("bacc_nsha", "spearman_act"):
                values = [_cell(s, level, method, t, "transfer", metric) for t in targets]
                means = [v["mean"] for v in values if v and math.isfinite(v["mean"])]
                row.append(f"{np.mean(means):.2f}" if means else "—")
        rows.append(row)
    header = ["Method"] + [f"{lvl} {m}" for lvl in levels for m in ("N-S-H-A", "ρ-Act")]
    return ["## Clip level (the seed) vs the device's 2 s windows", "",
            "Mean over transfer targets.", ""] + _table(header, rows) + [""]  # fmt: skip

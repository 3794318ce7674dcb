"""The protocol's outputs: results.json, report.md (the seed's tables) and latent scatter plots."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .models import ENCODER_METHODS, REFERENCE_METHOD
from .report_tables import (
    PUBLISHED,
    PUBLISHED_CORPORA,
    PUBLISHED_R2,
    PUBLISHED_R2_CORPORA,
    PUBLISHED_RHO,
    PUBLISHED_ZD_R2,
    level_tables,
    md_table,
    result_cell,
)
from .results import Results, summary

CLASS_COLOURS = {"neutral": "#7f7f7f", "sad": "#1f77b4", "happy": "#2ca02c", "angry": "#d62728",
                 "other": "#dddddd"}  # fmt: skip


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


def plot_latents(
    latents: dict[str, Any], out_dir: Path, level: str, *, synthetic: bool = True
) -> list[Path]:
    """One PNG per method: latent scatter per corpus, coloured by class and by activation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for method, by_corpus in latents.items():
        names = list(by_corpus)
        # Shared axes: a language whose latent drifts away from the source's shows as a shift.
        fig, axes = plt.subplots(2, len(names), figsize=(2.6 * len(names) + 0.8, 5.2),
                                 squeeze=False, sharex=True, sharey=True)  # fmt: skip
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
        fig.subplots_adjust(left=0.06, right=0.92, top=0.86, bottom=0.08)
        fig.colorbar(points, cax=fig.add_axes((0.94, 0.1, 0.012, 0.32)), label="activation")
        data_note = "; SYNTHETIC data" if synthetic else ""
        fig.suptitle(f"{method}: 2-D latent ({level} level{data_note})", fontsize=10, x=0.3)
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
        json.dumps(
            {"meta": meta, "summary": s, "folds": results.folds, "outliers": results.outliers},
            indent=1,
            allow_nan=True,
        )  # fmt: skip
    )
    plots = []
    for level, latents in results.latents.items():
        # the six methods' latents (the variant rows' would add a plot each and little to see)
        six = {m: v for m, v in latents.items() if m in ENCODER_METHODS}
        plots += plot_latents(six, out / "plots", level, synthetic=bool(meta.get("synthetic")))
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
        rows = [m for m in methods if m in results.folds[level] and m != REFERENCE_METHOD]
        rows += [m for m in results.folds[level] if m not in rows and m != REFERENCE_METHOD]
        rows += [REFERENCE_METHOD] if REFERENCE_METHOD in results.folds[level] else []
        encoders = [m for m in rows if m != REFERENCE_METHOD]
        lines += level_tables(s, results, level, rows, encoders, source, targets, meta)
        shift = latent_shift(results.latents.get(level, {}), source)
        lines += ["### Latent consistency across languages", "",
                  f"Mean distance of each target's latent centroid from {source}'s, in units of "
                  f"{source}'s latent spread (lower = more consistent).", ""]  # fmt: skip
        lines += md_table(
            ["Method", "latent shift"], [[m, f"{v:.2f}"] for m, v in shift.items()]
        ) + [""]
        lines += [f"Run time at this level: {results.seconds.get(level, 0):.0f} s.", ""]
    if len(results.folds) > 1:
        lines += level_comparison(s, list(results.folds), encoders, targets)
        lines += level_verdict(s, list(results.folds), encoders, targets)
    lines += seed_comparison(s, results, source, targets)
    lines += published_lines()
    lines += ["## Plots", ""] + [f"- [{p.name}]({p.relative_to(out).as_posix()})" for p in plots]
    return lines


def published_lines() -> list[str]:
    """The seed's own tables (Das et al.), printed beside ours: published, never run here."""
    lines = [
        "## The seed's published numbers (real corpora) — published, not run here",
        "",
        "Balanced accuracy N-S-A / N-S-H-A (AESD: S-A / S-H-A), from Das et al.'s table.",
        "",
    ]
    lines += md_table(["Method", *PUBLISHED_CORPORA], [[k, *v] for k, v in PUBLISHED.items()]) + [
        ""
    ]
    lines += ["Adjusted R² of z_d on l_d, act / val (IEMOCAP, in-domain):", ""]
    lines += md_table(["Method", "IEMOCAP"], [[k, v] for k, v in PUBLISHED_ZD_R2.items()])
    lines += ["", "Adjusted R² of the labels on z, act / val (IEMOCAP in-domain, others transfer):"]
    lines += [""] + md_table(["Method", *PUBLISHED_R2_CORPORA],
                           [[k, *v] for k, v in PUBLISHED_R2.items()])  # fmt: skip
    lines += ["", "Spearman's ρ (activation) of the VAEs' latents, transfer / supervised:", ""]
    lines += md_table(
        ["Method", *PUBLISHED_R2_CORPORA], [[k, *v] for k, v in PUBLISHED_RHO.items()]
    )
    lines += [""]
    return lines


def level_comparison(s: dict[str, Any], levels: list[str], methods: list[str],
                     targets: list[str]) -> list[str]:  # fmt: skip
    """Mean transfer balanced accuracy (N-S-H-A) and activation ρ over targets, per level."""
    rows = []
    for method in methods:
        row = [method]
        for level in levels:
            for metric in ("bacc_nsha", "spearman_act"):
                values = [result_cell(s, level, method, t, "transfer", metric) for t in targets]
                means = [v["mean"] for v in values if v and math.isfinite(v["mean"])]
                row.append(f"{np.mean(means):.2f}" if means else "—")
        rows.append(row)
    header = ["Method"] + [f"{lvl} {m}" for lvl in levels for m in ("N-S-H-A", "ρ-Act")]
    return ["## Clip level (the seed) vs the device's 2 s windows", "",
            "Mean over transfer targets.", ""] + md_table(header, rows) + [""]  # fmt: skip


def mean_over(
    s: dict[str, Any], level: str, method: str, corpora: list[str], setting: str, metric: str
) -> float:
    """Mean of the fold means over corpora (NaN when none has a number)."""
    values = [result_cell(s, level, method, c, setting, metric) for c in corpora]
    means = [v["mean"] for v in values if v and math.isfinite(v["mean"])]
    return float(np.mean(means)) if means else float("nan")


def level_verdict(s: dict[str, Any], levels: list[str], methods: list[str],
                  targets: list[str]) -> list[str]:  # fmt: skip
    """Which feature level serves the device: the one with more transfer wins, with numbers."""
    if not {"clip", "window"} <= set(levels) or not methods:
        return []
    wins = {"clip": 0, "window": 0}
    for method in methods:
        for metric in ("bacc_nsha", "spearman_act"):
            clip, window = (mean_over(s, lvl, method, targets, "transfer", metric)
                            for lvl in ("clip", "window"))  # fmt: skip
            if math.isfinite(clip) and math.isfinite(window) and clip != window:
                wins["window" if window > clip else "clip"] += 1
    best = "window" if wins["window"] >= wins["clip"] else "clip"
    lead = "dae-metric-act" if "dae-metric-act" in methods else methods[0]
    figures = {lvl: (mean_over(s, lvl, lead, targets, "transfer", "bacc_nsha"),
                     mean_over(s, lvl, lead, targets, "transfer", "spearman_act"))
               for lvl in ("clip", "window")}  # fmt: skip
    why = (
        "the device classifies every 2 s window, so a model trained on windows meets at run time "
        "the rows it was trained on (clip vectors average a whole utterance), and an utterance "
        "gives several windows, so there are more training rows"
        if best == "window"
        else "clip vectors average a whole utterance and are less noisy than 2 s windows; the "
        "device would then have to pool windows to clip length before deciding"
    )  # fmt: skip
    return [
        f"**Which level serves the device: {best}.** Over {len(methods)} encoder methods x "
        f"(transfer N-S-H-A, ρ-Act), window wins {wins['window']} and clip {wins['clip']} "
        f"comparisons. {lead}: N-S-H-A {figures['clip'][0]:.2f} (clip) vs "
        f"{figures['window'][0]:.2f} (window), ρ-Act {figures['clip'][1]:.2f} vs "
        f"{figures['window'][1]:.2f}. Why: {why}. Window rows are scored per window, clip rows "
        "per utterance, so the two accuracies count different units.",
        "",
    ]


def seed_comparison(s: dict[str, Any], results: Results, source: str,
                    targets: list[str]) -> list[str]:  # fmt: skip
    """The seed's two headline findings, checked on these numbers."""
    lines = ["## Against the seed's findings", ""]
    for level in results.folds:
        methods = set(results.folds[level])
        if {"dae", "dae-metric-act"} <= methods:
            own = {m: (mean_over(s, level, m, [source], "in-domain", "adj_r2_act"),
                       mean_over(s, level, m, targets, "transfer", "adj_r2_act"))
                   for m in ("dae", "dae-metric-act")}  # fmt: skip
            raised = own["dae-metric-act"][0] > own["dae"][0]
            lines.append(
                f"- {level}: dae-metric-act {'raises' if raised else 'does not raise'} the adjusted "
                f"R² of activation over dae: {own['dae-metric-act'][0]:.2f} vs "
                f"{own['dae'][0]:.2f} in-domain on {source} (the seed: 0.49 vs 0.41 on IEMOCAP), "
                f"{own['dae-metric-act'][1]:.2f} vs {own['dae'][1]:.2f} over the transfer targets."
            )
        shift = latent_shift(results.latents.get(level, {}), source)
        if shift:
            ranked = sorted(shift, key=lambda m: shift[m])
            vae_first = ranked[0].startswith("vae")
            other = next((m for m in ranked if m.startswith("vae") != vae_first), None)
            versus = (
                f"; best {'non-' if vae_first else ''}VAE: {other} {shift[other]:.2f}"
                if other
                else ""
            )
            lines.append(
                f"- {level}: the most consistent latent across languages is {ranked[0]}'s "
                f"(shift {shift[ranked[0]]:.2f}{versus}); "
                f'the seed\'s "VAE most consistent" is {"" if vae_first else "not "}reproduced.'
            )
    return lines + [""]

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

# The seed's published numbers (Das et al.), quoted beside ours where a corpus is shared (SAVEE,
# URDU) and for its training corpus (IEMOCAP) beside our training corpus. Not run here.
PUBLISHED_CORPORA = ["IEMOCAP", "EMO-DB", "SAVEE", "CAFE", "URDU", "AESD"]
# Balanced accuracy N-S-A / N-S-H-A (AESD has no neutral: S-A / S-H-A).
PUBLISHED: dict[str, list[str]] = {
        "SVC (supervised)": ["0.65/0.65", "0.89/0.68", "0.74/0.68", "0.66/0.51", "0.89/0.82", "0.94/0.70"],
        "SUPERB (> 3x10^8 parameters)": ["0.79/0.79", "0.57/0.66", "0.70/0.68", "0.39/0.51", "0.26/0.39", "0.34/0.53"],
        "DAE-Unsupervised": ["0.51/0.51", "0.72/0.56", "0.59/0.49", "0.43/0.32", "0.51/0.38", "0.40/0.22"],
        "DAE-Metric-act": ["0.54/0.54", "0.74/0.57", "0.58/0.46", "0.46/0.33", "0.55/0.41", "0.44/0.27"],
        "DAE-Metric-val": ["0.54/0.54", "0.78/0.61", "0.61/0.49", "0.45/0.34", "0.60/0.43", "0.42/0.25"],
}  # fmt: skip
# The seed's first table: adjusted R^2 of z_d on l_d, act / val, IEMOCAP, five folds.
PUBLISHED_ZD_R2: dict[str, str] = {
    "DAE-Unsupervised": "0.11/0.03", "DAE-Metric-act": "0.21/0.06", "DAE-Metric-val": "0.12/0.05",
}  # fmt: skip
# The seed's second table: adjusted R^2 of the labels on z, act / val (IEMOCAP in-domain, the
# others transfer; the "(supervised)" rows trained with each target's labels).
PUBLISHED_R2_CORPORA = ["IEMOCAP", "EMO-DB", "CAFE", "URDU", "AESD"]
PUBLISHED_R2: dict[str, list[str]] = {
        "Metric-act (supervised)": ["NA", "0.38/0.16", "0.62/0.16", "0.34/0.15", "0.44/0.18"],
        "Metric-val (supervised)": ["NA", "0.45/0.21", "0.44/0.29", "0.32/0.16", "0.40/0.17"],
        "DAE-Unsupervised": ["0.41/0.06", "0.63/0.05", "0.41/0.14", "0.28/0.14", "0.30/-0.00"],
        "DAE-Metric-act": ["0.49/0.05", "0.63/0.04", "0.46/0.13", "0.32/0.13", "0.31/-0.00"],
        "DAE-Metric-val": ["0.39/0.11", "0.61/0.10", "0.43/0.15", "0.38/0.17", "0.27/0.01"],
}  # fmt: skip
# The seed's Spearman table (VAEs), transfer / supervised per corpus.
PUBLISHED_RHO: dict[str, list[str]] = {
        "Unsupervised": ["0.26/0.26", "0.31/0.31", "0.24/0.24", "0.12/0.10", "0.18/0.16"],
        "Metric-cluster": ["0.19/0.19", "0.23/0.28", "0.12/0.07", "0.07/0.09", "0.12/0.11"],
        "Metric-act": ["0.76/0.76", "0.53/0.61", "0.35/0.39", "0.38/0.39", "0.31/0.31"],
        "Metric-val": ["0.29/0.29", "-0.05/0.27", "0.31/0.32", "0.03/0.07", "0.01/0.14"],
}  # fmt: skip
# Our row -> the seed's row name in each published table.
SEED_ROW = {"svc-egemaps": "SVC (supervised)", "dae": "DAE-Unsupervised",
            "dae-metric-act": "DAE-Metric-act", "dae-metric-val": "DAE-Metric-val"}  # fmt: skip
SEED_VAE_ROW = {"vae": "Unsupervised", "vae-cluster": "Metric-cluster",
                "vae-metric-act": "Metric-act", "vae-metric-val": "Metric-val"}  # fmt: skip
SETTING_TAG = {"in-domain": "", "transfer": "", "transfer+unlabeled": " +unl.",
               "transfer-heldout": " held-out", "supervised": " sup."}  # fmt: skip
ZD_NOTE = [
    "The seed's first table: pairs of consecutive held-out rows (seeded random order, as the "
    "metric loss pairs a shuffled batch), l_d = |l_i - l_{i+1}|, z_d = ||z_i - z_{i+1}||; "
    "adjusted R² of the OLS fit of z_d on l_d. Computed the same way for every row, whatever "
    "form its loss used. The seed's rows (published, not run here; IEMOCAP in-domain) beneath.",
    "",
]  # fmt: skip
R2_NOTE = [
    "The seed's second table: adjusted R² of the OLS fit of the held-out label on the 2-D latent "
    "(with intercept), \"the linear dependence of l on z\". A different quantity from the z_d-on-l_d "
    "table above. The training corpus's column is in-domain CV; the targets' are transfer, except "
    "the \"(supervised on target)\" rows: the encoder trained with the target's own labels, "
    "K-fold CV on the target (the seed's upper reference). Seed rows: published, not run here "
    "(IEMOCAP stands where our training corpus does).",
    "",
]  # fmt: skip
RHO_NOTE = [
    "Spearman's ρ between the held-out label and its linear prediction from the latent "
    "(regression fitted on the other folds).",
    "",
]  # fmt: skip


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


def seed_value(published: dict[str, list[str]], corpora: list[str], seed_row: str,
               corpus: str, part: int) -> str:  # fmt: skip
    """The published figure of ``seed_row`` for one of our corpora (matched by name), or ''."""
    names = {c.replace("-", "").lower(): i for i, c in enumerate(corpora)}
    index = names.get(corpus.split("[")[0].replace("-", "").lower())
    if seed_row not in published or index is None:
        return ""
    if published[seed_row][index] == "NA":
        return "NA"
    parts = published[seed_row][index].split("/")
    return parts[part] if part < len(parts) else ""


def accuracy_table(s: dict[str, Any], level: str, methods: list[str], source: str,
                   targets: list[str], setting: str) -> list[str]:  # fmt: skip
    """Balanced accuracy N-S-A and N-S-H-A per corpus, the seed's layout, its figures beneath."""
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
    for seed_row in PUBLISHED:
        row = [f"*seed, published: {seed_row}*"]
        row += [f"IEMOCAP {seed_value(PUBLISHED, PUBLISHED_CORPORA, seed_row, 'IEMOCAP', i)}"
                for i in (0, 1)]  # fmt: skip
        row += [seed_value(PUBLISHED, PUBLISHED_CORPORA, seed_row, t, i) for t in targets
                for i in (0, 1)]  # fmt: skip
        rows.append(row)
    return _table(header, rows)


NOT_RUN_NOTE = (
    "Not run at this level (`--extras` names the levels that run the unlabeled "
    "comparison, the signed-first and VAE metric rows and the supervised rows; "
    "`--extras both` runs them at both)."
)


def has_setting(results: Results, level: str, setting: str) -> bool:
    """Whether any row at ``level`` was scored in ``setting``."""
    return any(setting in cell for rows in [results.folds.get(level, {})]
               for by_corpus in rows.values() for cell in by_corpus.values())  # fmt: skip


def unlabeled_gain_table(results: Results, level: str, methods: list[str],
                         targets: list[str]) -> list[str]:  # fmt: skip
    """Per row: mean over targets of (with - without 20 % unlabeled), mean ± std over seeds."""
    rows = []
    metrics = (("N-S-A", "bacc_nsa"), ("N-S-H-A", "bacc_nsha"), ("ρ-Act", "spearman_act"))
    for method in methods:
        by_corpus = results.folds.get(level, {}).get(method, {})
        row = [method]
        for _, key in metrics:
            gains = []
            for target in targets:
                cell = by_corpus.get(target, {})
                with_u = cell.get("transfer+unlabeled", {}).get(key, [])
                without = cell.get("transfer-heldout", {}).get(key, [])
                if with_u and len(with_u) == len(without):
                    gains.append(np.array(with_u) - np.array(without))
            if gains:
                per_seed = np.nanmean(np.vstack(gains), axis=0)  # mean over targets, per seed
                row.append(f"{np.mean(per_seed):+.3f} ± {np.std(per_seed):.3f}")
            else:
                row.append("—")
        rows.append(row)
    return _table(["Method", *(f"gain {label}" for label, _ in metrics)], rows)


def outlier_table(results: Results, level: str) -> list[str]:
    """Rows dropped by the |z| > 10 rule, per corpus."""
    rows = [[corpus, f"{dropped} of {total}"]
            for corpus, (dropped, total) in results.outliers.get(level, {}).items()]  # fmt: skip
    return _table(["Corpus", "rows dropped (|z| > 10)"], rows)


def metric_table(s: dict[str, Any], level: str, methods: list[str], corpora: list[tuple[str, str]],
                 metrics: list[tuple[str, str]]) -> list[str]:  # fmt: skip
    """One row per method; a column per (corpus, setting) x metric."""
    header = ["Method"] + [f"{c} {label}{SETTING_TAG[setting]}" for c, setting in corpora
                           for label, _ in metrics]  # fmt: skip
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
        lines += _table(["Method", "latent shift"], [[m, f"{v:.2f}"] for m, v in shift.items()]) + [
            ""
        ]
        lines += [f"Run time at this level: {results.seconds.get(level, 0):.0f} s.", ""]
    if len(results.folds) > 1:
        lines += level_comparison(s, list(results.folds), encoders, targets)
        lines += level_verdict(s, list(results.folds), encoders, targets)
    lines += seed_comparison(s, results, source, targets)
    lines += [
        "## The seed's published numbers (real corpora) — published, not run here",
        "",
        "Balanced accuracy N-S-A / N-S-H-A (AESD: S-A / S-H-A), from Das et al.'s table.",
        "",
    ]
    lines += _table(["Method", *PUBLISHED_CORPORA], [[k, *v] for k, v in PUBLISHED.items()]) + [""]
    lines += ["Adjusted R² of z_d on l_d, act / val (IEMOCAP, in-domain):", ""]
    lines += _table(["Method", "IEMOCAP"], [[k, v] for k, v in PUBLISHED_ZD_R2.items()])
    lines += ["", "Adjusted R² of the labels on z, act / val (IEMOCAP in-domain, others transfer):"]
    lines += [""] + _table(["Method", *PUBLISHED_R2_CORPORA],
                           [[k, *v] for k, v in PUBLISHED_R2.items()])  # fmt: skip
    lines += ["", "Spearman's ρ (activation) of the VAEs' latents, transfer / supervised:", ""]
    lines += _table(["Method", *PUBLISHED_R2_CORPORA], [[k, *v] for k, v in PUBLISHED_RHO.items()])
    lines += [""]
    lines += ["## Plots", ""] + [f"- [{p.name}]({p.relative_to(out).as_posix()})" for p in plots]
    return lines


def level_tables(s: dict[str, Any], results: Results, level: str, rows: list[str],
                 encoders: list[str], source: str, targets: list[str],
                 meta: dict[str, Any]) -> list[str]:  # fmt: skip
    """Every seed table at one feature level, the seed's figures beside ours."""
    share = int(meta["unlabeled_fraction"] * 100)
    seeds = meta.get("unlabeled_seeds", 1)
    lines = [f"### Balanced accuracy — transfer (encoder trained on {source})", ""]
    lines += accuracy_table(s, level, rows, source, targets, "transfer") + [""]
    lines += [f"### Balanced accuracy — transfer + {share} % unlabeled target audio in the "
              "encoder's training", ""]  # fmt: skip
    unlabeled = has_setting(results, level, "transfer+unlabeled")
    if unlabeled:
        lines += unlabeled_accuracy_tables(s, results, level, encoders, targets, share, seeds)
    else:
        lines += [NOT_RUN_NOTE, ""]
    lines += zd_r2_table(s, level, encoders, source, targets)
    lines += label_r2_table(s, level, encoders, source, targets)
    lines += vae_rho_table(s, level, encoders, source, targets)
    lines += rho_tables(s, level, encoders, targets, share, unlabeled)
    lines += ["### Outliers (the seed's |z| > 10 rule)", "",
              "Applied once to each whole corpus (training and targets alike, own statistics) "
              "before any split, so every split has passed the same rule.", ""]  # fmt: skip
    lines += outlier_table(results, level) + [""]
    return lines


def unlabeled_accuracy_tables(s: dict[str, Any], results: Results, level: str,
                              encoders: list[str], targets: list[str], share: int,
                              seeds: int) -> list[str]:  # fmt: skip
    """Balanced accuracy on each target's held-out part without and with its unlabeled share."""
    lines = [f"Each target's other {100 - share} % (held-out), scored with the encoder "
             f"trained without (held-out) and with (+unl.) {share} % of every target's files "
             "(no labels): same standardization (the training corpus's), same rows; mean ± "
             f"std over {seeds} seed(s), each seed the mean over head folds.", ""]  # fmt: skip
    corpora = [(t, setting) for t in targets for setting in ("transfer-heldout",
                                                             "transfer+unlabeled")]  # fmt: skip
    lines += metric_table(s, level, encoders, corpora,
                          [("N-S-A", "bacc_nsa"), ("N-S-H-A", "bacc_nsha")]) + [""]  # fmt: skip
    lines += [f"Gain from the {share} % unlabeled audio (with − without, mean over targets):",
              ""]  # fmt: skip
    lines += unlabeled_gain_table(results, level, encoders, targets) + [""]
    return lines


def r2_corpora(source: str, targets: list[str]) -> list[tuple[str, str]]:
    """The (corpus, setting) columns of the R² tables: the source in-domain, each target transfer."""
    return [(source, "in-domain")] + [(t, "transfer") for t in targets]


def zd_r2_table(s: dict[str, Any], level: str, encoders: list[str], source: str,
                targets: list[str]) -> list[str]:  # fmt: skip
    """The seed's first table: adjusted R² of z_d on l_d for the DAE rows."""
    lines = ["### Adjusted R² of z_d on l_d — the seed's first table", ""]
    zd_rows = [m for m in encoders if m.startswith("dae")]
    corpora = r2_corpora(source, targets)
    header = ["Method"] + [f"{c} {label}" for c, _ in corpora for label in ("R²-Act", "R²-Val")]
    table = [[m] + [fmt(_cell(s, level, m, c, setting, key)) for c, setting in corpora
                    for key in ("zd_r2_act", "zd_r2_val")] for m in zd_rows]  # fmt: skip
    for seed_row, value in PUBLISHED_ZD_R2.items():
        act, val = value.split("/")
        table.append([f"*seed, published: {seed_row}*", f"IEMOCAP {act}", f"IEMOCAP {val}"]
                     + [""] * (2 * len(targets)))  # fmt: skip
    return lines + _table(header, table) + [""] + ZD_NOTE


def label_r2_table(s: dict[str, Any], level: str, encoders: list[str], source: str,
                   targets: list[str]) -> list[str]:  # fmt: skip
    """The seed's second table: adjusted R² of activation / valence on the latent."""
    lines = ["### Adjusted R² of activation / valence on the latent — the seed's second table", ""]
    zd_rows = [m for m in encoders if m.startswith("dae")]
    corpora = r2_corpora(source, targets)
    header = ["Method"] + [f"{c} {label}" for c, _ in corpora for label in ("R²-Act", "R²-Val")]
    table = []
    for m in [r for r in encoders if r.startswith("dae-metric") and ":" not in r]:
        cells = ["—", "—"] + [fmt(_cell(s, level, m, t, "supervised", key)) for t in targets
                              for key in ("adj_r2_act", "adj_r2_val")]  # fmt: skip
        if any(c != "—" for c in cells):
            table.append([f"{m} (supervised on target)", *cells])
    table += [[m] + [fmt(_cell(s, level, m, c, setting, key)) for c, setting in corpora
                     for key in ("adj_r2_act", "adj_r2_val")] for m in zd_rows]  # fmt: skip
    for seed_row in PUBLISHED_R2:
        source_cells = [f"IEMOCAP {seed_value(PUBLISHED_R2, PUBLISHED_R2_CORPORA, seed_row, 'IEMOCAP', i)}"
                        for i in (0, 1)]  # fmt: skip
        table.append([f"*seed, published: {seed_row}*", *source_cells]
                     + [seed_value(PUBLISHED_R2, PUBLISHED_R2_CORPORA, seed_row, t, i)
                        for t in targets for i in (0, 1)])  # fmt: skip
    return lines + _table(header, table) + [""] + R2_NOTE


def vae_rho_table(s: dict[str, Any], level: str, encoders: list[str], source: str,
                  targets: list[str]) -> list[str]:  # fmt: skip
    """The seed's third table: the VAEs' Spearman's ρ of activation (nothing without VAE rows)."""
    vae_rows = [m for m in encoders if m in SEED_VAE_ROW]
    if not vae_rows:
        return []
    lines = ["### Spearman's ρ of activation, VAEs: transfer and supervised — the seed's "
             "third table", ""]  # fmt: skip
    header = ["Method", f"{source} (in-domain)"] + [f"{t} {kind}" for t in targets
                                                     for kind in ("transfer", "supervised")]  # fmt: skip
    table = [[f"{m} ({SEED_VAE_ROW[m]})", fmt(_cell(s, level, m, source, "in-domain", "spearman_act"))]
             + [fmt(_cell(s, level, m, t, setting, "spearman_act")) for t in targets
                for setting in ("transfer", "supervised")] for m in vae_rows]  # fmt: skip
    for seed_row in PUBLISHED_RHO:
        table.append([f"*seed, published: {seed_row}*",
                      f"IEMOCAP {seed_value(PUBLISHED_RHO, PUBLISHED_R2_CORPORA, seed_row, 'IEMOCAP', 0)}"]
                     + [seed_value(PUBLISHED_RHO, PUBLISHED_R2_CORPORA, seed_row, t, i)
                        for t in targets for i in (0, 1)])  # fmt: skip
    return lines + _table(header, table) + [""]


def rho_tables(s: dict[str, Any], level: str, encoders: list[str], targets: list[str],
               share: int, unlabeled: bool) -> list[str]:  # fmt: skip
    """Spearman's ρ of activation and of valence on transfer (and held-out without / with the
    unlabeled share, where that comparison ran)."""
    settings = (
        ("transfer", "transfer-heldout", "transfer+unlabeled") if unlabeled else ("transfer",)
    )
    corpora = [(t, setting) for t in targets for setting in settings]
    lines: list[str] = []
    for name, key in (("activation", "spearman_act"), ("valence", "spearman_val")):
        lines += [f"### Spearman's ρ, {name}: transfer"
                  + (f"; held-out {100 - share} % without and with the {share} % unlabeled (+unl.)"
                     if unlabeled else ""), ""]  # fmt: skip
        lines += metric_table(s, level, encoders, corpora, [(f"ρ-{name[:3].title()}", key)])
        lines += [""]
    return lines + RHO_NOTE


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


def mean_over(
    s: dict[str, Any], level: str, method: str, corpora: list[str], setting: str, metric: str
) -> float:
    """Mean of the fold means over corpora (NaN when none has a number)."""
    values = [_cell(s, level, method, c, setting, metric) for c in corpora]
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

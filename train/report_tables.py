"""The seed's tables in report.md: our figures beside the published ones (Das et al.), per level.

``report.py`` writes the outputs and draws the plots; this module only builds the markdown tables.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .models import REFERENCE_METHOD
from .results import Results

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


def result_cell(
    s: dict[str, Any], level: str, method: str, corpus: str, setting: str, metric: str
) -> Any:
    return s.get(level, {}).get(method, {}).get(corpus, {}).get(setting, {}).get(metric)


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
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
                fmt(result_cell(s, level, method, corpus, chosen, m))
                for m in ("bacc_nsa", "bacc_nsha")
            ]
        rows.append(row)
    for seed_row in PUBLISHED:
        row = [f"*seed, published: {seed_row}*"]
        row += [f"IEMOCAP {seed_value(PUBLISHED, PUBLISHED_CORPORA, seed_row, 'IEMOCAP', i)}"
                for i in (0, 1)]  # fmt: skip
        row += [seed_value(PUBLISHED, PUBLISHED_CORPORA, seed_row, t, i) for t in targets
                for i in (0, 1)]  # fmt: skip
        rows.append(row)
    return md_table(header, rows)


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
    return md_table(["Method", *(f"gain {label}" for label, _ in metrics)], rows)


def outlier_table(results: Results, level: str) -> list[str]:
    """Rows dropped by the |z| > 10 rule, per corpus."""
    rows = [[corpus, f"{dropped} of {total}"]
            for corpus, (dropped, total) in results.outliers.get(level, {}).items()]  # fmt: skip
    return md_table(["Corpus", "rows dropped (|z| > 10)"], rows)


def metric_table(s: dict[str, Any], level: str, methods: list[str], corpora: list[tuple[str, str]],
                 metrics: list[tuple[str, str]]) -> list[str]:  # fmt: skip
    """One row per method; a column per (corpus, setting) x metric."""
    header = ["Method"] + [f"{c} {label}{SETTING_TAG[setting]}" for c, setting in corpora
                           for label, _ in metrics]  # fmt: skip
    rows = [[m] + [fmt(result_cell(s, level, m, c, setting, key)) for c, setting in corpora
                   for _, key in metrics] for m in methods]  # fmt: skip
    return md_table(header, rows)


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


def r2_header(corpora: list[tuple[str, str]]) -> list[str]:
    """The R² tables' header: the method, then act and val for each (corpus, setting) column."""
    return ["Method"] + [f"{c} {label}" for c, _ in corpora for label in ("R²-Act", "R²-Val")]


def zd_r2_table(s: dict[str, Any], level: str, encoders: list[str], source: str,
                targets: list[str]) -> list[str]:  # fmt: skip
    """The seed's first table: adjusted R² of z_d on l_d for the DAE rows."""
    lines = ["### Adjusted R² of z_d on l_d — the seed's first table", ""]
    zd_rows = [m for m in encoders if m.startswith("dae")]
    corpora = r2_corpora(source, targets)
    header = r2_header(corpora)
    table = [[m] + [fmt(result_cell(s, level, m, c, setting, key)) for c, setting in corpora
                    for key in ("zd_r2_act", "zd_r2_val")] for m in zd_rows]  # fmt: skip
    for seed_row, value in PUBLISHED_ZD_R2.items():
        act, val = value.split("/")
        table.append([f"*seed, published: {seed_row}*", f"IEMOCAP {act}", f"IEMOCAP {val}"]
                     + [""] * (2 * len(targets)))  # fmt: skip
    return lines + md_table(header, table) + [""] + ZD_NOTE


def label_r2_table(s: dict[str, Any], level: str, encoders: list[str], source: str,
                   targets: list[str]) -> list[str]:  # fmt: skip
    """The seed's second table: adjusted R² of activation / valence on the latent."""
    lines = ["### Adjusted R² of activation / valence on the latent — the seed's second table", ""]
    zd_rows = [m for m in encoders if m.startswith("dae")]
    corpora = r2_corpora(source, targets)
    header = r2_header(corpora)
    table = []
    for m in [r for r in encoders if r.startswith("dae-metric") and ":" not in r]:
        cells = ["—", "—"] + [fmt(result_cell(s, level, m, t, "supervised", key)) for t in targets
                              for key in ("adj_r2_act", "adj_r2_val")]  # fmt: skip
        if any(c != "—" for c in cells):
            table.append([f"{m} (supervised on target)", *cells])
    table += [[m] + [fmt(result_cell(s, level, m, c, setting, key)) for c, setting in corpora
                     for key in ("adj_r2_act", "adj_r2_val")] for m in zd_rows]  # fmt: skip
    for seed_row in PUBLISHED_R2:
        source_cells = [f"IEMOCAP {seed_value(PUBLISHED_R2, PUBLISHED_R2_CORPORA, seed_row, 'IEMOCAP', i)}"
                        for i in (0, 1)]  # fmt: skip
        table.append([f"*seed, published: {seed_row}*", *source_cells]
                     + [seed_value(PUBLISHED_R2, PUBLISHED_R2_CORPORA, seed_row, t, i)
                        for t in targets for i in (0, 1)])  # fmt: skip
    return lines + md_table(header, table) + [""] + R2_NOTE


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
    table = [[f"{m} ({SEED_VAE_ROW[m]})", fmt(result_cell(s, level, m, source, "in-domain", "spearman_act"))]
             + [fmt(result_cell(s, level, m, t, setting, "spearman_act")) for t in targets
                for setting in ("transfer", "supervised")] for m in vae_rows]  # fmt: skip
    for seed_row in PUBLISHED_RHO:
        table.append([f"*seed, published: {seed_row}*",
                      f"IEMOCAP {seed_value(PUBLISHED_RHO, PUBLISHED_R2_CORPORA, seed_row, 'IEMOCAP', 0)}"]
                     + [seed_value(PUBLISHED_RHO, PUBLISHED_R2_CORPORA, seed_row, t, i)
                        for t in targets for i in (0, 1)])  # fmt: skip
    return lines + md_table(header, table) + [""]


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


R2_NOTE = [
    "The seed's second table: adjusted R² of the OLS fit of the held-out label on the 2-D latent "
    "(with intercept), \"the linear dependence of l on z\". A different quantity from the z_d-on-l_d "
    "table above. The training corpus's column is in-domain CV; the targets' are transfer, except "
    "the \"(supervised on target)\" rows: the encoder trained with the target's own labels, "
    "K-fold CV on the target (the seed's upper reference). Seed rows: published, not run here "
    "(IEMOCAP stands where our training corpus does).",
    "",
]  # fmt: skip

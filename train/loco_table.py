"""The leave-one-corpus-out summary: means over held-out corpora and seeds, and the README table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .scoring import FIGURES

MODES = ("adaptive", "plain", "calibrated", "oracle", "second-voice")
VOICES = ("adult", "channel-shifted", "child-like")
MODE_NAMES = {
    "adaptive": "adaptive (every clip, from an empty state)",
    "plain": "plain (sidecar statistics, --no-adapt)",
    "calibrated": "calibrated (half of each speaker's clips)",
    "oracle": "oracle (each speaker's own statistics)",
    "second-voice": "adaptive, 30 % of the windows another voice",
}


def mean_over(results: dict[str, Any], voices: Sequence[str]) -> dict[str, Any]:
    """Mean over held-out corpora of every figure, and of the adaptive curve's bins."""
    out: dict[str, Any] = {}
    for voice in voices:
        out[voice] = {
            mode: {k: float(np.nanmean([results[c][voice][mode][k] for c in results]))
                   for k in FIGURES}
            for mode in MODES
        }  # fmt: skip
        out[voice]["curve"] = mean_curve([results[c][voice]["adaptive"]["curve"] for c in results])
    return out


def mean_curve(curves: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Each bin's figures averaged over the corpora that have it (``corpora`` says how many)."""
    bins: dict[float, list[dict[str, Any]]] = {}
    for one in curves:
        for point in one:
            bins.setdefault(point["from_min"], []).append(point)
    out = []
    for lo, points in sorted(bins.items()):
        keys = [k for k in points[0] if k not in ("from_min", "clips")]
        out.append({"from_min": lo, "corpora": len(points),
                    "clips": int(sum(p["clips"] for p in points)),
                    **{k: float(np.nanmean([p[k] for p in points])) for k in keys}})  # fmt: skip
    return out


def seed_spread(means: dict[str, Any]) -> dict[str, Any]:
    """Mean, min and max over seeds of every mean figure (voice -> mode -> figure)."""
    out: dict[str, Any] = {}
    for voice in next(iter(means.values())):
        out[voice] = {
            mode: {k: _spread([m[voice][mode][k] for m in means.values()]) for k in FIGURES}
            for mode in MODES
        }
    return out


def _spread(values: Sequence[float]) -> dict[str, float]:
    return {"mean": float(np.mean(values)), "min": float(np.min(values)),
            "max": float(np.max(values))}  # fmt: skip


def _cells(figures: dict[str, Any]) -> str:
    return " | ".join(f"{figures[k]:.3f}" for k in FIGURES)


def markdown_table(summary: dict[str, Any]) -> str:
    """The tables README shows: means per voice and mode, the curve, then per held-out corpus."""
    voices = [v for v in VOICES if v in summary["mean"]]
    lines = [
        f"Leave-one-corpus-out, device path ({summary['recipe'].get('quantization', 'int8')}, "
        f"streaming rows, one answer per clip), recipe `{summary['recipe']['name']}`, "
        f"{summary['method']}, {summary['date']}; mean over the held-out corpora "
        f"({', '.join(summary['corpora'])})",
        "",
        "| voice | normalization | N-S-A | N-S-H-A | activation ρ |",
        "|---|---|---|---|---|",
    ]
    for voice in voices:
        for mode in MODES:
            lines.append(
                f"| {voice} | {MODE_NAMES[mode]} | {_cells(summary['mean'][voice][mode])} |"
            )
    lines += _seed_lines(summary) + _five_fold_lines(summary, voices)
    lines += ["", "Adaptive, by minutes of the speaker's speech heard before the clip (clips in "
              "each bin; the oracle on the same clips)", "",
              "| voice | heard (min) | corpora | clips | N-S-A | oracle | N-S-H-A | oracle "
              "| ρ | oracle |", "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for voice in voices:
        for point in summary["mean"][voice]["curve"]:
            pairs = " | ".join(f"{point[k]:.3f} | {point['oracle ' + k]:.3f}" for k in FIGURES)
            lines.append(f"| {voice} | ≥ {point['from_min']:g} | {point['corpora']} | "
                         f"{point['clips']} | {pairs} |")  # fmt: skip
    lines += ["", "Per held-out corpus (N-S-A / N-S-H-A / ρ; plain and calibrated on the scored "
              "half, the others on every clip)", "",
              "| held out | voice | " + " | ".join(MODES) + " | clips (no answer) |",
              "|---|---|" + "---|" * len(MODES) + "---|"]  # fmt: skip
    for held, result in summary["per_corpus"].items():
        for voice in voices:
            modes = result[voice]
            row = " | ".join("{:.3f} / {:.3f} / {:.3f}".format(*(modes[m][k] for k in FIGURES))
                             for m in MODES)  # fmt: skip
            every = modes["adaptive"]
            lines.append(f"| {held} | {voice} | {row} | {every['clips']} "
                         f"({every['unanswered']}) |")  # fmt: skip
    return "\n".join(lines) + "\n"


def _seed_lines(summary: dict[str, Any]) -> list[str]:
    """The spread of the means over training seeds (none for one seed)."""
    if "seeds" not in summary:
        return []
    lines: list[str] = []
    seeds = ", ".join(summary["seeds"]["per_seed"])
    lines += ["", f"Over training seeds {seeds}: mean (min–max) of the means above", "",
              "| voice | normalization | N-S-A | N-S-H-A | activation ρ |", "|---|---|---|---|---|"]  # fmt: skip
    for voice, by_mode in summary["seeds"]["spread"].items():
        for mode in MODES:
            spread = ["{mean:.3f} ({min:.3f}–{max:.3f})".format(**by_mode[mode][k])
                     for k in FIGURES]  # fmt: skip
            lines.append(f"| {voice} | {MODE_NAMES[mode]} | " + " | ".join(spread) + " |")
    return lines


def _five_fold_lines(summary: dict[str, Any], voices: list[str]) -> list[str]:
    """The five older folds alone (only when more corpora were held out)."""
    if "five_folds" not in summary:
        return []
    lines: list[str] = []
    five = summary["five_folds"]
    lines += ["", f"The five folds of the older recipes alone ({', '.join(five['corpora'])}): "
              "mean, and mean (min–max) over the training seeds", "",
              "| voice | normalization | N-S-A | N-S-H-A | activation ρ |", "|---|---|---|---|---|"]  # fmt: skip
    for voice in voices:
        for mode in MODES:
            spread = five["spread"][voice][mode]
            cells = [f"{five['mean'][voice][mode][k]:.3f}"
                     + ("" if len(summary.get("seeds", {}).get("per_seed", {})) < 2
                        else " ({min:.3f}–{max:.3f})".format(**spread[k]))
                     for k in FIGURES]  # fmt: skip
            lines.append(f"| {voice} | {MODE_NAMES[mode]} | " + " | ".join(cells) + " |")
    return lines


def plot_curve(summary: dict[str, Any], path: Any) -> None:
    """The adaptive curve as a PNG: N-S-A and N-S-H-A against minutes heard, with the oracle."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    for ax, figure in zip(axes, ("N-S-A", "N-S-H-A"), strict=True):
        for voice, colour in zip(VOICES, ("#2a6f97", "#c0392b", "#7d8b99"), strict=True):
            points = summary["mean"].get(voice, {}).get("curve", [])
            if not points:
                continue
            x = [p["from_min"] for p in points]
            ax.plot(x, [p[figure] for p in points], "o-", color=colour, label=f"{voice} adaptive")
            ax.plot(x, [p[f"oracle {figure}"] for p in points], ":", color=colour,
                    label=f"{voice} oracle")  # fmt: skip
        ax.set_title(f"{figure} balanced accuracy")
        ax.set_xlabel("minutes of the speaker's speech heard before the clip")
        ax.set_xscale("symlog", linthresh=0.5)
        ax.set_xticks([0, 0.5, 1, 2, 5])
        ax.set_xticklabels(["0", "0.5", "1", "2", "5"])
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean over held-out corpora")
    axes[1].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Adaptive normalization from an empty state, {summary['date']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

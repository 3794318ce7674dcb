"""The session report as a PNG (matplotlib, installed with ``serdevice[train]``): the same rows,
bands and lines report.py draws as SVG."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..stream.contracts import InputError
from .report import Axis, colour, drawn_lines, drawn_spans, duration, line_segments
from .timeline import SessionSummary, clock


def render_png(
    summaries: Sequence[SessionSummary], notes: Sequence[str], path: Path, *, title: str
) -> None:
    """The same timeline as an image, with matplotlib (installed with ``serdevice[train]``)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ModuleNotFoundError:
        raise InputError(
            "a PNG needs matplotlib: pip install 'serdevice[train]' (or write HTML)"
        ) from None
    axis = Axis(max(s.duration_s for s in summaries))
    fig, axes = plt.subplots(len(summaries), 1, figsize=(12, 2.6 * len(summaries) + 0.6),
                             squeeze=False, sharex=True)  # fmt: skip
    for ax, s in zip(axes[:, 0], summaries, strict=True):
        _png_row(ax, s, axis)
    axes[-1, 0].set_xlabel("audio clock (" + ("h:mm:ss" if axis.long else "m:ss") + ")")
    ticks = axis.ticks()
    axes[-1, 0].set_xticks(ticks, [clock(t, axis.long) for t in ticks])
    fig.suptitle(title + ("\n" + notes[0] if notes else ""), fontsize=11)
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)


def _png_row(ax: Any, s: SessionSummary, axis: Axis) -> None:
    bands, speech = drawn_spans(s, axis)
    for band in bands:
        ax.axvspan(band.t0, band.t1, ymin=0.9, ymax=1.0, color=colour(band.kind), lw=0)
    for seg in speech:
        ax.axvspan(seg.t0, seg.t1, ymin=0.86, ymax=0.88, color="#2f855a", lw=0)
    raw, smooth, pause_s = drawn_lines(s, axis)
    for points, style in ((raw, {"color": "#8fa3b8", "lw": 0.7}),
                          (smooth, {"color": "#1d2733", "lw": 1.6})):  # fmt: skip
        for segment in line_segments(points, pause_s):
            ax.plot([p[0] for p in segment], [p[1] for p in segment], **style)
    ax.axhline(s.threshold, color="#d64545", ls="--", lw=1)
    if s.baseline is not None:
        ax.axhline(s.baseline, color="#2f855a", ls=":", lw=1)
    for fault in s.faults:
        ax.axvline(fault.t0, color="#c2410c", lw=1.5)
    for mark in (m for m in s.marks if m.kind != "emotion"):
        ax.axvline(mark.t, color="#c2410c" if mark.kind == "fault" else "#7c3aed", lw=1.5)
    for peak in s.peaks:
        ax.plot(peak.t, peak.activation, "o", color="#d64545", ms=4)
    ax.set_xlim(0, axis.t_max)
    ax.set_ylim(1, 5.9)
    ax.set_yticks([1, 2, 3, 4, 5])
    ax.set_ylabel("activation")
    shares = ", ".join(f"{label} {share:.0%}" for label, share in s.label_shares.items())
    ax.set_title(f"{s.title}: {s.model}, {duration(s.duration_s)}, speech {duration(s.speech_s)}"
                 f" ({shares})", fontsize=9, loc="left")  # fmt: skip
    handles = [matplotlib_patch(colour(label), label) for label in s.label_shares]
    if handles:
        ax.legend(handles=handles, loc="lower right", fontsize=7, ncol=len(handles), frameon=False)


def matplotlib_patch(fill: str, label: str) -> Any:
    """A legend entry for a label colour."""
    from matplotlib.patches import Patch

    return Patch(color=fill, label=label)

"""The session report: one self-contained HTML file (inline SVG and CSS, no network); the PNG
version is report_png.py's.

``timeline.py`` measures; this module only draws. Lines are decimated for drawing (min and max
per pixel column, so peaks stay visible) and label bands merged per pixel when there are more
than a screen can show; the summary table is computed from every event. All sessions share one
time axis and one activation axis, so rows compare at a glance.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Sequence

from ..stream.contracts import LABEL_COLOURS
from .timeline import Hop, SessionSummary, Span, clock

PLOT_W = 1000  # px of the time axis
LEFT, RIGHT = 58, 20
BAND_Y, BAND_H = 10, 18  # emotion bands (change marks above)
SPEECH_Y, SPEECH_H = 32, 8  # speech segments
PLOT_Y, PLOT_H = 48, 150  # activation 1..5
ROW_H = PLOT_Y + PLOT_H + 28
MAX_POINTS = 2400  # drawn vertices per line and row (min/max per column of PLOT_W / 1200 px)
MAX_SPANS = 1500  # drawn bands or speech segments per row; more are merged per pixel
MAX_MARKS = 400  # emotion-change ticks per row; more are left to the bands
ACT_MIN, ACT_MAX = 1.0, 5.0

EXTRA_COLOURS = ("#2a9d8f", "#e76f51", "#6d597a", "#b5838d")
Points = list[tuple[float, float]]  # (audio-clock s, activation)
TICK_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400)


def colour(label: str) -> str:
    """A fixed colour per label (unknown labels get a stable one from a small palette)."""
    return LABEL_COLOURS.get(label, EXTRA_COLOURS[sum(map(ord, label)) % len(EXTRA_COLOURS)])


def duration(seconds: float) -> str:
    """A duration for people: 12.5 s, 3 min 20 s, 2 h 05 min.

    >>> duration(12.5), duration(200), duration(7500)
    ('12.5 s', '3 min 20 s', '2 h 05 min')
    """
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


class Axis:
    """The shared time scale: seconds -> x pixels."""

    def __init__(self, t_max: float) -> None:
        self.t_max = max(t_max, 1.0)
        self.long = self.t_max >= 3600

    def x(self, t: float) -> float:
        """Pixel of audio-clock time ``t``."""
        return LEFT + min(max(t, 0.0), self.t_max) / self.t_max * PLOT_W

    def ticks(self) -> list[float]:
        """Round tick times, 6 to 12 of them."""
        step = next((s for s in TICK_STEPS_S if self.t_max / s <= 12), TICK_STEPS_S[-1])
        return [i * step for i in range(int(self.t_max // step) + 1)]


def y_of(activation: float) -> float:
    """Pixel of an activation value (1 at the bottom, 5 at the top)."""
    share = (min(max(activation, ACT_MIN), ACT_MAX) - ACT_MIN) / (ACT_MAX - ACT_MIN)
    return PLOT_Y + PLOT_H * (1 - share)


def line_segments(
    points: Sequence[tuple[float, float]], pause_s: float
) -> list[list[tuple[float, float]]]:
    """Split (t, value) points where speech paused longer than ``pause_s`` (no line across)."""
    segments: list[list[tuple[float, float]]] = []
    for point in points:
        if segments and point[0] - segments[-1][-1][0] <= pause_s:
            segments[-1].append(point)
        else:
            segments.append([point])
    return segments


def decimate(points: Sequence[tuple[float, float]], column_s: float) -> list[tuple[float, float]]:
    """Per time column, the first, lowest and highest points in time order (peaks survive).

    >>> decimate([(0, 1), (0.1, 5), (0.2, 2), (0.3, 3), (1.0, 4)], 0.5)
    [(0, 1), (0.1, 5), (1.0, 4)]
    """
    out: list[tuple[float, float]] = []
    start = 0
    for end in range(1, len(points) + 1):
        if end < len(points) and math.floor(points[end][0] / column_s) == math.floor(
            points[start][0] / column_s
        ):
            continue
        column = range(start, end)
        low = min(column, key=lambda i: points[i][1])
        high = max(column, key=lambda i: points[i][1])
        out.extend(points[i] for i in sorted({start, low, high}))
        start = end
    return out


def merge_spans(spans: Sequence[Span], min_gap_s: float) -> list[Span]:
    """Join neighbouring spans of the same kind closer than ``min_gap_s`` (for drawing)."""
    merged: list[Span] = []
    for span in spans:
        last = merged[-1] if merged else None
        if last is not None and last.kind == span.kind and span.t0 - last.t1 < min_gap_s:
            merged[-1] = Span(t0=last.t0, t1=max(last.t1, span.t1), kind=span.kind)
        else:
            merged.append(span)
    return merged


def dominant_bands(hops: Sequence[Hop], axis: Axis) -> list[Span]:
    """Bands for a crowded row: the most frequent label per pixel column, runs merged."""
    column_s = axis.t_max / PLOT_W
    columns: dict[int, dict[str, int]] = {}
    for hop in hops:
        votes = columns.setdefault(int(hop.t / column_s), {})
        votes[hop.label] = votes.get(hop.label, 0) + 1
    spans = [
        Span(t0=c * column_s, t1=(c + 1) * column_s, kind=max(v, key=lambda k: v[k]))
        for c, v in sorted(columns.items())
    ]
    return merge_spans(spans, column_s * 0.5)


def drawn_spans(summary: SessionSummary, axis: Axis) -> tuple[list[Span], list[Span]]:
    """The label bands and speech segments to draw (merged per pixel when too many)."""
    bands = summary.bands
    if len(bands) > MAX_SPANS:
        bands = dominant_bands(summary.hops, axis)
    speech = summary.speech
    if len(speech) > MAX_SPANS:
        speech = merge_spans(speech, axis.t_max / PLOT_W)
    return bands, speech


def drawn_lines(summary: SessionSummary, axis: Axis) -> tuple[Points, Points, float]:
    """Per-window and smoothed activation points to draw, and the pause that breaks a line."""
    pause_s = 2.5 * summary.hop_s
    raw = [(h.t, h.raw) for h in summary.hops if h.raw is not None]
    smooth = [(h.t, h.activation) for h in summary.hops]
    if len(smooth) > MAX_POINTS:
        column_s = axis.t_max / (MAX_POINTS / 2)
        raw, smooth = decimate(raw, column_s), decimate(smooth, column_s)
        pause_s = max(pause_s, 2.5 * column_s)  # kept points of one turn sit a column apart
    return raw, smooth, pause_s


def _path(points: Sequence[tuple[float, float]], axis: Axis, pause_s: float) -> tuple[str, int]:
    parts = []
    count = 0
    for segment in line_segments(points, pause_s):
        coords = " ".join(f"{axis.x(t):.1f},{y_of(v):.1f}" for t, v in segment)
        parts.append(f"M{coords}" if len(segment) > 1 else f"M{coords} h1")
        count += len(segment)
    return " ".join(parts), count


def row_svg(summary: SessionSummary, axis: Axis, index: int) -> str:
    """One session's timeline: bands, speech, faults, activation (raw and smoothed), peaks."""
    width = LEFT + PLOT_W + RIGHT
    out = [f'<svg class="timeline" id="timeline-{index}" viewBox="0 0 {width} {ROW_H}" '
           f'width="{width}" height="{ROW_H}" role="img" '
           f'aria-label="activation and emotion over time, {html.escape(summary.title)}" '
           f'xmlns="http://www.w3.org/2000/svg">',
           f'<text x="{LEFT - 6}" y="{BAND_Y + 13}" class="lab" text-anchor="end">emotion</text>',
           f'<text x="{LEFT - 6}" y="{SPEECH_Y + 8}" class="lab" text-anchor="end">speech</text>',
           f'<rect x="{LEFT}" y="{BAND_Y}" width="{PLOT_W}" height="{BAND_H}" class="empty"/>']  # fmt: skip
    out += _spans_svg(summary, axis)
    out.append(_axes(axis, summary))
    out += _marks_svg(summary, axis)
    raw, smooth, pause_s = drawn_lines(summary, axis)
    for cls, points in (("act-raw", raw), ("act", smooth)):
        d, count = _path(points, axis, pause_s)
        if count:
            out.append(f'<path class="{cls}" data-points="{count}" d="{d}"/>')
    for peak in sorted(summary.peaks, key=lambda p: -p.activation)[:50]:
        back = "not within the session" if peak.return_s is None else duration(peak.return_s)
        out.append(f'<circle class="peak" cx="{axis.x(peak.t):.1f}" cy="{y_of(peak.activation):.1f}" '
                   f'r="4"><title>peak {peak.activation:.2f} at {clock(peak.t, axis.long)}; '
                   f'back to baseline after {back}</title></circle>')  # fmt: skip
    out.append("</svg>")
    return "".join(out)


def _spans_svg(summary: SessionSummary, axis: Axis) -> list[str]:
    bands, speech = drawn_spans(summary, axis)
    out = []
    for band in bands:
        x0, x1 = axis.x(band.t0), axis.x(band.t1)
        out.append(f'<rect class="band" data-label="{html.escape(band.kind)}" x="{x0:.1f}" '
                   f'y="{BAND_Y}" width="{max(x1 - x0, 0.6):.1f}" height="{BAND_H}" '
                   f'fill="{colour(band.kind)}"><title>{html.escape(band.kind)} '
                   f'{clock(band.t0, axis.long)}-{clock(band.t1, axis.long)}</title></rect>')  # fmt: skip
    for seg in speech:
        x0, x1 = axis.x(seg.t0), axis.x(seg.t1)
        out.append(f'<rect class="speech" x="{x0:.1f}" y="{SPEECH_Y}" '
                   f'width="{max(x1 - x0, 0.6):.1f}" height="{SPEECH_H}"/>')  # fmt: skip
    return out


def _marks_svg(summary: SessionSummary, axis: Axis) -> list[str]:
    out = []
    for fault in summary.faults:
        x = axis.x(fault.t0)
        out.append(f'<line class="fault" x1="{x:.1f}" x2="{x:.1f}" y1="{BAND_Y}" '
                   f'y2="{PLOT_Y + PLOT_H}"><title>{html.escape(fault.kind)} at '
                   f'{clock(fault.t0, axis.long)}</title></line>')  # fmt: skip
    crowded = len(summary.marks) > MAX_MARKS  # then emotion changes are left to the bands
    for mark in summary.marks:
        x, when = axis.x(mark.t), clock(mark.t, axis.long)
        if mark.kind == "emotion" and not crowded:
            out.append(f'<path class="change" d="M{x:.1f},{BAND_Y - 5} l-3,-4 h6 z" '
                       f'fill="{colour(mark.text)}"><title>{html.escape(mark.text)} at '
                       f"{when}</title></path>")  # fmt: skip
        elif mark.kind != "emotion":
            out.append(f'<line class="{mark.kind}" x1="{x:.1f}" x2="{x:.1f}" y1="{BAND_Y}" '
                       f'y2="{PLOT_Y + PLOT_H}"><title>{html.escape(mark.text)} at '
                       f"{when}</title></line>")  # fmt: skip
    return out


def _axes(axis: Axis, summary: SessionSummary) -> str:
    parts = [f'<rect x="{LEFT}" y="{PLOT_Y}" width="{PLOT_W}" height="{PLOT_H}" class="plot"/>']
    for level in range(1, 6):
        y = y_of(level)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{level}</text>')  # fmt: skip
    parts.append(f'<text class="lab" transform="translate(14,{PLOT_Y + PLOT_H / 2}) rotate(-90)" '
                 f'text-anchor="middle">activation (1-5)</text>')  # fmt: skip
    for tick in axis.ticks():
        x = axis.x(tick)
        parts.append(f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{PLOT_Y}" y2="{PLOT_Y + PLOT_H + 4}"/>'
                     f'<text class="tick" x="{x:.1f}" y="{PLOT_Y + PLOT_H + 17}" text-anchor="middle">'
                     f"{clock(tick, axis.long)}</text>")  # fmt: skip
    y = y_of(summary.threshold)
    parts.append(f'<line class="threshold" x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y:.1f}" y2="{y:.1f}">'
                 f"<title>threshold {summary.threshold:g}</title></line>")  # fmt: skip
    if summary.baseline is not None:
        y = y_of(summary.baseline)
        parts.append(f'<line class="baseline" x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y:.1f}" '
                     f'y2="{y:.1f}"><title>baseline {summary.baseline:.2f}</title></line>')  # fmt: skip
    end = axis.x(summary.duration_s)
    parts.append(
        f'<line class="end" x1="{end:.1f}" x2="{end:.1f}" y1="{PLOT_Y}" y2="{PLOT_Y + PLOT_H}"/>'
    )
    return "".join(parts)


CSS = """
body{font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1d2733;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 2px}
.meta,.note{color:#56616d;font-size:13px;margin:2px 0}.note.warn{color:#9a3412;font-weight:600}
.legend span{display:inline-block;margin-right:14px;font-size:13px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px;border-radius:2px}
svg.timeline{display:block;max-width:100%;height:auto}
.plot{fill:#fbfcfd;stroke:#c9d1d9}.empty{fill:#f1f3f5}.grid{stroke:#e3e7eb}
.tick,.lab{font-size:11px;fill:#56616d}.speech{fill:#2f855a}
.act{fill:none;stroke:#1d2733;stroke-width:1.8;stroke-linejoin:round}
.act-raw{fill:none;stroke:#8fa3b8;stroke-width:0.8}
.threshold{stroke:#d64545;stroke-dasharray:6 4}.baseline{stroke:#2f855a;stroke-dasharray:2 3}
.end{stroke:#56616d;stroke-dasharray:1 3}.fault{stroke:#c2410c;stroke-width:2}
.missing{stroke:#7c3aed;stroke-width:2;stroke-dasharray:3 2}.peak{fill:#d64545;stroke:#fff}
table{border-collapse:collapse;margin:8px 0 4px;font-size:13px}
th,td{border-bottom:1px solid #e3e7eb;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.share{display:inline-block;height:10px;vertical-align:0}
"""


def _legend(labels: Sequence[str]) -> str:
    items = [
        f'<span><i style="background:{colour(lab)}"></i>{html.escape(lab)}</span>' for lab in labels
    ]
    items += [
        '<span><i style="background:#2f855a"></i>speech</span>',
        '<span><i style="background:#1d2733;height:3px"></i>activation (smoothed)</span>',
        '<span><i style="background:#8fa3b8;height:2px"></i>activation (each window)</span>',
        '<span><i style="background:#d64545;height:2px"></i>threshold / peak</span>',
        '<span><i style="background:#2f855a;height:2px"></i>baseline</span>',
        '<span><i style="background:#c2410c;width:3px"></i>capture fault</span>',
        '<span><i style="background:#7c3aed;width:3px"></i>events missing</span>',
    ]
    return f'<p class="legend">{"".join(items)}</p>'


def _shares(shares: dict[str, float]) -> str:
    bar = "".join(f'<i class="share" style="width:{share * 120:.1f}px;background:{colour(label)}" '
                  f'title="{html.escape(label)} {share:.0%}"></i>' for label, share in shares.items())  # fmt: skip
    text = ", ".join(f"{html.escape(label)} {share:.0%}" for label, share in shares.items())
    return f"{bar}<br>{text}" if shares else "no speech"


def summary_table(summaries: Sequence[SessionSummary]) -> str:
    """One row per session: the numbers a therapist reads first."""
    head = ("session", "model", "length", "speech", "above threshold", "peaks",
            "highest peak", "median return to baseline", "labels (share of speech)", "faults, gaps")  # fmt: skip
    rows = []
    for s in summaries:
        top = max(s.peaks, key=lambda p: p.activation, default=None)
        returns = sorted(p.return_s for p in s.peaks if p.return_s is not None)
        median = duration(returns[len(returns) // 2]) if returns else "-"
        above = (
            f"{duration(s.above_s)} ({s.above_s / s.speech_s:.0%} of speech)" if s.speech_s else "-"
        )
        long = s.duration_s >= 3600
        highest = f"{top.activation:.2f} at {clock(top.t, long)}" if top else "-"
        faults = sum(1 for m in s.marks if m.kind != "emotion")  # errors and missing events
        cells = (html.escape(s.title), html.escape(s.model), duration(s.duration_s),
                 duration(s.speech_s), above, str(len(s.peaks)), highest, median,
                 _shares(s.label_shares), str(faults))  # fmt: skip
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = "".join(f"<th>{h}</th>" for h in head)
    return f'<table class="summary"><tr>{header}</tr>{"".join(rows)}</table>'


def peaks_table(summary: SessionSummary, limit: int = 12) -> str:
    """The highest peaks of one session, in time order."""
    if not summary.peaks:
        return f'<p class="note">No activation at or above {summary.threshold:g}.</p>'
    long = summary.duration_s >= 3600
    top = sorted(sorted(summary.peaks, key=lambda p: -p.activation)[:limit], key=lambda p: p.t)
    rows = "".join(
        f"<tr><td>{clock(p.t, long)}</td><td class=num>{p.activation:.2f}</td>"
        f"<td class=num>{duration(p.above_s)}</td><td class=num>"
        f"{'not within the session' if p.return_s is None else duration(p.return_s)}</td></tr>"
        for p in top
    )
    more = f" ({limit} highest of {len(summary.peaks)})" if len(summary.peaks) > limit else ""
    return (f'<table class="peaks"><tr><th>peak at{more}</th><th>activation</th>'
            f"<th>above threshold for</th><th>back to baseline after</th></tr>{rows}</table>")  # fmt: skip


def _started(summary: SessionSummary) -> str:
    if summary.started_wall is None:
        return "start time unknown"
    return "started " + time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(summary.started_wall))


def render_html(summaries: Sequence[SessionSummary], notes: Sequence[str], *, title: str) -> str:
    """The whole report as one HTML string (no external resources)."""
    axis = Axis(max(s.duration_s for s in summaries))
    seen = {lab for s in summaries for lab in s.label_shares}
    labels = [lab for lab in LABEL_COLOURS if lab in seen] + sorted(seen - set(LABEL_COLOURS))
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">{len(summaries)} session(s); generated '
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by serdevice report. Time axis: "
        "audio clock of each session (shared scale); activation 1 (calm) to 5 (aroused). "
        "Emotion and activation exist only where there was speech.</p>",
    ]
    parts += [f'<p class="note warn">{html.escape(note)}</p>' for note in notes]
    parts.append(summary_table(summaries))
    parts.append(_legend(labels))
    for index, s in enumerate(summaries, start=1):
        baseline = "-" if s.baseline is None else f"{s.baseline:.2f}"
        parts.append(f'<section class="session" data-model="{html.escape(s.model)}">'
                     f"<h2>{html.escape(s.title)}: {html.escape(s.model)}</h2>"
                     f'<p class="meta">{html.escape(_started(s))}; source {html.escape(s.source)}; '
                     f"length {duration(s.duration_s)}; calibration: {html.escape(s.calibration)}; "
                     f"adaptation: {html.escape(s.adaptation)}; "
                     f"threshold {s.threshold:g}, baseline {baseline}</p>")  # fmt: skip
        parts += [f'<p class="note warn">{html.escape(note)}</p>' for note in s.notes]
        parts.append(row_svg(s, axis, index))
        parts.append(peaks_table(s))
        parts.append("</section>")
    parts.append("</body></html>\n")
    return "".join(parts)

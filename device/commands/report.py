"""``serdevice report``: a session timeline for the therapist, from JSONL event files."""

from __future__ import annotations

from pathlib import Path

import click

from ..clinic.timeline import TimelineConfig
from ..stream.contracts import InputError

DEFAULTS = TimelineConfig()


def write_text(path: Path, text: str) -> None:
    """Write the report (one-line error when the place cannot be written)."""
    if path.is_dir():
        raise InputError(f"--out {path}: is a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--out {path}: cannot write ({exc.strerror})") from None


@click.command()
@click.argument("events", nargs=-1, required=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="The report: FILE.html (self-contained, opens offline) or FILE.png.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "png"]),
    default=None,
    help="What --out is (default: from its suffix; html unless it ends in .png).",
)
@click.option(
    "--png",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the timeline as a PNG (needs matplotlib).",
)
@click.option(
    "--threshold",
    type=click.FloatRange(1, 5),
    default=DEFAULTS.threshold,
    show_default=True,
    help="Activation (1-5) counted as raised: time above it, and its peaks.",
)
@click.option(
    "--baseline",
    type=click.FloatRange(1, 5),
    default=None,
    help="Activation a peak returns to [default: each session's median].",
)
@click.option("--title", default="Session report", show_default=True, help="The report's heading.")
def report(
    events: tuple[str, ...],
    out: Path,
    fmt: str | None,
    png: Path | None,
    threshold: float,
    baseline: float | None,
    title: str,
) -> None:
    """Draw EVENTS (JSONL files from `listen`, rotated files, or - for stdin) as a timeline.

    One row per session on a shared time axis: activation (smoothed and per window), emotion
    bands, speech, capture faults; and a table of speech time, time above --threshold, peaks
    and the time back to baseline after each, and label shares.
    """
    from ..clinic.report import render_html
    from ..clinic.report_png import render_png
    from ..clinic.timeline import load_sessions

    if baseline is not None and baseline >= threshold:
        raise InputError(f"--baseline {baseline:g} must be below --threshold {threshold:g}")
    config = TimelineConfig(threshold=threshold, baseline=baseline)
    summaries, notes = load_sessions(events, config)
    if fmt is None:
        fmt = "png" if out.suffix.lower() == ".png" else "html"
    if fmt == "png":
        render_png(summaries, notes, out, title=title)
    else:
        write_text(out, render_html(summaries, notes, title=title))
    if png is not None:
        render_png(summaries, notes, png, title=title)
    speech = sum(s.speech_s for s in summaries)
    click.echo(f"wrote {out}: {len(summaries)} session(s), {speech:.0f} s of speech", err=True)

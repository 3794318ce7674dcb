"""A session's timeline from its events: measure what event_log.py read and split.

Pure functions over event dicts (the schema of events.py), no drawing: ``report.py`` draws what
this module measures, and the numbers always come from every event (drawing may decimate, the
summary never does).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..stream.contracts import DEFAULT_HOP_S, DEFAULT_WINDOW_S, InputError
from .event_log import Mark, Session, number, read_file, rotation_order, split_sessions

RETURN_GAP_HOPS = 4  # an excursion above the threshold survives speech pauses up to this many hops


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelineConfig:
    """What a therapist can set: the activation threshold and the baseline to return to."""

    threshold: float = 3.5  # activation (1-5 scale) counted as "raised"
    baseline: float | None = None  # None: the session's median activation


@dataclass(frozen=True, slots=True, kw_only=True)
class Hop:
    """One speech hop (an ``activation`` event)."""

    t: float
    activation: float  # smoothed
    raw: float | None  # this window alone
    label: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """An interval on the audio clock, with what it is (a label, "speech", a fault)."""

    t0: float
    t1: float
    kind: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Peak:
    """The highest point of one excursion above the threshold, and the way back down."""

    t: float
    activation: float
    above_s: float  # time the excursion stayed above the threshold
    return_s: float | None  # peak -> first hop at or below the baseline; None: not in session


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionSummary:
    """Everything the report shows for one session (numbers from every event)."""

    title: str
    model: str
    source: str
    started_wall: float | None
    calibration: str
    adaptation: str  # online adaptation: how adapted the device was, from the events
    hop_s: float
    duration_s: float
    hops: list[Hop]
    bands: list[Span]  # runs of one smoothed label
    speech: list[Span]
    faults: list[Span]  # capture gaps (t0 == t1 for a point fault)
    marks: list[Mark]
    speech_s: float
    above_s: float
    threshold: float
    baseline: float | None
    peaks: list[Peak]
    label_shares: dict[str, float]
    counts: dict[str, int]  # events per type
    notes: list[str]  # what was skipped or is missing


# -------------------------------------------------------------------------------- measuring


def hops_of(events: Iterable[dict[str, Any]]) -> list[Hop]:
    """The speech hops (``activation`` events with a time and an activation), in time order."""
    hops = []
    for event in events:
        if event.get("type") != "activation":
            continue
        t, activation = number(event.get("t")), number(event.get("activation"))
        if t is None or activation is None:
            continue
        hops.append(Hop(t=t, activation=activation, raw=number(event.get("activation_raw")),
                        label=str(event.get("label", "?"))))  # fmt: skip
    hops.sort(key=lambda hop: hop.t)
    return hops


def label_bands(hops: Sequence[Hop], hop_s: float) -> list[Span]:
    """Runs of one label: each hop covers ``[t, t + hop_s)``; a pause longer than a hop ends a run.

    >>> hops = [Hop(t=t, activation=2.0, raw=None, label=lab) for t, lab in
    ...         [(1.0, "sad"), (1.5, "sad"), (2.0, "angry"), (5.0, "angry")]]
    >>> [(b.t0, b.t1, b.kind) for b in label_bands(hops, 0.5)]
    [(1.0, 2.0, 'sad'), (2.0, 2.5, 'angry'), (5.0, 5.5, 'angry')]
    """
    bands: list[Span] = []
    for hop in hops:
        last = bands[-1] if bands else None
        if last is not None and last.kind == hop.label and hop.t - last.t1 <= hop_s * 0.51:
            bands[-1] = Span(t0=last.t0, t1=hop.t + hop_s, kind=hop.label)
        else:
            bands.append(Span(t0=hop.t, t1=hop.t + hop_s, kind=hop.label))
    return bands


def speech_segments(events: Iterable[dict[str, Any]], end_s: float) -> list[Span]:
    """``speech_start`` .. ``speech_end`` intervals; one still open ends at ``end_s``."""
    segments: list[Span] = []
    opened: float | None = None
    for event in events:
        t = number(event.get("t"))
        if t is None:
            continue
        if event.get("type") == "speech_start" and opened is None:
            opened = t
        elif event.get("type") == "speech_end" and opened is not None:
            segments.append(Span(t0=opened, t1=max(t, opened), kind="speech"))
            opened = None
    if opened is not None:
        segments.append(Span(t0=opened, t1=max(end_s, opened), kind="speech"))
    return segments


def find_peaks(hops: Sequence[Hop], threshold: float, baseline: float, hop_s: float) -> list[Peak]:
    """One peak per excursion at or above ``threshold`` (pauses up to a few hops do not end it),
    with the time from the peak to the first later hop at or below ``baseline``.

    >>> hops = [Hop(t=i * 0.5, activation=a, raw=None, label="x")
    ...         for i, a in enumerate([2.0, 2.0, 4.0, 4.5, 3.0, 2.4, 2.0, 4.0, 3.0])]
    >>> [(p.t, p.activation, p.above_s, p.return_s) for p in find_peaks(hops, 3.5, 2.0, 0.5)]
    [(1.5, 4.5, 1.0, 1.5), (3.5, 4.0, 0.5, None)]
    """
    runs: list[list[int]] = []
    for index, hop in enumerate(hops):
        if hop.activation < threshold:
            continue
        previous = runs[-1][-1] if runs else -2
        if previous == index - 1 and hop.t - hops[previous].t <= RETURN_GAP_HOPS * hop_s + 1e-9:
            runs[-1].append(index)
        else:
            runs.append([index])
    peaks = []
    for run in runs:
        top = max(run, key=lambda i: hops[i].activation)
        back = next((h.t for h in hops[top + 1 :] if h.activation <= baseline), None)
        peaks.append(Peak(t=hops[top].t, activation=hops[top].activation,
                          above_s=len(run) * hop_s,
                          return_s=None if back is None else back - hops[top].t))  # fmt: skip
    return peaks


def faults_of(events: Sequence[dict[str, Any]]) -> tuple[list[Span], list[Mark]]:
    """Capture gaps (lost -> resumed, width ``gap_s``) and error events as marks."""
    spans: list[Span] = []
    marks: list[Mark] = []
    last_t = 0.0
    for event in events:
        t = number(event.get("t"))
        last_t = t if t is not None else last_t
        kind = event.get("type")
        if kind == "error":
            text = str(event.get("message", "error"))[:200]
            marks.append(Mark(t=last_t, kind="fault", text=text))
        elif kind == "stats" and event.get("capture") == "resumed":
            gap = number(event.get("gap_s")) or 0.0
            spans.append(Span(t0=last_t, t1=last_t, kind=f"capture gap {gap:.1f} s"))
    return spans, marks


def describe_calibration(start: dict[str, Any] | None) -> str:
    """What normalization the session ran with, as the ``start`` event says."""
    if start is None:
        return "unknown (the session's start is not in these files)"
    if "calibration" not in start:
        return "not recorded in the events"
    value = start["calibration"]
    if not value:
        return "none: the model's own statistics"
    if isinstance(value, dict):
        parts = [str(value.get("file", "calibration file"))]
        if "n_windows" in value:
            parts.append(f"{value['n_windows']} speech windows")
        if isinstance(value.get("weight"), (int, float)):
            parts.append(f"wearer weight {value['weight']:.2f}")
        if value.get("created"):
            parts.append(f"made {value['created']}")
        return ", ".join(parts)
    return str(value)


def describe_adaptation(start: dict[str, Any] | None, events: Sequence[dict[str, Any]]) -> str:
    """Whether the device adapted to the wearer, and until when it was still "adapting"."""
    note = start.get("adaptation") if start else None
    if not isinstance(note, dict):
        return "not recorded in the events"
    if note.get("mode") not in ("adaptive", "frozen"):
        return "off (fixed statistics)"
    enough = number(note.get("adapted_windows")) or 0
    heard = [(t, n) for e in events if e.get("type") == "activation"
             and (t := number(e.get("t"))) is not None
             and (n := number(e.get("norm_windows"))) is not None]  # fmt: skip
    if note["mode"] == "frozen":
        return f"frozen state ({note.get('n_windows', '?')} speech windows)"
    if not heard:
        return "adaptive (no speech heard)"
    first = heard[0][1]
    if first >= enough:
        return f"adapted from the start ({first:.0f} speech windows heard before)"
    done = next((t for t, n in heard if n >= enough), None)
    if done is None:
        return (f"adapting throughout ({heard[-1][1]:.0f} of {enough:.0f} speech windows heard by "
                "the end): early answers rest on little of the wearer's speech")  # fmt: skip
    return f"adapting until {clock(done, False)} ({enough:.0f} speech windows), then adapted"


def clock(seconds: float, long: bool) -> str:
    """Audio-clock time as m:ss, or h:mm:ss for long sessions.

    >>> clock(75.4, False), clock(3725, True)
    ('1:15', '1:02:05')
    """
    whole = int(round(seconds))
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if long else f"{h * 60 + m}:{s:02d}"


def summarize(session: Session, config: TimelineConfig, *, title: str) -> SessionSummary:
    """Measure one session: speech time, time above the threshold, peaks, label shares."""
    events = session.events
    start = session.start
    hop_s = number(start.get("hop_s")) if start else None
    hop_s = hop_s if hop_s and hop_s > 0 else DEFAULT_HOP_S
    hops = hops_of(events)
    times = [t for e in events if (t := number(e.get("t"))) is not None]
    stop = next((e for e in reversed(events) if e.get("type") == "stop"), None)
    audio_s = number(stop.get("audio_s")) if stop else None
    duration = max([*times, audio_s or 0.0, DEFAULT_WINDOW_S])
    baseline = config.baseline
    if baseline is None and hops:
        baseline = statistics.median(h.activation for h in hops)
    labels = Counter(h.label for h in hops)
    faults, fault_marks = faults_of(events)
    emotion_marks = [
        Mark(t=t, kind="emotion", text=str(e.get("label", "?")))
        for e in events
        if e.get("type") == "emotion" and (t := number(e.get("t"))) is not None
    ]
    counts = dict(Counter(str(e.get("type")) for e in events))
    notes = []
    if start is None:
        notes.append("the session's start event is not in these files (rotated away?)")
    if stop is None:
        notes.append("no stop event: the session was cut off or is still running")
    elif stop.get("reason") not in (None, "end of input", "duration reached", "interrupted",
                                    "terminated"):  # fmt: skip
        notes.append(f"stopped: {stop.get('reason')}")
    missing = sum(int(m.text.split()[0]) for m in session.missing_events)
    if missing:
        notes.append(f"{missing} events missing (gaps in seq)")
    return SessionSummary(
        title=title,
        model=session.model,
        source=str(start.get("source", "?")) if start else "?",
        started_wall=number(start.get("wall")) if start else number(events[0].get("wall")),
        calibration=describe_calibration(start),
        adaptation=describe_adaptation(start, events),
        hop_s=hop_s,
        duration_s=duration,
        hops=hops,
        bands=label_bands(hops, hop_s),
        speech=speech_segments(events, duration),
        faults=faults,
        marks=sorted([*emotion_marks, *fault_marks, *session.missing_events], key=lambda m: m.t),
        speech_s=len(hops) * hop_s,
        above_s=sum(hop_s for h in hops if h.activation >= config.threshold),
        threshold=config.threshold,
        baseline=baseline,
        peaks=find_peaks(hops, config.threshold, baseline, hop_s) if baseline is not None else [],
        label_shares={label: n / len(hops) for label, n in labels.most_common()},
        counts=counts,
        notes=notes,
    )


def load_sessions(
    paths: Sequence[str], config: TimelineConfig
) -> tuple[list[SessionSummary], list[str]]:
    """Read every file (rotated families oldest first), split and measure the sessions.

    Returns the summaries and the report-wide notes (skipped lines, torn tails, mixed models).
    """
    if list(paths).count("-") > 1:
        raise InputError("stdin (-) can be read only once")
    parsed = [read_file(path) for path in rotation_order(paths)]
    notes = []
    for p in parsed:
        if p.bad_lines:
            notes.append(f"{p.name}: {p.bad_lines} lines that are not events were skipped")
        if p.torn_tail:
            notes.append(f"{p.name}: the last line was cut off (torn write) and was skipped")
    sessions = [s for s in split_sessions(parsed) if s.events]
    models = sorted({s.model for s in sessions})
    if len(models) > 1:
        notes.append(
            f"sessions from {len(models)} different models ({', '.join(models)}): labels and "
            "activation from different models are not directly comparable"
        )
    summaries = [
        summarize(s, config, title=f"Session {i} of {len(sessions)}")
        for i, s in enumerate(sessions, start=1)
    ]
    return summaries, notes

"""Known event streams for the report and live-page tests (and the 8 h benchmark)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

LABELS = ("neutral", "sad", "happy", "angry")


def session_events(
    labels: list[str],
    *,
    model: str = "dae_metric_act",
    start_t: float = 2.0,
    hop_s: float = 0.5,
    activation: list[float] | None = None,
    wall: float = 1_764_000_000.0,
    calibration: Any = None,
) -> list[dict[str, Any]]:
    """start, speech_start, one activation event per label (one hop apart), speech_end, stop."""
    values = activation or [2.0 + (i % 5) * 0.4 for i in range(len(labels))]
    scores = {label: 0.0 for label in LABELS}
    events: list[dict[str, Any]] = [
        {
            "type": "start",
            "source": "test",
            "native_rate": 16000,
            "sample_rate": 16000,
            "window_s": 2.0,
            "hop_s": hop_s,
            "backend": "ai_edge_litert",
            "labels": list(LABELS),
            "calibration": calibration,
        },  # fmt: skip
        {"type": "speech_start", "t": start_t, "speech": 0.8},
    ]
    t = start_t
    for label, value in zip(labels, values, strict=True):
        events.append({"type": "activation", "t": t, "label": label, "confidence": 0.5,
                       "scores": scores, "activation": value, "latent": [0.1, 0.2],
                       "speech": 0.8, "activation_raw": value + 0.1, "latency_ms": 1.0})  # fmt: skip
        t += hop_s
    events.append({"type": "speech_end", "t": t, "speech": 0.1})
    events.append({"type": "stop", "reason": "end of input", "audio_s": t + 1.0})
    for seq, event in enumerate(events):
        event.update(wall=wall + seq * hop_s, seq=seq, model=model)
    return events


def long_session(hours: float, *, hop_s: float = 0.5) -> list[dict[str, Any]]:
    """A synthetic session of ``hours``: speech turns of 20 s, pauses of 10 s, slow arousal
    waves with short peaks, a label that changes every few seconds, a capture fault an hour."""
    events: list[dict[str, Any]] = [
        {
            "type": "start",
            "source": "synthetic",
            "hop_s": hop_s,
            "window_s": 2.0,
            "labels": list(LABELS),
        }
    ]
    n = int(hours * 3600 / hop_s)
    speaking = False
    for i in range(n):
        t = round(2.0 + i * hop_s, 3)
        in_turn = (t % 30.0) < 20.0
        if in_turn and not speaking:
            events.append({"type": "speech_start", "t": t, "speech": 0.7})
        if not in_turn and speaking:
            events.append({"type": "speech_end", "t": t, "speech": 0.1})
        speaking = in_turn
        if t > 5 and t % 3600 < hop_s:
            events.append(
                {
                    "type": "error",
                    "t": t,
                    "message": "capture device lost",
                    "fault": "capture_lost",
                    "recoverable": True,
                }
            )
            events.append({"type": "stats", "t": t, "capture": "resumed", "gap_s": 4.0})
        if t % 30 < hop_s:
            events.append({"type": "stats", "t": t, "xruns": 0, "dropped_chunks": 0})
        if not in_turn:
            continue
        wave = 2.6 + 0.9 * math.sin(t / 600.0) + (1.2 if (t % 900) < 15 else 0.0)
        label = LABELS[int(t / 7.0) % 4]
        events.append({"type": "activation", "t": t, "label": label, "confidence": 0.6,
                       "scores": dict.fromkeys(LABELS, 0.1), "activation": round(wave, 3),
                       "latent": [0.1, -0.2], "speech": 0.9, "activation_raw": round(wave + 0.3 * math.sin(t), 3),
                       "latency_ms": 2.0})  # fmt: skip
    events.append({"type": "stop", "reason": "end of input", "audio_s": 2.0 + n * hop_s})
    for seq, event in enumerate(events):
        event.update(wall=1_764_000_000.0 + seq * 0.1, seq=seq, model="dae_metric_act")
    return events


def write_jsonl(path: Path, events: list[dict[str, Any]], *, tail: str = "") -> Path:
    """Events as JSON lines, plus ``tail`` (e.g. a torn line) at the end."""
    path.write_text("".join(json.dumps(e) + "\n" for e in events) + tail, encoding="utf-8")
    return path

"""A load generator for sizing a recorder: N simulated companions publishing event JSON.

Each companion is one MQTT client publishing (QoS 1) to ``BASE/<device>`` a session of events
shaped like ``listen``'s (start, speech, activation every hop, emotion now and then, stop),
with the ``session`` key the MQTT sink adds. Used by the fleet tests and benchmarks.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from ..sinks.mqtt import MqttSettings, make_client
from ..stream.events import to_line

LABELS = ("neutral", "sad", "happy", "angry")


def session_events(n: int, *, model: str = "dae_metric_act") -> Iterator[dict[str, Any]]:
    """``n`` events of one simulated session (n >= 2: a start and a stop around the rest)."""
    wall = time.time()
    yield {"type": "start", "source": "mic:default", "native_rate": 48000, "sample_rate": 16000,
           "window_s": 2.0, "hop_s": 0.5, "backend": "ai_edge_litert", "labels": list(LABELS),
           "wall": round(wall, 3), "seq": 0, "model": model}  # fmt: skip
    for seq in range(1, n - 1):
        t = 2.0 + 0.5 * seq
        x = math.sin(seq / 7)
        scores = {label: round(x * (i - 1.5) / 2, 4) for i, label in enumerate(LABELS)}
        label = max(scores, key=lambda k: scores[k])
        yield {"type": "emotion" if seq % 10 == 0 else "activation", "t": t, "label": label,
               "confidence": round(0.4 + 0.3 * abs(x), 4), "scores": scores,
               "activation": round(3 + 1.5 * x, 4), "latent": [round(x, 4), round(-x / 2, 4)],
               "speech": 0.9, "latency_ms": 1.1, "wall": round(wall + 0.5 * seq, 3), "seq": seq,
               "model": model}  # fmt: skip
    yield {"type": "stop", "reason": "end of input", "audio_s": 2.0 + 0.5 * n,
           "wall": round(wall + 0.5 * n, 3), "seq": n - 1, "model": model}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Published:
    """What one companion sent."""

    device: str
    session: str
    events: int


def companion(settings: MqttSettings, device: str, events: int) -> Published:
    """One companion: connect as ``device``, publish a session to ``BASE/device``, wait for
    every acknowledgement, disconnect."""
    target = replace(settings, topic=f"{settings.topic}/{device}")
    client = make_client(target, client_id=f"loadgen-{device}")
    client.max_inflight_messages_set(1000)
    session = uuid.uuid4().hex
    client.connect(target.host, target.port, keepalive=30)
    client.loop_start()
    try:
        infos = [client.publish(target.topic, to_line({**event, "session": session}), qos=1)
                 for event in session_events(events)]  # fmt: skip
        for info in infos:
            info.wait_for_publish(timeout=60)
    finally:
        client.disconnect()
        client.loop_stop()
    return Published(device=device, session=session, events=events)


def run_companions(settings: MqttSettings, devices: list[str], events: int) -> list[Published]:
    """Every device publishes ``events`` events at once, on its own thread."""
    results: list[Published] = []
    errors: list[BaseException] = []

    def one(device: str) -> None:
        try:
            results.append(companion(settings, device, events))
        except BaseException as exc:  # noqa: BLE001 - re-raised below, on the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(d,)) for d in devices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results

"""The decision rules (RecognizeCommands-style), driven by a fake audio clock."""

from __future__ import annotations

import numpy as np
import pytest

from serdevice.device.stream.decision import Decision, DecisionConfig, softmax

LABELS = ("neutral", "sad", "happy", "angry")
ANGRY = np.array([0.0, -1.0, 0.0, 2.0])
SAD = np.array([0.0, 2.0, -1.0, -1.0])


def feed(decision: Decision, start: float, scores: np.ndarray, hops: int, hop: float = 0.5):
    return [decision.update(start + i * hop, scores, 3.0) for i in range(hops)]


def test_emits_once_when_the_label_settles_and_again_when_it_changes():
    d = Decision(LABELS, DecisionConfig(min_count=2, threshold=0.3, suppression_s=1.0))
    out = feed(d, 2.0, ANGRY, 4)
    assert [o.emit for o in out] == [False, True, False, False]  # min_count 2 -> second hop
    assert out[1].label == "angry"
    out = feed(d, 4.0, SAD, 6)
    emitted = [(o.label, 4.0 + i * 0.5) for i, o in enumerate(out) if o.emit]
    assert emitted == [("sad", 4.5)]  # hops 3.5 (angry), 4.0, 4.5 (sad): sad tops 2 of 3


def test_threshold_blocks_unsure_labels():
    d = Decision(LABELS, DecisionConfig(threshold=0.9))
    assert not any(o.emit for o in feed(d, 2.0, ANGRY, 6))  # softmax(ANGRY)[3] ~ 0.76
    assert softmax(ANGRY)[3] == pytest.approx(0.7573, abs=1e-3)  # e^2 / (e^2 + 2 + e^-1)


def test_suppression_spaces_emissions():
    d = Decision(
        LABELS, DecisionConfig(min_count=1, threshold=0.0, suppression_s=3.0, average_s=0.1)
    )
    d.update(2.0, ANGRY, 3.0)
    assert d.update(2.5, SAD, 2.0).emit is False  # only 0.5 s after the last emission
    assert d.update(5.5, SAD, 2.0).emit is True


def test_every_hop_and_activation_smoothing():
    d = Decision(LABELS, DecisionConfig(every_hop=True, average_s=1.0))
    assert d.update(2.0, ANGRY, 5.0).emit and d.update(2.5, ANGRY, 3.0).emit
    assert d.update(3.0, ANGRY, 1.0).activation == pytest.approx(2.0)  # mean of 3.0 and 1.0


def test_reset_forgets_history_and_last_label():
    d = Decision(LABELS, DecisionConfig(min_count=1, threshold=0.0))
    assert d.update(2.0, ANGRY, 3.0).emit
    d.reset()
    assert d.update(10.0, ANGRY, 3.0).emit  # a new stretch of speech announces itself again

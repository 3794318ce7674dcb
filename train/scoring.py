"""One answer per clip and its scores: balanced accuracy per task, activation rho.

A clip's answer is ``serdevice predict``'s: the mean of its speech windows' scores and
activation. A clip with no speech window counts as a wrong answer and is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .corpora.schema import Utterance
from .dataset import FOUR_CLASSES
from .metrics import balanced_accuracy, spearman

TASKS = {"N-S-A": ("neutral", "sad", "angry"), "N-S-H-A": FOUR_CLASSES}
FIGURES = ("N-S-A", "N-S-H-A", "activation_rho")  # the figures a summary keeps per voice and mode


@dataclass(frozen=True, slots=True, kw_only=True)
class ClipAnswers:
    """One answer per clip: mean scores (sidecar label order) and mean activation."""

    scores: np.ndarray  # (n, K); NaN rows where the clip had no speech window
    activation: np.ndarray  # (n,)

    @property
    def answered(self) -> np.ndarray:
        """Clips with at least one speech window."""
        return np.isfinite(self.activation)


def clip_answers(model: Any, normalizers: Sequence[Any], rows: Sequence[np.ndarray]) -> ClipAnswers:
    """``predict``'s answer for each clip from its speech rows, each with its own normalizer."""
    scores = np.full((len(rows), len(model.labels)), np.nan)
    activation = np.full(len(rows), np.nan)
    for i, (normalizer, clip_rows) in enumerate(zip(normalizers, rows, strict=True)):
        if len(clip_rows) == 0:
            continue
        predictions = [model.predict(normalizer(row)) for row in clip_rows]
        scores[i] = np.mean([p.scores for p in predictions], axis=0)
        activation[i] = np.mean([p.activation for p in predictions])
    return ClipAnswers(scores=scores, activation=activation)


def score(
    answers: ClipAnswers, utterances: Sequence[Utterance], model_labels: Sequence[str]
) -> dict[str, float]:
    """Balanced accuracy per task and activation rho over the given clips."""
    truth = np.array([u.label.value for u in utterances])
    result: dict[str, float] = {}
    for task, task_labels in TASKS.items():
        keep = np.isin(truth, task_labels)
        columns = [list(model_labels).index(label) for label in task_labels]
        chosen = np.where(
            answers.answered[keep],
            np.array(task_labels)[np.argmax(np.nan_to_num(answers.scores[keep][:, columns],
                                                          nan=-np.inf), axis=1)],
            "none",
        )  # fmt: skip
        result[task] = balanced_accuracy(truth[keep], chosen)
    arousal = np.array([u.activation for u in utterances])
    answered = answers.answered
    result["activation_rho"] = spearman(answers.activation[answered], arousal[answered])
    result["unanswered"] = int((~answered).sum())
    result["clips"] = len(utterances)
    return result


def calibration_half(utterances: Sequence[Utterance]) -> np.ndarray:
    """True for the clips each speaker's calibration uses: every other file in name order."""
    mask = np.zeros(len(utterances), dtype=bool)
    by_speaker: dict[str, list[int]] = {}
    for i, u in enumerate(utterances):
        by_speaker.setdefault(u.split_group, []).append(i)
    for indices in by_speaker.values():
        ordered = sorted(indices, key=lambda i: utterances[i].path.name)
        mask[ordered[::2]] = True
    return mask

"""The device as it really runs: each held-out speaker from an empty state, every clip scored.

``adaptive_answers`` plays each speaker's clips in a fixed shuffled order (seeded) through the
device's own ``AdaptiveNormalizer`` (``serdevice.device.stream.adaptation``), starting from the model's
sidecar statistics with nothing heard: every speech window updates the wearer's statistics and
is then normalized and scored, so the first clips are answered with the little the device has
heard so far, exactly as ``listen`` would. The clip's answer is the mean of its windows' scores
(``predict``'s answer). Beside each answer: how much of the speaker's speech the device had
heard before the clip (windows x hop), for the curve of accuracy against minutes heard.

``oracle_normalizers`` is the upper reference: each speaker's statistics from all their clips.
``contaminate`` measures a second voice: after each clip of the wearer, windows of another
speaker (another corpus) are heard until they make ``share`` of what the state rests on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from serdevice.device.stream.adaptation import (
    DEFAULT_ADAPT,
    AdaptConfig,
    AdaptiveNormalizer,
    RunningStats,
)
from serdevice.device.stream.contracts import DEFAULT_HOP_S, N_FEATURES
from serdevice.device.stream.normalize import Normalizer

from .corpora.schema import Utterance
from .scoring import FIGURES, ClipAnswers, score

# Minutes of a speaker's speech heard before a clip: the curve's bins (lower edges).
CURVE_MINUTES = (0.0, 0.5, 1.0, 2.0, 5.0)


def speaker_orders(utterances: Sequence[Utterance], seed: int) -> dict[str, list[int]]:
    """Each speaker's clip indices in a shuffled order fixed by ``seed`` and the speaker."""
    by_speaker: dict[str, list[int]] = {}
    for i, u in enumerate(utterances):
        by_speaker.setdefault(u.split_group, []).append(i)
    orders = {}
    for speaker, indices in sorted(by_speaker.items()):
        digest = hashlib.sha256(f"{seed}:{speaker}".encode()).hexdigest()
        rng = np.random.default_rng(int(digest[:16], 16))
        orders[speaker] = [indices[j] for j in rng.permutation(len(indices))]
    return orders


@dataclass(frozen=True, slots=True, kw_only=True)
class Adaptive:
    """Answers of every clip as the adaptive device gave them, and what it had heard before each."""

    answers: ClipAnswers
    heard_min: np.ndarray  # (n,) minutes of the speaker's speech heard before the clip


def _answer(model: object, normalizer: Normalizer, rows: np.ndarray) -> tuple[np.ndarray, float]:
    predictions = []
    for row in rows:
        normalizer.update(row)
        predictions.append(model.predict(normalizer(row)))  # type: ignore[attr-defined]
    return np.mean([p.scores for p in predictions], axis=0), float(
        np.mean([p.activation for p in predictions])
    )


def adaptive_answers(
    model: object,
    utterances: Sequence[Utterance],
    rows: Sequence[np.ndarray],
    *,
    seed: int = 0,
    config: AdaptConfig = DEFAULT_ADAPT,
    others: Sequence[np.ndarray] = (),
    share: float = 0.0,
) -> Adaptive:
    """Every clip through a fresh adaptive normalizer per speaker (``others``: a second voice)."""
    sidecar = model.sidecar  # type: ignore[attr-defined]
    n_labels = len(model.labels)  # type: ignore[attr-defined]
    scores = np.full((len(rows), n_labels), np.nan)
    activation = np.full(len(rows), np.nan)
    heard = np.zeros(len(rows))
    intruder = np.concatenate(list(others)) if len(others) else np.zeros((0, N_FEATURES))
    for speaker, order in speaker_orders(utterances, seed).items():
        normalizer = AdaptiveNormalizer(sidecar.norm_mean, sidecar.norm_std, sidecar.input_clip,
                                        stats=RunningStats(config=config))  # fmt: skip
        own = intruding = 0
        for i in order:
            heard[i] = own * DEFAULT_HOP_S / 60
            if len(rows[i]):
                scores[i], activation[i] = _answer(model, normalizer, rows[i])
            own += len(rows[i])
            intruding = _contaminate(normalizer, intruder, own, intruding, share, speaker)
    return Adaptive(answers=ClipAnswers(scores=scores, activation=activation), heard_min=heard)


def _contaminate(normalizer: Normalizer, intruder: np.ndarray, own: int, done: int, share: float,
                 speaker: str) -> int:  # fmt: skip
    """Hear the second voice's next windows until they are ``share`` of all heard; the new count."""
    if share <= 0 or not len(intruder):
        return done
    due = int(round(own * share / (1 - share)))
    offset = int(hashlib.sha256(speaker.encode()).hexdigest()[:8], 16)  # each wearer its own part
    for k in range(done, due):
        normalizer.update(intruder[(offset + k) % len(intruder)])
    return max(done, due)


def oracle_normalizers(
    utterances: Sequence[Utterance], rows: Sequence[np.ndarray], clip: float | None
) -> list[Normalizer]:
    """Each clip's speaker's own statistics from all their clips (the upper reference)."""
    by_speaker: dict[str, list[np.ndarray]] = {}
    for u, r in zip(utterances, rows, strict=True):
        if len(r):
            by_speaker.setdefault(u.split_group, []).append(r)
    stats = {}
    for speaker, parts in by_speaker.items():
        every = np.concatenate(parts).astype(np.float64)
        every = every[np.isfinite(every).all(axis=1)]
        std = np.maximum(every.std(axis=0), 1e-6)
        stats[speaker] = Normalizer(every.mean(axis=0), std, clip)
    fallback = Normalizer(np.zeros(N_FEATURES), np.ones(N_FEATURES), clip)
    return [stats.get(u.split_group, fallback) for u in utterances]


# Fewer clips than this in a bin of the curve: no figure (balanced accuracy on a handful is noise).
MIN_CURVE_CLIPS = 20


def curve(adaptive: Adaptive, oracle: ClipAnswers, utterances: Sequence[Utterance],
          labels: Sequence[str]) -> list[dict[str, Any]]:  # fmt: skip
    """Scores of the clips heard after 0, 0.5, 1, 2 and 5 minutes of the speaker's speech (each bin
    up to the next edge), beside the oracle's on the same clips."""
    edges = (*CURVE_MINUTES, np.inf)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        keep = np.flatnonzero((adaptive.heard_min >= lo) & (adaptive.heard_min < hi))
        if len(keep) < MIN_CURVE_CLIPS:
            continue
        picked = [utterances[int(i)] for i in keep]
        own = score(_subset(adaptive.answers, keep), picked, labels)
        ref = score(_subset(oracle, keep), picked, labels)
        out.append({"from_min": lo, "clips": len(keep),
                    **{k: own[k] for k in FIGURES}, **{f"oracle {k}": ref[k] for k in FIGURES}})  # fmt: skip
    return out


def _subset(answers: ClipAnswers, keep: np.ndarray) -> ClipAnswers:
    return ClipAnswers(scores=answers.scores[keep], activation=answers.activation[keep])

"""Contracts between stages, written once: rates, feature set, labels, what flows, errors.

The contracts between the stages (feature order, window and hop, model I/O); the sidecar's
schema is sidecar.py's and the event schema events.py's (docs/events.md for users). Every other
module imports these names rather than repeating the numbers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from .egemaps_names import EGEMAPS_FEATURE_NAMES

SAMPLE_RATE = 16_000
FEATURE_SET = "eGeMAPSv02"
FEATURE_NAMES = EGEMAPS_FEATURE_NAMES
N_FEATURES = len(EGEMAPS_FEATURE_NAMES)
DEFAULT_WINDOW_S = 2.0
DEFAULT_HOP_S = 0.5
ACTIVATION_SCALE = (1.0, 5.0)
SIDECAR_SCHEMA = 1


class Label(str, enum.Enum):
    """The unified emotion labels; anything else a corpus has maps to ``OTHER``."""

    NEUTRAL = "neutral"
    SAD = "sad"
    HAPPY = "happy"
    ANGRY = "angry"
    OTHER = "other"


class Task(str, enum.Enum):
    """The seed's classification tasks: N-S-A (3 classes) and N-S-H-A (4 classes)."""

    NSA = "nsa"
    NSHA = "nsha"

    @property
    def labels(self) -> tuple[Label, ...]:
        """Class order used for training, scores and reports."""
        if self is Task.NSA:
            return (Label.NEUTRAL, Label.SAD, Label.ANGRY)
        return (Label.NEUTRAL, Label.SAD, Label.HAPPY, Label.ANGRY)


class EventType(str, enum.Enum):
    """Event ``type`` values of the JSONL stream (public interface)."""

    START = "start"
    SPEECH_START = "speech_start"
    SPEECH_END = "speech_end"
    EMOTION = "emotion"
    ACTIVATION = "activation"
    STATS = "stats"
    ERROR = "error"
    STOP = "stop"


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureRow:
    """One eGeMAPS functional vector for the window ending at ``t_end`` (audio clock, s)."""

    t_end: float
    values: np.ndarray  # float32, shape (N_FEATURES,)


class InputError(ValueError):
    """Bad input from the user (file, option, model, sidecar): one line, exit status 2."""


class RuntimeFailure(RuntimeError):
    """The input was fine but the work failed (device, disk, backend): one line, exit 1."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Prediction:
    """What the model gives for one standardized feature vector."""

    latent: np.ndarray  # float32, shape (2,)
    scores: np.ndarray  # float32, shape (K,), class order = the sidecar's ``labels``
    activation: float  # 1-5 scale


# One colour per label for every display (the session report, the live page), so a therapist
# reads both the same way.
LABEL_COLOURS = {
    "neutral": "#9aa3ad",
    "sad": "#3f74c9",
    "happy": "#f0b429",
    "angry": "#d64545",
    "other": "#8e6bbf",
}

"""The training recipe for models that must work on real voices nobody here has heard.

A recipe says which real corpora a model trains on and how: normalization, augmentation with
child-like copies, label mapping. ``serdevice loco`` measures a recipe leave-one-corpus-out on
the device path; ``make model`` trains the bundled models with ``BUNDLED_RECIPE``.

Label mapping across corpora (decided once, for every corpus): the classifier head knows neutral,
sad, happy and angry. Calm (RAVDESS), fear, disgust, surprise and pleasant surprise (TESS),
boredom (Emo-DB) map to ``other``: kept for the autoencoder and, through the categorical
activation/valence map (``corpora.schema.EMOTIONS``), for the metric loss and the activation
head, but not used as classes. Calm is not merged into neutral: it is acted as a low-arousal,
pleasant state, and merging it would teach "neutral" a quieter voice than other corpora's
neutral.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .defaults import DEFAULT_EPOCHS

# Every real corpus the project can train on, with the licence its models inherit
# (../shared/corpora/README.md).
REAL_CORPORA: dict[str, str] = {
    "ravdess": "CC BY-NC-SA 4.0",
    "tess": "CC BY-NC-ND 4.0",
    "savee": "free for research",
    "urdu": "research use only",
    "emovo": "research use",
    # added 2026-12-01: 89 more speakers in three more languages
    "ased": "research use only",
    "nemo": "CC BY-NC-SA 4.0",
    "emotiontts": "CC BY-NC-SA 4.0, research use only",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipe:
    """How a deployable model is trained on real speech."""

    name: str
    normalization: str = "speaker"  # preprocess.NORMALIZATIONS
    childlike: bool = False  # add a child-like copy of every training clip (train/childlike.py)
    level: str = "window"  # the device's 2 s / 0.5 s windows
    # The metric loss's signed first-coordinate form: it makes the first latent axis activation
    # itself, which the device's linear activation head reads; the seed's distance form leaves
    # the direction free (losses.METRIC_FORMS).
    metric_form: str = "signed-first"
    epochs: int = DEFAULT_EPOCHS
    # How training rows are drawn (dataset.WEIGHTINGS): "none" (every window alike), "corpus"
    # (every corpus the same share of each epoch), "speaker" (every speaker the same share).
    weighting: str = "none"
    seed: int = 0
    # The export (export/tflite.py): int8 weights with int16 activations held parity on unseen
    # speakers where int8 activations did not (0.988 < 0.99 with child-like copies).
    quantization: str = "int16x8"

    def to_json(self) -> dict[str, Any]:
        """Plain dict for config.json and the sidecar."""
        return {**asdict(self), "label_mapping": "calm, fear, disgust, surprise, boredom -> other"}


# v3: v2 (speaker normalization, adult windows, a child-like copy of every training clip, int16x8)
# on all eight real corpora instead of the first five, every window drawn alike. Leave-one-corpus-
# out (2026-12-02, docs/results.md "Real voices") it beat v2 on v2's own five folds, and drawing
# rows per corpus or per speaker did not beat drawing them alike. v2 closed the child-like gap
# from 0.10-0.12 to 0.02-0.04 and kept the adult figures.
BUNDLED_RECIPE = Recipe(name="real-speaker-v3", childlike=True)


def corpus_specs(root: Path, names: tuple[str, ...]) -> list[str]:
    """``NAME:ROOT/NAME`` for each corpus name (the layout of ../shared/corpora)."""
    return [f"{name}:{root / name}" for name in names]

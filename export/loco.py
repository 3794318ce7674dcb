"""Leave-one-corpus-out on the device path: the number that says whether a recipe transfers.

For each corpus: train on the others with the recipe, export it (int16x8, as ``make model`` does), then
score the held-out corpus the way the device would: each clip through the device's own front
half (file source -> speech gate + streaming eGeMAPS, ``collect_speech_rows``), each speech window
through the normalizer and the .tflite model, and one answer per clip from the mean of its
windows' scores (``serdevice predict``'s answer). No label of the held-out corpus is used.

Normalizations (``MODES``):

- ``adaptive`` (the headline, what ``listen`` does): each held-out speaker's clips in a seeded
  shuffled order through the device's own adaptive normalizer from an empty state, every clip
  scored, the first ones included (train/adaptive_eval.py); with the curve of accuracy against
  minutes of the speaker's speech heard;
- ``plain``: the sidecar's statistics (``listen --no-adapt``);
- ``calibrated``: ``serdevice calibrate``'s statistics from half of each speaker's clips (every
  other file in name order; the other half is scored);
- ``oracle``: each speaker's statistics from all their clips (the upper reference);
- ``second-voice``: adaptive, with 30 % of the windows the state rests on from another speaker
  of another corpus.

Voices: ``adult`` (the clips), ``channel-shifted`` (every clip through its speaker's own drawn
microphone: gain -15..+15 dB, band limit and tilt, train/channel.py) and ``child-like`` (every
third clip, train/childlike.py). Metrics per held-out corpus: balanced accuracy N-S-A (clips
labelled neutral/sad/angry, the answer restricted to those three scores) and N-S-H-A (the four),
Spearman's rho between the clip's mean activation and the label's categorical activation (all
clips). A clip with no speech window counts as a wrong answer and is reported.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from serdevice.device.stream.contracts import (
    DEFAULT_HOP_S,
    DEFAULT_WINDOW_S,
    N_FEATURES,
    InputError,
)
from serdevice.train import cache
from serdevice.train.corpora import load_spec
from serdevice.train.corpora.schema import Utterance
from serdevice.train.dataset import FeatureSet, concat, features_of
from serdevice.train.features_batch import file_hash
from serdevice.train.loco_table import markdown_table, mean_over, plot_curve, seed_spread
from serdevice.train.parallel import map_in_order
from serdevice.train.recipe import REAL_CORPORA, Recipe, corpus_specs
from serdevice.train.scoring import calibration_half, clip_answers, score

# Child-like copies are scored on every third clip of each corpus (in the loaders' order): the
# streaming front half costs ~0.15 CPU-s per clip, and a third keeps the benchmark near 30 min.
CHILD_EVERY = 3
# The five corpora of the recipes before 2026-12-01: their folds alone compare old and new recipes.
FIRST_FIVE = ("ravdess", "tess", "savee", "urdu", "emovo")
# A second voice (a parent, a therapist) makes this share of the windows the state rests on.
SECOND_VOICE_SHARE = 0.3


# --- the device's front half, once per clip (cached) --------------------------------------


def _rows_key(path: Path, window_s: float, hop_s: float) -> str:
    from serdevice.device.stream.features import opensmile_version
    from serdevice.device.stream.gate import FLOOR_RMS, VAD_GAIN

    gate = f"gate{FLOOR_RMS:.3g}-{VAD_GAIN:.3g}"  # the gate decides which windows are rows
    return f"{file_hash(path)[:32]}-{opensmile_version()}-w{window_s:g}-h{hop_s:g}-{gate}"


_MODELS: dict[tuple[float, float], Any] = {}


def _front_half_model(window_s: float, hop_s: float) -> Any:
    """A model whose sidecar sets the window and hop (the rows do not depend on its weights)."""
    from serdevice.device.stream.model import DEFAULT_MODEL, Model

    if (window_s, hop_s) not in _MODELS:
        model = Model.load(DEFAULT_MODEL)
        if (model.sidecar.window_s, model.sidecar.hop_s) != (window_s, hop_s):
            raise InputError(f"device rows for {window_s:g} s / {hop_s:g} s windows need a model "
                             f"trained on them (the bundled one uses {model.sidecar.window_s:g} / "
                             f"{model.sidecar.hop_s:g})")  # fmt: skip
        _MODELS[(window_s, hop_s)] = model
    return _MODELS[(window_s, hop_s)]


def _speech_rows(args: tuple[Path, float, float, Path]) -> np.ndarray:
    path, window_s, hop_s, folder = args

    def compute() -> np.ndarray:
        from serdevice.device.stream.calibration import collect_speech_rows
        from serdevice.device.stream.sources import FileSource

        model = _front_half_model(window_s, hop_s)
        return collect_speech_rows(FileSource(path, realtime=False), model).rows

    return cache.array(folder / f"{_rows_key(path, window_s, hop_s)}.npy", compute)[0]


def device_speech_rows(
    paths: Sequence[Path],
    *,
    window_s: float = DEFAULT_WINDOW_S,
    hop_s: float = DEFAULT_HOP_S,
    jobs: int = 2,
    cache_dir: Path | None = None,
    progress: bool = True,
) -> list[np.ndarray]:
    """The speech windows' raw eGeMAPS rows of each file, as the device's stream computes them."""
    tasks = [(Path(p), window_s, hop_s, cache.folder("device-rows", cache_dir)) for p in paths]
    return map_in_order(_speech_rows, tasks, jobs=jobs, desc="device rows", chunksize=8,
                        progress=progress)  # fmt: skip


def evaluate_held_out(
    model: Any,
    utterances: Sequence[Utterance],
    rows: Sequence[np.ndarray],
    *,
    seed: int = 0,
    second_voice: Sequence[np.ndarray] = (),
) -> dict[str, dict[str, Any]]:
    """Every mode's scores of one held-out set (plain and calibrated on the scored half)."""
    from serdevice.device.stream.calibration import calibrate_for
    from serdevice.device.stream.normalize import Normalizer
    from serdevice.train.adaptive_eval import adaptive_answers, curve, oracle_normalizers

    sidecar, labels = model.sidecar, model.labels
    calib = calibration_half(utterances)
    scored = [i for i in range(len(utterances)) if not calib[i]]
    per_speaker: dict[str, Any] = {}
    for group in {u.split_group for u in utterances}:
        own = [rows[i] for i in range(len(utterances))
               if calib[i] and utterances[i].split_group == group]  # fmt: skip
        speech = np.concatenate(own) if own else np.zeros((0, N_FEATURES))
        calibration = calibrate_for(speech, sidecar)
        per_speaker[group] = Normalizer(calibration.mean, calibration.std, sidecar.input_clip)
    picked = [utterances[i] for i in scored]
    picked_rows = [rows[i] for i in scored]
    plain = Normalizer.for_model(model)
    out: dict[str, dict[str, Any]] = {
        "plain": score(clip_answers(model, [plain] * len(picked), picked_rows), picked, labels),
        "calibrated": score(clip_answers(model, [per_speaker[u.split_group] for u in picked],
                                         picked_rows), picked, labels),
    }  # fmt: skip
    oracle = clip_answers(model, oracle_normalizers(utterances, rows, sidecar.input_clip), rows)
    adaptive = adaptive_answers(model, utterances, rows, seed=seed)
    out["adaptive"] = {**score(adaptive.answers, utterances, labels),
                       "curve": curve(adaptive, oracle, utterances, labels)}  # fmt: skip
    out["oracle"] = score(oracle, utterances, labels)
    mixed = adaptive_answers(model, utterances, rows, seed=seed, others=second_voice,
                             share=SECOND_VOICE_SHARE)  # fmt: skip
    out["second-voice"] = score(mixed.answers, utterances, labels)
    return out


# --- the whole benchmark ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LocoData:
    """Every clip of every corpus, adult and child-like, with features and device rows."""

    utterances: dict[str, dict[str, list[Utterance]]]  # voice -> corpus -> clips
    features: dict[str, FeatureSet]  # voice -> batch window features of every corpus
    rows: dict[str, dict[str, list[np.ndarray]]]  # voice -> corpus -> device rows per clip


def load_loco_data(root: Path, names: Sequence[str], *, recipe: Recipe, child: bool, jobs: int,
                   cache_dir: Path | None, progress: bool) -> LocoData:  # fmt: skip
    """Load corpora, make child-like and channel-shifted copies, extract batch features and
    device rows (cached)."""
    from serdevice.train.channel import channel_copies
    from serdevice.train.childlike import childlike_copies

    adult = {
        name: load_spec(spec).utterances
        for name, spec in zip(names, corpus_specs(root, tuple(names)), strict=True)
    }
    voices = {"adult": adult}
    if child or recipe.childlike:
        every = [u for name in names for u in adult[name]]
        copies = childlike_copies(every, cache.folder("childlike", cache_dir), jobs=jobs,
                                  progress=progress)  # fmt: skip
        it = iter(copies)
        voices["child-like"] = {name: [next(it) for _ in adult[name]] for name in names}
    features, rows = {}, {}
    for voice, by_corpus in voices.items():
        if voice == "child-like" and not recipe.childlike:
            continue
        every = [u for name in names for u in by_corpus[name]]
        features[voice] = features_of(every, level=recipe.level, jobs=jobs, cache_dir=cache_dir,
                                      progress=progress, what=f"{voice} clips")  # fmt: skip
    scored = {"adult": voices["adult"]}
    shifted = iter(channel_copies([u for name in names for u in adult[name]],
                                  cache.folder("channel", cache_dir), jobs=jobs, progress=progress))  # fmt: skip
    scored["channel-shifted"] = {name: [next(shifted) for _ in adult[name]] for name in names}
    if child:  # child-like clips are scored on every CHILD_EVERY-th clip of each corpus
        scored["child-like"] = {n: voices["child-like"][n][::CHILD_EVERY] for n in names}
    for voice, by_corpus in scored.items():
        every = [u for name in names for u in by_corpus[name]]
        flat = device_speech_rows([u.path for u in every], jobs=jobs, cache_dir=cache_dir,
                                  progress=progress)  # fmt: skip
        it_rows = iter(flat)
        rows[voice] = {name: [next(it_rows) for _ in by_corpus[name]] for name in names}
    return LocoData(utterances=scored, features=features, rows=rows)


def training_rows(data: LocoData, corpora: Sequence[str], recipe: Recipe) -> FeatureSet:
    """The batch window rows a model of ``recipe`` trains on, from ``corpora`` only."""
    parts = [data.features["adult"]]
    if recipe.childlike:
        parts.append(data.features["child-like"])
    every = concat(parts)
    return every.subset(np.isin(every.corpus, list(corpora)))


def train_and_export(rows: FeatureSet, recipe: Recipe, *, method: str, run: Path,
                     tflite: Path, name: str, created: str = "",
                     parity_rows: FeatureSet | None = None) -> dict[str, Any]:  # fmt: skip
    """Train one model of the recipe on ``rows`` and export it quantized; the export's metrics."""
    from serdevice.train.trainer import TrainRequest, train_on

    from .exporter import export_run

    request = TrainRequest(method=method, specs=tuple(sorted(set(rows.corpus.tolist()))), out=run,
                           level=recipe.level, epochs=recipe.epochs, seed=recipe.seed,
                           normalization=recipe.normalization, recipe=recipe.to_json(),
                           metric_form=recipe.metric_form, weighting=recipe.weighting,
                           created=created)  # fmt: skip
    train_on(rows, request, progress=False)
    return export_run(run, tflite, quantization=recipe.quantization, created=created, name=name,
                      parity_data=parity_rows).metrics  # fmt: skip


def run_loco(
    root: Path,
    out: Path,
    *,
    recipe: Recipe,
    names: Sequence[str] = tuple(REAL_CORPORA),
    method: str = "dae-metric-act",
    child: bool = True,
    jobs: int = 2,
    cache_dir: Path | None = None,
    progress: bool = True,
    log: Any = print,
    extra_seeds: Sequence[int] = (),
) -> dict[str, Any]:
    """Run the benchmark; writes OUT/loco.json and OUT/loco.md and returns the results.

    The table is the recipe's own seed (what ``make model`` bundles). ``extra_seeds`` trains the
    same folds again with those seeds (the data loaded once): one training run is not one number,
    and the summary's ``seeds`` gives each seed's means and their mean, min and max.
    """
    if len(names) < 2:
        raise InputError("leave-one-corpus-out needs at least two corpora")
    started = time.time()
    data = load_loco_data(root, names, recipe=recipe, child=child, jobs=jobs,
                          cache_dir=cache_dir, progress=progress)  # fmt: skip
    log(f"data ready: {sum(len(v) for v in data.utterances['adult'].values())} clips "
        f"({time.time() - started:.0f} s)")  # fmt: skip
    voices = list(data.rows)
    per_seed: dict[str, dict[str, Any]] = {}
    for seed in (recipe.seed, *extra_seeds):
        extra = seed != recipe.seed
        prefix = f"seed {seed}: " if extra else ""
        per_seed[str(seed)] = _folds(
            data, names, replace(recipe, seed=seed), method, out / f"seed-{seed}" if extra else out,
            lambda line, p=prefix: log(f"{p}{line} ({time.time() - started:.0f} s)"))  # fmt: skip
    results = per_seed[str(recipe.seed)]
    summary = {
        "recipe": recipe.to_json(), "method": method, "corpora": list(names),
        "licences": {n: REAL_CORPORA.get(n, "see the corpus") for n in names},
        "per_corpus": results, "mean": mean_over(results, voices),
        "seconds": round(time.time() - started, 1),
        "date": time.strftime("%Y-%m-%d"),
    }  # fmt: skip
    if extra_seeds:
        means = {seed: mean_over(folds, voices) for seed, folds in per_seed.items()}
        summary["seeds"] = {"per_seed": means, "spread": seed_spread(means)}
    old = [n for n in FIRST_FIVE if n in names]
    if len(old) == len(FIRST_FIVE) < len(names):  # the old folds alone, to compare recipes
        five = {seed: mean_over({n: folds[n] for n in old}, voices)
                for seed, folds in per_seed.items()}  # fmt: skip
        summary["five_folds"] = {"corpora": old, "mean": five[str(recipe.seed)],
                                 "spread": seed_spread(five)}  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    (out / "loco.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    (out / "loco.md").write_text(markdown_table(summary), encoding="utf-8")
    plot_curve(summary, out / "curve.png")
    return summary


def _folds(data: LocoData, names: Sequence[str], recipe: Recipe, method: str, out: Path,
           log: Any) -> dict[str, Any]:  # fmt: skip
    """Each corpus held out once: train on the others, export, score the held-out clips."""
    from serdevice.device.stream.model import Model

    results: dict[str, Any] = {}
    for held in names:
        others = [n for n in names if n != held]
        tflite = out / "models" / f"{held}.tflite"
        export = train_and_export(training_rows(data, others, recipe), recipe, method=method,
                                  run=out / "runs" / held, tflite=tflite, name=f"loco_{held}")  # fmt: skip
        model = Model.load(tflite)
        intruder = second_voice(data, names, held)
        results[held] = {
            voice: evaluate_held_out(model, data.utterances[voice][held], data.rows[voice][held],
                                     seed=recipe.seed, second_voice=intruder)
            for voice in data.rows
        }  # fmt: skip
        results[held]["parity"] = export["parity"]
        adult = results[held]["adult"]
        log(f"{held}: adaptive N-S-A {adult['adaptive']['N-S-A']:.3f}, N-S-H-A "
            f"{adult['adaptive']['N-S-H-A']:.3f}, rho {adult['adaptive']['activation_rho']:.3f} "
            f"(plain {adult['plain']['N-S-A']:.3f}, oracle {adult['oracle']['N-S-A']:.3f}; "
            f"channel-shifted adaptive {results[held]['channel-shifted']['adaptive']['N-S-A']:.3f})")  # fmt: skip
    return results


def second_voice(data: LocoData, names: Sequence[str], held: str) -> list[np.ndarray]:
    """The rows of one speaker of the next corpus: the other voice a wearer's device hears."""
    other = names[(list(names).index(held) + 1) % len(names)]
    clips = data.utterances["adult"][other]
    first = min(u.split_group for u in clips)
    return [r for u, r in zip(clips, data.rows["adult"][other], strict=True)
            if u.split_group == first and len(r)]  # fmt: skip

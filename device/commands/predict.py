"""``serdevice predict``: one clip-level answer per file (mean scores over its speech windows)."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..contracts import InputError

CSV_COLUMNS = ("file", "label", "confidence", "activation", "n_windows", "duration_s", "reason")


def predict_file(path: Path, model: Any, normalizer: Any) -> dict[str, Any]:
    """Run the streaming pipeline over a file as fast as possible and summarise it."""
    from ..decision import DecisionConfig, softmax
    from ..events import EventFactory
    from ..runtime import ListenConfig, Listener
    from ..sinks import Fanout
    from ..sources import FileSource

    source = FileSource(path, realtime=False)
    factory = EventFactory(model.name)
    listener = Listener(model=model, normalizer=normalizer, fanout=Fanout([], factory.make),
                        factory=factory, keep_predictions=True,
                        config=ListenConfig(decision=DecisionConfig(every_hop=True)))  # fmt: skip
    summary = listener.run(source)
    result: dict[str, Any] = {"file": str(path), "label": None, "scores": {}, "activation": None,
                              "confidence": None, "n_windows": len(listener.predictions),
                              "duration_s": round(summary.audio_s, 3)}  # fmt: skip
    if not listener.predictions:
        result["reason"] = ("shorter than 0.5 s" if summary.audio_s < 0.5
                            else "no speech detected")  # fmt: skip
        return result
    scores = np.mean([p.scores for _, p in listener.predictions], axis=0)
    top = int(np.argmax(scores))
    result.update(
        label=model.labels[top],
        scores={label: round(float(s), 4) for label, s in zip(model.labels, scores, strict=True)},
        activation=round(float(np.mean([p.activation for _, p in listener.predictions])), 4),
        confidence=round(float(softmax(scores)[top]), 4),
    )
    return result


@click.command()
@click.option("--model", "model_name", default="dae_metric_act", show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option("--calibration", type=click.Path(path_type=Path), default=None)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def predict(model_name: str, fmt: str, calibration: Path | None, files: tuple[Path, ...]) -> None:
    """Clip-level emotion and activation for each of FILES (one JSON object, or CSV row, each).

    A file that cannot be read stops the run with a one-line error (exit 2), after every file
    before it has been printed.
    """
    from .listen import make_normalizer, open_model

    model = open_model(model_name)
    normalizer = make_normalizer(model, calibration)
    writer = (
        csv.DictWriter(sys.stdout, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        if fmt == "csv"
        else None
    )
    if writer is not None:
        writer.writeheader()
    for path in files:
        if path.is_dir():
            raise InputError(f"{path}: is a directory, not an audio file")
        result = predict_file(path, model, normalizer)
        if writer is not None:
            writer.writerow({**result, "reason": result.get("reason", "")})
        else:
            click.echo(json.dumps(result))
        sys.stdout.flush()

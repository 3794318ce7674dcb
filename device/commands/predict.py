"""``serdevice predict``: one clip-level answer per file (mean scores over its speech windows)."""

from __future__ import annotations

import csv
import json
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..stream.contracts import InputError
from ..stream.model import DEFAULT_MODEL

CSV_COLUMNS = ("file", "label", "confidence", "activation", "n_windows", "duration_s", "reason")


# Clips run this many at a time: openSMILE works (and waits for its own thread) in C without
# the GIL, so a few threads keep both cores busy; results come out in the order of FILES.
PARALLEL_FILES = 4


def predict_file(path: Path, model: Any, normalizer: Any) -> dict[str, Any]:
    """Run the pipeline over a file as fast as possible and summarise it (one file's answer)."""
    from ..stream.decision import DecisionConfig, softmax
    from ..stream.pipeline import PipelineConfig
    from ..stream.runtime import ListenConfig, Stream
    from ..stream.sources import FileSource

    if path.is_dir():
        raise InputError(f"{path}: is a directory, not an audio file")
    source = FileSource(path, realtime=False)
    predictions: list[Any] = []
    every_hop = ListenConfig(pipeline=PipelineConfig(decision=DecisionConfig(every_hop=True)))
    stream = Stream.of(model, normalizer, config=every_hop, defer_features=True,
                       on_speech=[lambda row, answer: predictions.append(answer)])  # fmt: skip
    summary = stream.run(source)
    result: dict[str, Any] = {"file": str(path), "label": None, "scores": {}, "activation": None,
                              "confidence": None, "n_windows": len(predictions),
                              "duration_s": round(summary.audio_s, 3)}  # fmt: skip
    if normalizer.windows is not None:  # --adapt: what the wearer's statistics rest on so far
        result["norm_windows"] = normalizer.windows
    if not predictions:
        result["reason"] = ("shorter than 0.5 s" if summary.audio_s < 0.5
                            else "no speech detected")  # fmt: skip
        return result
    scores = np.mean([p.scores for p in predictions], axis=0)
    top = int(np.argmax(scores))
    result.update(
        label=model.labels[top],
        scores={label: round(float(s), 4) for label, s in zip(model.labels, scores, strict=True)},
        activation=round(float(np.mean([p.activation for p in predictions])), 4),
        confidence=round(float(softmax(scores)[top]), 4),
    )
    return result


def predict_files(
    files: Iterable[Path], model: Any, normalizer: Any, *, parallel: int = PARALLEL_FILES
) -> Iterator[dict[str, Any]]:
    """``predict_file`` of each file, in order, ``parallel`` at a time; the first error raises
    once every file before it has been yielded."""
    from concurrent.futures import Future, ThreadPoolExecutor

    pending: deque[Future[dict[str, Any]]] = deque()
    paths = iter(files)
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="predict") as pool:
        try:
            for path in paths:
                pending.append(pool.submit(predict_file, path, model, normalizer))
                if len(pending) >= parallel:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


@click.command()
@click.option("--model", "model_name", default=DEFAULT_MODEL, show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option("--calibration", type=click.Path(path_type=Path), default=None,
              help="A wearer's calibration file (serdevice calibrate), used as it is.")  # fmt: skip
@click.option("--adapt", is_flag=True,
              help="FILES are one wearer's recordings, in this order: adapt across them as "
              "listen does (from --state if given, else from nothing heard).")  # fmt: skip
@click.option("--state", type=click.Path(path_type=Path), default=None,
              help="With --adapt: an adaptation state (or a serdevice calibrate file) to start "
              "from, updated with what FILES taught [default: none, from nothing heard].")  # fmt: skip
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def predict(model_name: str, fmt: str, calibration: Path | None, adapt: bool, state: Path | None,
            files: tuple[Path, ...]) -> None:  # fmt: skip
    """Clip-level emotion and activation for each of FILES (one JSON object, or CSV row, each).

    Without --adapt each file is answered on its own with the model's statistics (or
    --calibration's). With --adapt the files are one wearer, in the given order; --state seeds
    the adaptation from a file and keeps it there afterwards.

    A file that cannot be read stops the run with a one-line error (exit 2), after every file
    before it has been printed (and, with --adapt --state, what they taught is saved).
    """
    from .listen import open_model
    from .normalization import choose_normalization

    if state is not None and not adapt:
        raise InputError("--state needs --adapt (without it each file is answered on its own)")
    if calibration is not None and adapt:
        raise InputError("--calibration fixes the statistics; to adapt from a calibration, give "
                         "it as --adapt --state FILE")  # fmt: skip
    model = open_model(model_name)
    norm = choose_normalization(model, calibration=calibration, state=state, no_adapt=not adapt,
                                freeze=False, default_state=False)  # fmt: skip
    if norm.problem is not None:
        click.echo(f"serdevice: warning: {norm.problem}", err=True)
    keeper = norm.keeper(model, lambda message: click.echo(f"serdevice: {message}", err=True))
    try:
        _print_results(predict_files(files, model, norm.normalizer, parallel=1 if adapt else
                                     PARALLEL_FILES), fmt)  # fmt: skip
    finally:
        if keeper is not None:
            keeper.save()


def _print_results(results: Iterator[dict[str, Any]], fmt: str) -> None:
    writer = (
        csv.DictWriter(sys.stdout, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        if fmt == "csv"
        else None
    )
    if writer is not None:
        writer.writeheader()
    for result in results:
        if writer is not None:
            writer.writerow({**result, "reason": result.get("reason", "")})
        else:
            click.echo(json.dumps(result))
        sys.stdout.flush()

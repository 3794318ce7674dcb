"""``make model CORPORA=DIR``: rebuild the bundled models from real corpora, deterministically.

DIR holds one folder per corpus (``serdevice.train.recipe.REAL_CORPORA``: ravdess, tess, savee,
urdu, emovo, ased, nemo, emotiontts, as in ../shared/corpora): train dae-metric-act,
dae-metric-val and vae-cluster with the bundled recipe (``BUNDLED_RECIPE``) on every corpus's 2 s
windows, except the PARITY_SPEAKERS' (and child-like copies of them where the recipe asks), then
export them as the recipe says (int8 weights, int16 activations) into device/models/ with parity
measured on those unseen speakers' windows. The sidecar records the corpora, their licences, the recipe and
the leave-one-corpus-out figures of ``serdevice loco`` (export/loco_figures.json, the run the
README quotes). Paths recorded are relative and ``created`` comes from SOURCE_DATE_EPOCH (default:
a fixed date), so two runs write byte-identical files. Run from the repository root:
``python -m serdevice.export.bundle --corpora ../shared/corpora``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

BUNDLED = (("dae_metric_act", "dae-metric-act"), ("dae_metric_val", "dae-metric-val"),
           ("vae_cluster", "vae-cluster"))  # fmt: skip
DEFAULT_EPOCH = 1_764_000_000  # 2025-11-24, a fixed stamp for reproducible files
# Speakers no bundled model trains on, so parity is measured on voices it never heard:
# one woman and one man of RAVDESS (English) and of EMOVO (Italian).
PARITY_SPEAKERS = ("ravdess:23", "ravdess:24", "emovo:f3", "emovo:m3")
LOCO_FIGURES = Path(__file__).with_name("loco_figures.json")


def created_stamp() -> str:
    """ISO time from SOURCE_DATE_EPOCH, or the fixed default."""
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")


def loco_figures(path: Path) -> dict[str, object] | None:
    """The LOCO run's summary kept in the sidecar (means and per-corpus N-S-A/N-S-H-A/rho, and
    the spread over training seeds when the run had several)."""
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    kept = {key: data[key] for key in ("date", "recipe", "method", "mean", "per_corpus", "seeds")
            if key in data}  # fmt: skip
    for voices in kept.get("per_corpus", {}).values():  # the curve per corpus stays in loco.json
        for modes in voices.values():
            if isinstance(modes, dict) and isinstance(modes.get("adaptive"), dict):
                modes["adaptive"].pop("curve", None)
    return kept


def main(argv: list[str] | None = None) -> int:
    """Train and export the bundled models from a corpora folder."""
    import numpy as np
    import torch

    from serdevice.device.stream.contracts import InputError
    from serdevice.export.loco import load_loco_data, train_and_export, training_rows
    from serdevice.export.parity import parity_failures
    from serdevice.train.recipe import BUNDLED_RECIPE, REAL_CORPORA

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, required=True,
                        help="folder with one folder per corpus (ravdess, tess, ..., emotiontts)")  # fmt: skip
    parser.add_argument("--runs", type=Path, default=Path("runs/bundled"))
    parser.add_argument("--out", type=Path, default=Path("device/models"))
    parser.add_argument("--loco", type=Path, default=LOCO_FIGURES,
                        help="serdevice loco's loco.json whose figures the sidecars record")  # fmt: skip
    args = parser.parse_args(argv)
    names = tuple(REAL_CORPORA)
    missing = [n for n in names if not (args.corpora / n).is_dir()]
    if missing:
        print(f"make model: {args.corpora} lacks {', '.join(missing)} (set CORPORA=DIR, a folder "
              f"with {', '.join(names)})", file=sys.stderr)  # fmt: skip
        return 2
    torch.set_num_threads(1)
    started = time.time()
    recipe = BUNDLED_RECIPE
    try:
        data = load_loco_data(args.corpora, names, recipe=recipe, child=False, jobs=2,
                              cache_dir=None, progress=False)  # fmt: skip
    except InputError as exc:
        print(f"make model: {exc}", file=sys.stderr)
        return 2
    rows = training_rows(data, names, recipe)
    unseen = np.isin(rows.group, PARITY_SPEAKERS)
    adult = data.features["adult"]
    parity_rows = adult.subset(np.isin(adult.group, PARITY_SPEAKERS))
    loco = loco_figures(args.loco)
    for name, method in BUNDLED:
        tflite = args.out / f"{name}.tflite"
        metrics = train_and_export(rows.subset(~unseen), recipe, method=method,
                                   run=args.runs / name, tflite=tflite, name=name,
                                   created=created_stamp(), parity_rows=parity_rows)  # fmt: skip
        record_provenance(tflite.with_suffix(".json"), corpora=names, loco=loco)
        parity = metrics["parity"]
        print(f"{name}: {int((~unseen).sum())} windows; {metrics['size_bytes']} bytes; parity on "
              f"{parity['n_held_out']} windows of unseen speakers: argmax agreement "
              f"{parity['argmax_agreement']:.3f}, balanced accuracy "
              f"{parity['balanced_accuracy_float']:.3f} float / {parity['balanced_accuracy_tflite']:.3f} "
              f"{recipe.quantization}, activation error max {parity['activation_max_abs_error']:.3f} "
              f"({time.time() - started:.0f} s)", file=sys.stderr)  # fmt: skip
        for problem in parity_failures(parity):
            print(f"{name}: parity below target: {problem}", file=sys.stderr)
    return 0


def record_provenance(sidecar_path: Path, *, corpora: tuple[str, ...], loco: object) -> None:
    """Add the licences, the unseen parity speakers and the LOCO figures to a written sidecar."""
    from serdevice.device.stream.files import write_atomically
    from serdevice.device.stream.sidecar import validate
    from serdevice.train.recipe import REAL_CORPORA

    sidecar = json.loads(sidecar_path.read_text(encoding="utf-8"))
    sidecar["training"]["corpora"] = list(corpora)
    sidecar["training"]["licences"] = {name: REAL_CORPORA[name] for name in corpora}
    sidecar["training"]["licence_note"] = (
        "trained on these corpora: non-commercial research use only, as their licences say"
    )
    sidecar["training"]["parity_speakers"] = list(PARITY_SPEAKERS)
    sidecar["metrics"]["parity_on"] = f"unseen speakers {', '.join(PARITY_SPEAKERS)}"
    if loco is not None:
        sidecar["metrics"]["loco"] = loco
    validate(sidecar)
    write_atomically(sidecar_path, (json.dumps(sidecar, indent=1) + "\n").encode())


if __name__ == "__main__":
    sys.exit(main())

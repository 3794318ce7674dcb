"""``make model``: regenerate the bundled models from scratch, deterministically.

synthetic corpus (seed 0) -> train dae-metric-act, dae-metric-val, vae-cluster on the device's
2 s windows of every synthetic language -> int8 export into device/models/. Run from the
repository root: ``python -m serdevice.export.bundle``. Paths recorded in the sidecars are
relative and ``created`` comes from SOURCE_DATE_EPOCH (default: a fixed date), so two runs
write byte-identical files.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from serdevice.train.defaults import DEFAULT_EPOCHS

BUNDLED = (("dae_metric_act", "dae-metric-act"), ("dae_metric_val", "dae-metric-val"),
           ("vae_cluster", "vae-cluster"))  # fmt: skip
DEFAULT_EPOCH = 1_764_000_000  # 2025-11-24, a fixed stamp for reproducible files


def created_stamp() -> str:
    """ISO time from SOURCE_DATE_EPOCH, or the fixed default."""
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")


def main(argv: list[str] | None = None) -> int:
    """Generate, train and export the bundled models."""
    import torch

    from serdevice.export.exporter import export_run
    from serdevice.export.parity import parity_failures
    from serdevice.train.corpora.generate import generate
    from serdevice.train.trainer import TrainRequest, train_run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("cache/synth-default"))
    parser.add_argument("--runs", type=Path, default=Path("runs/bundled"))
    parser.add_argument("--out", type=Path, default=Path("device/models"))
    parser.add_argument("--level", choices=("clip", "window"), default="window")
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    started = time.time()
    if not (args.corpus / "manifest.csv").is_file():
        print(f"generating the synthetic corpus into {args.corpus} ...", file=sys.stderr)
        generate(args.corpus, progress=False)
    for name, method in BUNDLED:
        run = args.runs / name
        metrics = train_run(TrainRequest(method=method, specs=(f"synth:{args.corpus}",), out=run,
                                         level=args.level, epochs=args.epochs,
                                         created=created_stamp()), progress=False)  # fmt: skip
        result = export_run(run, args.out / f"{name}.tflite", created=created_stamp(), name=name)
        parity = result.metrics["parity"]
        print(f"{name}: {metrics['n_train']} windows, train balanced accuracy "
              f"{metrics['train_balanced_accuracy']:.3f}; {result.size_bytes} bytes; argmax "
              f"agreement {parity['argmax_agreement']:.3f}, activation error max "
              f"{parity['activation_max_abs_error']:.3f} ({time.time() - started:.0f} s)",
              file=sys.stderr)  # fmt: skip
        for problem in parity_failures(parity):
            # Reported, not fatal: the known int8 argmax gap is documented in the README.
            print(f"{name}: parity below target: {problem}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How ``listen`` and ``predict`` normalize: online adaptation (the default), a fixed
calibration, or the model's own statistics; the adaptation state file and its keeper."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..stream.contracts import InputError


def make_normalizer(model: Any, calibration: Path | None) -> Any:
    """The sidecar's statistics, or a wearer's calibration file tied to this model."""
    from ..stream.normalize import Normalizer

    if calibration is None:
        return Normalizer.for_model(model)
    from ..stream.calibration import load_calibration

    calib = load_calibration(calibration, model)
    return Normalizer(calib.mean, calib.std, model.sidecar.input_clip)


@dataclass(frozen=True, slots=True, kw_only=True)
class Normalization:
    """How ``listen`` / ``predict`` normalize: the normalizer, its state file, what to report."""

    normalizer: Any
    state: Any = None  # state.StateFile when adapting (or frozen)
    problem: str | None = None  # the state file was bad and was set aside
    adaptation: dict[str, Any] | None = None  # the start event's note

    def keeper(self, model: Any, report: Any) -> Any:
        """A StateKeeper that writes the state while adapting (None when frozen or off)."""
        if self.state is None or self.normalizer.frozen:
            return None
        from ..stream.state import StateKeeper

        return StateKeeper(self.state, self.normalizer, model, report)


def choose_normalization(model: Any, *, calibration: Path | None, state: Path | None,
                         no_adapt: bool, freeze: bool,
                         default_state: bool = True) -> Normalization:  # fmt: skip
    """--calibration (fixed), --no-adapt (the sidecar's), or adaptation from --state (without
    it: the default state file, or with ``default_state=False`` none, from nothing heard)."""
    if calibration is not None and (state is not None or freeze):
        raise InputError("--calibration fixes the statistics; to adapt from a calibration, give "
                         "it as --state FILE")  # fmt: skip
    if no_adapt and (state is not None or freeze):
        raise InputError("--no-adapt uses the model's own statistics: drop --state / --freeze")
    if calibration is not None or no_adapt:
        return Normalization(normalizer=make_normalizer(model, calibration),
                             adaptation={"mode": "off"})  # fmt: skip
    from ..stream.adaptation import ADAPTED_WINDOWS, AdaptiveNormalizer
    from ..stream.state import StateFile, default_state_path

    if state is None and not default_state:
        sidecar = model.sidecar
        fresh = AdaptiveNormalizer(sidecar.norm_mean, sidecar.norm_std, sidecar.input_clip)
        return Normalization(normalizer=fresh, adaptation={"mode": "adaptive", "state": None})
    path = state if state is not None else default_state_path(model.name)
    if path.is_dir():
        raise InputError(f"--state {path}: is a directory, not a state file")
    if freeze and not path.exists():
        raise InputError(f"--freeze: no adaptation state at {path} (give --state FILE)")
    file = StateFile(path)
    normalizer, problem = file.load(model, frozen=freeze)
    note = {"mode": "frozen" if freeze else "adaptive", "state": str(path),
            "n_windows": normalizer.windows, "weight": round(normalizer.stats.weight, 4),
            "adapted_windows": ADAPTED_WINDOWS}  # fmt: skip
    return Normalization(normalizer=normalizer, state=file, problem=problem, adaptation=note)

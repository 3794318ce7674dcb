"""The adaptation state on disk: the wearer's running statistics, kept across restarts.

``listen`` adapts to its wearer (``adaptation.py``); ``StateFile`` makes that survive a restart
or a power cut: the state is loaded at start, written atomically (a temporary file, then
rename) every ``SAVE_EVERY_S`` seconds of wall time while speech is heard, and at stop. It holds
feature statistics only, never audio, in the calibration file format (``calibration.py``), so a
``serdevice calibrate`` file can seed it. A state that cannot be read, or was made for other
features, is moved aside (``NAME.bad-<time>``) with one message, and adaptation starts afresh:
a bad state never stops the device.

Default path: one file per model in the user's state directory, ``$STATE_DIRECTORY`` (what
systemd's ``StateDirectory=`` sets) or ``$XDG_STATE_HOME/serdevice`` or
``~/.local/state/serdevice``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .adaptation import DEFAULT_ADAPT, AdaptConfig, AdaptiveNormalizer, RunningStats
from .calibration import Calibration, now, read_calibration, write_calibration
from .contracts import InputError, RuntimeFailure

if TYPE_CHECKING:
    from .model import Model

SAVE_EVERY_S = 120.0  # a power cut loses at most two minutes of adaptation


def default_state_path(model_name: str) -> Path:
    """``<state directory>/<model>.state.json``."""
    base = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if not base:
        xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        base = str(Path(xdg) / "serdevice")
    return Path(base) / f"{model_name}.state.json"


def stats_from(calibration: Calibration, config: AdaptConfig = DEFAULT_ADAPT) -> RunningStats:
    """Running statistics that continue from a state or calibration file."""
    mean = calibration.mean if calibration.wearer_mean is None else calibration.wearer_mean
    std = calibration.std if calibration.wearer_std is None else calibration.wearer_std
    return RunningStats(calibration.n_windows, mean, std.astype("float64") ** 2, config=config)


def to_calibration(normalizer: AdaptiveNormalizer, model: Model, created: str) -> Calibration:
    """The normalizer's state in the calibration format."""
    stats = normalizer.stats
    return Calibration(
        mean=normalizer.mean_, std=normalizer.std_, n_windows=stats.n,
        prior_windows=stats.config.prior_windows, weight=stats.weight, model_name=model.name,
        model_sha256=model.sidecar.tflite_sha256, created=created or now(), updated=now(),
        wearer_mean=stats.mean.astype("float32"), wearer_std=stats.var.clip(0) ** 0.5,
    )  # fmt: skip


class StateFile:
    """Load, keep and save one wearer's adaptation state (thread-compatible: one writer)."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.created = ""
        self._clock = clock
        self._saved_at = clock()
        self._saved_n = -1

    def load(self, model: Model, *, frozen: bool = False,
             config: AdaptConfig = DEFAULT_ADAPT) -> tuple[AdaptiveNormalizer, str | None]:  # fmt: skip
        """The normalizer to start with, and a message when the file had to be set aside."""
        sidecar = model.sidecar
        stats, problem = RunningStats(config=config), None
        if self.path.exists():
            try:
                calibration = read_calibration(self.path)
                stats, self.created = stats_from(calibration, config), calibration.created
                self._saved_n = calibration.n_windows
            except InputError as exc:
                problem = f"adaptation state {self.path}: {exc}; {self._set_aside()}"
        normalizer = AdaptiveNormalizer(sidecar.norm_mean, sidecar.norm_std, sidecar.input_clip,
                                        stats=stats, frozen=frozen)  # fmt: skip
        return normalizer, problem

    def _set_aside(self) -> str:
        aside = self.path.with_name(f"{self.path.name}.bad-{time.strftime('%Y%m%dT%H%M%S')}")
        try:
            os.replace(self.path, aside)
        except OSError as exc:
            return f"could not move it aside ({exc.strerror or exc}); adapting afresh"
        return f"moved aside to {aside.name}; adapting afresh"

    def save(self, normalizer: AdaptiveNormalizer, model: Model) -> bool:
        """Write the state now if it changed since the last write (RuntimeFailure if it cannot)."""
        self._saved_at = self._clock()
        if normalizer.stats.n == self._saved_n:
            return False
        write_calibration(to_calibration(normalizer, model, self.created), self.path)
        self._saved_n = normalizer.stats.n
        return True

    def save_due(self) -> bool:
        """``SAVE_EVERY_S`` have passed since the last write."""
        return self._clock() - self._saved_at >= SAVE_EVERY_S


class StateKeeper:
    """Saves the state every few minutes from the stream and at the end; a failed write becomes
    one ``report``ed message (per kind of failure), never a stop."""

    def __init__(self, state: StateFile, normalizer: AdaptiveNormalizer, model: Model,
                 report: Callable[[str], None]) -> None:  # fmt: skip
        self.state, self.normalizer, self.model = state, normalizer, model
        self._report = report
        self._last_problem = ""

    def after_window(self) -> None:
        """Called after each window: write when due."""
        if self.state.save_due():
            self.save()

    def save(self, *, report: bool = True) -> None:
        """Write now (if anything changed); ``report=False`` once the stream has ended."""
        try:
            self.state.save(self.normalizer, self.model)
        except RuntimeFailure as exc:
            if report and str(exc) != self._last_problem:
                self._last_problem = str(exc)
                self._report(f"adaptation state not saved: {exc}")
        else:
            self._last_problem = ""

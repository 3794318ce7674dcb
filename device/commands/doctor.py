"""``serdevice doctor``: can this machine run the recognizer? A table of checks, exit 0 or 1.

Each check is a small function returning ``Check`` rows; ``fail`` means ``listen`` cannot run,
``warn`` means it can but something deserves a look (no microphone is a warning: files and
stdin still work). Never imports torch or sklearn.
"""

from __future__ import annotations

import importlib.util
import json
import platform
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import click

from ..sinks.mqtt import MqttSettings
from .mqtt_options import mqtt_options

OK, WARN, FAIL = "ok", "warn", "FAIL"
# (import name, distributions that provide it); the optional one only warns when missing.
REQUIRED = (("numpy", ("numpy",)), ("click", ("click",)), ("opensmile", ("opensmile",)),
            ("soundfile", ("soundfile",)), ("soxr", ("soxr",)), ("sounddevice", ("sounddevice",)),
            ("webrtcvad", ("webrtcvad-wheels", "webrtcvad")))  # fmt: skip
OPTIONAL = (("paho", ("paho-mqtt",)),)
LEVEL_CHECK_S = 1.0
FIRST_CALLBACK_TIMEOUT_S = 5.0  # PulseAudio's first callback was measured at up to ~2 s


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One row of the table."""

    name: str
    status: str  # ok / warn / FAIL
    detail: str


def check_python() -> list[Check]:
    """Python 3.10 or newer."""
    ok = sys.version_info >= (3, 10)
    return [Check(name="python", status=OK if ok else FAIL,
                  detail=f"{platform.python_version()} on {platform.machine()}")]  # fmt: skip


def package_version(name: str) -> str | None:
    """Installed version of a distribution, or None."""
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def module_version(module: str, dists: tuple[str, ...]) -> str | None:
    """Version of the first distribution providing ``module``, if the module is importable."""
    if importlib.util.find_spec(module) is None:
        return None
    return next((v for v in map(package_version, dists) if v), "installed")


def check_packages() -> list[Check]:
    """The [device] packages are installed (MQTT is optional)."""
    rows = []
    for (module, dists), missing in [(r, FAIL) for r in REQUIRED] + [(o, WARN) for o in OPTIONAL]:
        found = module_version(module, dists)
        rows.append(Check(name=f"package {dists[0]}", status=OK if found else missing,
                          detail=found or "not installed: pip install 'serdevice[device]'"))  # fmt: skip
    return rows


def check_backend() -> list[Check]:
    """Which LiteRT interpreter loads."""
    from ..stream.contracts import RuntimeFailure
    from ..stream.model import backend_module

    try:
        _, backend = backend_module()
    except RuntimeFailure as exc:
        return [Check(name="litert backend", status=FAIL, detail=str(exc))]
    dist = {"ai_edge_litert": "ai-edge-litert", "tflite_runtime": "tflite-runtime"}.get(backend)
    shown = f"{backend} {package_version(dist) or ''}".strip() if dist else backend
    return [Check(name="litert backend", status=OK, detail=shown)]


def check_features() -> list[Check]:
    """openSMILE's binding loads and the streaming extractor gives 88 values for a test tone."""
    import numpy as np

    from ..stream.contracts import N_FEATURES, SAMPLE_RATE
    from ..stream.features import extract_windows

    t = np.arange(int(2.5 * SAMPLE_RATE)) / SAMPLE_RATE
    tone = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    try:
        rows = extract_windows(tone.astype(np.float32))
    except Exception as exc:  # noqa: BLE001 - any failure here means listen cannot run
        return [Check(name="features", status=FAIL, detail=f"{type(exc).__name__}: {exc}")]
    ok = bool(rows) and rows[0].values.shape == (N_FEATURES,)
    detail = f"streaming eGeMAPSv02, {N_FEATURES} values" if ok else "no feature row came out"
    return [Check(name="features", status=OK if ok else FAIL, detail=detail)]


def check_model(name: str, *, bundled: bool) -> list[Check]:
    """A model loads and verifies; its opensmile version matches the installed one."""
    from ..stream.contracts import InputError, RuntimeFailure
    from ..stream.features import opensmile_version
    from ..stream.model import Model

    label = f"model {name}" + (" (bundled)" if bundled else "")
    try:
        model = Model.load(name)
    except (InputError, RuntimeFailure) as exc:
        return [Check(name=label, status=FAIL, detail=str(exc))]
    rows = [Check(name=label, status=OK,
                  detail=f"verified ({model.sidecar.quantization}, {model.path.stat().st_size} B)")]  # fmt: skip
    installed, trained = opensmile_version(), model.sidecar.opensmile_version
    same = installed == trained
    rows.append(Check(name=f"opensmile for {model.name}", status=OK if same else WARN,
                      detail=f"installed {installed}, model trained with {trained}"
                      + ("" if same else " (features may differ slightly)")))  # fmt: skip
    return rows


def check_models(extra: tuple[str, ...]) -> list[Check]:
    """Every bundled model, then each --model given."""
    from ..stream.model import bundled_models

    paths = bundled_models()
    if not paths:
        return [Check(name="bundled models", status=FAIL, detail="none installed")]
    rows = [row for p in paths for row in check_model(p.stem, bundled=True)]
    return rows + [row for name in extra for row in check_model(name, bundled=False)]


def check_output(folder: Path) -> list[Check]:
    """Events can be written into ``folder`` (a temporary file is created and removed)."""
    name = f"write access {folder}"
    if not folder.is_dir():
        return [Check(name=name, status=FAIL, detail="not an existing folder")]
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return [Check(name=name, status=FAIL, detail=exc.strerror or str(exc))]
    return [Check(name=name, status=OK, detail="writable")]


def measure_level(device: int | None, rate: int, seconds: float) -> float:
    """RMS in dBFS of ``seconds`` captured from ``device`` (raises on failure or timeout)."""
    import numpy as np
    import sounddevice

    blocks: list[np.ndarray] = []
    done = threading.Event()
    wanted = int(rate * seconds)

    def callback(indata: np.ndarray, frames: int, time_info: object, status: object) -> None:
        blocks.append(indata[:, 0].copy())
        if sum(len(b) for b in blocks) >= wanted:
            done.set()

    with sounddevice.InputStream(device=device, channels=1, samplerate=rate, dtype="float32",
                                 callback=callback):  # fmt: skip
        if not done.wait(seconds + FIRST_CALLBACK_TIMEOUT_S):
            raise TimeoutError(f"no audio within {seconds + FIRST_CALLBACK_TIMEOUT_S:.0f} s")
    audio = np.concatenate(blocks)[:wanted]
    return float(20 * np.log10(np.sqrt(np.mean(audio.astype(np.float64) ** 2)) + 1e-12))


def check_capture(device: str | None, level_check: bool) -> list[Check]:
    """PortAudio loads, a capture device exists, and 1 s from it has a sane level."""
    from ..stream.contracts import InputError, RuntimeFailure
    from ..stream.microphone import find_input_device, input_devices

    try:
        devices = input_devices()
    except RuntimeFailure as exc:
        return [Check(name="portaudio", status=FAIL, detail=str(exc))]
    import sounddevice

    rows = [Check(name="portaudio", status=OK, detail=sounddevice.get_portaudio_version()[1])]
    if not devices:
        return rows + [Check(name="microphone", status=WARN,
                             detail="no capture device found (files and stdin still work)")]  # fmt: skip
    try:
        index, info = find_input_device(device)
    except InputError as exc:
        status = FAIL if device is not None else WARN
        return rows + [Check(name="microphone", status=status, detail=str(exc))]
    rows.append(Check(name="microphone", status=OK,
                      detail=f"{info['name']} ({len(devices)} capture device(s))"))  # fmt: skip
    if level_check:
        rows.append(check_level(index, int(float(str(info["default_samplerate"])))))
    return rows


def check_level(index: int | None, rate: int) -> Check:
    """1 s from the microphone: silent (muted?) or clipping is a warning."""
    try:
        db = measure_level(index, rate, LEVEL_CHECK_S)
    except Exception as exc:  # noqa: BLE001 - PortAudio's errors are many; all mean "look here"
        return Check(name="mic level (1 s)", status=WARN, detail=f"cannot record: {exc}")
    if db < -80:
        return Check(name="mic level (1 s)", status=WARN, detail=f"{db:.1f} dBFS: silent, muted?")
    if db > -3:
        return Check(name="mic level (1 s)", status=WARN, detail=f"{db:.1f} dBFS: clipping")
    return Check(name="mic level (1 s)", status=OK, detail=f"{db:.1f} dBFS")


def check_broker(settings: MqttSettings | None) -> list[Check]:
    """The MQTT broker (only with --mqtt): reachable, TLS verified, credentials accepted."""
    if settings is None:
        return []
    from ..sinks.mqtt import probe

    status = {True: OK, None: WARN, False: FAIL}
    return [Check(name=name, status=status[ok], detail=detail)
            for name, ok, detail in probe(settings)]  # fmt: skip


def run_checks(*, models: tuple[str, ...] = (), output: Path = Path("."),
               device: str | None = None, level_check: bool = True,
               mqtt: MqttSettings | None = None) -> list[Check]:  # fmt: skip
    """All checks, in table order; a check that crashes becomes a FAIL row, not a traceback."""
    steps: list[tuple[str, Callable[[], list[Check]]]] = [
        ("python", check_python),
        ("packages", check_packages),
        ("litert backend", check_backend),
        ("features", check_features),
        ("models", lambda: check_models(models)),
        ("output", lambda: check_output(output)),
        ("capture", lambda: check_capture(device, level_check)),
        ("mqtt", lambda: check_broker(mqtt)),
    ]
    rows: list[Check] = []
    for name, step in steps:
        try:
            rows += step()
        except Exception as exc:  # noqa: BLE001 - report, keep checking the rest
            rows.append(Check(name=name, status=FAIL, detail=f"{type(exc).__name__}: {exc}"))
    return rows


def format_table(rows: list[Check]) -> str:
    """Aligned columns: check, status, detail."""
    width = max(len(r.name) for r in rows)
    return "\n".join(f"{r.name:<{width}}  {r.status:<4}  {r.detail}" for r in rows)


def verdict(rows: list[Check]) -> bool:
    """True when nothing failed."""
    return all(r.status != FAIL for r in rows)


@click.command()
@click.option("--model", "models", multiple=True,
              help="Also verify this model (path or bundled name); repeatable.")  # fmt: skip
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Folder where events will be written (checked for write access).",
)
@click.option("--device", default=None, help="Capture device to check (index or name substring).")
@click.option("--no-level-check", is_flag=True, help="Skip recording 1 s from the microphone.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@click.option("--mqtt", default=None,
              help="Also check this broker (as listen --mqtt would use it): reachable, TLS, login.")  # fmt: skip
@mqtt_options
def doctor(models: tuple[str, ...], output: Path, device: str | None, no_level_check: bool,
           as_json: bool, mqtt: str | None) -> None:  # fmt: skip
    """Check that this machine can run the recognizer: exit 0 if it can, 1 if not.

    Checks Python and package versions, the LiteRT backend, the feature extractor, the bundled
    (and --model) models, opensmile versions, write access for outputs, PortAudio and capture
    devices, with a 1 s level check when a microphone exists (no microphone is a warning),
    and with --mqtt the broker: reachable, TLS (certificate and host name), login.
    """
    from .mqtt_options import settings_from_context

    settings = settings_from_context(mqtt) if mqtt is not None else None  # bad options: exit 2
    rows = run_checks(models=models, output=output, device=device, level_check=not no_level_check,
                      mqtt=settings)  # fmt: skip
    ok = verdict(rows)
    if as_json:
        report: dict[str, Any] = {"ok": ok, "checks": [asdict(r) for r in rows]}
        click.echo(json.dumps(report))
    else:
        click.echo(format_table(rows))
        click.echo("ready: this machine can run serdevice" if ok else "NOT ready: see FAIL rows")
    if not ok:
        raise SystemExit(1)

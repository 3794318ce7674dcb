"""``serdevice service install|uninstall|status|unit``: run the recognizer as a systemd service."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .mqtt_options import mqtt_options

if TYPE_CHECKING:
    from ..deployment.service import MqttService


def _default_executable() -> str:
    """The ``serdevice`` script beside this interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).with_name("serdevice")
    if beside.is_file():
        return str(beside)
    return shutil.which("serdevice") or "/opt/serdevice/venv/bin/serdevice"


@click.group()
def service() -> None:
    """Install, remove or inspect the systemd service (deploy/README.md has the manual steps)."""


def _config_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options that shape the unit, shared by ``unit`` and ``install``."""
    options = [
        click.option("--model", "model_name", default="dae_metric_act", show_default=True,
                     help="Model the service listens with (bundled name or absolute path)."),
        click.option("--source", default="mic", show_default=True, help="mic or an audio FILE."),
        click.option("--device", default=None, help="Capture device: index or name substring."),
        click.option("--calibration", type=click.Path(path_type=Path), default=None,
                     help="A wearer's calibration file (absolute path)."),
        click.option("--output", type=click.Path(path_type=Path),
                     default=Path("/var/lib/serdevice/events.jsonl"), show_default=True,
                     help="The JSONL events file (its folder becomes writable to the service)."),
        click.option("--executable", default=None,
                     help="Absolute path of serdevice (default: this installation's)."),
        click.option("--mqtt", default=None,
                     help="Also publish to this broker (listen --mqtt); with the --mqtt-* options "
                     "below. The password file becomes a systemd credential."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return mqtt_options(command)


def _mqtt_service(url: str) -> MqttService:
    """The unit's MQTT options, checked as listen would check them (absolute paths)."""
    from ..deployment.service import MqttService
    from ..stream.contracts import InputError
    from .mqtt_options import settings_from_context

    settings_from_context(url)  # the same refusals as listen: plaintext elsewhere, files, ...
    meta = click.get_current_context().meta.get("serdevice.mqtt", {})
    files = {name: meta.get(f"mqtt_{name}") for name in ("ca", "cert", "key", "password_file")}
    for name, path in files.items():
        if path is not None and not path.is_absolute():
            option = "--mqtt-" + name.replace("_", "-")
            raise InputError(f"{option} {path}: must be an absolute path for a service")
    return MqttService(url=url, user=meta.get("mqtt_user"),
                       insecure=bool(meta.get("mqtt_insecure")), **files)  # fmt: skip


def _config(model_name: str, source: str, device: str | None, calibration: Path | None,
            output: Path, executable: str | None, mqtt: str | None) -> object:  # fmt: skip
    from ..deployment.service import ServiceConfig, validate_executable
    from ..stream.contracts import InputError

    for name, path in (("--output", output), ("--calibration", calibration)):
        if path is not None and not path.is_absolute():
            raise InputError(f"{name} {path}: must be an absolute path for a service")
    return ServiceConfig(
        executable=validate_executable(executable or _default_executable()), model=model_name,
        source=source, device=device, calibration=calibration, output=output,
        mqtt=_mqtt_service(mqtt) if mqtt is not None else None,
    )  # fmt: skip


@service.command()
@_config_options
def unit(**options: object) -> None:
    """Print the unit file install would write (nothing is changed)."""
    from ..deployment.service import render_unit

    click.echo(render_unit(_config(**options)), nl=False)  # type: ignore[arg-type]


@service.command()
@_config_options
@click.option("--no-start", is_flag=True, help="Enable at boot but do not start now.")
def install(no_start: bool, **options: object) -> None:
    """Write the unit, create the serdevice user (audio group), daemon-reload, enable, start."""
    from ..deployment.service import install as do_install
    from ..deployment.service import require_systemd

    require_systemd(need_root=True)
    path = do_install(_config(**options), start=not no_start)  # type: ignore[arg-type]
    click.echo(f"installed {path}; logs: journalctl -u serdevice; events: --output file")


@service.command()
def uninstall() -> None:
    """Stop, disable and remove the unit (the serdevice user and its events stay)."""
    from ..deployment.service import require_systemd
    from ..deployment.service import uninstall as do_uninstall

    require_systemd(need_root=True)
    click.echo(f"removed {do_uninstall()}")


@service.command()
def status() -> None:
    """The service's state as systemd sees it (active, restarts, watchdog)."""
    from ..deployment.service import require_systemd
    from ..deployment.service import status as read_status

    require_systemd(need_root=False)
    for key, value in read_status().items():
        click.echo(f"{key:<16} {value}")

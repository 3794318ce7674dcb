"""The ``--mqtt-*`` options that listen, doctor, record and service share (device/sinks/mqtt.py
checks what they say)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..sinks.mqtt import PASSWORD_ENV, MqttSettings, parse_settings

_META_KEY = "serdevice.mqtt"


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    ctx.meta.setdefault(_META_KEY, {})[param.name] = value
    return value


def mqtt_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add --mqtt-ca/-cert/-key/-user/-password-file/-insecure to a command.

    The values are kept on the click context (``settings_from_context`` reads them), so a
    command's signature does not grow by six parameters.
    """
    path = click.Path(path_type=Path, dir_okay=False)
    hidden: dict[str, Any] = {"expose_value": False, "callback": _store}
    options = [
        click.option("--mqtt-ca", type=path, **hidden, help="CA certificate (PEM) that signed "
                     "the broker's certificate (mqtts://; default: the system's CAs)."),
        click.option("--mqtt-cert", type=path, **hidden, help="Client certificate (PEM), if the "
                     "broker asks for one."),
        click.option("--mqtt-key", type=path, **hidden, help="Private key of --mqtt-cert (PEM)."),
        click.option("--mqtt-user", **hidden, help="User name (or user@ in the URL)."),
        click.option("--mqtt-password-file", type=path, **hidden, help="File whose first line is "
                     f"the password (or set ${PASSWORD_ENV}; never on the command line)."),
        click.option("--mqtt-insecure", is_flag=True, **hidden, help="Allow plaintext mqtt:// to "
                     "a host other than this machine."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def settings_from_context(url: str, option: str = "--mqtt", *,
                          subscribe: bool = False) -> MqttSettings:  # fmt: skip
    """``parse_settings`` with the current command's --mqtt-* options."""
    meta = click.get_current_context().meta.get(_META_KEY, {})
    return parse_settings(
        url, ca=meta.get("mqtt_ca"), cert=meta.get("mqtt_cert"), key=meta.get("mqtt_key"),
        username=meta.get("mqtt_user"), password_file=meta.get("mqtt_password_file"),
        insecure=bool(meta.get("mqtt_insecure")), option=option, subscribe=subscribe,
    )  # fmt: skip

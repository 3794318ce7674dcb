"""``serdevice devices``: capture devices, with the default marked."""

from __future__ import annotations

import click


@click.command()
def devices() -> None:
    """List audio capture devices (index, name, channels, rate); '*' marks the default."""
    import sounddevice

    from ..stream.microphone import input_devices

    found = input_devices()
    if not found:
        click.echo("no capture devices found")
        return
    try:
        default = sounddevice.default.device[0]
    except Exception:  # noqa: BLE001 - no default configured
        default = -1
    for d in found:
        mark = "*" if d["index"] == default else " "
        click.echo(f"{mark} {d['index']:>3}  {d['name']}  ({d['max_input_channels']} ch, "
                   f"{float(str(d['default_samplerate'])):.0f} Hz)")  # fmt: skip

"""The ``serdevice`` command: a click group whose subcommands load lazily.

This module only wires. Each subcommand lives in its own module and is imported when it is
invoked, so ``serdevice --help`` and the device path never import torch, sklearn or
litert-torch. Errors become one line on stderr: exit 2 for bad input, exit 1 for failures.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass

import click

from . import __version__
from .stream.contracts import InputError, RuntimeFailure


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandSpec:
    """Where a subcommand lives, its one-line help, and the extra it needs."""

    target: str  # "module:attribute"
    help: str
    extra: str


COMMANDS: dict[str, CommandSpec] = {
    "listen": CommandSpec(
        target="serdevice.device.commands.listen:listen",
        help="Stream audio (microphone, file or stdin) and emit emotion/activation events.",
        extra="device",
    ),
    "predict": CommandSpec(
        target="serdevice.device.commands.predict:predict",
        help="Clip-level prediction for audio files (one JSON object or CSV row per file).",
        extra="device",
    ),
    "devices": CommandSpec(
        target="serdevice.device.commands.devices:devices",
        help="List audio capture devices and mark the default.",
        extra="device",
    ),
    "features": CommandSpec(
        target="serdevice.train.commands.features:features",
        help="Extract eGeMAPS features from files, folders or corpora to CSV.",
        extra="device",
    ),
    "data": CommandSpec(
        target="serdevice.train.commands.data:data",
        help="Corpora: list loaders, check a corpus, generate the synthetic corpus.",
        extra="train",
    ),
    "train": CommandSpec(
        target="serdevice.train.commands.train:train",
        help="Train one compact encoder (DAE, VAE, ... ) with its SVC and activation heads.",
        extra="train",
    ),
    "evaluate": CommandSpec(
        target="serdevice.train.commands.evaluate:evaluate",
        help="Run the seed's evaluation protocol and write its tables and plots.",
        extra="train",
    ),
    "loco": CommandSpec(
        target="serdevice.export.loco_command:loco",
        help="Leave-one-corpus-out benchmark of the training recipe on the device path.",
        extra="export",
    ),
    "export": CommandSpec(
        target="serdevice.export.commands:export",
        help="Export a trained run to int8 (or int16x8) TFLite with the heads baked in, plus a sidecar.",
        extra="export",
    ),
    "model": CommandSpec(
        target="serdevice.device.commands.model:model",
        help="Inspect models: list the bundled ones, show a model's sidecar.",
        extra="device",
    ),
    "calibrate": CommandSpec(
        target="serdevice.device.commands.calibrate:calibrate",
        help="Collect the wearer's speech statistics (never audio) for normalization.",
        extra="device",
    ),
    "doctor": CommandSpec(
        target="serdevice.device.commands.doctor:doctor",
        help="Check that this machine can run the recognizer.",
        extra="device",
    ),
    "service": CommandSpec(
        target="serdevice.device.commands.service:service",
        help="Install, remove or inspect the systemd service.",
        extra="device",
    ),
    "record": CommandSpec(
        target="serdevice.device.commands.record:record",
        help="Store a fleet's events from MQTT in SQLite or PostgreSQL (clinic side).",
        extra="server",
    ),
    "report": CommandSpec(
        target="serdevice.device.commands.report:report",
        help="Draw JSONL event files as a session timeline (one self-contained HTML, or PNG).",
        extra="device",
    ),
    "bench": CommandSpec(
        target="serdevice.device.commands.bench:bench",
        help="Measure features, loop, latency and memory on this machine.",
        extra="device",
    ),
}

# Modules whose absence means an extra is not installed, and which extra brings them.
_EXTRA_OF_MODULE = {
    "torch": "train",
    "sklearn": "train",
    "matplotlib": "train",
    "pandas": "train",
    "tqdm": "train",
    "litert_torch": "export",
    "opensmile": "device",
    "soundfile": "device",
    "soxr": "device",
    "sounddevice": "device",
    "webrtcvad": "device",
    "ai_edge_litert": "device",
    "paho": "device",
    "psycopg": "server",
}


def _missing_extra(name: str, module: str, extra: str) -> click.Command:
    @click.command(
        name=name, context_settings={"ignore_unknown_options": True, "allow_extra_args": True}
    )
    def needs_extra() -> None:
        click.echo(
            f"serdevice: error: '{name}' needs the '{module}' package: "
            f"pip install 'serdevice[{extra}]'",
            err=True,
        )
        sys.exit(2)

    return needs_extra


def load_command(name: str) -> click.Command | None:
    """Import and return the subcommand ``name`` (one that says which extra to install when a
    package it needs is missing)."""
    spec = COMMANDS.get(name)
    if spec is None:
        return None
    module_name, attr = spec.target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".")[0]
        if top in _EXTRA_OF_MODULE:
            return _missing_extra(name, top, _EXTRA_OF_MODULE[top])
        raise
    command: click.Command = getattr(module, attr)
    return command


class LazyGroup(click.Group):
    """A group that lists subcommands from ``COMMANDS`` without importing them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, spec.help) for name, spec in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="serdevice")
def cli() -> None:
    """serdevice: on-device streaming speech-emotion recognition.

    eGeMAPS features -> a compact (<400-parameter) autoencoder -> a linear SVC on its 2-D
    latent, as TFLite with int8 weights. Headline: serdevice listen --model dae_metric_act.tflite
    """


def _fail(message: str, code: int) -> None:
    click.echo(f"serdevice: error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry: run the group, turning errors into one line and an exit code."""
    try:
        cli.main(args=argv, prog_name="serdevice", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort:
        _fail("aborted", 1)
    except click.ClickException as exc:
        if isinstance(exc, click.exceptions.NoArgsIsHelpError):  # a bare group: show its help
            click.echo(exc.format_message(), err=True)
            sys.exit(exc.exit_code)
        if isinstance(exc, click.UsageError):
            # One line, not click's Usage/Try/Error block: scripts and logs read one line.
            where = exc.ctx.command_path if exc.ctx is not None else "serdevice"
            _fail(f"{exc.format_message()} (see: {where} --help)", exc.exit_code)
        _fail(exc.format_message(), exc.exit_code)
    except InputError as exc:
        _fail(str(exc), 2)
    except RuntimeFailure as exc:
        _fail(str(exc), 1)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): end quietly, without Python's shutdown noise.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".")[0]
        if top not in _EXTRA_OF_MODULE:
            raise
        _fail(f"this command needs '{top}': pip install 'serdevice[{_EXTRA_OF_MODULE[top]}]'", 2)
    except Exception as exc:  # noqa: BLE001 - last resort: one line unless debugging
        if os.environ.get("SERDEVICE_DEBUG"):
            raise
        _fail(f"{type(exc).__name__}: {exc} (set SERDEVICE_DEBUG=1 for the traceback)", 1)


if __name__ == "__main__":
    main()

"""Options that several device commands share, defined once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..stream.gate import GateConfig

vad_aggressiveness_option = click.option(
    "--vad-aggressiveness",
    type=click.IntRange(0, 3),
    default=GateConfig().aggressiveness,
    show_default=True,
    help="webrtcvad's aggressiveness in the speech gate: 0 lets the most audio count as speech, "
    "3 the least.",
)

state_option = click.option(
    "--state",
    type=click.Path(path_type=Path),
    default=None,
    help="The wearer's adaptation state (feature statistics only, never audio; a serdevice "
    "calibrate file seeds it) [default: one file per model in $STATE_DIRECTORY, "
    "$XDG_STATE_HOME/serdevice or ~/.local/state/serdevice].",
)


def adaptation_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--state, --no-adapt and --freeze (listen)."""
    command = click.option(
        "--freeze",
        is_flag=True,
        help="Use the adaptation state as it is, without updating it.",
    )(command)
    command = click.option(
        "--no-adapt",
        is_flag=True,
        help="No online adaptation: the model's own training statistics, as before 2026-12-01.",
    )(command)
    return state_option(command)

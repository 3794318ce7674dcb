"""Options that several device commands share, defined once."""

from __future__ import annotations

import click

from ..gate import GateConfig

vad_aggressiveness_option = click.option(
    "--vad-aggressiveness",
    type=click.IntRange(0, 3),
    default=GateConfig().aggressiveness,
    show_default=True,
    help="webrtcvad's aggressiveness in the speech gate: 0 lets the most audio count as speech, "
    "3 the least.",
)

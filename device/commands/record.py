"""``serdevice record``: store the events of a fleet (MQTT) in SQLite or PostgreSQL.

``record --mqtt mqtts://broker/clinic --db events.sqlite`` subscribes to ``clinic/#`` and
runs until SIGINT/SIGTERM; ``record sessions`` lists what is stored and ``record export``
writes one session back as JSONL (what ``listen`` wrote), e.g. for a report.
"""

from __future__ import annotations

import json
import signal
import socket
import sys
import threading
from pathlib import Path

import click

from .mqtt_options import mqtt_options

DB_HELP = "An SQLite file (created 0600) or a postgresql://user@host/db URL."


@click.group(invoke_without_command=True)
@click.option("--mqtt", "url", default=None,
              help="Broker and base topic: mqtts://host[:port]/TOPIC or .../TOPIC/# (either "
              "subscribes to TOPIC/#, everything under TOPIC).")  # fmt: skip
@mqtt_options
@click.option("--db", default="events.sqlite", show_default=True, help=DB_HELP)
@click.option("--share", default=None,
              help="Shared-subscription group ($share/GROUP/TOPIC/#): recorders in one group "
              "split the events between them.")  # fmt: skip
@click.option("--client-id", default=None,
              help="MQTT client id; stable across restarts (its session keeps what arrives "
              "meanwhile). Default: serdevice-record[-GROUP]-HOSTNAME.")  # fmt: skip
@click.option("--retain-days", type=click.FloatRange(0, min_open=True), default=None,
              help="Delete events older than this many days (checked hourly).")  # fmt: skip
@click.pass_context
def record(ctx: click.Context, url: str | None, db: str, share: str | None,
           client_id: str | None, retain_days: float | None) -> None:  # fmt: skip
    """Subscribe (QoS 1, persistent session) and store every event once in a database.

    Needs the [server] extra for PostgreSQL: pip install 'serdevice[server]'. Prints a JSON
    summary line (stored, duplicates, malformed) when it stops.
    """
    if ctx.invoked_subcommand is not None:
        return
    if url is None:
        raise click.UsageError("--mqtt is required (or a subcommand: export, sessions)")
    from ..clinic.record import RecordConfig, Recorder
    from ..clinic.store import open_store
    from ..stream.contracts import InputError
    from .mqtt_options import settings_from_context

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *args: stop.set())
    settings = settings_from_context(url, subscribe=True)
    if share is not None and ("/" in share or "+" in share or "#" in share):
        raise InputError(f"--share {share}: a group name has no '/', '+' or '#'")
    default_id = "-".join(["serdevice-record", *([share] if share else []), socket.gethostname()])
    config = RecordConfig(share=share, client_id=client_id or default_id, retain_days=retain_days)
    recorder = Recorder(settings, open_store(db), config)
    recorder.start()
    summary = recorder.run(stop)
    click.echo(json.dumps({"stored": summary.stored, "duplicates": summary.duplicates,
                           "malformed": summary.malformed, "pruned": summary.pruned}))  # fmt: skip


@record.command()
@click.option("--db", required=True, help=DB_HELP)
@click.option("--session", required=True, help="The session id (see: serdevice record sessions).")
@click.option("--device", default=None, help="Only this device's events of the session.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write here instead of stdout.")  # fmt: skip
def export(db: str, session: str, device: str | None, output: Path | None) -> None:
    """Write one session's events as JSON lines, as listen wrote them."""
    from ..clinic.store import read_session
    from ..stream.events import to_line

    lines = (to_line(event) + "\n" for event in read_session(db, session, device))
    if output is None:
        sys.stdout.writelines(lines)
        return
    first = next(lines)  # an unknown session is an error before the file is made
    from ..stream.contracts import InputError

    try:
        with output.open("w", encoding="utf-8") as handle:
            handle.write(first)
            handle.writelines(lines)
    except OSError as exc:
        raise InputError(f"--output {output}: cannot write ({exc.strerror})") from None


@record.command()
@click.option("--db", required=True, help=DB_HELP)
@click.option("--device", default=None, help="Only this device's sessions.")
def sessions(db: str, device: str | None) -> None:
    """List stored sessions, oldest first: one JSON object per line."""
    from dataclasses import asdict

    from ..clinic.store import open_store

    store = open_store(db, create=False)
    try:
        for info in store.sessions(device):
            click.echo(json.dumps(asdict(info)))
    finally:
        store.close()

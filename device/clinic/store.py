"""The events database of ``serdevice record``: SQLite (a file) or PostgreSQL (a URL).

One schema for both, created and migrated here (``MIGRATIONS``; the version lives in the table
``serdevice_schema``). Each event is one row keyed by (device, session, seq), so a redelivered
event is stored once; the row keeps the event's JSON as received, plus indexed columns for the
device, the session (one ``listen`` run) and the time. ``read_session`` gives a session back as
the same dicts ``listen`` wrote as JSON lines. psycopg is imported only for a PostgreSQL URL.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..stream.contracts import InputError, RuntimeFailure
from ..stream.schema import Fields

# Each entry brings the schema from version i to i + 1; the store applies the missing ones.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE events (
            device TEXT NOT NULL,
            session TEXT NOT NULL,
            seq BIGINT NOT NULL,
            type TEXT NOT NULL,
            wall DOUBLE PRECISION NOT NULL,
            t DOUBLE PRECISION,
            received DOUBLE PRECISION NOT NULL,
            payload TEXT NOT NULL,
            PRIMARY KEY (device, session, seq))""",
        "CREATE INDEX events_session ON events (session, seq)",
        "CREATE INDEX events_device_wall ON events (device, wall)",
        "CREATE INDEX events_wall ON events (wall)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
INSERT = ("INSERT INTO events (device, session, seq, type, wall, t, received, payload) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")  # fmt: skip
SESSIONS = ("SELECT device, session, COUNT(*), MIN(wall), MAX(wall) FROM events {where} "
            "GROUP BY device, session ORDER BY MIN(wall)")  # fmt: skip
Row = tuple[str, str, int, str, float, "float | None", float, str]


class StoreUnavailable(RuntimeFailure):
    """The database went away (connection lost, locked too long): retry later."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionInfo:
    """One ``listen`` run as stored."""

    device: str
    session: str
    events: int
    first_wall: float
    last_wall: float


def event_row(device: str, payload: bytes | str, received: float) -> Row:
    """The row for one event's JSON; ValueError (InputError) when it is not a serdevice event."""
    event = Fields(json.loads(payload), "event")
    session, seq, kind = event.get("session", str), event.get("seq", int), event.get("type", str)
    if not session:
        raise event.bad("session", "empty")
    wall, t = event.data.get("wall"), event.data.get("t")
    text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
    return (device, session, seq, kind,
            float(wall) if isinstance(wall, (int, float)) else received,
            float(t) if isinstance(t, (int, float)) else None, received, text)  # fmt: skip


def as_jsonl_event(payload: str) -> dict[str, Any]:
    """A stored payload as the dict ``listen`` wrote (without the transport's ``session``)."""
    event: dict[str, Any] = json.loads(payload)
    event.pop("session", None)
    return event


def is_postgres(db: str) -> bool:
    """True for a PostgreSQL URL (postgresql://...), False for an SQLite file."""
    return db.startswith(("postgresql://", "postgres://"))


def redact(db: str) -> str:
    """The database for messages: a URL without its password."""
    if not is_postgres(db):
        return db
    from urllib.parse import urlsplit

    parts = urlsplit(db)
    if parts.password is None:
        return db
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


class EventStore:
    """Rows in, sessions out; the two databases differ only in how they connect."""

    placeholder = "?"

    def __init__(self, db: str, *, create: bool = True) -> None:
        self.db = db
        self.create = create
        self.name = redact(db)
        self._conn: Any = None

    # --- connection (per database) ---
    def _connect(self) -> Any:
        raise NotImplementedError

    def _unavailable(self, exc: Exception) -> bool:
        raise NotImplementedError

    def _lock_schema(self, cur: Any) -> None:
        """Serialize migrations between recorders starting together."""

    def _sql(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def open(self) -> EventStore:
        """Connect and bring the schema up to date (StoreUnavailable if the database is away)."""
        try:
            self._conn = self._connect()
            self._migrate()
        except Exception as exc:
            self.close()
            if self._unavailable(exc):
                raise StoreUnavailable(f"{self.name}: {_first_line(exc)}") from None
            raise
        return self

    def _migrate(self) -> None:
        cur = self._conn.cursor()
        cur.execute("CREATE TABLE IF NOT EXISTS serdevice_schema (version INTEGER NOT NULL)")
        self._conn.commit()
        self._lock_schema(cur)
        cur.execute("SELECT version FROM serdevice_schema")
        found = cur.fetchone()
        version = found[0] if found else 0
        if version > SCHEMA_VERSION:
            self._conn.rollback()
            raise InputError(f"{self.name}: schema version {version} is newer than this "
                             f"serdevice's ({SCHEMA_VERSION}); upgrade serdevice")  # fmt: skip
        for steps in MIGRATIONS[version:]:
            for statement in steps:
                cur.execute(statement)
        if found is None:
            cur.execute(self._sql("INSERT INTO serdevice_schema (version) VALUES (?)"),
                        (SCHEMA_VERSION,))  # fmt: skip
        elif version < SCHEMA_VERSION:
            cur.execute(self._sql("UPDATE serdevice_schema SET version = ?"), (SCHEMA_VERSION,))
        self._conn.commit()

    def close(self) -> None:
        """Release the connection (safe to call twice, or on a lost connection)."""
        if self._conn is not None:
            with contextlib.suppress(Exception):  # closing a dead connection: nothing to do
                self._conn.close()
            self._conn = None

    def _run(self, work: Any) -> Any:
        if self._conn is None:
            self.open()
        try:
            return work(self._conn.cursor())
        except Exception as exc:
            if not self._unavailable(exc):
                raise
            self.close()  # reconnect on the next call
            raise StoreUnavailable(f"{self.name}: {_first_line(exc)}") from None

    # --- the operations ---
    def insert(self, rows: list[Row]) -> int:
        """Store rows in one transaction; returns how many were new (the rest were stored already)."""
        if not rows:
            return 0

        def work(cur: Any) -> int:
            try:
                cur.executemany(self._sql(INSERT), rows)
                new = int(cur.rowcount)
                self._conn.commit()
            except BaseException:
                self._rollback()
                raise
            return new

        new: int = self._run(work)
        return new

    def _rollback(self) -> None:
        with contextlib.suppress(Exception):  # the connection is gone; reopened next call
            self._conn.rollback()

    def prune(self, older_than_days: float, *, now: float | None = None) -> int:
        """Delete events older than ``older_than_days`` (by their wall time); returns how many."""
        cutoff = (time.time() if now is None else now) - older_than_days * 86_400

        def work(cur: Any) -> int:
            cur.execute(self._sql("DELETE FROM events WHERE wall < ?"), (cutoff,))
            deleted = int(cur.rowcount)
            self._conn.commit()
            return deleted

        deleted: int = self._run(work)
        return deleted

    def count(self) -> int:
        """Stored events."""

        def work(cur: Any) -> int:
            cur.execute("SELECT COUNT(*) FROM events")
            n = int(cur.fetchone()[0])
            self._conn.commit()
            return n

        n: int = self._run(work)
        return n

    def sessions(self, device: str | None = None) -> list[SessionInfo]:
        """Every stored session (of one device), oldest first."""

        def work(cur: Any) -> list[Any]:
            if device is None:
                cur.execute(SESSIONS.format(where=""))
            else:
                cur.execute(self._sql(SESSIONS.format(where="WHERE device = ?")), (device,))
            rows: list[Any] = cur.fetchall()
            self._conn.commit()
            return rows

        return [SessionInfo(device=d, session=s, events=int(n), first_wall=float(a),
                            last_wall=float(b)) for d, s, n, a, b in self._run(work)]  # fmt: skip

    def payloads(self, session: str, device: str | None = None) -> list[str]:
        """The stored JSON of one session's events, in ``seq`` order."""
        sql, args = "SELECT payload FROM events WHERE session = ?", [session]
        if device is not None:
            sql, args = sql + " AND device = ?", [session, device]

        def work(cur: Any) -> list[str]:
            cur.execute(self._sql(sql + " ORDER BY seq"), args)
            rows = [row[0] for row in cur.fetchall()]
            self._conn.commit()
            return rows

        payloads: list[str] = self._run(work)
        return payloads


class SqliteStore(EventStore):
    """An SQLite file, created 0600 (events are health data), WAL, synchronous commits."""

    def _connect(self) -> Any:
        path = Path(self.db)
        if path.is_dir():
            raise InputError(f"--db {path}: is a directory")
        if not self.create and not path.is_file():
            raise InputError(f"--db {path}: no such database")
        try:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise InputError(f"--db {path}: cannot create ({exc.strerror})") from None
        conn = sqlite3.connect(path, timeout=10.0, isolation_level="DEFERRED",
                               check_same_thread=False)  # fmt: skip
        conn.execute("PRAGMA journal_mode=WAL")  # its -wal/-shm files get the file's own mode
        conn.execute("PRAGMA synchronous=FULL")  # acknowledged to the broker = on disk
        return conn

    def _lock_schema(self, cur: Any) -> None:
        cur.execute("BEGIN IMMEDIATE")  # one writer: the migration runs once, whole or not at all

    def _unavailable(self, exc: Exception) -> bool:
        transient = ("locked", "full", "disk I/O", "unable to open")
        return isinstance(exc, sqlite3.OperationalError) and any(w in str(exc) for w in transient)


class PostgresStore(EventStore):
    """A PostgreSQL database given by URL (libpq's; a password is better in ~/.pgpass)."""

    placeholder = "%s"

    def _connect(self) -> Any:
        try:
            import psycopg
        except ModuleNotFoundError:
            raise InputError("--db postgresql://... needs psycopg: "
                             "pip install 'serdevice[server]'") from None  # fmt: skip
        try:
            return psycopg.connect(self.db, connect_timeout=5)
        except psycopg.ProgrammingError as exc:  # a malformed URL
            raise InputError(f"--db {self.name}: {_first_line(exc)}") from None

    def _unavailable(self, exc: Exception) -> bool:
        import psycopg

        return isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError))

    def _lock_schema(self, cur: Any) -> None:
        cur.execute("LOCK TABLE serdevice_schema IN EXCLUSIVE MODE")


def open_store(db: str, *, create: bool = True) -> EventStore:
    """The store for ``db`` (a PostgreSQL URL or an SQLite path), connected and migrated.

    ``create=False`` refuses to make a new SQLite file (for reading).
    """
    kind = PostgresStore if is_postgres(db) else SqliteStore
    store: EventStore = kind(db, create=create)
    return store.open()


def read_session(db: str, session: str, device: str | None = None) -> Iterator[dict[str, Any]]:
    """Yield one session's events from the database, as the dicts ``listen`` wrote (JSONL).

    ``record export`` writes them back as JSONL, which ``serdevice report`` reads (the report
    reads files, not the database).
    """
    store = open_store(db, create=False)
    try:
        payloads = store.payloads(session, device)
    finally:
        store.close()
    if not payloads:
        raise InputError(f"--session {session}: not in {redact(db)}")
    for payload in payloads:
        yield as_jsonl_event(payload)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

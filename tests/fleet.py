"""Real servers for the fleet tests and benchmarks, on 127.0.0.1 only, torn down after.

- ``make_pki``: a CA, a server certificate for 127.0.0.1 (and a second, unrelated CA), by openssl.
- ``SecureBroker``: mosquitto running deploy/mosquitto/serdevice.conf (TLS, password file,
  the per-device ACL) on 127.0.0.1 and a free port; stop/start keep its persistent sessions.
- ``Postgres``: Debian's PostgreSQL, initdb'd in a temporary folder and started as the
  ``postgres`` user (it refuses to run as root) on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy" / "mosquitto"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.05)
    return False


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(folder: Path) -> Path:
    """ca.pem/ca.key, server.pem/server.key (for IP 127.0.0.1 only) and other-ca.pem."""
    folder.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "other-ca"):
        _openssl("req", "-x509", *ec, "-keyout", f"{ca}.key", "-out", f"{ca}.pem", "-days", "2",
                 "-subj", f"/CN=serdevice test {ca}", cwd=folder)  # fmt: skip
    _openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1",
             cwd=folder)  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext",
             cwd=folder)  # fmt: skip
    return folder


class SecureBroker:
    """deploy/mosquitto/serdevice.conf on 127.0.0.1:``port`` with test certificates and users."""

    def __init__(self, folder: Path, users: dict[str, str]) -> None:
        self.folder = folder
        self.pki = make_pki(folder / "pki")
        self.port = free_port()
        passwd = folder / "passwd"
        passwd.touch()
        for user, password in users.items():
            subprocess.run([MOSQUITTO_PASSWD, "-b", str(passwd), user, password], check=True,
                           capture_output=True)  # fmt: skip
        (folder / "data").mkdir()
        conf = (DEPLOY / "serdevice.conf").read_text()
        conf = conf.replace("listener 8883", f"listener {self.port} 127.0.0.1")
        conf = conf.replace("/etc/mosquitto/certs/", f"{self.pki}/")
        conf = conf.replace("/etc/mosquitto/passwd", str(passwd))
        conf = conf.replace("/etc/mosquitto/acl", str(DEPLOY / "acl"))
        conf = conf.replace("/var/lib/mosquitto/", f"{folder}/data/")
        settings = [line for line in conf.splitlines() if not line.startswith("#")]
        assert not [line for line in settings if "/etc/" in line or "/var/" in line], conf
        if os.geteuid() == 0:  # else mosquitto drops to its own user, who cannot read tmp_path
            conf += "user root\n"
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(conf)
        self.log = folder / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def ca(self) -> Path:
        return self.pki / "ca.pem"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=log,
                                         stderr=subprocess.STDOUT)  # fmt: skip
        if not wait_for_port(self.port):
            self.stop()
            raise RuntimeError(f"mosquitto did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()  # the broker we started, by pid; it saves its sessions
            self.proc.wait(timeout=10)
            self.proc = None


class PlainBroker(SecureBroker):
    """An anonymous plaintext mosquitto on 127.0.0.1 (for benchmarks: the recorder's cost only)."""

    def __init__(self, folder: Path) -> None:  # noqa: D107 - no TLS, no users
        self.folder = folder
        self.port = free_port()
        (folder / "data").mkdir(parents=True, exist_ok=True)
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                             f"persistence true\npersistence_location {folder}/data/\n"
                             "max_queued_messages 1000000\n"
                             + ("user root\n" if os.geteuid() == 0 else ""))  # fmt: skip
        self.log = folder / "mosquitto.log"
        self.proc = None


def postgres_bindir() -> Path | None:
    """Debian's PostgreSQL server binaries (initdb, pg_ctl), or None when not installed."""
    found = shutil.which("pg_ctl")
    candidates = ([Path(found).resolve().parent] if found else []) + [
        Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    ]
    return next((d for d in candidates if (d / "initdb").exists() and (d / "pg_ctl").exists()),
                None)  # fmt: skip


class Postgres:
    """A throwaway PostgreSQL cluster on 127.0.0.1:``port``, run as the ``postgres`` user."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="serdevice-pg-"))
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        self.sock.mkdir()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sock, "postgres", "postgres")
            self.root.chmod(0o700)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                  "-E", "UTF8")  # fmt: skip

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd="/")

    def start(self) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sock} "
                   "-c max_connections=50")  # fmt: skip
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")  # fmt: skip

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def running_postgres() -> Iterator[Postgres]:
    """A started throwaway PostgreSQL for a pytest fixture to yield (skips the test when psycopg
    or the server binaries are missing); closed when the fixture ends."""
    import pytest

    pytest.importorskip("psycopg", reason="psycopg not installed: pip install 'serdevice[server]'")
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not installed: make setup")
    server = Postgres(bindir)
    server.start()
    yield server
    server.close()

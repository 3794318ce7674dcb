"""The systemd service: the unit's text, its parsing, and install / uninstall / status.

``deploy/serdevice.service`` is ``render_unit()`` with the defaults (a test keeps them equal).
Install writes the unit, creates the ``serdevice`` system user in the ``audio`` group (systemd
makes its state folder), then runs ``systemctl daemon-reload`` and ``enable``. Commands go
through a ``runner`` so tests can see them without root or systemd.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..stream.contracts import InputError, RuntimeFailure

UNIT_NAME = "serdevice.service"
UNIT_DIR = Path("/etc/systemd/system")
STATE_DIR = Path("/var/lib/serdevice")
DEFAULT_EXECUTABLE = "/opt/serdevice/venv/bin/serdevice"
WATCHDOG_S = 30

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MqttService:
    """``listen --mqtt`` options for the unit; the password file reaches the service as a
    systemd credential (``LoadCredential=``), readable by it alone, never on the command line."""

    url: str
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    user: str | None = None
    password_file: Path | None = None
    insecure: bool = False

    def args(self) -> list[str]:
        """The listen options."""
        args = ["--mqtt", self.url]
        for option, value in (("--mqtt-ca", self.ca), ("--mqtt-cert", self.cert),
                              ("--mqtt-key", self.key), ("--mqtt-user", self.user)):  # fmt: skip
            if value is not None:
                args += [option, str(value)]
        if self.password_file is not None:
            args += ["--mqtt-password-file", f"%d/{CREDENTIAL}"]  # %d: the credentials folder
        return args + (["--mqtt-insecure"] if self.insecure else [])


CREDENTIAL = "mqtt-password"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceConfig:
    """What the unit runs and as whom."""

    executable: str = DEFAULT_EXECUTABLE
    model: str = "dae_metric_act"
    source: str = "mic"
    device: str | None = None
    calibration: Path | None = None
    output: Path = STATE_DIR / "events.jsonl"
    user: str = "serdevice"
    group: str = "audio"
    mqtt: MqttService | None = None

    def exec_start(self) -> str:
        """The ExecStart command line."""
        args = [self.executable, "listen", "--model", self.model, "--source", self.source]
        if self.device is not None:
            args += ["--device", self.device]
        if self.calibration is not None:
            args += ["--calibration", str(self.calibration)]
        args += ["--output", str(self.output)]
        if self.mqtt is not None:
            args += self.mqtt.args()
        return shlex.join(args)


def render_unit(config: ServiceConfig | None = None) -> str:
    """The systemd unit's text for ``config`` (the defaults give deploy/serdevice.service)."""
    c = config or ServiceConfig()
    network = " network-online.target" if c.mqtt else ""  # the broker is on the network
    credential = ""
    if c.mqtt is not None and c.mqtt.password_file is not None:
        credential = f"LoadCredential={CREDENTIAL}:{c.mqtt.password_file}\n"
    return f"""\
# serdevice: on-device speech-emotion recognizer (audio stays in memory; events to a file).
# Installed by `serdevice service install`, or by hand: see deploy/README.md.
[Unit]
Description=serdevice speech-emotion recognizer
After=sound.target{network}
Wants=sound.target{network}
# Never give up restarting: a microphone missing at boot is retried every 5 s until it
# appears (once running, listen reopens a lost device itself).
StartLimitIntervalSec=0

[Service]
Type=notify
NotifyAccess=main
ExecStart={c.exec_start()}
Restart=on-failure
RestartSec=5
# The loop pings systemd for every window it finishes; a stalled loop is restarted.
WatchdogSec={WATCHDOG_S}
TimeoutStopSec=10
User={c.user}
Group={c.user}
SupplementaryGroups={c.group}
StateDirectory=serdevice
ReadWritePaths={c.output.parent}
WorkingDirectory={STATE_DIR}
Environment=HOME={STATE_DIR}
{credential}# Events go to the --output file; the journal keeps stderr (errors) only.
StandardOutput=null
StandardError=journal
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryMax=200M

[Install]
WantedBy=multi-user.target
"""


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values in order]}} (comments and blanks skipped)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        if current is None or "=" not in line:
            raise InputError(f"unit file line {number}: expected [Section] or Key=value")
        key, value = line.split("=", 1)
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def has_systemd() -> bool:
    """True when systemd is the running init and systemctl exists."""
    return Path("/run/systemd/system").is_dir() and shutil.which("systemctl") is not None


def _run(args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=False)


def _checked(runner: Runner, args: Sequence[str]) -> None:
    done = runner(args)
    if done.returncode != 0:
        reason = (done.stderr or done.stdout or "").strip().splitlines()
        raise RuntimeFailure(
            f"{shlex.join(args)} failed: {reason[-1] if reason else done.returncode}"
        )


def require_systemd(*, need_root: bool) -> None:
    """A one-line error unless this machine runs systemd (and we are root, when needed)."""
    if not has_systemd():
        raise RuntimeFailure(
            "this machine does not run systemd; install by hand instead (deploy/README.md)"
        )
    if need_root and os.geteuid() != 0:
        raise RuntimeFailure("installing a system service needs root: sudo serdevice service ...")


def user_exists(user: str) -> bool:
    """True if the system knows ``user``."""
    import pwd

    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True


def install(
    config: ServiceConfig,
    *,
    unit_dir: Path = UNIT_DIR,
    runner: Runner = _run,
    start: bool = True,
    known_user: Callable[[str], bool] = user_exists,
) -> Path:
    """Write the unit, create the system user, daemon-reload, enable (and start)."""
    if not known_user(config.user):
        _checked(runner, ["useradd", "--system", "--home-dir", str(STATE_DIR), "--no-create-home",
                          "--shell", "/usr/sbin/nologin", "--groups", config.group, config.user])  # fmt: skip
    unit = unit_dir / UNIT_NAME
    try:
        unit_dir.mkdir(parents=True, exist_ok=True)
        unit.write_text(render_unit(config), encoding="utf-8")
    except OSError as exc:
        raise RuntimeFailure(f"cannot write {unit}: {exc.strerror or exc}") from None
    _checked(runner, ["systemctl", "daemon-reload"])
    _checked(runner, ["systemctl", "enable", *(["--now"] if start else []), UNIT_NAME])
    return unit


def uninstall(*, unit_dir: Path = UNIT_DIR, runner: Runner = _run) -> Path:
    """Stop and disable the service and remove its unit (the user and events stay)."""
    unit = unit_dir / UNIT_NAME
    if not unit.exists():
        raise InputError(f"{unit}: not installed")
    _checked(runner, ["systemctl", "disable", "--now", UNIT_NAME])
    unit.unlink()
    _checked(runner, ["systemctl", "daemon-reload"])
    return unit


def status(*, runner: Runner = _run) -> dict[str, str]:
    """The service's state as systemd reports it (ActiveState, SubState, NRestarts, ...)."""
    keys = ("LoadState", "ActiveState", "SubState", "NRestarts", "ExecMainStatus", "WatchdogUSec")
    done = runner(["systemctl", "show", UNIT_NAME, "--property", ",".join(keys)])
    if done.returncode != 0:
        raise RuntimeFailure(f"systemctl show failed: {done.stderr.strip() or done.returncode}")
    pairs = (line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return {key: value for key, value in pairs}


def validate_executable(path: str) -> str:
    """An absolute path to an executable file (systemd needs one in ExecStart)."""
    file = Path(path)
    if not file.is_absolute():
        raise InputError(f"--executable {path}: must be an absolute path")
    if not (file.is_file() and os.access(file, os.X_OK)):
        raise InputError(f"--executable {path}: not an executable file")
    return path

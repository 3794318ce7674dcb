"""The systemd unit: its keys (parsed), deploy/ kept in sync, and what install/uninstall run."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from serdevice.device.deployment.service import (
    UNIT_NAME,
    ServiceConfig,
    install,
    parse_unit,
    render_unit,
    status,
    uninstall,
)
from serdevice.device.stream.contracts import InputError

DEPLOYED = Path(__file__).resolve().parents[1] / "deploy" / "serdevice.service"


@pytest.fixture(scope="module")
def unit() -> dict[str, dict[str, list[str]]]:
    return parse_unit(DEPLOYED.read_text())


def one(unit: dict[str, dict[str, list[str]]], section: str, key: str) -> str:
    values = unit[section][key]
    assert len(values) == 1, f"{key} appears {len(values)} times"
    return values[0]


def test_deploy_file_is_the_rendered_default():
    assert DEPLOYED.read_text() == render_unit()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("Type", "notify"),
        ("Restart", "on-failure"),
        ("WatchdogSec", "30"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("User", "serdevice"),
        ("SupplementaryGroups", "audio"),
        ("ReadWritePaths", "/var/lib/serdevice"),
        ("StateDirectory", "serdevice"),
    ],
)
def test_service_section_has(unit, key, value):
    assert one(unit, "Service", key) == value


def test_restart_delay_and_install_target(unit):
    assert float(one(unit, "Service", "RestartSec")) > 0
    assert one(unit, "Install", "WantedBy") == "multi-user.target"


def test_exec_start_runs_listen_into_the_state_dir(unit):
    args = shlex.split(one(unit, "Service", "ExecStart"))
    assert Path(args[0]).is_absolute() and args[1] == "listen"
    assert args[args.index("--output") + 1] == "/var/lib/serdevice/events.jsonl"
    assert args[args.index("--model") + 1] == "dae_metric_act"


def test_exec_start_is_a_valid_listen_command_line():
    """Every option ExecStart passes is one `listen` accepts (checked against click)."""
    from serdevice.device.commands.listen import listen

    config = ServiceConfig(device="USB", calibration=Path("/var/lib/serdevice/c.json"))
    args = shlex.split(config.exec_start())[2:]
    ctx = listen.make_context("listen", args, resilient_parsing=True)
    assert ctx.params["device"] == "USB" and ctx.params["calibration"] == Path(
        "/var/lib/serdevice/c.json"
    )


def test_output_elsewhere_becomes_writable():
    text = render_unit(ServiceConfig(output=Path("/data/serdevice/events.jsonl")))
    assert one(parse_unit(text), "Service", "ReadWritePaths") == "/data/serdevice"


def test_parse_unit_refuses_garbage():
    with pytest.raises(InputError, match="line 1"):
        parse_unit("not a unit")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_itself_accepts_the_unit(tmp_path):
    path = tmp_path / UNIT_NAME
    path.write_text(render_unit(ServiceConfig(executable=str(Path(sys.executable)))))
    done = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
@pytest.mark.parametrize("mqtt", [False, True], ids=["default", "mqtt"])
def test_systemd_analyze_verify_passes_the_service_unit_output(cli, tmp_path, mqtt):
    """`serdevice service unit` as printed, ExecStart this venv's serdevice: no error, no warning
    (systemd-analyze exits 0 on an unknown key or a bad value and only warns)."""
    password = tmp_path / "mqtt-password"
    password.write_text("x\n")
    extra = ["--device", "USB", "--calibration", "/var/lib/serdevice/c.json", "--mqtt",
             "mqtts://broker.example/clinic/dev1", "--mqtt-user", "dev1", "--mqtt-password-file",
             str(password)] if mqtt else []  # fmt: skip
    printed = cli("service", "unit", *extra)
    assert printed.returncode == 0, printed.stderr
    assert Path(shlex.split(one(parse_unit(printed.stdout), "Service", "ExecStart"))[0]).is_file()
    path = tmp_path / "units" / UNIT_NAME
    path.parent.mkdir()
    path.write_text(printed.stdout)
    done = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stderr


class Recorder:
    def __init__(self, fail: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail

    def __call__(self, args):
        self.calls.append(list(args))
        code = 1 if self.fail and self.fail in args else 0
        return subprocess.CompletedProcess(args, code, "ActiveState=active\nNRestarts=0\n", "boom")


def test_install_creates_user_writes_unit_and_enables(tmp_path):
    run = Recorder()
    path = install(ServiceConfig(), unit_dir=tmp_path, runner=run, known_user=lambda u: False)
    assert path.read_text() == render_unit()
    assert run.calls[0][:2] == ["useradd", "--system"]
    assert run.calls[0][run.calls[0].index("--groups") + 1] == "audio"
    assert run.calls[0][-1] == "serdevice"
    assert run.calls[1:] == [["systemctl", "daemon-reload"],
                             ["systemctl", "enable", "--now", UNIT_NAME]]  # fmt: skip


def test_install_keeps_an_existing_user_and_can_skip_starting(tmp_path):
    run = Recorder()
    install(ServiceConfig(), unit_dir=tmp_path, runner=run, known_user=lambda u: True, start=False)
    assert run.calls == [["systemctl", "daemon-reload"], ["systemctl", "enable", UNIT_NAME]]


def test_a_failing_systemctl_is_one_line(tmp_path):
    from serdevice.device.stream.contracts import RuntimeFailure

    with pytest.raises(RuntimeFailure, match="systemctl daemon-reload failed: boom"):
        install(ServiceConfig(), unit_dir=tmp_path, runner=Recorder(fail="daemon-reload"),
                known_user=lambda u: True)  # fmt: skip


def test_uninstall_disables_then_removes(tmp_path):
    run = Recorder()
    install(ServiceConfig(), unit_dir=tmp_path, runner=run, known_user=lambda u: True)
    run.calls.clear()
    uninstall(unit_dir=tmp_path, runner=run)
    assert not (tmp_path / UNIT_NAME).exists()
    assert run.calls == [["systemctl", "disable", "--now", UNIT_NAME],
                         ["systemctl", "daemon-reload"]]  # fmt: skip
    with pytest.raises(InputError, match="not installed"):
        uninstall(unit_dir=tmp_path, runner=run)


def test_status_reads_systemctl_show():
    assert status(runner=Recorder()) == {"ActiveState": "active", "NRestarts": "0"}


def test_service_unit_subcommand_prints_the_unit(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "from serdevice.device.commands.service import service; "
         "service.main(['unit', '--output', '/srv/ev/events.jsonl'], prog_name='service')"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert one(parse_unit(done.stdout), "Service", "ReadWritePaths") == "/srv/ev"


@pytest.mark.skipif(Path("/run/systemd/system").is_dir(), reason="this machine runs systemd")
def test_install_without_systemd_is_a_clear_error():
    from serdevice.device.deployment.service import require_systemd
    from serdevice.device.stream.contracts import RuntimeFailure

    with pytest.raises(RuntimeFailure, match="does not run systemd"):
        require_systemd(need_root=True)


def test_mqtt_options_reach_listen_and_the_password_is_a_systemd_credential(tmp_path):
    from serdevice.device.commands.listen import listen
    from serdevice.device.deployment.service import MqttService

    mqtt = MqttService(url="mqtts://broker.example/clinic/ward2-band07",
                       ca=Path("/etc/serdevice/ca.pem"), user="ward2-band07",
                       password_file=Path("/etc/serdevice/mqtt-password"))  # fmt: skip
    text = render_unit(ServiceConfig(mqtt=mqtt))
    unit = parse_unit(text)
    assert one(unit, "Service", "LoadCredential") == "mqtt-password:/etc/serdevice/mqtt-password"
    assert "network-online.target" in one(unit, "Unit", "After")
    args = shlex.split(one(unit, "Service", "ExecStart"))[2:]
    assert args[args.index("--mqtt-password-file") + 1] == "%d/mqtt-password"
    assert "/etc/serdevice/mqtt-password" not in args  # only systemd reads the real file
    ctx = listen.make_context("listen", args, resilient_parsing=True)
    assert ctx.params["mqtt"] == "mqtts://broker.example/clinic/ward2-band07"
    assert ctx.meta["serdevice.mqtt"]["mqtt_user"] == "ward2-band07"
    assert ctx.meta["serdevice.mqtt"]["mqtt_ca"] == Path("/etc/serdevice/ca.pem")


def test_service_unit_refuses_what_listen_would_refuse(cli, tmp_path):
    plain = cli("service", "unit", "--mqtt", "mqtt://broker.example/clinic/dev1")
    assert plain.returncode == 2 and "plaintext MQTT" in plain.stderr
    secret = tmp_path / "pw"
    secret.write_text("x\n")
    relative = cli("service", "unit", "--mqtt", "mqtts://broker.example/clinic/dev1",
                   "--mqtt-user", "dev1", "--mqtt-password-file", "pw", cwd=tmp_path)  # fmt: skip
    assert relative.returncode == 2 and "must be an absolute path" in relative.stderr
    ok = cli("service", "unit", "--mqtt", "mqtts://broker.example/clinic/dev1", "--mqtt-user",
             "dev1", "--mqtt-password-file", str(secret))  # fmt: skip
    assert ok.returncode == 0 and f"LoadCredential=mqtt-password:{secret}" in ok.stdout

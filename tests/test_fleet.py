"""A clinic's fleet with the real parts: mosquitto with TLS, passwords and the per-device ACL of
deploy/mosquitto/, `listen --mqtt mqtts://...` on the companions, `record` into SQLite and into
PostgreSQL; the broker and the database restarted mid-stream; two recorders sharing the load.
Every server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from fleet import SecureBroker

from serdevice.device.clinic.store import open_store, read_session
from serdevice.device.sinks.mqtt import parse_settings
from serdevice.device.sinks.outputs import Mqtt

SAMPLE = Path(__file__).resolve().parents[1] / "device" / "data" / "sample.wav"
REFUSAL_LOG = "not authorised"  # what mosquitto logs for each refused login
USERS = {"dev1": "pw-dev1", "dev2": "pw-dev2", "recorder": "pw-recorder"}
CLI = [sys.executable, "-m", "serdevice.device.cli"]


@pytest.fixture
def broker(tmp_path):
    server = SecureBroker(tmp_path / "broker", USERS)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def secrets(tmp_path):
    """One password file per user, 0600."""
    folder = tmp_path / "secrets"
    folder.mkdir()
    files = {}
    for user, password in USERS.items():
        files[user] = folder / user
        files[user].write_text(password + "\n")
        files[user].chmod(0o600)
    return files


def tls_args(broker: SecureBroker, user: str, secrets: dict[str, Path]) -> list[str]:
    return ["--mqtt-ca", str(broker.ca), "--mqtt-user", user,
            "--mqtt-password-file", str(secrets[user])]  # fmt: skip


class Recorder:
    """`serdevice record` in a subprocess; ready once it says it has subscribed."""

    def __init__(self, broker: SecureBroker, secrets: dict[str, Path], db: str,
                 *extra: str) -> None:  # fmt: skip
        self.proc = subprocess.Popen(
            [*CLI, "record", "--mqtt", f"mqtts://127.0.0.1:{broker.port}/clinic",
             *tls_args(broker, "recorder", secrets), "--db", db, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        self.db = db
        self.log: list[str] = []
        self.subscribed = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self.subscribed.wait(30):
            self.proc.kill()
            pytest.fail(f"record did not subscribe: {self.log}")

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line.rstrip())
            if "subscribed to" in line:
                self.subscribed.set()

    def stop(self) -> dict:
        self.proc.send_signal(signal.SIGTERM)  # the recorder we started, by pid
        out, _ = self.proc.communicate(timeout=30)
        self._reader.join(timeout=10)
        assert self.proc.returncode == 0, self.log
        assert not any("Traceback" in line for line in self.log), self.log
        return json.loads(out.strip().splitlines()[-1])


def wait_for_rows(db: str, expected: int, timeout: float = 60) -> int:
    """Poll the database until it holds ``expected`` events (or the deadline passes)."""
    deadline = time.monotonic() + timeout
    count = -1
    while time.monotonic() < deadline:
        store = open_store(db, create=False)
        try:
            count = store.count()
        finally:
            store.close()
        if count >= expected:
            return count
        time.sleep(0.1)
    return count


def listen(broker: SecureBroker, secrets: dict[str, Path], *args: str, user: str = "dev1",
           host: str = "127.0.0.1") -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        [*CLI, "listen", "--source", str(SAMPLE), "--fast",
         "--mqtt", f"mqtts://{host}:{broker.port}/clinic/{user}", *tls_args(broker, user, secrets),
         *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


def sqlite_db(tmp_path: Path, name: str = "events.sqlite") -> str:
    return str(tmp_path / name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    if request.param == "sqlite":
        return sqlite_db(tmp_path)
    return request.getfixturevalue("postgres").new_database()


def test_listen_over_tls_is_recorded_once_per_event(broker, secrets, db):
    recorder = Recorder(broker, secrets, db, "--client-id", "rec-acceptance")
    result = listen(broker, secrets)
    assert result.returncode == 0, result.stderr
    written = [json.loads(line) for line in result.stdout.splitlines()]
    assert not [e for e in written if e["type"] == "error"], written
    assert wait_for_rows(db, len(written)) == len(written)
    summary = recorder.stop()
    assert summary["stored"] == len(written) and summary["malformed"] == 0
    store = open_store(db, create=False)
    try:
        [session] = store.sessions()
    finally:
        store.close()
    assert session.device == "dev1" and session.events == len(written)
    assert list(read_session(db, session.session)) == written  # the same dicts as stdout's lines
    store = open_store(db, create=False)
    try:
        raw = [json.loads(p) for p in store.payloads(session.session)]
    finally:
        store.close()
    # On the wire: the event and the session id, nothing about the machine (no serial, no host).
    assert all(set(r) == set(w) | {"session"} for r, w in zip(raw, written, strict=True))


def test_export_writes_the_session_as_listen_wrote_it(broker, secrets, tmp_path, cli):
    db = sqlite_db(tmp_path)
    from serdevice.device.clinic.store import event_row

    store = open_store(db)  # one event from 40 days ago, which --retain-days 30 deletes
    old = {"type": "stop", "seq": 9, "session": "old", "wall": time.time() - 40 * 86_400}
    store.insert([event_row("dev1", json.dumps(old), old["wall"])])
    store.close()
    recorder = Recorder(broker, secrets, db, "--client-id", "rec-export", "--retain-days", "30")
    result = listen(broker, secrets)
    assert result.returncode == 0, result.stderr
    assert wait_for_rows(db, len(result.stdout.splitlines())) > 0
    assert recorder.stop()["pruned"] == 1
    for path in (Path(db), Path(db + "-wal"), Path(db + "-shm")):  # health data: owner only
        assert not path.exists() or (path.stat().st_mode & 0o777) == 0o600, path
    assert (Path(db).stat().st_mode & 0o777) == 0o600
    sessions = cli("record", "sessions", "--db", db)
    assert sessions.returncode == 0, sessions.stderr
    session = json.loads(sessions.stdout)["session"]
    exported = cli("record", "export", "--db", db, "--session", session)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == result.stdout  # byte for byte
    unknown = cli("record", "export", "--db", db, "--session", "nope")
    assert unknown.returncode == 2 and "--session nope: not in" in unknown.stderr
    missing = cli("record", "export", "--db", str(tmp_path / "none.sqlite"), "--session", "x")
    assert missing.returncode == 2 and "no such database" in missing.stderr


def test_wrong_password_is_refused_at_start(broker, secrets, tmp_path):
    secrets["dev1"].write_text("not-the-password\n")
    result = listen(broker, secrets)
    assert result.returncode == 2, result.stderr
    assert "refused the credentials" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    secrets["recorder"].write_text("wrong\n")
    record = subprocess.run(
        [*CLI, "record", "--mqtt", f"mqtts://127.0.0.1:{broker.port}/clinic",
         *tls_args(broker, "recorder", secrets), "--db", sqlite_db(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert record.returncode == 2 and "refused the credentials" in record.stderr


@pytest.mark.parametrize(
    ("case", "expected"),
    [("unknown CA", "is not trusted"), ("wrong host name", "is not for the name localhost")],
)
def test_tls_failures_are_one_error_event_and_listen_goes_on(broker, secrets, case, expected):
    if case == "unknown CA":
        result = listen(broker, secrets, "--mqtt-ca", str(broker.pki / "other-ca.pem"))
    else:  # the certificate is for 127.0.0.1 only
        result = listen(broker, secrets, host="localhost")
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    errors = [e for e in events if e["type"] == "error"]
    assert len(errors) == 1, errors  # one per kind of failure, not one per retry
    assert expected in errors[0]["message"] and errors[0]["fault"] == "mqtt"
    assert errors[0]["recoverable"] is True
    assert events[-1]["type"] == "stop" and "Traceback" not in result.stderr


def test_plaintext_to_another_host_is_refused_before_any_socket(cli):
    """Inside a network namespace with no route: nothing could leave even if it tried."""
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("unshare -n is not permitted here (needs CAP_SYS_ADMIN)")
    result = subprocess.run(
        ["unshare", "-n", *CLI, "listen", "--source", str(SAMPLE), "--fast",
         "--mqtt", "mqtt://192.0.2.10:1883/clinic/dev1"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "plaintext MQTT to 192.0.2.10" in result.stderr and "--mqtt-insecure" in result.stderr
    assert result.stdout == ""  # refused before the model, the source or a socket was opened


@pytest.mark.parametrize(
    ("url", "options", "message"),
    [
        ("mqtt://10.0.0.5/clinic/dev1", {}, "plaintext MQTT to 10.0.0.5"),
        ("mqtts://dev1:secret@10.0.0.5/clinic/dev1", {}, "no password in the URL"),
        ("mqtt://127.0.0.1/clinic/dev1", {"ca": Path("/etc/hostname")}, "need mqtts://"),
        ("mqtts://10.0.0.5/clinic/dev1", {"key": Path("k.pem")}, "--mqtt-key needs --mqtt-cert"),
        ("mqtts://10.0.0.5/clinic/dev1", {"ca": Path("/nonexistent.pem")}, "no such file"),
        ("mqtts://10.0.0.5:99999/clinic/dev1", {}, "port is not a number"),
        ("mqtts://10.0.0.5", {}, "expected mqtt://host[:port]/topic"),
    ],
)
def test_bad_broker_options_are_input_errors(url, options, message):
    from serdevice.device.stream.contracts import InputError

    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_settings(url, env={}, **options)


def test_password_comes_from_a_file_or_the_environment(tmp_path):
    assert parse_settings("mqtt://localhost/t", env={}).password is None
    env = {"SERDEVICE_MQTT_PASSWORD": "from-env"}
    settings = parse_settings("mqtts://dev1@broker.example/t", env=env)
    assert (settings.username, settings.password, settings.port) == ("dev1", "from-env", 8883)
    assert "from-env" not in repr(settings)
    secret = tmp_path / "pw"
    secret.write_text("from-file\nignored\n")
    settings = parse_settings("mqtt://127.0.0.1/t", username="u", password_file=secret, env=env)
    assert settings.password == "from-file"
    assert parse_settings("mqtt://10.0.0.5/t", insecure=True, env={}).host == "10.0.0.5"


def test_acl_lets_a_device_publish_only_under_its_own_topic(broker):
    settings = parse_settings(f"mqtts://127.0.0.1:{broker.port}/clinic", ca=broker.ca, env={})
    received: list[str] = []
    marker = threading.Event()
    subscribed = threading.Event()

    def on_message(client, userdata, message):
        received.append(message.topic)
        if message.topic == "clinic/dev1":
            marker.set()

    from serdevice.device.sinks.mqtt import make_client

    recorder = make_client(replace(settings, username="recorder", password=USERS["recorder"]),
                           client_id="acl-recorder")  # fmt: skip
    recorder.on_message = on_message
    recorder.on_subscribe = lambda *args: subscribed.set()
    recorder.on_connect = lambda c, *args: c.subscribe("clinic/#", qos=1)
    recorder.connect("127.0.0.1", broker.port)
    recorder.loop_start()
    device = make_client(replace(settings, username="dev1", password=USERS["dev1"]),
                         client_id="acl-dev1")  # fmt: skip
    device.connect("127.0.0.1", broker.port)
    device.loop_start()
    try:
        assert subscribed.wait(10)
        device.publish("clinic/dev2", b'{"posing": "as dev2"}', qos=1).wait_for_publish(10)
        device.publish("clinic/dev1", b'{"own": "topic"}', qos=1).wait_for_publish(10)
        assert marker.wait(10)  # sent after the forged one, on the same connection
    finally:
        for client in (device, recorder):
            client.disconnect()
            client.loop_stop()
    assert received == ["clinic/dev1"]


def publish_paced(broker: SecureBroker, n: int, during: callable) -> Mqtt:
    """dev1 publishes n events through listen's own MQTT sink; ``during`` starts at n // 3."""
    settings = parse_settings(f"mqtts://127.0.0.1:{broker.port}/clinic/dev1", ca=broker.ca,
                              username="dev1", env={"SERDEVICE_MQTT_PASSWORD": USERS["dev1"]})  # fmt: skip
    sink = Mqtt(settings)
    outage = threading.Thread(target=during)
    for seq in range(n):
        sink.write({"type": "activation", "t": seq * 0.5, "activation": 3.0, "wall": time.time(),
                    "seq": seq, "model": "m"})  # fmt: skip
        if seq == n // 3:
            outage.start()  # events keep coming while it lasts
        time.sleep(0.004)
    outage.join()
    sink.close(timeout_s=30)
    return sink


def assert_exactly(db: str, session: str, n: int) -> None:
    seqs = [e["seq"] for e in read_session(db, session)]
    assert seqs == list(range(n))  # nothing lost, nothing twice


def test_broker_restart_mid_stream_loses_and_duplicates_nothing(broker, secrets, tmp_path):
    db = sqlite_db(tmp_path)
    recorder = Recorder(broker, secrets, db, "--client-id", "rec-restart")

    def restart() -> None:
        broker.stop()
        time.sleep(1.0)
        broker.start()

    sink = publish_paced(broker, 600, restart)
    assert wait_for_rows(db, 600) == 600
    recorder.stop()
    assert sink.dropped == 0
    assert_exactly(db, sink.session, 600)
    assert any("reconnecting" in line for line in recorder.log), recorder.log


def test_recorder_killed_mid_stream_gets_the_rest_from_its_session(broker, secrets, tmp_path):
    """SIGKILL: what it had not committed was not acknowledged, so the broker sends it again."""
    db = sqlite_db(tmp_path)
    recorders = [Recorder(broker, secrets, db, "--client-id", "rec-killed")]

    def kill_and_restart() -> None:
        recorders[0].proc.kill()  # the recorder we started, by pid
        recorders[0].proc.wait()
        time.sleep(0.5)
        recorders.append(Recorder(broker, secrets, db, "--client-id", "rec-killed"))

    sink = publish_paced(broker, 600, kill_and_restart)
    assert len(recorders) == 2
    assert wait_for_rows(db, 600) == 600
    recorders[1].stop()
    assert_exactly(db, sink.session, 600)


def test_postgres_restart_mid_stream_loses_and_duplicates_nothing(broker, secrets, postgres):
    db = postgres.new_database()
    recorder = Recorder(broker, secrets, db, "--client-id", "rec-pg-restart")

    def restart() -> None:
        postgres.stop()
        time.sleep(1.0)
        postgres.start()

    sink = publish_paced(broker, 600, restart)
    assert wait_for_rows(db, 600) == 600
    recorder.stop()
    assert_exactly(db, sink.session, 600)
    assert any("database unavailable" in line for line in recorder.log), recorder.log
    assert any("is back" in line for line in recorder.log), recorder.log


def test_two_recorders_on_a_shared_subscription_split_the_events(broker, secrets, tmp_path):
    dbs = [sqlite_db(tmp_path, f"r{i}.sqlite") for i in (1, 2)]
    recorders = [Recorder(broker, secrets, db, "--share", "clinic-recorders", "--client-id",
                          f"rec-shared-{i}") for i, db in enumerate(dbs)]  # fmt: skip
    from serdevice.device.clinic.loadgen import companion

    sent = []
    for device in ("dev1", "dev2"):
        settings = parse_settings(f"mqtts://127.0.0.1:{broker.port}/clinic", ca=broker.ca,
                                  username=device, env={"SERDEVICE_MQTT_PASSWORD": USERS[device]})  # fmt: skip
        sent.append(companion(settings, device, 400))
    total = sum(p.events for p in sent)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(wait_for_rows(d, 0) for d in dbs) < total:
        time.sleep(0.1)
    summaries = [r.stop() for r in recorders]
    keys = []
    for db in dbs:
        store = open_store(db, create=False)
        try:
            keys.append({(s.device, s.session, e["seq"]) for s in store.sessions()
                         for e in read_session(db, s.session, s.device)})  # fmt: skip
        finally:
            store.close()
    expected = {(p.device, p.session, seq) for p in sent for seq in range(p.events)}
    assert keys[0] | keys[1] == expected  # union: every event
    assert not keys[0] & keys[1]  # intersection: none
    assert keys[0] and keys[1], summaries  # both did a share of the work


def test_store_schema_is_created_once_and_a_newer_one_is_refused(tmp_path):
    from serdevice.device.clinic.store import SCHEMA_VERSION, event_row
    from serdevice.device.stream.contracts import InputError

    db = sqlite_db(tmp_path)
    store = open_store(db)
    row = event_row("dev1", '{"type": "stop", "seq": 3, "wall": 100.0, "session": "s"}', 200.0)
    assert store.insert([row, row]) == 1  # a redelivery is stored once
    assert store.insert([row]) == 0
    store.close()
    store = open_store(db)  # opening again migrates nothing and keeps the rows
    assert store.count() == 1
    store._conn.execute("UPDATE serdevice_schema SET version = ?", (SCHEMA_VERSION + 1,))
    store._conn.commit()
    store.close()
    with pytest.raises(InputError, match="newer than this serdevice"):
        open_store(db)


def test_retention_deletes_only_older_events(tmp_path):
    from serdevice.device.clinic.store import event_row

    store = open_store(sqlite_db(tmp_path))
    now = 1_764_000_000.0
    rows = [event_row("d", json.dumps({"type": "activation", "seq": i, "session": "s",
                                       "wall": now - days * 86_400}), now)
            for i, days in enumerate([0.5, 2, 10, 40])]  # fmt: skip
    store.insert(rows)
    assert store.prune(7, now=now) == 2
    assert store.count() == 2
    store.close()


def test_doctor_checks_the_broker_reachable_tls_and_login(broker, secrets, cli, tmp_path):
    def doctor(*args: str) -> tuple[int, dict]:
        done = cli("doctor", "--json", "--no-level-check", "--output", str(tmp_path),
                   "--mqtt", f"mqtts://127.0.0.1:{broker.port}/clinic/dev1", *args)  # fmt: skip
        assert "Traceback" not in done.stderr
        return done.returncode, {c["name"]: c for c in json.loads(done.stdout)["checks"]}

    code, checks = doctor(*tls_args(broker, "dev1", secrets))
    assert code == 0, checks
    assert [checks[n]["status"] for n in ("mqtt broker", "mqtt tls", "mqtt login")] == ["ok"] * 3
    code, checks = doctor("--mqtt-ca", str(broker.pki / "other-ca.pem"))
    assert code == 1 and checks["mqtt tls"]["status"] == "FAIL"
    assert "not trusted" in checks["mqtt tls"]["detail"] and "mqtt login" not in checks
    secrets["dev1"].write_text("wrong\n")
    code, checks = doctor(*tls_args(broker, "dev1", secrets))
    assert code == 1 and checks["mqtt login"]["status"] == "FAIL"
    assert "refused" in checks["mqtt login"]["detail"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--mqtt is required"),
        (["--mqtt", "mqtt://127.0.0.1/clinic", "--share", "a/b"], "--share a/b: a group name"),
        (["--mqtt", "mqtt://10.0.0.5/clinic"], "plaintext MQTT to 10.0.0.5"),
        (["--mqtt", "mqtt://127.0.0.1:9/clinic", "--db", "/"], "--db /: is a directory"),
    ],
)
def test_record_bad_input_is_one_line_and_exit_2(cli, args, message):
    result = cli("record", *args)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_credentials_refused_later_are_one_error_and_the_client_keeps_trying(tmp_path):
    """Broker away at start (not fatal), then back with the password refused: one line each."""
    broker = SecureBroker(tmp_path / "broker", USERS)
    settings = parse_settings(f"mqtts://127.0.0.1:{broker.port}/clinic/dev1", ca=broker.ca,
                              username="dev1", env={"SERDEVICE_MQTT_PASSWORD": "wrong"})  # fmt: skip
    sink = Mqtt(settings)  # nobody listens yet: no answer to refuse anything
    reports: list[str] = []
    refused = threading.Event()

    def report(text: str) -> None:
        reports.append(text)
        if "refused the credentials" in text:
            refused.set()

    sink.report_to(report)
    broker.start()
    try:
        assert refused.wait(30), reports
        deadline = time.monotonic() + 30  # until the broker has refused it once more
        while broker.log.read_text().count(REFUSAL_LOG) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        sink.close(timeout_s=0)
        broker.stop()
    assert ["connection refused" in r for r in reports] == [True, False], reports
    assert broker.log.read_text().count(REFUSAL_LOG) >= 2  # it kept trying ...
    assert "user 'dev1'" in reports[1] and "reconnecting with backoff" in reports[1]  # ... one line

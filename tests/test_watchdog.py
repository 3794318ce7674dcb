"""sd_notify over a real AF_UNIX datagram socket: READY, rate-limited WATCHDOG, STOPPING."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from serdevice.device.deployment.watchdog import Watchdog, sd_notify


@pytest.fixture
def notify_socket(tmp_path: Path):
    """A datagram socket standing in for systemd's; yields (path, receive)."""
    path = tmp_path / "notify"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.setblocking(False)

    def receive() -> list[str]:
        messages = []
        while True:
            try:
                messages.append(server.recv(4096).decode())
            except BlockingIOError:
                return messages

    yield str(path), receive
    server.close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_ready_ping_stopping_arrive_as_systemd_expects(notify_socket):
    path, receive = notify_socket
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}
    dog = Watchdog.from_env(env)
    assert dog.enabled and dog.interval_s == 15.0
    assert dog.ready() and dog.ping() and dog.stopping()
    assert receive() == ["READY=1", "WATCHDOG=1", "STOPPING=1"]
    assert dog.sent == 3


def test_pings_are_rate_limited_to_half_the_watchdog_period(notify_socket):
    path, receive = notify_socket
    clock = FakeClock()
    dog = Watchdog(notify_socket=path, interval_s=15.0, clock=clock)
    sent = []
    for _ in range(200):  # a loop pinging every 0.5 s hop for 100 s
        sent.append(dog.ping())
        clock.now += 0.5
    assert receive() == ["WATCHDOG=1"] * 7  # at 0, 15, 30, ... 90 s
    assert [i for i, ok in enumerate(sent) if ok] == [0, 30, 60, 90, 120, 150, 180]


def test_without_notify_socket_everything_is_a_no_op():
    dog = Watchdog.from_env({"WATCHDOG_USEC": "30000000"})
    assert not dog.enabled and dog.interval_s is None
    assert not dog.ready() and not dog.ping() and not dog.stopping()
    assert dog.sent == 0


def test_watchdog_for_another_pid_sends_no_pings(notify_socket):
    path, receive = notify_socket
    dog = Watchdog.from_env({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000",
                             "WATCHDOG_PID": str(os.getpid() + 1)})  # fmt: skip
    assert dog.interval_s is None and not dog.ping()
    assert dog.ready()
    assert receive() == ["READY=1"]


def test_ready_can_carry_a_status(notify_socket):
    path, receive = notify_socket
    Watchdog(notify_socket=path).ready("listening on mic")
    assert receive() == ["READY=1\nSTATUS=listening on mic"]


def test_abstract_namespace_socket():
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"serdevice-test-{os.getpid()}"
    server.bind("\0" + name)
    try:
        assert sd_notify("READY=1", "@" + name)
        assert server.recv(100) == b"READY=1"
    finally:
        server.close()


def test_a_vanished_socket_never_raises(tmp_path):
    dog = Watchdog(notify_socket=str(tmp_path / "gone"), interval_s=1.0)
    assert dog.ready() is False and dog.ping() is False and dog.sent == 0

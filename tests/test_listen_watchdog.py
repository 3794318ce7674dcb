"""`listen` under systemd: READY=1 after start, WATCHDOG=1 from the loop, STOPPING=1 at the end."""

from __future__ import annotations

import socket
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "device" / "data" / "sample.wav"


def test_listen_notifies_systemd(cli, tmp_path):
    path = tmp_path / "notify.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(0.2)
    try:
        result = cli("listen", "--source", str(SAMPLE), "--fast",
                     env={"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "2000000"})  # fmt: skip
        assert result.returncode == 0, result.stderr
        messages = []
        while True:
            try:
                messages.append(server.recv(4096).decode())
            except TimeoutError:
                break
    finally:
        server.close()
    kinds = [m.split("=")[0] for m in messages]
    assert kinds[0] == "READY" and kinds[-1] == "STOPPING"
    assert "WATCHDOG" in kinds  # pinged from the processing loop

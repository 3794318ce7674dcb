"""`listen --serve`: the live page's server, without a browser (tests/test_browser.py has one).

Every request goes to 127.0.0.1, also when the server is bound to 0.0.0.0.
"""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path

import pytest
from live_listen import served_url, start_listen

from serdevice.device.sinks.live import (
    EventHub,
    LiveConfig,
    LiveSink,
    ServeAddress,
    check_token,
    parse_serve,
)
from serdevice.device.stream.contracts import InputError

SAMPLE = Path(__file__).resolve().parents[1] / "device" / "data" / "sample.wav"


def test_parse_serve():
    assert parse_serve("8765") == ServeAddress(host="127.0.0.1", port=8765)
    assert parse_serve("0.0.0.0:80") == ServeAddress(host="0.0.0.0", port=80)
    assert parse_serve("[::1]:9000") == ServeAddress(host="::1", port=9000)
    assert parse_serve("localhost:1").loopback and not parse_serve("0.0.0.0:1").loopback
    for bad in ("", "host", "1.2.3.4:", ":80", "a:b", "99999", "http://x:80", "1:2:3"):
        with pytest.raises(InputError, match="--serve"):
            parse_serve(bad)


def test_a_token_is_required_off_loopback_only():
    assert check_token(parse_serve("8765"), None) is None
    generated = check_token(parse_serve("0.0.0.0:8765"), None)
    assert generated is not None and len(generated) >= 20
    assert check_token(parse_serve("8765"), "a-long-enough-token") == "a-long-enough-token"
    with pytest.raises(InputError, match="--serve-token"):
        check_token(parse_serve("8765"), "short")


def test_hub_keeps_the_last_minutes_and_drops_a_page_that_falls_behind():
    hub = EventHub(LiveConfig(backlog_s=10.0, client_queue=3))
    for i in range(30):
        hub.publish({"type": "activation", "t": float(i), "seq": i})
    client = hub.subscribe()
    assert client is not None
    backlog = [json.loads(client.get_nowait() or "")["t"] for _ in range(client.qsize())]
    assert backlog == [float(t) for t in range(19, 30)]  # the last 10 s of the audio clock
    for i in range(30, 60):  # more than the page's queue holds: it is let go, not waited for
        hub.publish({"type": "activation", "t": float(i), "seq": i})
    assert client not in hub._clients
    items = [client.get_nowait() for _ in range(client.qsize())]
    assert items[-1] is None and len(items) < 30


def request(port: int, path: str, *, method: str = "GET", headers: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    return response, connection


def test_loopback_server_page_stream_and_no_writes():
    sink = LiveSink(parse_serve("127.0.0.1:0"), token=None)
    try:
        sink.write({"type": "start", "seq": 0, "model": "m"})
        response, conn = request(sink.port, "/")
        body = response.read().decode()
        assert response.status == 200 and "EventSource" in body and "<script" in body
        assert "default-src 'none'" in response.getheader("Content-Security-Policy")
        conn.close()
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            response, conn = request(sink.port, "/events", method=method)
            assert response.status == 405
            conn.close()
        response, conn = request(sink.port, "/audio")
        assert response.status == 404
        conn.close()
        response, conn = request(sink.port, "/", headers={"Host": "attacker.example:80"})
        assert response.status == 403  # DNS rebinding: a loopback server answers loopback names
        conn.close()
        response, conn = request(sink.port, "/events")
        assert response.status == 200 and response.getheader("Content-Type") == "text/event-stream"
        sink.write({"type": "activation", "t": 2.5, "seq": 1, "model": "m", "activation": 3.0})
        sink.hub.close()
        data = [json.loads(line[6:]) for line in response.read().decode().splitlines()
                if line.startswith("data: {\"")]  # fmt: skip
        assert [e["seq"] for e in data] == [0, 1]
        conn.close()
    finally:
        sink.close()


def test_off_loopback_requires_the_token_in_constant_time_compare():
    sink = LiveSink(parse_serve("0.0.0.0:0"), token="secret-token-1234")
    try:
        for path, headers in [("/", {}), ("/events", {}), ("/?token=wrong-token-12345", {}),
                              ("/events?token=secret-token-123", {})]:  # fmt: skip
            response, conn = request(sink.port, path, headers=headers)
            assert response.status == 401, path
            assert response.getheader("WWW-Authenticate", "").startswith("Bearer")
            conn.close()
        response, conn = request(sink.port, "/?token=secret-token-1234")
        assert response.status == 200
        conn.close()
        response, conn = request(
            sink.port, "/", headers={"Authorization": "Bearer secret-token-1234"}
        )
        assert response.status == 200
        conn.close()
    finally:
        sink.close()


def test_listen_serve_on_all_interfaces_prints_a_generated_token_and_refuses_without_it():
    process = start_listen("--source", "-", "--rate", "16000", "--serve", "0.0.0.0:0")
    try:
        url = served_url(process)
        match = re.fullmatch(r"http://0\.0\.0\.0:(\d+)/\?token=([A-Za-z0-9_-]{20,})", url)
        assert match, url
        port, token = int(match.group(1)), match.group(2)
        response, conn = request(port, "/events")
        assert response.status == 401
        conn.close()
        response, conn = request(port, f"/events?token={token}")
        assert response.status == 200
        line = response.readline()
        while not line.startswith(b"data: "):
            line = response.readline()
        start = json.loads(line[len(b"data: ") :])
        assert start["type"] == "start" and "audio" not in json.dumps(start).lower().replace(
            "audio_s", ""
        )
        conn.close()
    finally:
        process.stdin.close()  # end of input: stop event, server closes, exit 0
        assert process.wait(timeout=60) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--serve", "nonsense"], "--serve nonsense: expected [HOST:]PORT"),
        (["--serve-token", "abcdefghijklmnop"], "--serve-token needs --serve"),
        (["--serve", "127.0.0.1:0", "--serve-token", "short"], "--serve-token: 12-128"),
        (["--serve", "192.0.2.1:0"], "cannot listen"),  # an address this machine does not have
    ],
)
def test_bad_serve_options_exit_2(cli, args, message):
    result = cli("listen", "--source", str(SAMPLE), "--fast", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_busy_port_exits_2(cli):
    sink = LiveSink(parse_serve("127.0.0.1:0"), token=None)
    try:
        result = cli(
            "listen", "--source", str(SAMPLE), "--fast", "--serve", f"127.0.0.1:{sink.port}"
        )
        assert result.returncode == 2 and "cannot listen" in result.stderr, result.stderr
    finally:
        sink.close()


def test_listen_with_serve_keeps_the_jsonl_stream_unchanged(cli, tmp_path):
    # each from an empty adaptation state, so both hear the sample the same way
    plain = cli("listen", "--source", str(SAMPLE), "--fast", "--state", str(tmp_path / "a.json"))
    served = cli("listen", "--source", str(SAMPLE), "--fast", "--serve", "127.0.0.1:0",
                 "--state", str(tmp_path / "b.json"))  # fmt: skip
    assert served.returncode == 0, served.stderr
    strip = ("wall", "latency_ms", "cpu_s", "adaptation")

    def shape(stdout: str) -> list:
        return [{k: v for k, v in json.loads(line).items() if k not in strip}
                for line in stdout.splitlines()]  # fmt: skip

    assert shape(plain.stdout) == shape(served.stdout)


def test_pages_beyond_the_limit_get_503_and_a_closed_page_frees_its_place():
    sink = LiveSink(parse_serve("127.0.0.1:0"), token=None, config=LiveConfig(max_pages=2))
    try:
        open_pages = [request(sink.port, "/events") for _ in range(2)]
        assert [response.status for response, _ in open_pages] == [200, 200]
        third, conn = request(sink.port, "/events")
        assert third.status == 503
        conn.close()
    finally:
        sink.close()
    for _, conn in open_pages:
        conn.close()

"""The live page: ``listen --serve [HOST:]PORT`` shows the session's timeline in a browser.

Standard library only (``http.server`` + Server-Sent Events), so the ``[device]`` install stays
light. ``LiveSink`` is one more sink of the fan-out: it keeps the last minutes of events and
pushes each new one to every open page. Two endpoints, both GET: ``/`` (the page, inline JS and
CSS) and ``/events`` (the stream). Events only, never audio; nothing can be written.
Bound to 127.0.0.1 by default; any other address needs a token (given or generated), compared
in constant time; on loopback the Host header must name loopback too (no DNS rebinding).
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import queue
import re
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..stream.contracts import InputError
from ..stream.events import to_line

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9._~-]{12,128}")


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveConfig:
    """How much the server keeps and how it talks to pages."""

    backlog_s: float = 600.0  # audio-clock seconds of events a newly opened page receives
    backlog_events: int = 5_000  # ... and at most this many (10 min of speech: ~1,500)
    page_minutes: float = 5.0  # what the page shows unless ?minutes= says otherwise
    client_queue: int = 10_000  # events waiting per page; a page further behind is let go
    keepalive_s: float = 15.0  # an SSE comment this often keeps proxies and browsers connected
    max_pages: int = 16  # open streams at once (each holds a thread); more get 503


@dataclass(frozen=True, slots=True, kw_only=True)
class ServeAddress:
    """Where the live page listens."""

    host: str
    port: int

    @property
    def loopback(self) -> bool:
        """True for 127.0.0.0/8, ::1 and localhost."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_serve(value: str) -> ServeAddress:
    """``PORT``, ``HOST:PORT`` or ``[IPv6]:PORT``; the host defaults to 127.0.0.1.

    >>> parse_serve("8765"), parse_serve("0.0.0.0:80").host, parse_serve("[::1]:9").host
    (ServeAddress(host='127.0.0.1', port=8765), '0.0.0.0', '::1')
    """
    text = value.strip()
    if text.isdigit():
        host, port_text = "127.0.0.1", text
    else:
        match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([^:\[\]\s/]+):(\d{1,5})", text)
        if match is None:
            raise InputError(f"--serve {value}: expected [HOST:]PORT, e.g. 8765 or 127.0.0.1:8765")
        host, port_text = match.group(1) or match.group(3), match.group(2) or match.group(4)
    port = int(port_text)
    if port > 65535:
        raise InputError(f"--serve {value}: port {port} is above 65535")
    return ServeAddress(host=host, port=port)


def check_token(address: ServeAddress, token: str | None) -> str | None:
    """The token the server will require: the given one, a new one off loopback, else none."""
    if token is not None:
        if not TOKEN_PATTERN.fullmatch(token):
            raise InputError("--serve-token: 12-128 characters of A-Z a-z 0-9 . _ ~ -")
        return token
    return None if address.loopback else secrets.token_urlsafe(18)


class EventHub:
    """The last minutes of events, and one bounded queue per open page."""

    def __init__(self, config: LiveConfig) -> None:
        self.config = config
        self._backlog: deque[str] = deque(maxlen=config.backlog_events)
        self._times: deque[float] = deque(maxlen=config.backlog_events)
        self._clients: list[queue.Queue[str | None]] = []
        self._lock = threading.Lock()
        self._closed = False

    def publish(self, event: dict[str, Any]) -> None:
        """Keep the event and hand it to every page (a page too far behind is let go)."""
        line = to_line(event)
        t = event.get("t")
        with self._lock:
            latest = t if isinstance(t, (int, float)) else (self._times[-1] if self._times else 0.0)
            self._backlog.append(line)
            self._times.append(latest)
            while self._times and self._times[0] < latest - self.config.backlog_s:
                self._times.popleft()
                self._backlog.popleft()
            for client in list(self._clients):
                if client.qsize() >= self.config.client_queue:
                    self._clients.remove(client)
                    client.put_nowait(None)  # unbounded queue: the end marker always fits
                else:
                    client.put_nowait(line)

    def subscribe(self) -> queue.Queue[str | None] | None:
        """A queue that starts with the backlog, then gets every new event; None ends it.

        None instead of a queue when ``max_pages`` streams are open already.
        """
        client: queue.Queue[str | None] = queue.Queue()  # bounded by publish, which can end it
        with self._lock:
            if len(self._clients) >= self.config.max_pages:
                return None
            for line in self._backlog:
                client.put_nowait(line)
            if self._closed:
                client.put_nowait(None)
            else:
                self._clients.append(client)
        return client

    def unsubscribe(self, client: queue.Queue[str | None]) -> None:
        """Forget a page that went away."""
        with self._lock, contextlib.suppress(ValueError):
            self._clients.remove(client)

    def close(self) -> None:
        """End every stream (after the last event, e.g. ``stop``)."""
        with self._lock:
            self._closed = True
            for client in self._clients:
                client.put_nowait(None)
            self._clients.clear()


class LiveHandler(BaseHTTPRequestHandler):
    """GET / (the page) and GET /events (the stream), token and Host checks, nothing else;
    ``make_handler`` gives it its hub, address, token and page."""

    hub: EventHub
    address: ServeAddress
    token: str | None
    page: bytes
    server_version = "serdevice-live"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        pass  # stderr belongs to the recognizer's one-line errors

    def _plain(self, status: int, text: str, **headers: str) -> None:
        body = (text + "\n").encode()
        self.send_response(status)
        for name, value in {"Content-Type": "text/plain; charset=utf-8", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _allowed(self, query: dict[str, list[str]]) -> bool:
        if self.address.loopback:
            host = urlsplit("//" + (self.headers.get("Host") or "")).hostname or ""
            if host not in LOOPBACK_NAMES:
                self._plain(403, "forbidden: this page is served to loopback names only")
                return False
        if self.token is None:
            return True
        given = (query.get("token") or [""])[0]
        bearer = self.headers.get("Authorization", "")
        if bearer.startswith("Bearer "):
            given = bearer[len("Bearer ") :]
        if hmac.compare_digest(given.encode(), self.token.encode()):
            return True
        self._plain(401, "unauthorized: add ?token=... (printed when listen started)",
                    **{"WWW-Authenticate": 'Bearer realm="serdevice"'})  # fmt: skip
        return False

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urlsplit(self.path)
        if not self._allowed(parse_qs(url.query)):
            return
        if url.path == "/":
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(self.page)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Content-Security-Policy", "default-src 'none'; "
                             "script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                             "connect-src 'self'")  # fmt: skip
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(self.page)
        elif url.path == "/events":
            self._stream()
        else:
            self._plain(404, "not found: the live page is /, its stream /events")

    do_HEAD = do_GET  # noqa: N815

    def _refuse(self) -> None:
        self._plain(405, "method not allowed: this server only shows events", Allow="GET, HEAD")

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse  # noqa: N815

    def _stream(self) -> None:
        client = self.hub.subscribe() if self.command == "GET" else None
        if client is None and self.command == "GET":
            self._plain(503, "too many open pages", **{"Retry-After": "10"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if client is None:  # HEAD
            return
        try:
            self.wfile.write(b"retry: 2000\n\n")
            while True:
                try:
                    line = client.get(timeout=self.hub.config.keepalive_s)
                except queue.Empty:
                    self.wfile.write(b": keepalive\n\n")
                    self.wfile.flush()
                    continue
                if line is None:
                    self.wfile.write(b"event: end\ndata: {}\n\n")
                    break
                self.wfile.write(b"data: " + line.encode() + b"\n\n")
                if client.empty():
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the page went away
        finally:
            self.hub.unsubscribe(client)


def make_handler(
    hub: EventHub, address: ServeAddress, token: str | None, page: bytes
) -> type[BaseHTTPRequestHandler]:
    """The request handler class for one server."""
    return type("Handler", (LiveHandler,), {"hub": hub, "address": address, "token": token,
                                             "page": page})  # fmt: skip


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class LiveSink:
    """A sink that serves the live page; ``close`` ends the streams and the server."""

    def __init__(
        self, address: ServeAddress, *, token: str | None, config: LiveConfig | None = None
    ) -> None:
        from .live_page import page_html

        self.config = config or LiveConfig()
        self.hub = EventHub(self.config)
        self.token = token
        page = page_html(minutes=self.config.page_minutes).encode()
        handler = make_handler(self.hub, address, token, page)
        server_class = _Server
        if ":" in address.host:
            import socket

            class _Server6(_Server):
                address_family = socket.AF_INET6

            server_class = _Server6
        try:
            self._server = server_class((address.host, address.port), handler)
        except OSError as exc:
            raise InputError(
                f"--serve {address.host}:{address.port}: cannot listen ({exc.strerror or exc})"
            ) from None
        self.port = int(self._server.server_address[1])
        self.address = ServeAddress(host=address.host, port=self.port)
        self.name = f"live:{address.host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="live-http", daemon=True)  # fmt: skip
        self._thread.start()

    @property
    def url(self) -> str:
        """Where to open the page (with the token, when one is needed)."""
        host = f"[{self.address.host}]" if ":" in self.address.host else self.address.host
        return f"http://{host}:{self.port}/" + (f"?token={self.token}" if self.token else "")

    def write(self, event: dict[str, Any]) -> None:
        """Keep and push one event."""
        self.hub.publish(event)

    def close(self) -> None:
        """End the streams, stop serving."""
        self.hub.close()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start_live(serve: str | None, token: str | None) -> LiveSink:
    """Parse ``--serve``/``--serve-token``, start serving, say where (on stderr)."""
    import sys

    if serve is None:
        raise InputError("--serve-token needs --serve [HOST:]PORT")
    address = parse_serve(serve)
    sink = LiveSink(address, token=check_token(address, token))
    anywhere = address.host in ("0.0.0.0", "::")
    where = " (all interfaces: open it with this machine's address)" if anywhere else ""
    print(f"serdevice: live page on {sink.url}{where}", file=sys.stderr, flush=True)
    return sink

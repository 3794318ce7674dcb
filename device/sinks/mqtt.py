"""MQTT transport: the broker URL, TLS and authentication settings, clients, the broker probe.

``mqtt://host[:port]/topic`` (plaintext, port 1883) or ``mqtts://host[:port]/topic`` (TLS, 8883).
Everything is checked before a socket opens: a password never comes from the command line (it
shows in ``ps``) but from ``--mqtt-password-file`` or ``$SERDEVICE_MQTT_PASSWORD``, and plaintext
to a host that is not this machine is refused unless ``--mqtt-insecure`` says so. paho-mqtt is
imported only when a client is made, so ``listen`` without ``--mqtt`` never loads it. The
``--mqtt-*`` options are commands/mqtt_options.py's; the publishing sink is sinks.Mqtt.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import ParseResult, unquote, urlparse

from ..stream.contracts import InputError

if TYPE_CHECKING:
    import ssl

PASSWORD_ENV = "SERDEVICE_MQTT_PASSWORD"
DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
FIRST_CONNECT_WAIT_S = 5.0  # at start, how long to wait for the broker's answer to the login
RECONNECT_DELAY_S = (1, 30)  # paho doubles the delay from the first to the second
AUTH_REFUSALS = ("Bad user name or password", "Not authorized")


@dataclass(frozen=True, slots=True, kw_only=True)
class MqttSettings:
    """Where to connect and how: one broker, one topic, TLS files, credentials."""

    tls: bool
    host: str
    port: int
    topic: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None

    @property
    def where(self) -> str:
        """``mqtts://host:port/topic`` (never the credentials)."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}/{self.topic}"


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (no name is resolved: no DNS traffic).

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("10.0.0.1")
    (True, True, False)
    """
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _readable(option: str, path: Path | None) -> Path | None:
    if path is not None and not path.is_file():
        raise InputError(f"{option} {path}: no such file")
    return path


def read_password(password_file: Path | None, env: Mapping[str, str]) -> str | None:
    """The password from a file (first line) or the environment; None when neither is set."""
    if password_file is not None:
        try:
            lines = password_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InputError(
                f"--mqtt-password-file {password_file}: cannot read ({exc.strerror})"
            ) from None
        if not lines or not lines[0]:
            raise InputError(f"--mqtt-password-file {password_file}: empty")
        return lines[0]
    return env.get(PASSWORD_ENV) or None


def parse_settings(
    url: str,
    *,
    ca: Path | None = None,
    cert: Path | None = None,
    key: Path | None = None,
    username: str | None = None,
    password_file: Path | None = None,
    insecure: bool = False,
    env: Mapping[str, str] | None = None,
    option: str = "--mqtt",
    subscribe: bool = False,
) -> MqttSettings:
    """Check a broker URL and its options (nothing is opened); errors name the option.

    ``subscribe`` (the recorder): the topic is a base, subscribed as ``TOPIC/#``; written as
    ``TOPIC/#`` (MQTT's "everything under") it means the same. Other wildcards are refused.
    """
    parsed = urlparse(url, allow_fragments=False)  # '#' is MQTT's wildcard, not a fragment
    topic = _topic(url, parsed, option=option, subscribe=subscribe)
    host = str(parsed.hostname)  # _topic refused a URL without one
    try:
        port = parsed.port or DEFAULT_PORTS[parsed.scheme]
    except ValueError:
        raise InputError(f"{option} {url}: the port is not a number in 1-65535") from None
    if parsed.password is not None:
        raise InputError(f"{option}: no password in the URL (it would show in `ps`); "
                         f"use --mqtt-password-file or ${PASSWORD_ENV}")  # fmt: skip
    url_user = unquote(parsed.username) if parsed.username else None
    if username and url_user and username != url_user:
        raise InputError(f"{option}: user {url_user!r} in the URL but --mqtt-user {username!r}")
    user = username or url_user
    password = read_password(password_file, os.environ if env is None else env)
    if password is not None and user is None:
        raise InputError(f"{option}: a password needs a user name (in the URL or --mqtt-user)")
    tls = parsed.scheme == "mqtts"
    if not tls and (ca or cert or key):
        raise InputError(f"{option} {url}: --mqtt-ca/--mqtt-cert/--mqtt-key need mqtts://")
    if key is not None and cert is None:
        raise InputError("--mqtt-key needs --mqtt-cert (the client certificate it belongs to)")
    if not tls and not insecure and not is_loopback(host):
        raise InputError(
            f"{option} {url}: plaintext MQTT to {host}, which is not this machine, "
            "would send events and credentials readable on the network; use mqtts:// "
            "(with --mqtt-ca), or --mqtt-insecure to allow it"
        )
    return MqttSettings(
        tls=tls, host=host, port=port, topic=topic, username=user, password=password,
        ca=_readable("--mqtt-ca", ca), cert=_readable("--mqtt-cert", cert),
        key=_readable("--mqtt-key", key),
    )  # fmt: skip


def _topic(url: str, parsed: ParseResult, *, option: str, subscribe: bool) -> str:
    """The topic of a URL, checked: no wildcard to publish to, a base (``TOPIC`` or
    ``TOPIC/#``) to subscribe to."""
    topic = parsed.path.lstrip("/")
    if subscribe and topic.endswith("/#"):
        topic = topic[:-2]
    if not topic or not parsed.hostname or parsed.scheme not in DEFAULT_PORTS:
        raise InputError(f"{option} {url}: expected mqtt://host[:port]/topic or mqtts://...")
    if "+" in topic or "#" in topic:
        what = ("a base topic (TOPIC or TOPIC/#: everything under TOPIC)" if subscribe
                else "a topic to publish to")  # fmt: skip
        raise InputError(f"{option} {url}: MQTT wildcards ('+', '#') cannot be in {what}")
    return topic


# --- clients ----------------------------------------------------------------------------------


def tls_context(settings: MqttSettings) -> ssl.SSLContext:
    """A verifying TLS context: the given CA (or the system's), host name checked."""
    import ssl  # here, not at the top: listen without --mqtt never loads OpenSSL

    try:
        context = ssl.create_default_context(cafile=str(settings.ca) if settings.ca else None)
    except ssl.SSLError as exc:
        raise InputError(f"--mqtt-ca {settings.ca}: not a PEM certificate ({exc.reason})") from None
    if settings.cert is not None:
        try:
            context.load_cert_chain(str(settings.cert), str(settings.key) if settings.key else None)
        except ssl.SSLError as exc:
            raise InputError(f"--mqtt-cert {settings.cert}: unusable ({exc.reason})") from None
    return context


def describe_failure(exc: BaseException, settings: MqttSettings) -> str:
    """One line that says why a connection to the broker failed."""
    import ssl

    where = f"{settings.host}:{settings.port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or str(exc)
        if "mismatch" in reason.lower():
            return f"TLS: the certificate of {where} is not for the name {settings.host} ({reason})"
        return f"TLS: the certificate of {where} is not trusted ({reason}); is --mqtt-ca the CA that signed it?"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake with {where} failed ({exc.reason or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return f"{where}: connection refused (is the broker running?)"
    if isinstance(exc, socket.gaierror):
        return f"{settings.host}: unknown host"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"{where}: no answer (timed out)"
    if isinstance(exc, OSError):
        return f"{where}: {exc.strerror or exc}"
    return f"{where}: {type(exc).__name__}: {exc}"


def make_client(
    settings: MqttSettings,
    *,
    client_id: str,
    clean_session: bool = True,
    on_failure: Callable[[BaseException], None] | None = None,
    extra: str = "device",
) -> Any:
    """A paho client with TLS and credentials set (not connected).

    ``on_failure`` hears each failed connection attempt with its exception (paho's own
    ``on_connect_fail`` does not say why).
    """
    try:
        import paho.mqtt.client as mqtt
    except ModuleNotFoundError:
        raise InputError(f"MQTT needs paho-mqtt: pip install 'serdevice[{extra}]'") from None

    class Client(mqtt.Client):  # type: ignore[misc]
        def reconnect(self) -> Any:
            try:
                return super().reconnect()
            except OSError as exc:
                if on_failure is not None:
                    on_failure(exc)
                raise

    client = Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                    clean_session=clean_session)  # fmt: skip
    if settings.username is not None:
        client.username_pw_set(settings.username, settings.password)
    if settings.tls:
        client.tls_set_context(tls_context(settings))
    client.reconnect_delay_set(min_delay=RECONNECT_DELAY_S[0], max_delay=RECONNECT_DELAY_S[1])
    return client


def is_auth_refusal(reason: Any) -> bool:
    """True when a CONNACK reason says the credentials were refused."""
    return str(reason) in AUTH_REFUSALS


def probe(settings: MqttSettings, timeout_s: float = 5.0) -> list[tuple[str, bool | None, str]]:
    """Check a broker step by step: (check, ok / None for a warning / False, detail).

    Reachable (TCP), TLS (handshake, certificate and host name verified), then the login
    (CONNACK); stops at the first step that fails. Nothing is published.
    """
    where = f"{settings.host}:{settings.port}"
    try:
        sock = socket.create_connection((settings.host, settings.port), timeout=timeout_s)
    except OSError as exc:
        return [("mqtt broker", False, describe_failure(exc, settings))]
    rows: list[tuple[str, bool | None, str]] = [("mqtt broker", True, f"{where} reachable")]
    try:
        if settings.tls:
            with tls_context(settings).wrap_socket(sock, server_hostname=settings.host) as tls:
                rows.append(("mqtt tls", True,
                             f"{tls.version()}, certificate verified for {settings.host}"))  # fmt: skip
        else:
            sock.close()
            rows.append(("mqtt tls", None, "plaintext mqtt:// (events readable on the network)"))
    except OSError as exc:
        sock.close()
        return rows + [("mqtt tls", False, describe_failure(exc, settings))]
    return rows + [_probe_login(settings, timeout_s)]


def _probe_login(settings: MqttSettings, timeout_s: float) -> tuple[str, bool | None, str]:
    answered = threading.Event()
    reasons: list[Any] = []

    def on_connect(client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        reasons.append(reason)
        answered.set()

    client = make_client(settings, client_id=f"serdevice-doctor-{uuid.uuid4().hex[:8]}")
    client.on_connect = on_connect
    who = f"user {settings.username}" if settings.username else "anonymous"
    try:
        client.connect(settings.host, settings.port, keepalive=10)
    except OSError as exc:
        return ("mqtt login", False, describe_failure(exc, settings))
    client.loop_start()
    try:
        if not answered.wait(timeout_s):
            return ("mqtt login", False, f"no answer to the login within {timeout_s:.0f} s")
    finally:
        client.disconnect()
        client.loop_stop()
    if reasons[0].is_failure:
        return ("mqtt login", False, f"{who} refused: {reasons[0]}")
    return ("mqtt login", True, f"{who} accepted")

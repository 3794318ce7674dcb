"""systemd notification (sd_notify) over $NOTIFY_SOCKET in plain socket code: READY, WATCHDOG, STOPPING.

Under ``Type=notify`` with ``WatchdogSec=``, systemd sets ``NOTIFY_SOCKET`` and ``WATCHDOG_USEC``;
the processing loop calls ``ping`` for every window it finishes, and pings are sent at most every
``WATCHDOG_USEC / 2``, so a stalled loop stops pinging and systemd restarts the service. Without
``NOTIFY_SOCKET`` (a terminal, a test) every method is a no-op. Sending never raises: a watchdog
that cannot reach systemd must not take the recognizer down with it.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


def socket_address(notify_socket: str) -> str | bytes:
    """$NOTIFY_SOCKET as a socket address ('@name' is Linux's abstract namespace).

    >>> socket_address("/run/systemd/notify"), socket_address("@serdevice/notify")
    ('/run/systemd/notify', b'\\x00serdevice/notify')
    """
    if notify_socket.startswith("@"):
        return b"\0" + notify_socket[1:].encode()
    return notify_socket


def sd_notify(message: str, notify_socket: str | None) -> bool:
    """Send one datagram to systemd; True if it was sent, False if unset or it failed."""
    if not notify_socket:
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(message.encode(), socket_address(notify_socket))
    except OSError:
        return False
    return True


def watchdog_interval_s(environ: Mapping[str, str], pid: int) -> float | None:
    """Seconds between pings (half of WATCHDOG_USEC), or None when no watchdog is asked of us.

    >>> watchdog_interval_s({"WATCHDOG_USEC": "30000000"}, 1)
    15.0
    >>> watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "2"}, 1) is None
    True
    """
    usec = environ.get("WATCHDOG_USEC", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    owner = environ.get("WATCHDOG_PID", "")
    if owner and owner != str(pid):  # the watchdog is meant for another process
        return None
    return int(usec) / 2e6


@dataclass
class Watchdog:
    """READY=1 once, WATCHDOG=1 from the loop (rate-limited), STOPPING=1 on the way out."""

    notify_socket: str | None = None
    interval_s: float | None = None  # None: no watchdog pings (READY/STOPPING still go)
    clock: Callable[[], float] = time.monotonic
    sent: int = 0  # messages sent (for stats and tests)
    _last_ping: float | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Watchdog:
        """From $NOTIFY_SOCKET / $WATCHDOG_USEC / $WATCHDOG_PID (a no-op outside systemd)."""
        env = os.environ if environ is None else environ
        notify_socket = env.get("NOTIFY_SOCKET") or None
        interval = watchdog_interval_s(env, os.getpid()) if notify_socket else None
        return cls(notify_socket=notify_socket, interval_s=interval)

    @property
    def enabled(self) -> bool:
        """True when running under systemd's notify protocol."""
        return self.notify_socket is not None

    def notify(self, message: str) -> bool:
        """Send a raw sd_notify message (e.g. ``STATUS=...``)."""
        ok = sd_notify(message, self.notify_socket)
        self.sent += ok
        return ok

    def ready(self, status: str | None = None) -> bool:
        """Start-up is done (``Type=notify`` waits for this)."""
        message = "READY=1" if status is None else f"READY=1\nSTATUS={status}"
        return self.notify(message)

    def ping(self) -> bool:
        """The loop is alive; sends WATCHDOG=1 only if half the watchdog period has passed."""
        if self.interval_s is None:
            return False
        now = self.clock()
        with self._lock:
            if self._last_ping is not None and now - self._last_ping < self.interval_s:
                return False
            self._last_ping = now
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        """Shutdown has begun (systemd will not count it as a failure)."""
        return self.notify("STOPPING=1")

"""systemd's notify protocol, without a dependency: one datagram to ``$NOTIFY_SOCKET``.

``gate serve`` says ``READY=1`` once it accepts connections (the unit is ``Type=notify``)
and the station's upkeep loop says ``WATCHDOG=1`` at every round, so a service whose
upkeep hangs (a database that never answers, a stuck lock) is killed and restarted by
systemd after ``WatchdogSec``. Outside systemd (no ``NOTIFY_SOCKET``) nothing is sent.
"""

from __future__ import annotations

import logging
import os
import socket

logger = logging.getLogger(__name__)


def notify(state: str) -> bool:
    """Send ``state`` (``READY=1``, ``WATCHDOG=1``, ``STOPPING=1``); True if it was sent."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as exc:
        logger.warning("could not notify systemd (%s): %s", state, exc)
        return False
    return True

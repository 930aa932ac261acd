"""Pseudo-terminals for the emulators: a raw one, and two joined like a null-modem cable."""

from __future__ import annotations

import os
import select
import threading
import tty


def raw_pty() -> tuple[int, int, str]:
    """A new pseudo-terminal in raw mode: (master fd, slave fd, slave path)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    return master, slave, os.ttyname(slave)


class NullModem:
    """Two pseudo-terminals joined back to back, like a null-modem cable between two ports."""

    def __init__(self) -> None:
        self._a_master, self._a_slave, self.server_port = raw_pty()
        self._b_master, self._b_slave, self.client_port = raw_pty()
        self._wake_r, self._wake_w = os.pipe()
        # Holding the slave ends open keeps the masters readable while a port is reopened.
        self._thread = threading.Thread(target=self._pump, name="null-modem", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        peer = {self._a_master: self._b_master, self._b_master: self._a_master}
        while True:
            ready, _, _ = select.select([self._a_master, self._b_master, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            for source in ready:
                try:
                    os.write(peer[source], os.read(source, 4096))
                except OSError:
                    continue

    def close(self) -> None:
        """Stop the pump and free both ports."""
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        for fd in (self._a_master, self._a_slave, self._b_master, self._b_slave):
            os.close(fd)
        os.close(self._wake_r)
        os.close(self._wake_w)

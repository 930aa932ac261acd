"""A small real NTP server on localhost for the clock's tests (UDP, RFC 4330's 48 bytes)."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from gate.runtime.clock_sources import to_ntp


@dataclass
class NtpServer:
    """A running test server: where it listens, and how far off its clock is (settable)."""

    address: str
    offset: float

    def __str__(self) -> str:
        return self.address


@contextmanager
def ntp_server(
    *, offset: float, delay: float = 0.0, stratum: int = 2, leap: int = 0, echo: bool = True
) -> Iterator[NtpServer]:
    """A one-socket NTP server speaking RFC 4330's bytes, its clock ``offset`` s off this
    machine's (``server.offset`` may change while it runs), ``delay`` s between receiving
    and answering; its address as ``host:port`` until the end."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()
    server = NtpServer(f"127.0.0.1:{sock.getsockname()[1]}", offset)

    def serve() -> None:
        while not stop.is_set():
            try:
                request, peer = sock.recvfrom(512)
            except TimeoutError:
                continue
            received = time.time() + server.offset
            time.sleep(delay)
            (their_transmit,) = struct.unpack_from("!Q", request, 40)
            version = (request[0] >> 3) & 0b111
            answer = struct.pack(
                "!BBbbII4sQQQQ",
                (leap << 6) | (version << 3) | 4,  # mode 4: server
                stratum,
                6,
                -20,
                0,
                0,
                b"GPS\0" if stratum == 1 else b"RATE",
                to_ntp(received),
                their_transmit if echo else 12345,
                to_ntp(received),
                to_ntp(time.time() + server.offset),
            )
            sock.sendto(answer, peer)

    thread = threading.Thread(target=serve, name="test-ntp", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(timeout=5)
        sock.close()

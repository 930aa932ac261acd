"""The references the clock watch compares against: an NTP server, or the hub's ``Date``.

``SntpSource`` is an SNTP client (RFC 4330): one 48-byte UDP request in client mode with
our transmit time, one answer, checked (server mode, our time echoed as its originate
time, a stratum that is not a kiss-o'-death, a synchronised leap indicator), and the
offset ``((T2 - T1) + (T3 - T4)) / 2`` of RFC 4330 section 5. Written here because it is
forty lines of ``struct`` and no NTP library is installed.

``HubDateSource`` asks the district hub's ``/healthz`` and reads its HTTP ``Date`` header
(RFC 9110: whole seconds, so the reading is good to about +/-0.5 s plus half the round
trip; enough for a 10 s alarm).
"""

from __future__ import annotations

import email.utils
import socket
import struct
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime

from gate.app.clock_watch import ClockReading, ClockUnavailable, ClockWatch, TimeSource
from gate.domain.redaction import mask_url
from gate.runtime.settings import Settings

NTP_EPOCH = 2_208_988_800  # seconds from 1900-01-01 (NTP) to 1970-01-01 (Unix)
NTP_PORT = 123
_PACKET = struct.Struct("!BBbb11I")  # li/vn/mode, stratum, poll, precision, 11 words
_CLIENT_V4 = (0 << 6) | (4 << 3) | 3  # LI 0, version 4, mode 3 (client)


def to_ntp(unix: float) -> int:
    """A Unix time as a 64-bit NTP timestamp (seconds since 1900, 32.32 fixed point)."""
    return int((unix + NTP_EPOCH) * 2**32) & (2**64 - 1)


def from_ntp(stamp: int) -> float:
    """A 64-bit NTP timestamp as a Unix time."""
    return stamp / 2**32 - NTP_EPOCH


def sntp_request(transmit: int) -> bytes:
    """The client's 48 bytes: mode 3, version 4, our transmit timestamp in the last 8."""
    return struct.pack("!B47x", _CLIENT_V4)[:40] + struct.pack("!Q", transmit)


def parse_host_port(server: str, default_port: int = NTP_PORT) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port``."""
    if server.startswith("["):
        host, _, rest = server[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    if server.count(":") == 1:
        host, _, port = server.partition(":")
        return host, int(port)
    return server, default_port


class SntpSource:
    """``TimeSource``: one SNTP exchange with ``server`` per reading."""

    def __init__(
        self, server: str, *, timeout: float = 5.0, now: Callable[[], float] = time.time
    ) -> None:
        self.host, self.port = parse_host_port(server)
        self.name = f"ntp {server}"
        self._timeout = timeout
        self._now = now  # this machine's wall clock, the one being checked

    def read(self) -> ClockReading:
        """Ask the server once (``ClockUnavailable`` on silence or a wrong answer)."""
        try:
            address = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)[0]
        except (OSError, UnicodeError) as exc:
            raise ClockUnavailable(f"{self.name}: {exc}") from None
        family, _, _, _, sockaddr = address
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(self._timeout)
            t1 = self._now()
            sent = to_ntp(t1)
            try:
                sock.sendto(sntp_request(sent), sockaddr)
                while True:
                    data, peer = sock.recvfrom(512)
                    if peer[:2] == sockaddr[:2]:
                        break  # anything from elsewhere is not the answer
            except OSError as exc:  # timeout, refused, unreachable
                raise ClockUnavailable(f"{self.name}: {exc or 'no answer'}") from None
            t4 = self._now()
        return self._reading(data, sent=sent, t1=t1, t4=t4)

    def _reading(self, data: bytes, *, sent: int, t1: float, t4: float) -> ClockReading:
        if len(data) < _PACKET.size:
            raise ClockUnavailable(f"{self.name}: {len(data)} bytes, not an NTP packet")
        first, stratum, _poll, _precision, *words = _PACKET.unpack_from(data)
        leap, mode = first >> 6, first & 0b111
        originate = (words[5] << 32) | words[6]
        received = (words[7] << 32) | words[8]
        transmitted = (words[9] << 32) | words[10]
        if mode not in (4, 5):
            raise ClockUnavailable(f"{self.name}: mode {mode}, not a server's answer")
        if stratum == 0:
            kiss = data[12:16].decode("ascii", errors="replace")
            raise ClockUnavailable(f"{self.name}: kiss-o'-death {kiss!r}")
        if leap == 3:
            raise ClockUnavailable(f"{self.name}: the server is not synchronised itself")
        if originate != sent:
            raise ClockUnavailable(f"{self.name}: an answer to another request")
        if transmitted == 0:
            raise ClockUnavailable(f"{self.name}: no transmit time")
        t2, t3 = from_ntp(received), from_ntp(transmitted)
        return ClockReading(
            source=self.name,
            offset_seconds=((t2 - t1) + (t3 - t4)) / 2,
            round_trip_seconds=max(0.0, (t4 - t1) - (t3 - t2)),
            at=datetime.fromtimestamp(t4, UTC),
        )


class HubDateSource:
    """``TimeSource``: the ``Date`` header of the hub's ``/healthz``."""

    def __init__(
        self, url: str, *, timeout: float = 5.0, now: Callable[[], float] = time.time
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("a hub URL starts with http:// or https://")
        self._url = url.rstrip("/") + "/healthz"
        self.name = f"hub {mask_url(url.rstrip('/'))}"
        self._timeout = timeout
        self._now = now

    def read(self) -> ClockReading:
        """One request; its ``Date`` against the middle of the round trip."""
        request = urllib.request.Request(self._url, method="GET")  # noqa: S310 (checked above)
        t1 = self._now()
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as answer:  # noqa: S310
                date = answer.headers.get("Date")
        except urllib.error.HTTPError as error:  # a 503 still says the time
            date = error.headers.get("Date")
            error.close()
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ClockUnavailable(f"{self.name}: {reason}") from None
        t4 = self._now()
        try:
            stamped = email.utils.parsedate_to_datetime(date) if date else None
        except (TypeError, ValueError):
            stamped = None
        if stamped is None or stamped.tzinfo is None:
            raise ClockUnavailable(f"{self.name}: no usable Date header ({date!r})")
        # Date drops the fraction: the hub's time was somewhere in [Date, Date + 1 s).
        reference = stamped.timestamp() + 0.5
        return ClockReading(
            source=self.name,
            offset_seconds=reference - (t1 + t4) / 2,
            round_trip_seconds=t4 - t1,
            at=datetime.fromtimestamp(t4, UTC),
        )


def configured_time_source(settings: Settings) -> TimeSource | None:
    """``[clock] ntp_server`` if set, else the hub of ``[upstream] url``, else none."""
    clock = settings.clock
    if clock.ntp_server:
        return SntpSource(clock.ntp_server, timeout=clock.timeout_seconds)
    if settings.upstream.url is not None:
        return HubDateSource(settings.upstream.url, timeout=clock.timeout_seconds)
    return None


def build_clock_watch(settings: Settings) -> ClockWatch | None:
    """The clock watch the settings ask for (None when there is no reference)."""
    source = configured_time_source(settings)
    if source is None:
        return None
    return ClockWatch(
        source,
        alarm_seconds=settings.clock.alarm_seconds,
        every_seconds=settings.clock.check_minutes * 60,
    )

"""Credentials out of URLs, personal numbers out of logs: the one mask for every text a
person or a log may see.

``mask_url`` hides a URL's userinfo and the values of its secret-looking query
parameters; ``mask_urls`` does it for every URL inside a free text (a device's health
detail, an error message). Every screen, log line, ``gate config show`` and API answer
that can carry a configured URL goes through them.

Operators type camera and broker URLs by hand, so passwords arrive unencoded: with
``/``, ``@``, ``:``, ``?`` or ``#`` in them, which a strict parse (RFC 3986, and
``urllib.parse``) would split into host, path and query, showing the rest of the
password. The userinfo is therefore taken up to the *last* ``@`` that is followed by
something shaped like a host (``name``, ``1.2.3.4``, ``[::1]``, an optional ``:port``,
then ``/``, ``?``, ``#`` or the end). That can over-mask a URL whose path or query holds
an ``@`` before a host-like word (``http://h/a?to=x@y.z``): for a mask, showing too
little is the safe side.

``mask_personal`` is what every log record goes through before a handler writes it
(``gate.runtime.logging_setup``): the URL mask, then 18-character document numbers
(GB 11643, the permits of the same shape), mainland mobile numbers (``1[3-9]`` and nine
digits, with or without +86) and ``Bearer``/``Basic`` credentials. A number is matched
only standing alone (no letter or digit beside it), so hashes, UUIDs and timestamps stay.
Other documents (passports, 15-digit permits) have no shape a text search can tell from
an ordinary number; they must not be logged in the first place.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from gate.domain.documents import mask

MASK = "***"

# scheme://rest-up-to-whitespace (quotes and brackets that close a text stay outside)
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%-]*)(?::[0-9]*)?(?=[/?#]|$)")
# A lone userinfo kept as a user name: short and plain; anything else may be a token.
_USER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9._-]{0,15}")
# Query parameters whose value is a secret: matched on the lowercased, decoded name.
_SECRET_NAMES = re.compile(r"pass|pwd|token|secret|key|auth|sig|credential|session|cookie|bearer")


def mask_url(url: str) -> str:
    """``url`` with its password (or a token in place of the user) and secret values masked."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    userinfo, authority_on = _split_userinfo(rest)
    shown = f"{scheme}://"
    if userinfo is not None:
        user, colon, _password = userinfo.partition(":")
        if colon:
            shown += f"{user}:{MASK}@"
        else:  # a lone user name (postgresql://gate@db) stays; a token (https://TOKEN@h) not
            shown += f"{userinfo}@" if _USER_NAME.fullmatch(userinfo) else f"{MASK}@"
    return shown + _mask_query(authority_on)


def mask_urls(text: str) -> str:
    """``text`` with every URL in it passed through ``mask_url``."""
    if "://" not in text:
        return text
    return _URL.sub(lambda match: mask_url(match.group(0)), text)


def _split_userinfo(rest: str) -> tuple[str | None, str]:
    """(userinfo or None, the rest from the host on)."""
    at = len(rest)
    while (at := rest.rfind("@", 0, at)) >= 0:
        candidate = rest[:at]
        slash, colon = candidate.find("/"), candidate.find(":")
        # A "/" before any ":" ends the authority: that "@" is in the path (rtsp://h/a@b).
        if slash >= 0 and (colon < 0 or slash < colon):
            continue
        if _HOST.match(rest, at + 1):
            return candidate, rest[at + 1 :]
    return None, rest


def _mask_query(tail: str) -> str:
    """``host/path?query#fragment`` with the secret values of query and fragment masked."""
    query_at, fragment_at = tail.find("?"), tail.find("#")
    if fragment_at >= 0 and (query_at < 0 or fragment_at < query_at):
        return tail[:fragment_at] + "#" + _mask_pairs(tail[fragment_at + 1 :])
    if query_at < 0:
        return tail
    query, hash_mark, fragment = tail[query_at + 1 :].partition("#")
    shown = tail[:query_at] + "?" + _mask_pairs(query)
    return shown + (hash_mark + _mask_pairs(fragment) if hash_mark else "")


def _mask_pairs(text: str) -> str:
    """``a=1&password=x`` -> ``a=1&password=***`` (names decoded and lowercased to match)."""
    shown = []
    for pair in re.split(r"([&;])", text):
        name, eq, _value = pair.partition("=")
        secret = eq and _SECRET_NAMES.search(unquote(name, errors="replace").lower())
        shown.append(f"{name}={MASK}" if secret else pair)
    return "".join(shown)


# Alone: no letter or digit either side (a hash or a longer number is not a document).
_DOCUMENT_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z+])(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?![0-9A-Za-z])")
_AUTH_HEADER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE)


def mask_personal(text: str) -> str:
    """``text`` with URL credentials, document numbers, mobile numbers and tokens masked."""
    text = mask_urls(text)
    text = _DOCUMENT_NUMBER.sub(lambda match: mask(match.group(0)), text)
    text = _MOBILE.sub(lambda match: mask(re.sub(r"\D", "", match.group(0))[-11:]), text)
    return _AUTH_HEADER.sub(lambda match: f"{match.group(1)} {MASK}", text)


def mask_query_values(target: str) -> str:
    """A request target (``/path?q=...``) with every query value masked: a search or a
    one-time code typed by a person is theirs, whatever its name (access logs)."""
    path, mark, query = target.partition("?")
    if not mark:
        return target
    return (
        path
        + "?"
        + "&".join(
            f"{name}={MASK}" if eq else name
            for name, eq, _value in (pair.partition("=") for pair in query.split("&"))
        )
    )

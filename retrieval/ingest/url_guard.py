"""One URL guard for every fetch, on every face and the scheduler: only http(s), and (unless
NEWSDESK_ALLOW_PRIVATE_URLS) no host that resolves to a private, loopback, link-local or reserved address. The
guard sees every request retrieval.ingest.sources.fetch makes: the URL given, each redirect, each feed entry's link."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from retrieval.core.errors import Forbidden, InvalidInput, NewsdeskError, SourceError

# IPv6 prefixes whose last 32 bits are an IPv4 address that a packet ends up at: NAT64 (well-known and
# local-use), IPv4-translated, and the deprecated IPv4-compatible ::a.b.c.d
_IPV4_IN_LAST_32_BITS = [
    ipaddress.IPv6Network(net) for net in ("64:ff9b::/96", "64:ff9b:1::/48", "::ffff:0:0:0/96", "::/96")
]


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4, Teredo client, ...), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in net for net in _IPV4_IN_LAST_32_BITS):
        return ipaddress.IPv4Address(address.packed[-4:])
    return None


def _non_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    # is_global is False for private, loopback, link-local, reserved, shared (CGNAT) and unspecified ranges
    return not address.is_global or address.is_multicast


def _blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and _non_public(embedded):
            return True
        if address.ipv4_mapped is not None:  # a plain IPv4 address in IPv6 clothing: judge it as one
            return False
    return _non_public(address)


def check_url(url: str, allow_private: bool = False) -> None:
    """Refuse what the server must not fetch for a client: other schemes, and (unless allowed) any host
    that resolves to a private, loopback, link-local or reserved address (Forbidden). Malformed: InvalidInput."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"}:
        raise InvalidInput(f"only http(s) URLs can be ingested, not {parts.scheme or 'a bare path'!r}: {url}")
    host = parts.hostname
    if not host:
        raise InvalidInput(f"the URL has no host name: {url}")
    if allow_private:
        return
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as exc:
        raise InvalidInput(f"the URL has an invalid port: {url}") from exc
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise InvalidInput(f"the host {host!r} cannot be resolved; check the URL") from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if _blocked(address):
            raise Forbidden(
                f"refusing to fetch {url}: {host} resolves to the non-public address {address} "
                "(set NEWSDESK_ALLOW_PRIVATE_URLS=true to allow private and loopback hosts)"
            )


def url_guard(allow_private: bool) -> Callable[[str], None]:
    """check_url for retrieval.ingest.sources.fetch: it sees every request (redirects and feed links too)."""

    def guard(url: str) -> None:
        try:
            check_url(url, allow_private)
        except NewsdeskError as exc:
            raise SourceError(exc.message) from exc

    return guard

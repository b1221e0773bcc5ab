"""Where an alert rule may send: public https endpoints only (no SSRF into the bank's network).

A channel naming a loopback, private, link-local (cloud metadata: 169.254.169.254), multicast,
reserved, deprecated (site-local fec0::/10, the 6to4 relay 192.88.99.0/24) or unspecified
address, or one carrying such an IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64), is refused
when the rule is saved; a host name is resolved when alerts are sent, and refused there if
any address it resolves to is such an address (the same check, ``internal``);
the request then connects to the checked addresses themselves, as the resolver gave them (a
NAT64 answer is dialled as itself, judged by the IPv4 address it carries), the URL's name kept
for the Host header, TLS SNI and certificate verification, so a name answering a public
address to the check and an internal one to a second lookup (DNS rebinding) cannot reach
inside.
``C360_ALERT_CHANNEL_ALLOW`` (comma-separated host names, addresses or networks, e.g.
``hooks.internal,10.20.0.0/16``) lets an operator name internal receivers on purpose.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlparse

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(host: str) -> IpAddress | None:
    host = host.strip("[]")
    try:
        ip: IpAddress = ipaddress.ip_address(host)
    except ValueError:
        try:
            # The forms the resolver reads as IPv4 too (QA, session 15): 127.1, 2130706433,
            # 0x7f000001, 0177.0.0.1 are all 127.0.0.1 to getaddrinfo and the client.
            ip = ipaddress.IPv4Address(socket.inet_aton(host))
        except (OSError, ValueError):
            return None
    if isinstance(ip, ipaddress.IPv6Address):
        # ::ffff:127.0.0.1, 2002:7f00:1:: (6to4), Teredo and 64:ff9b::7f00:1 (NAT64) carry an
        # IPv4 address that decides where they lead.
        teredo = ip.teredo[1] if ip.teredo else None
        nat64 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None
        return ip.ipv4_mapped or ip.sixtofour or teredo or nat64 or ip
    return ip


# The well-known NAT64 prefix (RFC 6052): the gateway translates to the last 32 bits.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

# Refused besides what ``ipaddress`` counts as not global: its tables differ between Python
# versions and call these global (QA, session 23). 6to4 (2002::/16), Teredo (2001::/32),
# NAT64 (64:ff9b::/96) and IPv4-mapped (::ffff:0:0/96) addresses are judged by the IPv4
# address they carry (``_address``), against this table too.
_REFUSED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "192.88.99.0/24",  # 6to4 relay anycast, deprecated (RFC 7526)
        "fec0::/10",  # site-local, deprecated (RFC 3879) but still routed inside networks
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215): translates into the operator's IPv4
        "3fff::/20",  # documentation (RFC 9637)
    )
)


def internal(ip: IpAddress) -> bool:
    """True for any address that is not a public unicast one: the one check of a channel's
    address, when a rule is saved and when its alerts are sent (``addresses_at_send``)."""
    return (
        not ip.is_global
        or ip.is_multicast
        or ip.is_unspecified
        or ip.is_reserved
        or any(ip in net for net in _REFUSED)
    )


def allowed(host: str, allow: str) -> bool:
    """``host`` (a name or an address) is on the operator's allow-list."""
    host = host.strip("[]").lower().rstrip(".")
    ip = _address(host)
    for item in (a.strip().lower() for a in allow.split(",")):
        if not item:
            continue
        if item == host:
            return True
        if ip is not None:
            try:
                if ip in ipaddress.ip_network(item, strict=False):
                    return True
            except ValueError:
                continue  # a host name on the list, not a network
    return False


# Names that never lead to a public receiver: loopback (RFC 6761), mDNS (RFC 6762) and the
# private-use TLD (ICANN, 2024; metadata.google.internal is the cloud metadata service).
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal")


def _local_name(host: str) -> bool:
    host = host.lower()
    return host == "localhost" or host.endswith(_LOCAL_SUFFIXES)


def refused_at_save(url: str, allow: str = "") -> str | None:
    """Why ``url`` cannot be a channel (None: it can): https with a host, and no internal
    address or local name written into it."""
    parsed = urlparse(url)
    try:
        host = (parsed.hostname or "").rstrip(".")
    except ValueError:
        host = ""
    if parsed.scheme != "https" or not host:
        return "channels are https webhook URLs"
    if allowed(host, allow):
        return None
    ip = _address(host)
    if (ip is not None and internal(ip)) or _local_name(host):
        return f"channel {host} is an internal address (see C360_ALERT_CHANNEL_ALLOW)"
    return None


class Refused(ValueError):
    """A channel alerts must not be sent to now; the message says why."""


class Unresolved(OSError):
    """A channel's host name does not resolve now (it fails like an unreachable receiver)."""


async def addresses_at_send(url: str, allow: str = "") -> tuple[IpAddress, ...]:
    """The addresses a request to ``url`` may connect to, checked now, in the resolver's order:
    none to connect by the URL as written (its host is an address, checked here, or a name on
    ``allow``); else every address its host name resolves to, each one checked. The request
    connects to one of them itself: letting the client resolve the name again could answer
    an internal address after this check saw a public one (DNS rebinding).

    Raises :class:`Refused` (the save-time check again, for a rule stored before it, or an
    internal address among the answers) or :class:`Unresolved` (no answer: nothing to connect
    to that was checked, so no request; the client is not left to resolve the name itself)."""
    why = refused_at_save(url, allow)
    if why is not None:
        raise Refused(why)
    host = urlparse(url).hostname or ""
    if _address(host) is not None or allowed(host, allow):
        return ()
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unresolved(f"{host} does not resolve ({exc})") from exc
    # Each answer is judged by the IPv4 address it carries (``_address``) but dialled as the
    # resolver gave it: a NAT64 answer (DNS64 on an IPv6-only host) reaches its IPv4 host
    # only through the gateway, never by that IPv4 address itself (review, session 23).
    # dict.fromkeys: one try per address, in the resolver's order (an address can come back
    # once per protocol or written both as IPv4 and as IPv4-mapped IPv6).
    found = dict.fromkeys(
        (_dialled(text), judged)
        for text in (str(info[4][0]).split("%")[0] for info in infos)
        if (judged := _address(text)) is not None
    )
    if not found:
        raise Unresolved(f"{host} resolves to no address")
    for _, judged in found:
        if internal(judged) and not allowed(str(judged), allow):
            raise Refused(f"channel {host} resolves to an internal address ({judged})")
    return tuple(dict.fromkeys(dialled for dialled, _ in found))


def _dialled(text: str) -> IpAddress:
    """The address to connect to for a resolver's answer: itself, an IPv4-mapped one as its
    IPv4 address (the same host either way)."""
    ip = ipaddress.ip_address(text)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


__all__ = [
    "Refused",
    "Unresolved",
    "addresses_at_send",
    "allowed",
    "internal",
    "refused_at_save",
]

"""Where an alert rule may send: public https endpoints only (no SSRF into the bank's network).

A channel naming a loopback, private, link-local (cloud metadata: 169.254.169.254), multicast,
reserved or unspecified address is refused when the rule is saved; a host name is resolved
when alerts are sent, and refused there if any address it resolves to is such an address.
``C360_ALERT_CHANNEL_ALLOW`` (comma-separated host names, addresses or networks, e.g.
``hooks.internal,10.20.0.0/16``) lets an operator name internal receivers on purpose.
Left open: a name resolved here may resolve elsewhere for the request (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlparse

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _address(host: str) -> IpAddress | None:
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is 127.0.0.1
    return mapped or ip


def internal(ip: IpAddress) -> bool:
    """True for any address that is not a public unicast one."""
    return not ip.is_global or ip.is_multicast or ip.is_unspecified or ip.is_reserved


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
    if (ip is not None and internal(ip)) or host == "localhost" or host.endswith(".localhost"):
        return f"channel {host} is an internal address (see C360_ALERT_CHANNEL_ALLOW)"
    return None


async def refused_at_send(url: str, allow: str = "") -> str | None:
    """Why alerts must not be sent to ``url`` now (None: send): the save-time check again
    (a rule stored before it), then every address its host resolves to. A name that does not
    resolve is left to the request, which fails on it like any unreachable receiver."""
    why = refused_at_save(url, allow)
    if why is not None:
        return why
    host = urlparse(url).hostname or ""
    if _address(host) is not None or allowed(host, allow):
        return None
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    for info in infos:
        ip = _address(str(info[4][0]).split("%")[0])
        if ip is not None and internal(ip) and not allowed(str(ip), allow):
            return f"channel {host} resolves to an internal address ({ip})"
    return None


__all__ = ["allowed", "internal", "refused_at_save", "refused_at_send"]

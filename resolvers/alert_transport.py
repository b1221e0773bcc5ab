"""How one delivery attempt reaches a channel: straight to the addresses its check saw (the
next one when one cannot be connected to), or through the HTTP client's proxy by name.

Direct: the request connects to a checked address itself (:func:`pinned`). An address that
refuses the connection, is unreachable or does not finish connecting (TCP and TLS handshake)
in its share of the attempt's connect time is followed by the next, in the resolver's order;
the shares together never exceed the client's connect timeout, so an attempt takes no longer
than it did with one address. An HTTP answer of any status, or a TLS failure (a certificate
not for the name), is the receiver's answer: it ends the attempt, no other address is tried.

Through a proxy (the client sends the URL's name through one: ``HTTPS_PROXY``/``ALL_PROXY``
less ``NO_PROXY``, as httpx reads them when the client is made, or a ``proxy=`` of its own):
the request goes by name, the proxy opens ``CONNECT name:port`` and resolves the name itself,
and TLS is with the name, its certificate checked against the name as httpx does. The name's
addresses are checked before (a name resolving inside is still refused), but which address
the proxy connects to is the proxy's: the pinning rests with it. (A tunnel to the checked
address with the name in TLS is what httpcore's proxy connection cannot do: it names the
tunnel's target in the handshake, so certificates failed.)
"""

from __future__ import annotations

import logging
import ssl
import time
from dataclasses import dataclass
from typing import Any

import httpx

from resolvers.alert_channels import IpAddress

log = logging.getLogger("c360.alerts")


@dataclass(frozen=True)
class Sent:
    response: httpx.Response
    via: str | None  # the checked address that answered, "proxy", or None (URL as written)


def pinned(url: str, ip: IpAddress | None) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(URL, headers, extensions) of a request to ``url`` that connects to ``ip`` (None: to the
    URL as written): the host replaced by the address (bracketed when IPv6), the name kept in
    the Host header and, for TLS, as ``sni_hostname``: httpcore hands it to the handshake as
    ``server_hostname``, so the certificate is still verified against the name."""
    if ip is None:
        return url, {}, {}
    parsed = httpx.URL(url)
    name = parsed.raw_host.decode("ascii")  # IDNA-encoded, as the client would send it
    # Connection: close - the client pools connections by scheme, address and port, so a
    # connection verified for one name could otherwise carry the next channel's request for
    # another name on the same address, its certificate never checked against that name.
    headers = {"host": parsed.netloc.decode("ascii"), "connection": "close"}
    return str(parsed.copy_with(host=str(ip))), headers, {"sni_hostname": name}


def proxied(client: httpx.AsyncClient, url: str) -> bool:
    """The client would send a request to ``url`` (its name as written) through a proxy."""
    # httpx has no public question for this; _transport_for_url is what the client's own send
    # asks, so the answer is the client's configuration (env proxies, NO_PROXY, proxy=, mounts).
    return client._transport_for_url(httpx.URL(url)) is not client._transport


def unreachable(exc: httpx.HTTPError) -> bool:
    """``exc`` is a connection-level failure (refused, unreachable, not connected in time), not
    a TLS one (a certificate not for the name, a handshake refused): httpx raises ConnectError
    for both, the ssl error further down its chain."""
    if isinstance(exc, httpx.ConnectTimeout):
        return True  # TCP or TLS handshake not done in time: nothing answered
    if not isinstance(exc, httpx.ConnectError):
        return False
    cause: BaseException | None = exc
    for _ in range(8):  # a short chain; bounded against a cycle
        if cause is None:
            return True
        # SSLWantRead/WriteError are the handshake waiting for the peer, not a failure: one
        # is the context of an error the socket raised meanwhile (a reset mid-handshake).
        if isinstance(cause, ssl.SSLError) and not isinstance(
            cause, ssl.SSLWantReadError | ssl.SSLWantWriteError
        ):
            return False
        # httpcore's error holds ssl's as its context, not its cause.
        cause = cause.__cause__ or cause.__context__
    return True


async def _send_direct(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    # Not client.send: it picks the transport by the request's URL, here an address, which a
    # NO_PROXY naming the name does not exempt, so the request would be tunnelled to the
    # address through the proxy. The name's route is decided already (not proxied): the
    # client's own connection pool, with its TLS settings.
    response = await client._transport.handle_async_request(request)
    response.request = request
    try:
        await response.aread()
    finally:
        await response.aclose()
    return response


async def _to_addresses(
    client: httpx.AsyncClient,
    url: str,
    addresses: tuple[IpAddress, ...],
    content: bytes,
    headers: dict[str, str],
) -> Sent:
    limit = client.timeout
    deadline = None if limit.connect is None else time.monotonic() + limit.connect
    failed: list[str] = []
    for i, ip in enumerate(addresses):
        share = None
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                failed += [f"{a}: not tried, connect time spent" for a in addresses[i:]]
                break
            # An equal share of what is left: an address that fails fast leaves its time to
            # the next ones, one that hangs cannot take theirs.
            share = remaining / (len(addresses) - i)
        target, host, extensions = pinned(url, ip)
        request = client.build_request(
            "POST", target, content=content, headers=headers | host, extensions=extensions,
            timeout=httpx.Timeout(connect=share, read=limit.read, write=limit.write,
                                  pool=limit.pool),
        )  # fmt: skip
        try:
            response = await _send_direct(client, request)
        except httpx.HTTPError as exc:
            if not unreachable(exc):
                raise
            failed.append(f"{ip}: {type(exc).__name__}: {exc}")
            continue
        return Sent(response, str(ip))
    name = httpx.URL(url).host
    log.warning("alert channel %s: no address answered (%s)", name, "; ".join(failed))
    raise httpx.ConnectError(f"no address of {name} answered ({'; '.join(failed)})")


async def post(
    client: httpx.AsyncClient,
    url: str,
    addresses: tuple[IpAddress, ...],
    content: bytes,
    headers: dict[str, str],
) -> Sent:
    """POST ``content`` to ``url``: to ``addresses`` (the channel check's, in order; none: to
    the URL as written), or, when the client would proxy the URL, by name through the proxy.
    Redirects are never followed. Raises the client's errors; ``httpx.ConnectError`` naming
    every address tried when none could be connected to."""
    if addresses and not proxied(client, url):
        sent = await _to_addresses(client, url, addresses, content, headers)
    else:
        response = await client.post(url, content=content, headers=headers,
                                     follow_redirects=False)  # fmt: skip
        sent = Sent(response, "proxy" if proxied(client, url) else None)
    log.info("alert channel %s: HTTP %d via %s", httpx.URL(url).host,
             sent.response.status_code, sent.via or "the URL as written")  # fmt: skip
    return sent


__all__ = ["Sent", "pinned", "post", "proxied", "unreachable"]

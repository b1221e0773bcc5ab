"""Stand-in for DNS: names given here answer the addresses set for them, lookup after lookup
(the last answer repeats; None: the name does not resolve; a tuple: several addresses, in
that order), other names go to the real
resolver. Installed over ``socket.getaddrinfo``, which the event loop's ``getaddrinfo`` (the
channel check's and the HTTP client's lookups alike) calls for every lookup."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import pytest

Answer = tuple[Any, ...]
Addresses = str | tuple[str, ...] | None


class Dns:
    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, answers: dict[str, Sequence[Addresses]]
    ) -> None:
        self.answers = answers
        self.lookups: dict[str, int] = {}  # lookups so far, by name
        self._real = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", self.getaddrinfo)

    def getaddrinfo(
        self, host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> list[Answer]:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.answers:
            return self._real(host, port, family, type, proto, flags)
        seen = self.lookups.get(name, 0)
        self.lookups[name] = seen + 1
        answers = self.answers[name]
        answer = answers[min(seen, len(answers) - 1)]
        if answer is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        kind = type or socket.SOCK_STREAM
        return [
            _info(address, port, kind)
            for address in (answer if isinstance(answer, tuple) else (answer,))
        ]


def _info(address: str, port: Any, kind: int) -> Answer:
    v6 = ":" in address
    sockaddr = (address, int(port or 0), 0, 0) if v6 else (address, int(port or 0))
    return (socket.AF_INET6 if v6 else socket.AF_INET, kind, 6, "", sockaddr)

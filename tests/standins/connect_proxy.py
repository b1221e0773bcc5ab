"""Stand-in for a corporate HTTPS proxy (none can be installed here): answers
``CONNECT host:port`` with a TCP tunnel to where its own table sends ``host`` (a proxy resolves
names itself; a host not in the table gets 502, so nothing leaves the machine) and records
every tunnel asked for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with suppress(ConnectionError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    writer.close()


@dataclass
class ConnectProxy:
    routes: dict[str, str]  # host name -> the address the proxy's own resolver answers
    asked: list[str] = field(default_factory=list)  # CONNECT targets, as sent
    _open: list[asyncio.StreamWriter] = field(default_factory=list)

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.append(writer)
        head = await reader.readuntil(b"\r\n\r\n")
        method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        self.asked.append(target)
        host, _, port = target.rpartition(":")
        address = self.routes.get(host.strip("[]"))
        if method != "CONNECT" or address is None:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(address, int(port))
        self._open.append(up_writer)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    @asynccontextmanager
    async def serving(self, port: int) -> AsyncIterator[str]:
        """Listens on 127.0.0.1:``port``; yields the proxy URL (for ``HTTPS_PROXY``)."""
        server = await asyncio.start_server(self._tunnel, "127.0.0.1", port)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.close()
            for writer in self._open:
                writer.close()
            await server.wait_closed()

"""Postgres over TLS on 127.0.0.1, in front of the local (plain) server: it answers the
client's SSLRequest with `S`, does the TLS handshake with a certificate the test made,
then forwards the decrypted protocol. Supabase presents a certificate of its own CA;
this lets a test check the bot verifies such a certificate rather than trusting any.
The certificates come from `tests.fakes.certificates`."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import struct
from pathlib import Path

__all__ = ["TlsPostgres"]

_SSL_REQUEST = struct.pack("!ii", 8, 80877103)


class TlsPostgres:
    def __init__(self, upstream: tuple[str, int], cert: Path, key: Path) -> None:
        self._upstream = upstream
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(cert, key)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def __aenter__(self) -> TlsPostgres:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if await reader.readexactly(8) != _SSL_REQUEST:
                writer.close()  # plain text: Supabase with SSL enforced refuses it too
                return
            writer.write(b"S")
            await writer.drain()
            await writer.start_tls(self._context)
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
            writer.close()  # the client refused our certificate: that is the point
            return
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(_pipe(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.CancelledError):
        while data := await src.read(65536):
            dst.write(data)
            await dst.drain()
    dst.close()

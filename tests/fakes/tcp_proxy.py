"""A TCP forwarder on 127.0.0.1 between the bot and a real server (Postgres, Redis) that a
test can make fail the ways networks and servers fail, switchable while connections live:

- `pass` (the default, and `resume()`): bytes flow both ways.
- `refuse()`: the port stops listening and live connections are reset, as when the server
  is down: a new connection gets ECONNREFUSED at once.
- `hang()`: a black hole. Connections stay open and new ones are accepted, but nothing is
  forwarded either way: the client sees no answer, no error, no reset — only its own
  timeouts. Bytes sent meanwhile are held and delivered on `resume()`, as TCP's
  retransmissions would once a partition heals (a client that gave up and closed its socket
  still has what it sent delivered, then the close).
- `drop_connections()`: every live connection is reset; the port keeps listening (a pooler
  or a server restarting its backends, a NAT forgetting its table).
- `cut()`: stop listening and drop everything, for good (the old, one-way switch).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import socket
import struct

__all__ = ["ProxyMode", "TcpProxy"]

_CHUNK = 65536


class ProxyMode(enum.StrEnum):
    PASS = "pass"
    REFUSE = "refuse"
    HANG = "hang"


class _Link:
    """One client connection and its upstream, with the two pipes between them."""

    def __init__(self, client: asyncio.StreamWriter) -> None:
        self.client = client
        self.upstream: asyncio.StreamWriter | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    def reset(self) -> None:
        """Close both sides at once with an RST, unsent bytes discarded."""
        for writer in (self.client, self.upstream):
            if writer is None:
                continue
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        for task in self.tasks:
            task.cancel()


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, *, port: int = 0) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._mode = ProxyMode.PASS
        self.port = port  # fixed at the first start: refuse/resume keep the same port
        self.accepted = 0  # connections accepted so far (a pool that reconnects shows here)

    @property
    def mode(self) -> ProxyMode:
        return self._mode

    @property
    def connections(self) -> int:
        """Client connections open through the proxy now."""
        return len(self._links)

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def refuse(self) -> None:
        """The server is down: the port refuses connections, live ones are reset."""
        self._mode = ProxyMode.REFUSE
        await self._stop_listening()

    def hang(self) -> None:
        """A black hole: accept, hold, answer nothing, until `resume()`."""
        self._mode = ProxyMode.HANG
        self._flowing.clear()

    async def drop_connections(self) -> None:
        """Reset every live connection; new ones are still accepted (in pass mode)."""
        links, self._links = list(self._links), set()
        for link in links:
            link.reset()
        await asyncio.gather(*(t for link in links for t in link.tasks), return_exceptions=True)

    async def resume(self) -> None:
        """Back to forwarding; what a hang held is delivered now."""
        if self._server is None:
            await self.start()
        self._mode = ProxyMode.PASS
        self._flowing.set()

    async def cut(self) -> None:
        """Stop listening and drop every open connection."""
        await self.refuse()

    close = cut

    async def _stop_listening(self) -> None:
        """Close the port, then reset what is open (newer Pythons' `wait_closed` waits
        for the connections too)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        await self.drop_connections()
        if server is not None:
            await server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        link = _Link(writer)
        self._links.add(link)
        # Registered at once: a reset while this connection waits for its upstream ends it.
        current = asyncio.current_task()
        assert current is not None
        link.tasks.add(current)
        try:
            await self._flowing.wait()  # hung: the client's connect "succeeded", nothing more
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except (OSError, asyncio.CancelledError):
            self._links.discard(link)
            writer.transport.abort()
            return
        finally:
            link.tasks.discard(current)
        link.upstream = up_writer
        if link not in self._links:  # reset while connecting upstream
            link.reset()
            return
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(link, src, dst))
            link.tasks.add(task)
            task.add_done_callback(link.tasks.discard)

    async def _pipe(
        self, link: _Link, src: asyncio.StreamReader, dst: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
            while data := await src.read(_CHUNK):
                await self._flowing.wait()
                dst.write(data)
                await dst.drain()
            await self._flowing.wait()  # a close sent into a black hole arrives on resume
        with contextlib.suppress(OSError, RuntimeError):
            dst.close()
        if not any(not t.done() and t is not asyncio.current_task() for t in link.tasks):
            self._links.discard(link)

"""A free TCP port on 127.0.0.1, for local servers and `serve` processes."""

from __future__ import annotations

__all__ = ["free_port"]

import socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

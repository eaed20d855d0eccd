"""uvicorn's HTTP protocol with TCP_NODELAY on every connection, however the socket was bound.

uvicorn binds the listening socket of several workers with protocol 0, and asyncio sets
TCP_NODELAY only on connections accepted from a socket whose protocol is IPPROTO_TCP:
without it a small reply can wait for Nagle's algorithm and the peer's delayed ACK (tens
of milliseconds on loopback). `robopref serve` passes `HTTP_PROTOCOL` as uvicorn's `http`.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol

HTTP_PROTOCOL = "robopref.web.nodelay:NoDelayHTTPProtocol"
"""Import string of `NoDelayHTTPProtocol` (workers import it themselves)."""


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's default HTTP protocol, sending small replies at once (TCP_NODELAY)."""

    def connection_made(self, transport: asyncio.Transport) -> None:
        """Set TCP_NODELAY on a TCP connection, then hand it to uvicorn."""
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)

"""`robopref serve`'s HTTP protocol sets TCP_NODELAY on connections uvicorn accepted without it."""

from __future__ import annotations

import socket
from types import SimpleNamespace
from typing import Any

import pytest
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from robopref.web.nodelay import HTTP_PROTOCOL, NoDelayHTTPProtocol


def test_an_accepted_connection_gets_tcp_nodelay(monkeypatch: pytest.MonkeyPatch) -> None:
    handed: list[Any] = []
    monkeypatch.setattr(AutoHTTPProtocol, "connection_made",
                        lambda self, transport: handed.append(transport))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0) as listener:  # as uvicorn binds
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()), listener.accept()[0] as conn:
            assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
            transport = SimpleNamespace(get_extra_info=lambda name: conn if name == "socket"
                                        else None)
            NoDelayHTTPProtocol.connection_made(object.__new__(NoDelayHTTPProtocol),
                                                transport)  # type: ignore[arg-type]
            assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    assert handed == [transport]  # then uvicorn's own protocol takes the connection


def test_the_import_string_names_the_protocol() -> None:
    from uvicorn.importer import import_from_string

    assert import_from_string(HTTP_PROTOCOL) is NoDelayHTTPProtocol

"""A guard that fails (and records) every connect, sendto or name lookup that leaves the machine, so
the destinations' SDKs are proven to evaluate exports offline, not assumed to."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any


class NetworkUsed(AssertionError):
    pass


def _loopback(host: Any) -> bool:
    if host in ("localhost", "localhost.localdomain", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def no_network() -> Iterator[list[str]]:
    """Fails (and records) every connect, sendto or DNS lookup that leaves the machine."""
    attempts: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_sendto, real_getaddrinfo = socket.socket.sendto, socket.getaddrinfo

    def check(address: Any, what: str) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(address, (str, bytes)) and not isinstance(address, tuple):
            return  # a Unix socket path stays on the machine
        if not _loopback(host):
            attempts.append(f"{what} {address!r}")
            raise NetworkUsed(f"network use in an offline test: {what} {address!r}")

    def connect(self: socket.socket, address: Any) -> Any:
        check(address, "connect")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        check(address, "connect")
        return real_connect_ex(self, address)

    def sendto(self: socket.socket, data: Any, *args: Any) -> Any:
        check(args[-1], "sendto")
        return real_sendto(self, data, *args)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        check((host, 0), "getaddrinfo")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    try:
        yield attempts
    finally:
        socket.socket.connect, socket.socket.connect_ex = real_connect, real_connect_ex  # type: ignore[method-assign]
        socket.socket.sendto = real_sendto  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo  # type: ignore[assignment]

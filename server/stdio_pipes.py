"""stdin and stdout as asyncio pipes, for the MCP stdio transport.

The SDK's stdio transport goes through anyio's thread-wrapped files: reading each request line,
writing each message and flushing it are each a hop to a worker thread and back (about 0.15 ms
apiece here), three per call, a quarter of our fixed per-call cost. These streams do the same from
the event loop. Like the SDK's transport they keep stray output off the wire: while serving, fd 0
reads /dev/null and fd 1 writes to stderr (so a print() or a git hook's output cannot corrupt the
protocol), and both are restored afterwards. As with the SDK's transport, the end of stdin ends the
session, and requests still in flight when it comes are cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
from collections.abc import AsyncIterator

# A request line can be large (write_plan with whole sections); the SDK's reader has no limit either.
LINE_LIMIT = 1 << 30
# A bigger pipe lets a large answer (read_plan) go out in one write instead of 64 KiB at a time,
# each waiting for the client to drain the last. Linux only; elsewhere the default stays.
PIPE_SIZE = 1 << 20


def pipes_available() -> bool:
    """True when stdin and stdout are pipes or sockets, which the event loop can watch.

    Anything else uses the SDK's transport: a regular file cannot be polled, and a terminal left
    non-blocking would break the shell it belongs to.
    """
    if sys.platform == "win32":
        return False
    try:
        modes = [os.fstat(fd).st_mode for fd in (0, 1)]
    except OSError:
        return False
    return all(stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) for mode in modes)


class RequestLines:
    """The request lines, decoded as the SDK's transport decodes them."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> RequestLines:
        return self

    async def __anext__(self) -> str:
        line = await self._reader.readline()
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


class _WriteFlow(asyncio.BaseProtocol):
    """Back-pressure for the write pipe: drain() waits while the client is not reading."""

    def __init__(self) -> None:
        self._writable = asyncio.Event()
        self._writable.set()
        self._lost: BaseException | None = None

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._lost = exc or BrokenPipeError("the client closed the stdout pipe")
        self._writable.set()

    async def drain(self) -> None:
        await self._writable.wait()
        if self._lost is not None:
            raise self._lost


class MessageWriter:
    """write() and flush() as the SDK's stdio transport calls them."""

    def __init__(self, transport: asyncio.WriteTransport, flow: _WriteFlow) -> None:
        self._transport = transport
        self._flow = flow

    async def write(self, text: str) -> None:
        self._transport.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self._flow.drain()


@contextlib.asynccontextmanager
async def stdio_pipes() -> AsyncIterator[tuple[RequestLines, MessageWriter]]:
    """Serve the wire from private copies of fd 0 and 1, with the standard descriptors diverted."""
    import fcntl

    def private_copy(fd: int) -> int:
        return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)

    # One copy of each end for the event loop (its transports close them when done) and one to put
    # back on 0 and 1 at the end.
    saved_in, saved_out = private_copy(0), private_copy(1)
    wire_in = os.fdopen(private_copy(0), "rb", buffering=0)
    wire_out = os.fdopen(private_copy(1), "wb", buffering=0)
    sys.stdout.flush()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    with contextlib.suppress(AttributeError, OSError):
        fcntl.fcntl(wire_out.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    transports: list[asyncio.BaseTransport] = []
    try:
        read_transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), wire_in
        )
        transports.append(read_transport)
        write_transport, flow = await loop.connect_write_pipe(_WriteFlow, wire_out)
        transports.append(write_transport)
        yield RequestLines(reader), MessageWriter(write_transport, flow)
    finally:
        for transport in transports:
            transport.close()
        for fd, saved in ((0, saved_in), (1, saved_out)):
            # The event loop made the wire non-blocking (a flag shared by every copy of it); whoever
            # uses 0 and 1 after us expects the usual blocking descriptors.
            with contextlib.suppress(OSError):
                os.set_blocking(saved, True)
            os.dup2(saved, fd)
            os.close(saved)

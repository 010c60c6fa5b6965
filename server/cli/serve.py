"""`personalization-engine serve`: the MCP server over stdio (default) or streamable HTTP."""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import sys
from collections.abc import Iterator

from ..errors import InputError
from .common import LazyEngine, add_workspace_options

TOKEN_ENV = "PERSONALIZATION_ENGINE_TOKEN"
log = logging.getLogger(__name__)


# A server keeps a large long-lived heap (the SDK's models, parsed plans, cached findings), and a
# write to a 1,000-attribute plan allocates a few hundred thousand short-lived objects. At the
# default threshold (700) the cyclic collector ran ~80 young and ~0.6 full collections per write,
# about 30 ms of a 110 ms write; at 50,000 it runs a young collection every few writes and almost
# never a full one. Most garbage has no cycles and is freed by reference counting either way.
GC_THRESHOLDS = (50_000, 10, 10)


@contextlib.contextmanager
def _gc_tuned_for_serving() -> Iterator[None]:
    """Import the MCP SDK without the cyclic garbage collector, then tune it for a server.

    The import creates about 80,000 long-lived objects (the protocol's pydantic models and their
    schemas), and the collector would scan them again and again while they are all alive: pausing
    it saves about 6% of start-up. Freezing keeps them out of every later full collection too.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        gc.enable()


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "serve",
        help="run the MCP server (stdio by default, or streamable HTTP)",
        description="Run the MCP server. stdio carries only protocol on stdout; logs go to stderr. "
        "HTTP serves /mcp with Host and Origin checks; a non-loopback host requires a token.",
        epilog="Example:\n  personalization-engine serve --transport http --port 8000 --workspace .",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_workspace_options(parser)
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    parser.add_argument("--token", help=f"bearer token required on every HTTP request (or ${TOKEN_ENV})")
    parser.add_argument("--now", help=argparse.SUPPRESS)
    parser.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    # The engine is built on the first call that needs it, so tools/list is answered without
    # importing it; recovery of an interrupted write still runs before any plan is touched.
    engine = LazyEngine(args)
    with _gc_tuned_for_serving():
        from ..server import build_server, http_security, is_loopback
    token = args.token or os.environ.get(TOKEN_ENV) or None
    if args.transport == "stdio":
        build_server(engine).run()
        return 0
    if not is_loopback(args.host) and not token:
        raise InputError(
            f"host {args.host!r} is not loopback, so requests must carry a token: pass --token or set "
            f"${TOKEN_ENV}",
            field="--host",
        )
    url_host = args.host if is_loopback(args.host) or ":" not in args.host else f"[{args.host}]"
    server = build_server(engine, token=token, public_url=f"http://{url_host}:{args.port}")
    print(f"serving MCP at http://{url_host}:{args.port}/mcp (workspace {engine.ws.root})", file=sys.stderr)
    server.run(
        "streamable-http",
        host=args.host,
        port=args.port,
        streamable_http_path="/mcp",
        transport_security=http_security(args.host, args.port),
    )
    return 0

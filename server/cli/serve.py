"""`personalization-engine serve`: the MCP server over stdio (default) or streamable HTTP."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from ..errors import InputError
from .common import add_workspace_options, engine_for

TOKEN_ENV = "PERSONALIZATION_ENGINE_TOKEN"
log = logging.getLogger(__name__)


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
    # The MCP SDK takes about a second to import: only `serve` and `demo` load it.
    from ..server import build_server, http_security, is_loopback

    engine = engine_for(args)  # recovers an interrupted write before any plan is touched

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

"""The `personalization-engine` command: the same operations as the MCP tools, for people."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import EngineError
from . import audience_commands, demo, serve
from . import plans as plans_commands

DESCRIPTION = (
    "Define audience profiles for a personalization program as an audited plan: attribute "
    "inventory, profile logic, channel activation and governance, stored in "
    ".claude/plans and committed to git."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="personalization-engine",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Example:\n  personalization-engine demo /tmp/plg-demo",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    plans_commands.register(commands)
    serve.register(commands)
    demo.register(commands)
    audience_commands.register_sample_data(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Logs and progress go to stderr; stdout carries results (and, under `serve`, only protocol).
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(levelname)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except EngineError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly as Unix tools do. Point stdout at
        # /dev/null so the interpreter's final flush cannot raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    raise SystemExit(main())

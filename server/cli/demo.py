"""`personalization-engine demo`: the main job on its embedded default (the PLG Onboarding example)."""

from __future__ import annotations

import argparse
import sys

from .common import frozen_clock, print_json


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "demo",
        help="run the PLG Onboarding example end to end over MCP in a fresh git folder",
        description="Run the whole PLG Onboarding example through a real MCP client over stdio against "
        "the real server, in a fresh git folder (a new temporary folder unless DIR is given), and print "
        "the plan path, revisions, findings and git log.",
        epilog="Example:\n  personalization-engine demo /tmp/plg-demo --via cli",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "dir", nargs="?", metavar="DIR", help="a new or empty folder (default: a temp folder)"
    )
    parser.add_argument(
        "--frozen-clock",
        metavar="ISO-TIME",
        help="for docs and tests: every write happens at this time (one second apart), so the output and "
        "history are reproducible; each commit then carries the trailer 'Clock: frozen'",
    )
    parser.add_argument(
        "--via",
        choices=["mcp", "cli"],
        default="mcp",
        help="drive the example through an MCP client or the CLI",
    )
    parser.add_argument(
        "--json", action="store_true", help="print a JSON summary on stdout (the narrative goes to stderr)"
    )
    parser.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    # The demo is an MCP client: the SDK takes about a second to import, so only `demo` and
    # `serve` load it, not every `plans` command.
    from ..demo import run_demo, run_demo_summary

    if args.frozen_clock:
        frozen_clock(args.frozen_clock)  # validated before anything is created
    if args.json:
        _, summary = run_demo_summary(args.dir, args.frozen_clock, sys.stderr, via=args.via)
        print_json(summary)
    else:
        run_demo(args.dir, args.frozen_clock, via=args.via)
    return 0

"""`personalization-engine demo`: the main job on its embedded default (the PLG Onboarding example)."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "demo",
        help="run the PLG Onboarding example end to end over MCP in a fresh git folder",
        description="Run the whole PLG Onboarding example through a real MCP client over stdio against "
        "the real server, in a fresh git folder (a new temporary folder unless DIR is given), and print "
        "the plan path, revisions, findings and git log.",
        epilog="Example:\n  personalization-engine demo /tmp/plg-demo --now 2026-11-24T09:00:00Z",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "dir", nargs="?", metavar="DIR", help="a new or empty folder (default: a temp folder)"
    )
    parser.add_argument("--now", metavar="ISO-TIME", help="fix the clock and plan id for reproducible output")
    parser.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo
    from .common import fixed_clock

    fixed_clock(args.now)  # validates --now before anything is created
    run_demo(args.dir, args.now)
    return 0

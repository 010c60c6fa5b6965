"""Helpers shared by CLI commands: workspace options, the engine, JSON and table output."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime
from typing import Any

from ..engine import Engine, utc_now
from ..errors import InputError
from ..workspace import resolve_workspace

NOW_ENV = "PERSONALIZATION_ENGINE_NOW"


def add_workspace_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workspace",
        metavar="DIR",
        help="the project folder (default: $PERSONALIZATION_ENGINE_WORKSPACE, "
        "$CLAUDE_PROJECT_DIR, else the current folder)",
    )
    parser.add_argument(
        "--allow-enclosing-repo",
        action="store_true",
        help="allow a workspace that is a subfolder of another git repository",
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def fixed_clock(value: str | None):
    """A clock for reproducible runs: --now or $PERSONALIZATION_ENGINE_NOW, ticking one second a call."""
    text = value or os.environ.get(NOW_ENV)
    if not text:
        return utc_now
    try:
        start = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"{text!r} is not an ISO 8601 time; use e.g. 2026-11-24T09:00:00Z", field="--now"
        ) from None
    if start.tzinfo is None:
        raise InputError(f"{text!r} has no time zone; add Z or +00:00", field="--now")
    from datetime import timedelta, timezone

    start = start.astimezone(timezone.utc).replace(microsecond=0)
    ticks = iter(range(10**9))
    return lambda: start + timedelta(seconds=next(ticks))


def engine_for(args: argparse.Namespace) -> Engine:
    ws = resolve_workspace(
        getattr(args, "workspace", None),
        allow_enclosing_repo=getattr(args, "allow_enclosing_repo", False),
    )
    engine = Engine(ws, clock=fixed_clock(getattr(args, "now", None)))
    for note in engine.recover():
        print(f"note: {note}", file=sys.stderr)
    return engine


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def split_list(value: str | None) -> list[str]:
    if not value:
        return []
    return [part.strip() for part in value.split(",") if part.strip()]

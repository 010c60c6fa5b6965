"""Helpers shared by CLI commands: workspace options, the engine, JSON and table output."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..workspace import resolve_workspace

if TYPE_CHECKING:
    from ..engine import Engine

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


def fixed_clock(value: str | None) -> Callable[[], datetime]:
    """A clock for reproducible runs: --now or $PERSONALIZATION_ENGINE_NOW, ticking one second a call."""
    text = value or os.environ.get(NOW_ENV)
    if not text:
        from ..engine import utc_now

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


class LazyEngine:
    """The engine for these arguments, built (and recovered) on first use.

    The workspace and --now are checked at once, so a bad one still fails before anything starts.
    Importing the engine (pydantic models, gitpython) is left to the first call, which lets
    `serve` answer tools/list without it. Calls from several threads get one engine.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        self.ws = resolve_workspace(
            getattr(args, "workspace", None),
            allow_enclosing_repo=getattr(args, "allow_enclosing_repo", False),
        )
        now = getattr(args, "now", None) or os.environ.get(NOW_ENV)
        self._clock = fixed_clock(now) if now else None
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Engine:
        with self._lock:
            if self._engine is None:
                from ..engine import Engine

                engine = Engine(self.ws) if self._clock is None else Engine(self.ws, clock=self._clock)
                for note in engine.recover():
                    print(f"note: {note}", file=sys.stderr)
                self._engine = engine
            return self._engine


def engine_for(args: argparse.Namespace) -> Engine:
    return LazyEngine(args)()


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

"""Helpers shared by CLI commands: workspace options, the engine, JSON and table output."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ..core.engine import Engine
from ..rules.instants import parse_time_option
from ..store.workspace import resolve_workspace

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
    # The demo's documented reproducible mode (docs and tests only): writes happen at this time and
    # their commits carry `Clock: frozen`.
    parser.add_argument("--frozen-clock", help=argparse.SUPPRESS)


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def parse_time(text: str, field: str) -> datetime:
    """An ISO 8601 time, to the microsecond (finer digits are refused, naming the field)."""
    return parse_time_option(text, field=field)


def evaluation_clock(value: str | None) -> Callable[[], datetime] | None:
    """--now (or $PERSONALIZATION_ENGINE_NOW): the instant rules, windows and freshness are
    evaluated at. It never dates a commit or a change-log entry."""
    text = value or os.environ.get(NOW_ENV)
    if not text:
        return None
    at = parse_time(text, "--now")
    return lambda: at


def frozen_clock(text: str) -> Callable[[], datetime]:
    """The demo's documented --frozen-clock: every write happens at T, T+1s, ... (docs and tests)."""
    start = parse_time(text, "--frozen-clock").replace(microsecond=0)
    ticks = iter(range(10**9))
    return lambda: start + timedelta(seconds=next(ticks))


def engine_for(args: argparse.Namespace, *, read_only: bool = False) -> Engine:
    """The engine for these arguments, after recovering any interrupted write.

    A read-only command recovers nothing: reading, validating, compiling and simulating write
    nothing at all, not even the lock file (the next write recovers)."""

    ws = resolve_workspace(
        getattr(args, "workspace", None), allow_enclosing_repo=getattr(args, "allow_enclosing_repo", False)
    )
    frozen = getattr(args, "frozen_clock", None)
    if frozen:
        engine = Engine(ws, clock=frozen_clock(frozen), frozen_clock=True)
    else:
        clock = evaluation_clock(getattr(args, "now", None))
        engine = Engine(ws) if clock is None else Engine(ws, clock=clock)
    if not read_only:
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


def add_data_options(parser: argparse.ArgumentParser) -> Any:
    """--data | --dsn, --table, --engine and --spark-master: where records are read, for plans size,
    lift and diff. Returns the --data/--dsn group, so a command can add another way to it."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", metavar="FILE", help="a CSV, Parquet or DuckDB file inside the workspace")
    source.add_argument(
        "--dsn",
        metavar="DSN",
        help="a PostgreSQL connection string (keep the password in PGPASSWORD or ~/.pgpass)",
    )
    parser.add_argument(
        "--table",
        help="the table: required with --dsn and --dialect, optional for DuckDB, a catalog table for Spark",
    )
    parser.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        help="spark: read --data (Parquet or CSV) or a catalog --table with Spark (the [spark] extra); "
        "default: DuckDB for --data, PostgreSQL for --dsn",
    )
    parser.add_argument(
        "--spark-master",
        metavar="URL",
        help="with --engine spark: local[*] (default), spark://host:7077, or a Spark Connect sc://host:15002",
    )
    return source

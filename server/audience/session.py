"""An open data source that sizing, the lift readout and the impact of a change all query.

Each backend (DuckDB for workspace files, PostgreSQL by DSN, Spark) opens the source once, reads its
columns, checks them against the plan, and hands back a DataSession: the relation to select FROM,
its columns, its SQL dialect, and two ways to run a statement. Whatever a caller builds (the sizing
aggregate, the lift's GROUP BY, the impact's flow matrix) is SQL over `relation` in `dialect`, so a
new engine serves all three at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import Plan
from .source import DataRequest

Progress = Callable[[float, float, str], None]
PHASES = 4.0  # open, read schema, count (the long one), store


def no_progress(done: float, total: float, message: str) -> None:
    """The default progress callback: a run without a listener reports nothing."""


@dataclass
class DataSession:
    """`fetch_one(sql, progress)` runs an aggregate and returns its one row (reporting progress from
    2 to 3 of PHASES where the engine can tell); `fetch_all(sql)` returns every row of a small result
    (a GROUP BY). Both raise InputError or TransientPullError, never the driver's own exception.
    `file_relation(path)` reads another workspace file (outcomes) in the same engine; the path must
    have been named in `extra_files` when the session was opened."""

    request: DataRequest
    dialect: str
    relation: str
    columns: dict[str, str]
    fetch_one: Callable[[str, Progress], tuple]
    fetch_all: Callable[[str], list[tuple]]
    file_relation: Callable[[Path], str]
    materialize_flags: bool = False  # PostgreSQL: fence the flags SELECT with OFFSET 0
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return self.request.where


@contextmanager
def open_session(
    request: DataRequest,
    plan: Plan,
    progress: Progress = no_progress,
    *,
    extra_files: tuple[Path, ...] = (),
) -> Iterator[DataSession]:
    """Open the request's source, check its columns against the plan, and close it afterwards."""
    if request.kind == "postgres":
        from .postgres_source import open_postgres as opener
    elif request.kind == "spark":
        from .spark_source import open_spark as opener  # type: ignore[no-redef]
    else:
        from .duckdb_source import open_duckdb as opener  # type: ignore[no-redef]
    with opener(request, plan, progress, extra_files) as session:
        yield session

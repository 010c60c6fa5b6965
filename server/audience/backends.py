"""Run the sizing query where the data lives: DuckDB for workspace files, PostgreSQL by DSN.

duckdb and psycopg are imported inside the functions so that server start-up stays fast. Errors are
sorted into two kinds. The request is wrong (InputError: a malformed DSN, refused credentials, a
missing file, table or column, a type the inventory contradicts): retrying cannot help, so nothing
is retried or recorded. The data could not be pulled this time (TransientPullError: the connection
was refused, lost or timed out, a database file is locked by a writer): the caller retries it up to
the plan's retry_limit and then records a data_pull blocker.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import EngineError, InputError
from ..model import Plan
from .query import SizingQuery, build_sizing_query, referenced_attributes
from .session import Progress, no_progress
from .source import DataRequest
from .types import type_contradictions


class TransientPullError(EngineError):
    """The data could not be read this time and may be readable on a retry.

    `location` is the source as the plan shows it (a workspace path or a DSN without password);
    the message is already free of any password and of any data.
    """

    def __init__(self, message: str, *, field: str, location: str) -> None:
        self.field = field
        self.location = location
        super().__init__(f"{field}: {message}")


@dataclass
class Measurement:
    query: SizingQuery
    columns: dict[str, str]
    values: dict[str, Any]


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _did_you_mean(name: str, candidates: list[str]) -> str:
    lowered = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean {lowered[close[0]]}?)" if close else ""


def check_columns(plan: Plan, columns: dict[str, str], where: str) -> None:
    """Refuse data that lacks a column the profiles read, or whose types contradict the inventory.

    A profile sized on a column that is not there would count everyone as not matching it, so the
    run would be stored with figures that are simply wrong; a missing column that no profile reads
    is only a coverage finding.
    """
    missing = sorted(name for name in referenced_attributes(plan) if name not in columns)
    if missing:
        inventoried = {a.name for a in plan.attributes}
        candidates = [c for c in columns if c not in inventoried] or list(columns)
        named = ", ".join(name + _did_you_mean(name, candidates) for name in missing)
        raise InputError(
            f"{where} has no column for {named}, which the profiles read; add the "
            f"column{'s' if len(missing) > 1 else ''} or correct the name in the data or the plan. "
            "Nothing was sized or written",
            field="data",
        )
    problems = type_contradictions({a.name: a.type for a in plan.attributes}, columns)
    if problems:
        raise InputError(
            f"{where}: {'; '.join(problems)}; fix the column or the attribute's type before sizing",
            field="data",
        )


def measure_request(
    request: DataRequest, plan: Plan, now: datetime, progress: Progress = no_progress
) -> Measurement:
    """The sizing query, run where the data lives."""
    from .session import open_session

    with open_session(request, plan, progress) as session:
        query = build_sizing_query(
            plan,
            session.dialect,
            session.relation,
            columns=session.columns,
            now=now,
            materialize_flags=session.materialize_flags,
        )
        row = session.fetch_one(query.sql, progress)
        columns = session.columns
    return Measurement(query, columns, dict(zip(query.outputs, row, strict=True)))


def run_with_progress(con: Any, sql: str, report: Callable[[float], None]) -> tuple | None:
    """Run a DuckDB statement on a worker thread while this one reports DuckDB's progress estimate.

    `report` gets the percentage done whenever it moved by a point or more. The statement's own
    exception is re-raised here, on the calling thread.
    """
    import duckdb

    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["row"] = con.execute(sql).fetchone()
        except BaseException as exc:  # re-raised on the calling thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="pe-duckdb-query", daemon=True)
    worker.start()
    last = -1.0
    try:
        while worker.is_alive():
            worker.join(0.25)
            try:
                percent = float(con.query_progress())
            except duckdb.Error:
                percent = -1.0
            if percent >= 0 and percent - last >= 1:
                last = percent
                report(percent)
    except BaseException:
        # Ctrl-C, or the progress listener failed: stop the statement before the caller closes the
        # connection under it.
        con.interrupt()
        worker.join()
        raise
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("row")

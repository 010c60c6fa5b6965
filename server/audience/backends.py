"""Run the sizing query where the data lives: DuckDB for workspace files, PostgreSQL by DSN.

duckdb and psycopg are imported inside the functions so that server start-up stays fast. Errors are
sorted into two kinds: the request is wrong (InputError: nothing is retried or written) or the data
could not be pulled this time (DataPullError: retried, then recorded as a data_pull blocker).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import InputError
from ..model import Plan
from .query import SizingQuery, build_sizing_query
from .source import DataRequest
from .types import type_contradictions

Progress = Callable[[float, float, str], None]
PHASES = 4.0  # open, read schema, count (the long one), store
_AUTH_FAILURES = ("password authentication failed", "no password supplied", "authentication failed")


class DataPullError(Exception):
    """The data could not be read this time; the message is already free of any password."""


@dataclass
class Measurement:
    query: SizingQuery
    columns: dict[str, str]
    values: dict[str, Any]


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _check_types(plan: Plan, columns: dict[str, str], where: str) -> None:
    problems = type_contradictions({a.name: a.type for a in plan.attributes}, columns)
    if problems:
        raise InputError(
            f"{where}: {'; '.join(problems)}; fix the column or the attribute's type before sizing",
            field="data",
        )


def measure(request: DataRequest, plan: Plan, now: datetime, progress: Progress | None = None) -> Measurement:
    report = progress or (lambda done, total, message: None)
    if request.kind == "postgres":
        return _measure_postgres(request, plan, now, report)
    return _measure_duckdb(request, plan, now, report)


# --- DuckDB ------------------------------------------------------------------------------------
def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _duckdb_relation(con: Any, request: DataRequest) -> str:
    assert request.path is not None
    path = _sql_string(str(request.path))
    if request.kind == "parquet":
        return f"read_parquet({path})"
    if request.kind == "csv":
        return f"read_csv({path}, header = true)"
    tables = [
        (schema, name)
        for schema, name in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() ORDER BY table_schema, table_name"
        ).fetchall()
    ]
    listed = ", ".join(f"{s}.{n}" if s != "main" else n for s, n in tables) or "none"
    if request.table is None:
        if len(tables) != 1:
            raise InputError(
                f"{request.location} holds {len(tables)} tables ({listed}); name the one to size with table",
                field="table",
            )
        schema, name = tables[0]
    else:
        wanted = request.table.split(".")
        matches = [
            (s, n)
            for s, n in tables
            if (len(wanted) == 2 and [s, n] == wanted) or (len(wanted) == 1 and n == wanted[0])
        ]
        if not matches:
            raise InputError(
                f"table {request.table!r} does not exist in {request.location}; its tables: {listed}",
                field="table",
            )
        schema, name = sorted(matches, key=lambda m: m[0] != "main")[0]
    return f'"{schema}"."{name}"'


def _csv_with_inventory_types(relation: str, plan: Plan, columns: dict[str, str]) -> tuple[str, dict]:
    """CSV has no types: a column sniffed as text but inventoried otherwise is read as that type."""
    from .query import NULL_TYPES

    overrides = {
        a.name: NULL_TYPES[a.type].name.replace("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE")
        for a in plan.attributes
        if a.type not in (None, "string") and columns.get(a.name, "").upper() == "VARCHAR"
    }
    if not overrides:
        return relation, columns
    types = ", ".join(f"{_sql_string(k)}: {_sql_string(v)}" for k, v in overrides.items())
    return relation[:-1] + f", types = {{{types}}})", {**columns, **overrides}


def _measure_duckdb(request: DataRequest, plan: Plan, now: datetime, report: Progress) -> Measurement:
    import duckdb

    try:
        con = (
            duckdb.connect(str(request.path), read_only=True)
            if request.kind == "duckdb"
            else duckdb.connect()
        )
    except duckdb.Error as exc:
        raise DataPullError(f"could not open {request.location}: {_first_line(str(exc))}") from None
    try:
        con.execute("SET TimeZone = 'UTC'")
        # Progress is tracked for query_progress() but never printed: stdout is MCP protocol only.
        con.execute("SET enable_progress_bar = true")
        con.execute("SET enable_progress_bar_print = false")
        report(1, PHASES, f"opened {request.location}")
        relation = _duckdb_relation(con, request)
        try:
            described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        except (duckdb.IOException, duckdb.InvalidInputException) as exc:
            raise DataPullError(f"could not read {request.location}: {_first_line(str(exc))}") from None
        columns = {str(row[0]): str(row[1]) for row in described}
        if request.kind == "csv":
            relation, columns = _csv_with_inventory_types(relation, plan, columns)
        _check_types(plan, columns, request.location)
        report(2, PHASES, f"read {len(columns)} columns of {request.location}")
        query = build_sizing_query(plan, "duckdb", relation, columns=columns, now=now)
        row = _run_with_progress(con, query.sql, report, request.location)
    finally:
        con.close()
    return Measurement(query, columns, dict(zip(query.outputs, row, strict=True)))


def _run_with_progress(con: Any, sql: str, report: Progress, where: str) -> tuple:
    """Run the query on a worker thread while this one reports DuckDB's own progress estimate."""
    import duckdb

    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["row"] = con.execute(sql).fetchone()
        except BaseException as exc:  # re-raised on the calling thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="pe-sizing-query", daemon=True)
    worker.start()
    last = -1.0
    while worker.is_alive():
        worker.join(0.25)
        try:
            percent = float(con.query_progress())
        except duckdb.Error:
            percent = -1.0
        if percent >= 0 and percent - last >= 1:
            last = percent
            report(2 + percent / 100, PHASES, f"counting rows in {where}: {percent:.0f}%")
    error = outcome.get("error")
    if isinstance(error, duckdb.ConversionException):
        raise InputError(
            f"{where} holds a value that contradicts the inventory's type: {_first_line(str(error))}",
            field="data",
        ) from None
    if isinstance(error, (duckdb.IOException, duckdb.InvalidInputException)):
        raise DataPullError(f"could not read {where}: {_first_line(str(error))}") from None
    if isinstance(error, duckdb.Error):
        raise InputError(f"sizing {where} failed: {_first_line(str(error))}", field="data") from None
    if error is not None:
        raise error
    return outcome["row"]


# --- PostgreSQL --------------------------------------------------------------------------------
def _connect_postgres(request: DataRequest) -> Any:
    import psycopg

    assert request.dsn is not None
    try:
        return psycopg.connect(
            request.dsn, connect_timeout=10, autocommit=True, application_name="personalization-engine"
        )
    except psycopg.Error as exc:
        message = _first_line(request.scrub(str(exc)))
        if any(marker in message for marker in _AUTH_FAILURES):
            # Retrying a wrong password cannot succeed (and can lock the account), so it is bad input.
            raise InputError(
                f"PostgreSQL refused the sign-in to {request.location}: {message}; check the user and "
                "password (PGPASSWORD or ~/.pgpass keep the password out of the DSN)",
                field="dsn",
            ) from None
        raise DataPullError(f"could not connect to {request.location}: {message}") from None


def _postgres_columns(cur: Any, request: DataRequest) -> dict[str, str]:
    cur.execute("SELECT to_regclass(%s)::oid", (request.table,))
    oid = cur.fetchone()[0]
    if oid is None:
        cur.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1 LIMIT 30"
        )
        listed = ", ".join(r[0] for r in cur.fetchall()) or "none"
        raise InputError(
            f"table {request.table!r} does not exist in {request.location}; its tables: {listed}",
            field="table",
        )
    cur.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (oid,),
    )
    return {str(name): str(kind) for name, kind in cur.fetchall()}


def _measure_postgres(request: DataRequest, plan: Plan, now: datetime, report: Progress) -> Measurement:
    import psycopg

    conn = _connect_postgres(request)
    try:
        with conn.cursor() as cur:
            try:
                cur.execute("SET TIME ZONE 'UTC'")
                cur.execute("SET default_transaction_read_only = on")
                report(1, PHASES, f"connected to {request.location}")
                columns = _postgres_columns(cur, request)
                _check_types(plan, columns, f"{request.location} table {request.table}")
                report(2, PHASES, f"read {len(columns)} columns of {request.table}")
                assert request.table is not None
                query = build_sizing_query(
                    plan, "postgres", request.table, columns=columns, now=now, materialize_flags=True
                )
                cur.execute(query.sql)
                row = cur.fetchone()
            except psycopg.OperationalError as exc:
                raise DataPullError(
                    f"reading {request.table} from {request.location} failed: "
                    f"{_first_line(request.scrub(str(exc)))}"
                ) from None
            except psycopg.Error as exc:
                raise InputError(
                    f"sizing {request.table} in {request.location} failed: "
                    f"{_first_line(request.scrub(str(exc)))}",
                    field="table",
                ) from None
    finally:
        conn.close()
    return Measurement(query, columns, dict(zip(query.outputs, row, strict=True)))

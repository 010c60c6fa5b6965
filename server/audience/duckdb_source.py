"""Size a workspace file with DuckDB: CSV, Parquet, or a table of a DuckDB database.

The connection can read only the file the person named. For CSV and Parquet that file is the one
allowed path; a DuckDB database is opened read-only. External access is then switched off for the
life of the connection, so a view or macro in a database that reads another file, an ATTACH, or an
extension cannot reach outside the workspace, and DuckDB's own message (which may quote what it
read) is never passed on when that is refused.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..model import Plan
from .backends import TransientPullError, check_columns, first_line, run_with_progress
from .names import table_parts
from .query import NULL_TYPES
from .session import PHASES, DataSession, Progress
from .source import DataRequest

# A writer holding the database file's lock is the one DuckDB failure that a retry can outlast.
_LOCKED = ("could not set lock", "conflicting lock")
# DuckDB's memory limit for sizing (e.g. 2GB, 512MB; default: DuckDB's own, 80% of RAM). The sizing
# query streams, so it completes within a small limit; a limit also bounds a server that sizes while
# other work runs. Spilled pages go to the system temp folder, never into the workspace.
MEMORY_LIMIT_ENV = "PERSONALIZATION_ENGINE_DUCKDB_MEMORY_LIMIT"
_MEMORY_LIMIT = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)", re.IGNORECASE)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _outside_access(request: DataRequest) -> InputError:
    return InputError(
        f"{request.where} reads outside the file itself (a view or macro over another file, an "
        "ATTACH or an extension), which sizing does not follow; store the rows in a table of the "
        "database, or give the data file itself",
        field="data",
    )


def memory_settings() -> dict[str, str]:
    """The memory limit from $PERSONALIZATION_ENGINE_DUCKDB_MEMORY_LIMIT, and where to spill."""
    limit = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if not limit:
        return {}
    if not _MEMORY_LIMIT.fullmatch(limit):
        raise InputError(
            f"${MEMORY_LIMIT_ENV} is {limit[:40]!r}; use an amount such as 2GB or 512MB",
            field=MEMORY_LIMIT_ENV,
        )
    # One folder per user: another user's folder of the same name is not written into.
    owner = os.getuid() if hasattr(os, "getuid") else os.getlogin()
    spill = Path(tempfile.gettempdir()) / f"personalization-engine-duckdb-{owner}"
    return {"memory_limit": limit, "temp_directory": str(spill)}


def _connect(request: DataRequest, extra_files: tuple[Path, ...] = ()) -> Any:
    import duckdb

    assert request.path is not None
    # Set at connect, before external access is switched off (it also guards these settings).
    memory = memory_settings()
    try:
        if request.kind == "duckdb":
            con = duckdb.connect(
                str(request.path), read_only=True, config={**memory, "enable_external_access": False}
            )
        else:
            con = duckdb.connect(config=memory)
            allowed = ", ".join(_sql_string(str(path)) for path in (request.path, *extra_files))
            con.execute(f"SET allowed_paths = [{allowed}]")
            con.execute("SET enable_external_access = false")
    except duckdb.Error as exc:
        message = first_line(str(exc))
        if any(marker in message.lower() for marker in _LOCKED):
            raise TransientPullError(
                f"could not open {request.location}: another process holds its lock",
                field="data",
                location=request.location,
            ) from None
        raise InputError(f"could not open {request.location}: {message}", field="data") from None
    con.execute("SET TimeZone = 'UTC'")
    # Progress is tracked for query_progress() but never printed: stdout is MCP protocol only.
    con.execute("SET enable_progress_bar_print = false")
    con.execute("SET enable_progress_bar = true")
    return con


def _relation(con: Any, request: DataRequest) -> str:
    assert request.path is not None
    path = _sql_string(str(request.path))
    if request.kind == "parquet":
        return f"read_parquet({path})"
    if request.kind == "csv":
        return f"read_csv({path}, header = true)"
    tables = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() ORDER BY table_schema, table_name"
    ).fetchall()
    listed = ", ".join(f"{s}.{n}" if s != "main" else n for s, n in tables) or "none"
    if request.table is None:
        if len(tables) != 1:
            raise InputError(
                f"{request.location} holds {len(tables)} tables ({listed}); name the one to size with table",
                field="table",
            )
        schema, name = tables[0]
    else:
        wanted = table_parts(request.table, "duckdb")
        matches = [(s, n) for s, n in tables if [s, n][-len(wanted) :] == wanted]
        if not matches:
            raise InputError(
                f"table {request.table!r} does not exist in {request.location}; its tables: {listed}",
                field="table",
            )
        schema, name = sorted(matches, key=lambda m: m[0] != "main")[0]
    return '"{}"."{}"'.format(schema.replace('"', '""'), name.replace('"', '""'))


def _csv_with_inventory_types(relation: str, plan: Plan, columns: dict[str, str]) -> tuple[str, dict]:
    """CSV has no types: a column sniffed as text but inventoried otherwise is read as that type."""
    overrides = {
        a.name: NULL_TYPES[a.type].name.replace("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE")
        for a in plan.attributes
        if a.type not in (None, "string") and columns.get(a.name, "").upper() == "VARCHAR"
    }
    if not overrides:
        return relation, columns
    types = ", ".join(f"{_sql_string(k)}: {_sql_string(v)}" for k, v in overrides.items())
    return relation[:-1] + f", types = {{{types}}})", {**columns, **overrides}


def _columns(con: Any, relation: str, request: DataRequest) -> dict[str, str]:
    import duckdb

    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except duckdb.PermissionException:
        raise _outside_access(request) from None
    except duckdb.Error as exc:
        raise InputError(f"could not read {request.where}: {first_line(str(exc))}", field="data") from None
    return {str(row[0]): str(row[1]) for row in described}


@contextmanager
def open_duckdb(
    request: DataRequest, plan: Plan, report: Progress, extra_files: tuple[Path, ...] = ()
) -> Iterator[DataSession]:
    con = _connect(request, extra_files)
    try:
        report(1, PHASES, f"opened {request.location}")
        relation = _relation(con, request)
        columns = _columns(con, relation, request)
        if request.kind == "csv":
            relation, columns = _csv_with_inventory_types(relation, plan, columns)
        check_columns(plan, columns, request.where)
        report(2, PHASES, f"read {len(columns)} columns of {request.where}")
        yield DataSession(
            request=request,
            dialect="duckdb",
            relation=relation,
            columns=columns,
            fetch_one=lambda sql, progress: _count(con, sql, request, progress),
            fetch_all=lambda sql: _fetch_all(con, sql, request),
            file_relation=_file_relation,
        )
    finally:
        con.close()


def _file_relation(path: Path) -> str:
    quoted = _sql_string(str(path))
    if path.suffix.lower() == ".parquet":
        return f"read_parquet({quoted})"
    return f"read_csv({quoted}, header = true)"


def _fetch_all(con: Any, sql: str, request: DataRequest) -> list[tuple]:
    import duckdb

    try:
        with _translated(request):
            return con.execute(sql).fetchall()
    except duckdb.Error as exc:
        raise InputError(f"reading {request.where} failed: {first_line(str(exc))}", field="data") from None


def _count(con: Any, sql: str, request: DataRequest, report: Progress) -> tuple:
    import duckdb

    def percent_done(percent: float) -> None:
        report(2 + percent / 100, PHASES, f"counting rows in {request.where}: {percent:.0f}%")

    try:
        with _translated(request):
            row = run_with_progress(con, sql, percent_done)
    except duckdb.Error as exc:
        raise InputError(f"sizing {request.where} failed: {first_line(str(exc))}", field="data") from None
    assert row is not None
    return row


@contextmanager
def _translated(request: DataRequest) -> Iterator[None]:
    """DuckDB's failures while reading, as the errors the callers report (the generic one is theirs)."""
    import duckdb

    try:
        yield
    except duckdb.PermissionException:
        raise _outside_access(request) from None
    except duckdb.ConversionException as exc:
        raise InputError(
            f"{request.where} holds a value that contradicts the inventory's type: {first_line(str(exc))}",
            field="data",
        ) from None
    except duckdb.IOException as exc:
        # The file was readable a moment ago (its columns were read): it changed or vanished mid-read.
        raise TransientPullError(
            f"could not read {request.where}: {first_line(str(exc))}",
            field="data",
            location=request.location,
        ) from None

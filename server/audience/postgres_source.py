"""Size a PostgreSQL table in place: only the one row of counts comes back.

A failure is transient when the server could not be reached or the connection was lost (refused,
timed out, closed, the server starting up or out of connection slots); everything the server
answered with a refusal (a wrong password, an unknown database or role, no pg_hba.conf entry) or
that the DSN itself gets wrong is bad input, reported at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..model import Plan
from .backends import TransientPullError, check_columns, first_line
from .session import PHASES, DataSession, Progress
from .source import DataRequest

_AUTH_FAILURES = ("password authentication failed", "no password supplied", "authentication failed")
_TRANSIENT_CONNECT = (
    "connection refused",
    "timeout expired",
    "timed out",
    "server closed the connection",
    "connection reset",
    "no route to host",
    "network is unreachable",
    "temporary failure in name resolution",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "too many clients",
    "remaining connection slots are reserved",
)
# SQLSTATE classes of a query failure that a retry can outlast: connection exception, insufficient
# resources, operator intervention (shutdown, statement timeout), transaction rollback.
_TRANSIENT_CLASSES = ("08", "53", "57", "40")


def _connect(request: DataRequest) -> Any:
    import psycopg

    assert request.dsn is not None
    try:
        return psycopg.connect(
            request.dsn, connect_timeout=10, autocommit=True, application_name="personalization-engine"
        )
    except psycopg.Error as exc:
        message = first_line(request.scrub(str(exc)))
        lowered = message.lower()
        if any(marker in lowered for marker in _AUTH_FAILURES):
            # Retrying a wrong password cannot succeed (and can lock the account), so it is bad input.
            raise InputError(
                f"PostgreSQL refused the sign-in to {request.location}: {message}; check the user and "
                "password (PGPASSWORD or ~/.pgpass keep the password out of the DSN)",
                field="dsn",
            ) from None
        if any(marker in lowered for marker in _TRANSIENT_CONNECT):
            raise TransientPullError(
                f"could not connect to {request.location}: {message}",
                field="dsn",
                location=request.location,
            ) from None
        raise InputError(
            f"could not connect to {request.location}: {message}; check the DSN's host, port and "
            "database name",
            field="dsn",
        ) from None


def _columns(cur: Any, request: DataRequest) -> dict[str, str]:
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


def _failed(exc: Exception, request: DataRequest) -> Exception:
    import psycopg

    message = f"reading {request.table} from {request.location} failed: {first_line(request.scrub(str(exc)))}"
    sqlstate = getattr(exc, "sqlstate", None) or ""
    lost = isinstance(exc, psycopg.OperationalError) and not sqlstate  # the connection itself broke
    if lost or sqlstate[:2] in _TRANSIENT_CLASSES:
        return TransientPullError(message, field="dsn", location=request.location)
    return InputError(message, field="table")


@contextmanager
def open_postgres(
    request: DataRequest, plan: Plan, report: Progress, extra_files: tuple[Path, ...] = ()
) -> Iterator[DataSession]:
    """A read-only session on the table; workspace files (extra_files) cannot be read from here."""
    import psycopg

    assert request.table is not None
    conn = _connect(request)
    try:
        with conn.cursor() as cur:
            try:
                cur.execute("SET TIME ZONE 'UTC'")
                cur.execute("SET default_transaction_read_only = on")
                report(1, PHASES, f"connected to {request.location}")
                columns = _columns(cur, request)
                check_columns(plan, columns, f"{request.location} table {request.table}")
                report(2, PHASES, f"read {len(columns)} columns of {request.table}")
            except psycopg.Error as exc:
                raise _failed(exc, request) from None

            def fetch_all(sql: str) -> list[tuple]:
                try:
                    cur.execute(sql)
                    return cur.fetchall()
                except psycopg.Error as exc:
                    raise _failed(exc, request) from None

            def fetch_one(sql: str, progress: Progress) -> tuple:
                return fetch_all(sql)[0]

            yield DataSession(
                request=request,
                dialect="postgres",
                relation=request.table,
                columns=columns,
                fetch_one=fetch_one,
                fetch_all=fetch_all,
                file_relation=_no_files(request),
                materialize_flags=True,
            )
    finally:
        conn.close()


def _no_files(request: DataRequest) -> Callable[[Path], str]:
    def refuse(path: Path) -> str:
        raise InputError(
            f"{path.name} is a workspace file, which PostgreSQL at {request.location} cannot read; "
            "load it into a table of that database",
            field="outcomes",
        )

    return refuse

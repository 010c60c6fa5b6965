"""Where sized data comes from: a data file inside the workspace, a PostgreSQL DSN, or Spark.

Nothing here opens a connection; it validates the request and describes the source without any
password, so the description can go into the plan, logs and error messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import InputError
from ..paths import confined_path
from .names import EXAMPLES, qualified_table

SourceKind = Literal["csv", "parquet", "duckdb", "postgres", "spark"]
ENGINES = ("duckdb", "spark")
DEFAULT_SPARK_MASTER = "local[*]"
FILE_KINDS: dict[str, SourceKind] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".duckdb": "duckdb",
    ".db": "duckdb",
}
SPARK_FORMATS = {".parquet": "parquet", ".csv": "csv"}
REDACTED = "***"


@dataclass(frozen=True)
class DataRequest:
    """A validated request: a file (`path`, resolved inside the workspace) or a DSN."""

    kind: SourceKind
    location: str  # what the plan and messages show: a workspace-relative path or the redacted DSN
    table: str | None
    path: Path | None = None
    dsn: str | None = None
    secret: str | None = None  # the DSN's password, kept only to scrub it from driver messages
    spark_master: str | None = None  # kind "spark": local[*], spark://host:7077, or sc://host:15002
    spark_format: str | None = None  # kind "spark": "parquet" or "csv" for a file, None for a table

    def scrub(self, text: str) -> str:
        """Remove the password from a message, wherever a driver may have echoed it."""
        if self.secret:
            text = text.replace(self.secret, REDACTED)
        if self.dsn:
            text = text.replace(self.dsn, self.location)
        return text

    @property
    def where(self) -> str:
        return self.location + (f" table {self.table}" if self.table else "")


def file_request(data: str, workspace_root: Path, table: str | None = None) -> DataRequest:
    """A CSV, Parquet or DuckDB file inside the workspace."""
    resolved = confined_path(workspace_root, data, field="data")
    kind = FILE_KINDS.get(resolved.suffix.lower())
    if kind is None:
        raise InputError(
            f"{data!r} is not a data file this layer reads; use .csv, .parquet, or a DuckDB database "
            "(.duckdb, .db)",
            field="data",
        )
    if not resolved.is_file():
        raise InputError(f"{data!r} is not a file in the workspace", field="data")
    if table is not None:
        if kind != "duckdb":
            raise InputError(
                f"a {kind} file holds one table, so table {table!r} does not apply; name a table only "
                "for a DuckDB database or PostgreSQL",
                field="table",
            )
        table = qualified_table(table, "duckdb")
    location = resolved.relative_to(workspace_root.resolve()).as_posix()
    return DataRequest(kind=kind, location=location, table=table, path=resolved)


def redact_dsn(dsn: str) -> tuple[str, str | None]:
    """The DSN as postgresql://user@host:port/db (no password, no other options), and the password."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(dsn)
    except Exception:  # psycopg's parse error may quote the DSN, password included
        raise InputError(
            "is not a PostgreSQL connection string; use postgresql://user@host:5432/dbname (put the "
            "password in PGPASSWORD or ~/.pgpass rather than in the DSN)",
            field="dsn",
        ) from None
    password = parts.get("password")
    user = parts.get("user")
    host = parts.get("host") or "localhost"
    port = parts.get("port")
    dbname = parts.get("dbname") or ""
    shown = f"postgresql://{f'{user}@' if user else ''}{host}{f':{port}' if port else ''}/{dbname}"
    return shown, str(password) if password else None


def dsn_request(dsn: str, table: str | None) -> DataRequest:
    if not dsn.startswith(("postgresql://", "postgres://")) and "=" not in dsn:
        raise InputError(
            "must be a PostgreSQL connection string such as postgresql://user@host:5432/dbname",
            field="dsn",
        )
    shown, password = redact_dsn(dsn)
    if not table:
        raise InputError(f"name the table to size in {shown} (e.g. --table public.users)", field="table")
    return DataRequest(
        kind="postgres",
        location=shown,
        table=qualified_table(table, "postgres"),
        dsn=dsn,
        secret=password,
    )


def data_request(
    workspace_root: Path,
    *,
    data: str | None,
    dsn: str | None,
    table: str | None,
    engine: str | None = None,
    spark_master: str | None = None,
) -> DataRequest:
    """A validated request. engine None picks DuckDB for a file and PostgreSQL for a DSN; "spark"
    reads a workspace file (Parquet or CSV) or a catalog table with Spark."""
    if engine not in (None, *ENGINES):
        raise InputError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}", field="engine")
    if spark_master is not None and engine != "spark":
        raise InputError("spark_master goes with engine spark", field="spark_master")
    if engine == "spark":
        return spark_request(workspace_root, data=data, dsn=dsn, table=table, master=spark_master)
    if (data is None) == (dsn is None):
        raise InputError(
            "give exactly one of data (a CSV, Parquet or DuckDB file in the workspace) or dsn (a "
            "PostgreSQL connection string, with table)",
            field="data" if data is None else "dsn",
        )
    if data is not None:
        return file_request(data, workspace_root, table)
    assert dsn is not None
    return dsn_request(dsn, table)


def spark_request(
    workspace_root: Path, *, data: str | None, dsn: str | None, table: str | None, master: str | None
) -> DataRequest:
    """A Parquet or CSV file in the workspace, or a catalog table, read by Spark at `master`."""
    from .spark_session import check_master

    master = check_master(DEFAULT_SPARK_MASTER if master is None else master)
    if dsn is not None:
        raise InputError(
            "engine spark reads a workspace file (data) or a catalog table (table), not a PostgreSQL "
            "dsn; drop engine spark to size PostgreSQL in place",
            field="dsn",
        )
    if data is None:
        if not table:
            raise InputError(
                "engine spark needs data (a Parquet or CSV file in the workspace) or table (a catalog "
                f"table such as {EXAMPLES['databricks']})",
                field="data",
            )
        qualified = qualified_table(table, "databricks")
        return DataRequest(kind="spark", location="Spark catalog", table=qualified,
                           spark_master=master)  # fmt: skip
    if table is not None:
        raise InputError(
            f"give data or table to engine spark, not both: a data file holds one table, so table "
            f"{table!r} does not apply",
            field="table",
        )
    resolved = confined_path(workspace_root, data, field="data")
    spark_format = SPARK_FORMATS.get(resolved.suffix.lower())
    if spark_format is None:
        raise InputError(
            f"{data!r} is not a file Spark reads here; use .parquet or .csv (or a catalog table)",
            field="data",
        )
    if not resolved.is_file():
        raise InputError(f"{data!r} is not a file in the workspace", field="data")
    location = resolved.relative_to(workspace_root.resolve()).as_posix()
    return DataRequest(
        kind="spark",
        location=location,
        table=None,
        path=resolved,
        spark_master=master,
        spark_format=spark_format,
    )

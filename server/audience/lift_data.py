"""Run the lift readout's queries where the data lives, through the same session as sizing.

Outcomes are a CSV or Parquet file in the workspace (read in the membership's engine: DuckDB or
Spark) or a table of the membership's database (PostgreSQL, a DuckDB database, a Spark catalog).
Before counting, one query refuses outcomes with duplicate ids or ids that match no record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import InputError
from ..model import Plan
from ..model.sizing import SizingSource
from ..paths import confined_path
from ..rules.holdout import plan_id_column
from .lift_query import (
    OutcomeColumns,
    check_outcome_columns,
    check_sql,
    counts_sql,
    membership_sql,
    outcomes_sql,
)
from .names import qualified_table
from .session import PHASES, DataSession, Progress, no_progress, open_session
from .source import data_request

OUTCOME_FILES = (".csv", ".parquet")
DEFAULT_KPI_COLUMN = "converted"


@dataclass(frozen=True)
class GroupCounts:
    n: int
    conversions: int
    known: int  # members with an outcome row whose KPI is not null
    mean: float  # of the value, members without one counting 0
    variance: float | None


@dataclass
class LiftCounts:
    profile_ids: list[str]
    records: int
    groups: dict[tuple[int, bool], GroupCounts]  # (profile index, held out) -> counts
    membership: SizingSource
    outcomes: SizingSource


def outcome_file(workspace_root: Path, outcomes: str) -> Path:
    path = confined_path(workspace_root, outcomes, field="outcomes")
    if path.suffix.lower() not in OUTCOME_FILES:
        raise InputError(f"{outcomes!r} is not a .csv or .parquet file", field="outcomes")
    if not path.is_file():
        raise InputError(f"{outcomes!r} is not a file in the workspace", field="outcomes")
    return path


def _columns_of(session: DataSession, relation: str, table: str | None) -> dict[str, str]:
    """An outcome relation's columns, asked the way the session's engine answers."""
    if session.dialect == "postgres":
        literal = "'" + (table or "").replace("'", "''") + "'"
        rows = session.fetch_all(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            f"WHERE attrelid = to_regclass({literal}) AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        )
        if not rows:
            raise InputError(
                f"outcomes table {table!r} does not exist in {session.request.location}",
                field="outcomes",
            )
    elif session.dialect == "databricks":
        rows = session.fetch_all(f"DESCRIBE QUERY SELECT * FROM {relation}")
    else:
        rows = session.fetch_all(f"DESCRIBE SELECT * FROM {relation}")
    return {str(row[0]): str(row[1]) for row in rows}


def _outcome_relation(
    session: DataSession, path: Path | None, table: str | None, workspace_root: Path
) -> tuple[str, SizingSource]:
    request = session.request
    if path is not None:
        location = path.relative_to(workspace_root.resolve()).as_posix()
        return session.file_relation(path), SizingSource(kind=path.suffix.lower()[1:], location=location)
    assert table is not None
    try:
        relation = qualified_table(table, session.dialect)
    except InputError as exc:  # the name is the outcomes', not the membership's --table
        message = str(exc).removeprefix(f"{exc.field}: ")
        raise InputError(message, field="outcomes") from None
    kind = "spark" if request.kind == "spark" else request.kind
    return relation, SizingSource(kind=kind, location=request.location, table=relation)


def _show(value: object) -> str:
    return "a null id" if value is None else repr(str(value)[:80])


def _refuse_bad_ids(session: DataSession, membership: str, outcomes: str, where: str) -> None:
    duplicates, duplicate, unmatched, example, nulls = session.fetch_all(check_sql(membership, outcomes))[0]
    if duplicates:
        raise InputError(
            f"{where} has {duplicates} id{'s' if duplicates > 1 else ''} on more than one row (e.g. "
            f"{_show(duplicate)}); give one outcome row per id. Nothing was written",
            field="outcomes",
        )
    if unmatched:
        null_note = f", {nulls} of them null" if nulls else ""
        raise InputError(
            f"{where} has {unmatched} id{'s' if unmatched > 1 else ''} that match no record of the "
            f"membership data (e.g. {_show(example)}{null_note}); check the id column and the data. "
            "Nothing was written",
            field="outcomes",
        )


def count_lift(
    plan: Plan,
    *,
    workspace_root: Path,
    as_of: datetime,
    data: str | None = None,
    dsn: str | None = None,
    table: str | None = None,
    engine: str | None = None,
    spark_master: str | None = None,
    outcomes: str | None = None,
    outcomes_table: str | None = None,
    kpi_column: str = DEFAULT_KPI_COLUMN,
    value_column: str | None = None,
    progress: Progress = no_progress,
) -> LiftCounts:
    """Membership at `as_of` joined to outcomes, counted per winning profile and side."""
    request = data_request(
        workspace_root, data=data, dsn=dsn, table=table, engine=engine, spark_master=spark_master
    )
    if (outcomes is None) == (outcomes_table is None):
        raise InputError(
            "give exactly one of outcomes (a CSV or Parquet file in the workspace) or outcomes_table "
            "(a table in the membership's database)",
            field="outcomes",
        )
    path = outcome_file(workspace_root, outcomes) if outcomes is not None else None
    if path is not None and request.kind == "duckdb":
        raise InputError(
            f"{request.location} is a DuckDB database, which reads no other file; load the outcomes into "
            "a table of it and name that with outcomes_table",
            field="outcomes",
        )
    with open_session(request, plan, progress, extra_files=(path,) if path else ()) as session:
        outcome, source = _outcome_columns(
            session, plan, path, outcomes_table, workspace_root, kpi_column, value_column
        )
        membership, profile_ids = membership_sql(
            plan, session.dialect, session.relation, session.columns, outcome.id_column, as_of
        )
        outcome_select = outcomes_sql(outcome, session.dialect)
        where = source.location + (f" table {source.table}" if source.table else "")
        _refuse_bad_ids(session, membership, outcome_select, where)
        progress(2.5, PHASES, f"checked the outcome ids of {where}")
        records, groups = _tally(session.fetch_all(counts_sql(membership, outcome_select, session.dialect)))
    progress(3, PHASES, f"counted {records} records and their outcomes")
    membership_source = SizingSource(
        kind=request.kind, location=request.location, table=request.table, spark_master=request.spark_master
    )
    return LiftCounts(profile_ids, records, groups, membership_source, source)


def _outcome_columns(
    session: DataSession,
    plan: Plan,
    path: Path | None,
    table: str | None,
    workspace_root: Path,
    kpi_column: str,
    value_column: str | None,
) -> tuple[OutcomeColumns, SizingSource]:
    """The outcome relation, its columns checked, and how the readout names its source."""
    relation, source = _outcome_relation(session, path, table, workspace_root)
    where = source.location + (f" table {source.table}" if source.table else "")
    id_column = plan_id_column(plan)
    kind = check_outcome_columns(
        _columns_of(session, relation, table),
        where,
        id_column=id_column,
        kpi_column=kpi_column,
        value_column=value_column,
    )
    return OutcomeColumns(relation, id_column, kind, kpi_column, value_column), source


def _tally(rows: list[tuple]) -> tuple[int, dict[tuple[int, bool], GroupCounts]]:
    """All records, and the counts of each (winner, held out) group; drivers' Decimals become floats."""
    groups: dict[tuple[int, bool], GroupCounts] = {}
    records = 0
    for winner, held, n, reached, known, mean, variance in rows:
        records += int(n)
        if winner is not None:
            groups[(int(winner), bool(held))] = GroupCounts(
                n=int(n),
                conversions=int(reached or 0),
                known=int(known),
                mean=float(mean or 0.0),
                variance=None if variance is None else float(variance),
            )
    return records, groups

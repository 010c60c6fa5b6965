"""The lift readout's SQL: who won which profile at launch, who was held out, and what they did.

Membership is the sizing rules evaluated as of the launch time, reduced to each record's winner
(the first member profile in priority order) and whether the record is in that profile's holdout
(rules/holdout.py). Outcomes are joined on the canonical id text, so an integer id and its decimal
text meet. One GROUP BY returns, per winner and side, the count, the KPI count, the count with a
known KPI, and the value's mean and sample variance: rows never leave the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..errors import InputError
from ..model import Plan
from ..rules import profile_sql_expressions
from ..rules.holdout import IdKind, holdout_sql, id_text_sql, plan_salt, profile_shares
from .query import column_sql, count_where, source_with_missing_columns
from .types import column_family

_DOUBLE = {"postgres": "DOUBLE PRECISION", "bigquery": "FLOAT64"}


@dataclass(frozen=True)
class OutcomeColumns:
    """The outcome relation and the names of its id, KPI and (optional) value columns."""

    relation: str
    id_column: str
    id_kind: IdKind
    kpi_column: str
    value_column: str | None


def id_kind_of(column: str, db_type: str, field: str) -> IdKind:
    """How an id column's type hashes (holdout.canonical_id): text, whole numbers, numbers, booleans."""
    family = column_family(db_type)
    lowered = db_type.strip().lower()
    if family == "text":
        return "string"
    if family == "boolean":
        return "boolean"
    if family == "number":
        # tinyint ... hugeint, unsigned ones, int64: whole numbers; decimal, double, real: numbers
        return "integer" if "int" in lowered else "number"
    raise InputError(
        f"id column {column} is {db_type}; a record id is text or a number (the holdout hashes its text)",
        field=field,
    )


def check_outcome_columns(
    columns: dict[str, str], where: str, *, id_column: str, kpi_column: str, value_column: str | None
) -> IdKind:
    """The outcome id's kind, after refusing a missing column, a non-boolean KPI or a non-numeric value."""
    listed = ", ".join(list(columns)[:30]) or "none"
    for name, field in ((id_column, "outcomes"), (kpi_column, "kpi_column"), (value_column, "value_column")):
        if name is not None and name not in columns:
            role = "id" if field == "outcomes" else field.removesuffix("_column").upper()
            raise InputError(f"{where} has no {role} column {name!r}; its columns: {listed}", field=field)
    if column_family(columns[kpi_column]) != "boolean":
        raise InputError(
            f"KPI column {kpi_column} of {where} is {columns[kpi_column]}, not boolean; store whether the "
            "KPI happened as true or false",
            field="kpi_column",
        )
    if value_column is not None and column_family(columns[value_column]) != "number":
        raise InputError(
            f"value column {value_column} of {where} is {columns[value_column]}, not a number",
            field="value_column",
        )
    return id_kind_of(id_column, columns[id_column], "outcomes")


def membership_sql(
    plan: Plan, dialect: str, relation: str, columns: dict[str, str], id_column: str, now: datetime
) -> tuple[str, list[str]]:
    """SELECT pe_raw (the id), pe_id (its canonical text), pe_winner (profile index or NULL) and
    pe_held, over the records.

    Returns the SQL and the profile ids in priority order (the index pe_winner refers to).
    """
    if id_column not in columns:
        raise InputError(
            f"the membership data has no id column {id_column!r} (success_metrics.activation_lift."
            f"id_column); its columns: {', '.join(list(columns)[:30])}",
            field="data",
        )
    kind = id_kind_of(id_column, columns[id_column], "data")
    expressions = list(profile_sql_expressions(plan, dialect, now=now).values())
    shares = profile_shares(plan)
    salt = plan_salt(plan)
    source, _ = source_with_missing_columns(plan, relation, columns, dialect)
    raw = column_sql(id_column, dialect)
    winner = " ".join(f"WHEN {p.net} THEN {i}" for i, p in enumerate(expressions)) or "WHEN FALSE THEN 0"
    held = " ".join(
        f"WHEN {i} THEN "
        + holdout_sql(dialect, salt, p.profile_id, "pe_raw", shares[p.profile_id], id_kind=kind)
        for i, p in enumerate(expressions)
        if p.profile_id in shares
    )
    inner = (
        f"SELECT {raw} AS pe_raw, {id_text_sql(dialect, raw, id_kind=kind)} AS pe_id, "
        f"CASE {winner} END AS pe_winner FROM {source}"
    )
    held_sql = f"CASE pe_winner {held} ELSE FALSE END" if held else "FALSE"
    sql = f"SELECT pe_raw, pe_id, pe_winner, {held_sql} AS pe_held FROM ({inner}) AS pe_rows"
    return sql, [p.profile_id for p in expressions]


def outcomes_sql(outcome: OutcomeColumns, dialect: str) -> str:
    oid = id_text_sql(dialect, column_sql(outcome.id_column, dialect), id_kind=outcome.id_kind)
    value = column_sql(outcome.value_column, dialect) if outcome.value_column else "NULL"
    return (
        f"SELECT {oid} AS pe_oid, {column_sql(outcome.kpi_column, dialect)} AS pe_kpi, "
        f"CAST({value} AS {_DOUBLE.get(dialect, 'DOUBLE')}) AS pe_value FROM {outcome.relation} AS pe_o"
    )


def check_sql(membership: str, outcomes: str) -> str:
    """One row: duplicate ids (count, an example) and ids matching no record (count, an example)."""
    return (
        f"WITH pe_members AS ({membership}), pe_out AS ({outcomes}), "
        "pe_dups AS (SELECT pe_oid FROM pe_out WHERE pe_oid IS NOT NULL "
        "GROUP BY pe_oid HAVING COUNT(*) > 1), "
        "pe_lost AS (SELECT pe_oid FROM pe_out WHERE pe_oid IS NULL OR NOT EXISTS "
        "(SELECT 1 FROM pe_members AS m WHERE m.pe_id = pe_out.pe_oid)) "
        "SELECT (SELECT COUNT(*) FROM pe_dups), (SELECT MIN(pe_oid) FROM pe_dups), "
        "(SELECT COUNT(*) FROM pe_lost), (SELECT MIN(pe_oid) FROM pe_lost), "
        "(SELECT COUNT(*) FROM pe_lost WHERE pe_oid IS NULL)"
    )


def counts_sql(membership: str, outcomes: str, dialect: str) -> str:
    """Per winner (NULL: no profile) and side: members, KPI reached, KPI known, value mean and variance."""
    value = "COALESCE(o.pe_value, 0)"
    return (
        f"WITH pe_members AS ({membership}), pe_out AS ({outcomes}) "
        f"SELECT m.pe_winner, m.pe_held, COUNT(*), {count_where('o.pe_kpi IS TRUE', dialect)}, "
        f"COUNT(o.pe_kpi), AVG({value}), VAR_SAMP({value}) "
        "FROM pe_members AS m LEFT JOIN pe_out AS o ON m.pe_id = o.pe_oid "
        "GROUP BY m.pe_winner, m.pe_held"
    )

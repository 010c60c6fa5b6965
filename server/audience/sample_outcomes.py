"""Deterministic synthetic outcomes for a plan's records, with a planted relative lift per profile.

Each record's winner and holdout side at launch come from the same membership query as the lift
readout. A record reaches the KPI when a uniform draw from md5(seed, id) falls below its rate: the
profile's baseline for the holdout (20% to 35%, by priority), the baseline times (1 + lift) for the
treatment, 12% for records no profile won. A converted record gets a value (revenue) from 20 to
100; 3% of the records that did not convert get no row, as real outcome tables miss some people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import InputError
from ..model import Plan
from ..rules.holdout import plan_id_column
from .duckdb_source import _csv_with_inventory_types, _file_relation, _sql_string
from .lift_query import membership_sql
from .query import column_sql

NO_PROFILE_RATE = 0.12
MISSING_SHARE = 0.03
MAX_LIFT = 3.0


@dataclass(frozen=True)
class SampleOutcomes:
    path: Path
    rows: int
    baselines: dict[str, float]  # profile -> holdout rate
    lifts: dict[str, float]  # profile -> planted relative lift (a fraction)


def baseline_rate(index: int) -> float:
    return 0.20 + 0.05 * (index % 4)


def _check_lifts(plan: Plan, lifts: dict[str, float]) -> None:
    known = [p.id for p in plan.profiles]
    for profile_id, value in lifts.items():
        if profile_id not in known:
            raise InputError(f"no profile {profile_id!r}; profiles: {', '.join(known)}", field="lift")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1 < value <= MAX_LIFT:
            raise InputError(
                f"{profile_id}={value!r}: a planted lift is a fraction above -1 and at most {MAX_LIFT} "
                "(0.2 is +20%)",
                field="lift",
            )


def _uniform(salt: str, seed: int) -> str:
    """A uniform draw in [0, 1) from md5 over the seed, a salt and the id's canonical text."""
    digits = f"SUBSTR(MD5('{seed}:{salt}:' || COALESCE(pe_id, '')), 1, 13)"
    return f"(CAST('0x' || {digits} AS BIGINT) / {16**13}.0)"


def _outcomes_sql(
    membership: str,
    profile_ids: list[str],
    lifts: dict[str, float],
    seed: int,
    id_name: str,
    kpi: str,
    value: str,
) -> str:
    rates = " ".join(
        f"WHEN pe_winner = {i} THEN {baseline_rate(i)} * "
        f"(CASE WHEN pe_held THEN 1 ELSE {1 + lifts.get(p, 0.0)} END)"
        for i, p in enumerate(profile_ids)
    )
    rate = f"LEAST(0.99, CASE {rates} ELSE {NO_PROFILE_RATE} END)" if rates else str(NO_PROFILE_RATE)
    amount = f"ROUND(20 + 80 * {_uniform('value', seed)}, 2)"
    return (
        f"SELECT pe_raw AS {column_sql(id_name, 'duckdb')}, pe_hit AS {column_sql(kpi, 'duckdb')}, "
        f"CASE WHEN pe_hit THEN {amount} ELSE 0 END AS {column_sql(value, 'duckdb')} "
        f"FROM (SELECT *, {_uniform('kpi', seed)} < {rate} AS pe_hit FROM ({membership}) AS pe_m) AS pe_r "
        f"WHERE pe_raw IS NOT NULL AND (pe_hit OR {_uniform('missing', seed)} >= {MISSING_SHARE}) "
        "ORDER BY pe_id"
    )


def write_sample_outcomes(
    plan: Plan,
    records: Path,
    out: Path,
    *,
    as_of: datetime,
    lifts: dict[str, float],
    seed: int = 0,
    kpi_column: str = "converted",
    value_column: str = "revenue",
) -> SampleOutcomes:
    """Write one outcome row per record id (less 3% of the non-converters) to a .csv or .parquet file."""
    import duckdb

    _check_lifts(plan, lifts)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise InputError(f"{str(out)!r} must end in .parquet or .csv", field="out")
    if records.suffix.lower() not in (".csv", ".parquet") or not records.is_file():
        raise InputError(f"{str(records)!r} is not a .csv or .parquet file", field="records")
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        relation = _file_relation(records)
        columns = {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
        if records.suffix.lower() == ".csv":
            relation, columns = _csv_with_inventory_types(relation, plan, columns)
        membership, profile_ids = membership_sql(
            plan, "duckdb", relation, columns, plan_id_column(plan), as_of
        )
        sql = _outcomes_sql(
            membership, profile_ids, lifts, seed, plan_id_column(plan), kpi_column, value_column
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        options = "FORMAT parquet" if out.suffix.lower() == ".parquet" else "FORMAT csv, HEADER true"
        con.execute(f"COPY ({sql}) TO {_sql_string(str(out))} ({options})")
        rows = con.execute(f"SELECT COUNT(*) FROM {_file_relation(out)}").fetchone()[0]
    except duckdb.Error as exc:
        raise InputError(
            f"could not write outcomes to {str(out)!r}: {str(exc).splitlines()[0]}", field="out"
        ) from None
    finally:
        con.close()
    baselines = {p: baseline_rate(i) for i, p in enumerate(profile_ids)}
    return SampleOutcomes(out, int(rows), baselines, {p: lifts.get(p, 0.0) for p in profile_ids})

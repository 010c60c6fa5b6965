"""Running compiled rules on the real engines: DuckDB, PostgreSQL and json-logic-js under Node."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from json_logic.builtins import BUILTINS

from personalization_engine.model import Plan
from personalization_engine.rules import HALF_LIFE_OP, compile_sql, half_life_decay, profile_sql_expressions
from personalization_engine.rules.instants import from_epoch_us
from personalization_engine.rules.records import coerce_value

SQL_TYPES = {
    "duckdb": {
        "string": "VARCHAR",
        "integer": "BIGINT",
        "number": "DOUBLE",
        "boolean": "BOOLEAN",
        "timestamp": "TIMESTAMPTZ",
        "date": "DATE",
    },
    "postgres": {
        "string": "TEXT",
        "integer": "BIGINT",
        "number": "DOUBLE PRECISION",
        "boolean": "BOOLEAN",
        "timestamp": "TIMESTAMPTZ",
        "date": "DATE",
    },
}
Verdict = tuple[bool, bool, bool, float | None]
# panzi-json-logic's operations with the documented custom operation registered
OPERATIONS = {**BUILTINS, HALF_LIFE_OP: lambda _data, *args: half_life_decay(*args)}


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _db_value(value: Any, kind: str) -> Any:
    """A coerced record value as the text or number the database casts into its column type."""
    if value is None:
        return None
    if kind in ("timestamp", "date"):
        moment = from_epoch_us(value)
        assert moment is not None, value
        return moment.date().isoformat() if kind == "date" else moment.isoformat()
    return value


def load_table(
    connection: Any,
    dialect: str,
    table: str,
    kinds: dict[str, str],
    records: list[dict[str, Any]],
    *,
    id_kind: str | None = None,
) -> None:
    """A table `id` + one column per attribute (names quoted: they may be reserved words).

    `id` is the record's index (BIGINT), or with `id_kind` the record's own "id" value in that type.
    """
    types = SQL_TYPES[dialect]
    id_type = types[id_kind or "integer"]
    mark = "?" if dialect == "duckdb" else "%s"
    connection.execute(f"DROP TABLE IF EXISTS {quoted(table)}")
    columns = ", ".join(f"{quoted(name)} {types[kind]}" for name, kind in kinds.items())
    connection.execute(f"CREATE TABLE {quoted(table)} (id {id_type}{', ' if columns else ''}{columns})")
    casts = "".join(f", CAST({mark} AS {types[kind]})" for kind in kinds.values())
    casts = f"CAST({mark} AS {id_type})" + casts
    params: list[Any] = []
    for index, record in enumerate(records):
        values = [
            coerce_value(record.get(name), kind, index=index, attr=name) for name, kind in kinds.items()
        ]
        record_id = record.get("id") if id_kind else index
        params += [record_id, *(_db_value(v, kinds[n]) for v, n in zip(values, kinds, strict=True))]
    # one statement for all rows: executemany costs a round trip (or a re-plan) per row
    rows = ", ".join(f"({casts})" for _ in records)
    if rows:
        connection.execute(f"INSERT INTO {quoted(table)} VALUES {rows}", params)


def sql_verdicts(
    connection: Any, dialect: str, plan: Plan, table: str, now: Any
) -> tuple[dict[tuple[int, str], Verdict], dict[int, str | None]]:
    """Per (record index, profile id): eligible, suppressed, member, score; and the winner per record."""
    expressions = profile_sql_expressions(plan, dialect, now=now)
    selected = ["id"]
    for parts in expressions.values():
        selected += [parts.eligible, parts.suppressed, parts.net, parts.score or "NULL"]
    rows = connection.execute(f"SELECT {', '.join(selected)} FROM {quoted(table)} ORDER BY id").fetchall()
    verdicts: dict[tuple[int, str], Verdict] = {}
    for row in rows:
        values = list(row[1:])
        for profile_id in expressions:
            eligible, suppressed, net, score = values[:4]
            values = values[4:]
            verdicts[(row[0], profile_id)] = (eligible, suppressed, net, score)
    query = compile_sql(plan, dialect, table=table, now=now)
    winners = {row[0]: row[1] for row in connection.execute(query).fetchall()}
    return verdicts, winners


def node_results(runner: str, jobs: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """json-logic-js's verdicts for each job: {"logic": compiled, "data": [evaluation data, ...]}."""
    completed = subprocess.run(
        ["node", runner],
        input=json.dumps({"jobs": jobs}),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(completed.stdout)["results"]

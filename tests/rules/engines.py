"""Running compiled rules on the real engines: DuckDB, PostgreSQL, Spark and json-logic-js under Node."""

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
    return _verdicts(connection, dialect, plan, quoted(table), table, now)


def _verdicts(
    connection: Any, dialect: str, plan: Plan, relation: str, table: str, now: Any
) -> tuple[dict[tuple[int, str], Verdict], dict[int, str | None]]:
    expressions = profile_sql_expressions(plan, dialect, now=now)
    selected = ["id"]
    for parts in expressions.values():
        selected += [parts.eligible, parts.suppressed, parts.net, parts.score or "NULL"]
    rows = connection.execute(f"SELECT {', '.join(selected)} FROM {relation} ORDER BY id").fetchall()
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


SPARK_VIEW = "pe_agreement"  # one view name: a case's table names (order, values, user) are SQL words


class SparkTarget:
    """Spark as an agreement target: records become a temporary view with typed columns, and the
    compiled Databricks SQL runs on it in the case's session time zone (ANSI mode, as sizing runs)."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark

    def load(
        self,
        zone: str,
        kinds: dict[str, str],
        records: list[dict[str, Any]],
        *,
        view: str = SPARK_VIEW,
        id_kind: str | None = None,
    ) -> None:
        """As load_table: `id` is the record's index, or with `id_kind` its own "id" in that type."""
        from pyspark.sql import types as T

        spark_types = {
            "string": T.StringType(), "integer": T.LongType(), "number": T.DoubleType(),
            "boolean": T.BooleanType(), "timestamp": T.TimestampType(), "date": T.DateType(),
        }  # fmt: skip
        self.spark.conf.set("spark.sql.session.timeZone", zone)
        id_field = T.StructField("id", spark_types[id_kind or "integer"])
        schema = T.StructType([id_field, *(T.StructField(n, spark_types[k]) for n, k in kinds.items())])
        rows = []
        for index, record in enumerate(records):
            values = [coerce_value(record.get(n), k, index=index, attr=n) for n, k in kinds.items()]
            record_id = record.get("id") if id_kind else index
            rows.append((record_id, *(_spark_value(v, kinds[n]) for v, n in zip(values, kinds, strict=True))))
        self.spark.createDataFrame(rows, schema).createOrReplaceTempView(view)

    def execute(self, sql: str) -> _Rows:
        return _Rows([tuple(row) for row in self.spark.sql(sql).collect()])


class _Rows:
    def __init__(self, rows: list[tuple]) -> None:
        self.rows = rows

    def fetchall(self) -> list[tuple]:
        return self.rows


def _spark_value(value: Any, kind: str) -> Any:
    """A coerced record value as PySpark takes it: instants as aware datetimes, dates as dates."""
    if value is None or kind not in ("timestamp", "date"):
        return value
    moment = from_epoch_us(value)
    assert moment is not None, value
    return moment.date() if kind == "date" else moment


def spark_verdicts(
    target: SparkTarget, plan: Plan, now: Any
) -> tuple[dict[tuple[int, str], Verdict], dict[int, str | None]]:
    """sql_verdicts on Spark, reading the view SPARK_VIEW."""
    return _verdicts(target, "databricks", plan, SPARK_VIEW, SPARK_VIEW, now)

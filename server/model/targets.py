"""The SQL dialects and compile targets, defined once for every layer and surface."""

from __future__ import annotations

from typing import Literal, get_args

Dialect = Literal["duckdb", "postgres", "snowflake", "bigquery", "databricks"]
Target = Literal["duckdb", "postgres", "snowflake", "bigquery", "databricks", "jsonlogic"]

SQL_DIALECTS: tuple[str, ...] = get_args(Dialect)
TARGETS: tuple[str, ...] = get_args(Target)
# Where `plans size --dialect` prints a query for a person to run rather than running it here.
WAREHOUSE_DIALECTS: tuple[str, ...] = tuple(d for d in SQL_DIALECTS if d != "duckdb")

# Where an activation is carried into production (docs/exports.md): warehouse models, or a flag system.
ExportTarget = Literal["dbt", "flagd", "launchdarkly", "growthbook"]
EXPORT_TARGETS: tuple[str, ...] = get_args(ExportTarget)
FLAG_TARGETS: tuple[str, ...] = ("flagd", "launchdarkly", "growthbook")

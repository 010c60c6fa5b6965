"""The audience layer: size a plan's profiles on real data (see docs/audience.md).

DuckDB reads CSV, Parquet and DuckDB files inside the workspace; PostgreSQL is reached by DSN; for
Snowflake, BigQuery and Databricks the layer writes the SQL for the warehouse to run. Only counts
come back from the database. duckdb and psycopg are imported lazily, inside functions.
"""

from .figures import AUDIENCE_FINDING_CODES, sizing_findings, sizing_run
from .gates import GateCheck, activation_gates, gate_check
from .query import SizingQuery, build_sizing_query
from .sample_data import SAMPLE_FORMATS, write_sample_data
from .sizing import DataPullFailed, SizingOutcome, size_plan, warehouse_sql
from .source import DataRequest, data_request, redact_dsn

__all__ = [
    "AUDIENCE_FINDING_CODES",
    "SAMPLE_FORMATS",
    "DataPullFailed",
    "DataRequest",
    "GateCheck",
    "SizingOutcome",
    "SizingQuery",
    "activation_gates",
    "build_sizing_query",
    "data_request",
    "gate_check",
    "redact_dsn",
    "size_plan",
    "sizing_findings",
    "sizing_run",
    "warehouse_sql",
    "write_sample_data",
]

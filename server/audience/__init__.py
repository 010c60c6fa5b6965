"""The audience layer: size a plan's profiles on real data (see docs/audience.md).

DuckDB reads CSV, Parquet and DuckDB files inside the workspace; PostgreSQL is reached by DSN; for
Snowflake, BigQuery and Databricks the layer writes the SQL for the warehouse to run. Only counts
come back from the database. duckdb and psycopg are imported lazily, inside functions.

This layer reads plans and data and writes nothing to the plan: it imports only the model, the
rules and the errors. Storing a run (with its retries and data_pull blocker) is the core's sizing
operation.
"""

from .backends import TransientPullError
from .gates import GateCheck, activation_gates, gate_check
from .measure import WAREHOUSE_DIALECTS, measure, warehouse_sql
from .query import SizingQuery, build_sizing_query
from .sample_data import SAMPLE_FORMATS, write_sample_data
from .session import PHASES, DataSession, Progress, open_session
from .source import DataRequest, data_request, redact_dsn

__all__ = [
    "PHASES",
    "SAMPLE_FORMATS",
    "WAREHOUSE_DIALECTS",
    "DataRequest",
    "DataSession",
    "GateCheck",
    "Progress",
    "SizingQuery",
    "TransientPullError",
    "activation_gates",
    "build_sizing_query",
    "data_request",
    "gate_check",
    "measure",
    "open_session",
    "redact_dsn",
    "warehouse_sql",
    "write_sample_data",
]

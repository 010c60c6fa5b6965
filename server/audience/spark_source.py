"""Size with Spark: a workspace Parquet or CSV file, or a catalog table, through the Databricks SQL.

The session comes from spark_session (one per process and master). The data becomes a temporary
view with a name of its own, dropped when the session closes, so concurrent calls never see each
other's views. CSV is read as text and the inventory's non-text attributes are cast to their types,
as DuckDB's reader does; a value the cast refuses (ANSI mode) contradicts the inventory.
"""

from __future__ import annotations

import contextlib
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..model import Plan
from .backends import TransientPullError, check_columns, first_line
from .session import PHASES, DataSession, Progress
from .source import DataRequest
from .spark_session import links_folder, spark_session

# Spark types for the inventory's attribute types, as a CSV column is cast to them.
SPARK_TYPES = {"integer": "bigint", "number": "double", "boolean": "boolean", "timestamp": "timestamp",
               "date": "date"}  # fmt: skip
_GLOB = re.compile(r"([\\*?\[\]{}])")
# Error conditions that mean the data contradicts the inventory, not that the read failed.
_CONTRADICTIONS = ("CAST_INVALID_INPUT", "CAST_OVERFLOW", "DATETIME_", "NUMERIC_VALUE_OUT_OF_RANGE")
_GONE = ("PATH_NOT_FOUND", "FAILED_READ_FILE", "FileNotFound", "UNAVAILABLE", "CONNECTION")


def _condition(exc: BaseException) -> str:
    getter = getattr(exc, "getCondition", None) or getattr(exc, "getErrorClass", None)
    try:
        return str(getter() or "") if getter else ""
    except Exception:
        return ""


def _failure(exc: BaseException, request: DataRequest, doing: str) -> Exception:
    """A Spark failure as InputError (the data or request is wrong) or TransientPullError."""
    condition = _condition(exc)
    message = first_line(str(exc))
    if condition.startswith(_CONTRADICTIONS):
        return InputError(
            f"{request.where} holds a value that contradicts the inventory's type: {message}", field="data"
        )
    if condition.startswith(("TABLE_OR_VIEW_NOT_FOUND", "SCHEMA_NOT_FOUND")):
        return InputError(
            f"table {request.table} does not exist for Spark at {request.spark_master}: {message}",
            field="table",
        )
    if any(marker in condition or marker in message for marker in _GONE) or _is_gateway_error(exc):
        return TransientPullError(f"{doing} {request.where} failed: {message}", field="data",
                                  location=request.location)  # fmt: skip
    return InputError(f"{doing} {request.where} failed: {message}", field="data")


def _is_gateway_error(exc: BaseException) -> bool:
    """The JVM behind a local session died or stopped answering."""
    return type(exc).__module__.startswith("py4j")


def _spark_errors() -> tuple[type[BaseException], ...]:
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    return (PySparkException, Py4JError)


def _location(path: Path, master: str, links: list[Path]) -> str:
    """Where Spark finds a workspace file. Spark reads glob characters and colons in a path as
    patterns, so a local session reads it through a plain-named link in a scratch folder; a cluster's
    executors cannot see that folder, so there the pattern characters are escaped instead."""
    if not master.startswith("local"):
        return _GLOB.sub(r"\\\1", str(path))
    link = links_folder() / f"{uuid.uuid4().hex}{path.suffix.lower()}"
    link.symlink_to(path)
    links.append(link)
    return str(link)


def _read(spark: Any, location: str, fmt: str, *, typed_csv: bool) -> Any:
    """A DataFrame over a file: Parquet, or CSV with a header (RFC 4180 quoting, fields may hold
    line breaks) read as text when the inventory types it, or with inferred types otherwise."""
    if fmt == "parquet":
        return spark.read.parquet(location)
    reader = spark.read.option("header", True).option("multiLine", True).option("escape", '"')
    return reader.option("mode", "FAILFAST").option("inferSchema", not typed_csv).csv(location)


def _with_inventory_types(frame: Any, plan: Plan) -> Any:
    """CSV columns are text: each inventoried non-text attribute is cast to its type."""
    present = set(frame.columns)
    casts = {  # frame[...] rather than functions.col: it works in classic and Connect mode alike
        a.name: frame[f"`{a.name.replace('`', '``')}`"].cast(SPARK_TYPES[a.type])
        for a in plan.attributes
        if a.type in SPARK_TYPES and a.name in present
    }
    return frame.withColumns(casts) if casts else frame


def _columns(frame: Any) -> dict[str, str]:
    return {field.name: field.dataType.simpleString() for field in frame.schema.fields}


def _view_name() -> str:
    return f"pe_data_{uuid.uuid4().hex}"


@contextmanager
def open_spark(
    request: DataRequest, plan: Plan, report: Progress, extra_files: tuple[Path, ...] = ()
) -> Iterator[DataSession]:
    assert request.spark_master is not None
    spark = spark_session(request.spark_master)
    report(1, PHASES, f"opened a Spark session on {request.spark_master}")
    views: list[str] = []
    links: list[Path] = []
    errors = _spark_errors()
    allowed = {path.resolve() for path in extra_files}

    def register(frame: Any) -> str:
        name = _view_name()
        frame.createOrReplaceTempView(name)
        views.append(name)
        return name

    try:
        try:
            if request.path is not None:
                assert request.spark_format is not None
                location = _location(request.path, request.spark_master, links)
                frame = _read(spark, location, request.spark_format, typed_csv=True)
                if request.spark_format == "csv":
                    frame = _with_inventory_types(frame, plan)
                relation = register(frame)
            else:
                assert request.table is not None
                frame = spark.table(request.table)
                relation = request.table
            columns = _columns(frame)
        except errors as exc:
            raise _failure(exc, request, "reading") from None
        check_columns(plan, columns, request.where)
        report(2, PHASES, f"read {len(columns)} columns of {request.where}")

        def fetch_all(sql: str) -> list[tuple]:
            try:
                result = spark.sql(sql)
                return _python_rows(result.collect(), result.schema)
            except errors as exc:
                raise _failure(exc, request, "reading") from None

        def fetch_one(sql: str, progress: Progress) -> tuple:
            def share_done(share: float) -> None:
                progress(2 + share, PHASES, f"counting rows in {request.where} with Spark: {share:.0%}")

            try:
                result = _with_progress(spark, lambda: spark.sql(sql), share_done)
                return _python_rows(*result)[0]
            except errors as exc:
                raise _failure(exc, request, "sizing") from None

        def file_relation(path: Path) -> str:
            resolved = path.resolve()
            if resolved not in allowed:
                raise InputError(f"{path.name} was not opened with this data session", field="outcomes")
            fmt = "parquet" if resolved.suffix.lower() == ".parquet" else "csv"
            try:
                location = _location(resolved, request.spark_master or "", links)
                return register(_read(spark, location, fmt, typed_csv=False))
            except errors as exc:
                raise _failure(exc, request, f"reading {path.name} with") from None

        yield DataSession(
            request=request,
            dialect="databricks",
            relation=relation,
            columns=columns,
            fetch_one=fetch_one,
            fetch_all=fetch_all,
            file_relation=file_relation,
        )
    finally:
        for name in views:
            with contextlib.suppress(Exception):  # the session may have died with the failure reported
                spark.catalog.dropTempView(name)
        for link in links:
            link.unlink(missing_ok=True)


def _python_rows(rows: list, schema: Any) -> list[tuple]:
    """Rows as tuples, with instants as UTC datetimes: PySpark hands a TIMESTAMP back as a naive
    datetime in this process's local time zone, whatever the session time zone."""
    from pyspark.sql.types import TimestampType

    instants = [isinstance(field.dataType, TimestampType) for field in schema.fields]
    if not any(instants):
        return [tuple(row) for row in rows]
    return [
        tuple(_utc(v) if instant else v for v, instant in zip(row, instants, strict=True)) for row in rows
    ]


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.astimezone(timezone.utc)


def _with_progress(spark: Any, query: Callable[[], Any], report: Callable[[float], None]) -> tuple:
    """Run a query on a worker thread in a job group of its own while this thread reports the share
    of its tasks done (a local or cluster session; Spark Connect reports nothing). Returns the rows
    and the schema; the query's own exception is re-raised here."""
    context = getattr(spark, "_sc", None)  # a Connect session has no SparkContext
    tracker = context.statusTracker() if context is not None else None
    group = f"pe-{uuid.uuid4().hex}"
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            if context is not None:
                context.setJobGroup(group, "personalization-engine sizing")
            frame = query()
            outcome["rows"] = (frame.collect(), frame.schema)
        except BaseException as exc:  # re-raised on the calling thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="pe-spark-query", daemon=True)
    worker.start()
    last = -1.0
    while worker.is_alive():
        worker.join(0.5)
        share = _share_done(tracker, group) if tracker is not None else None
        if share is not None and share - last >= 0.01:
            last = share
            report(share)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["rows"]


def _share_done(tracker: Any, group: str) -> float | None:
    try:
        stages = [
            tracker.getStageInfo(stage)
            for job in tracker.getJobIdsForGroup(group)
            for stage in (tracker.getJobInfo(job).stageIds if tracker.getJobInfo(job) else [])
        ]
    except Exception:  # the status tracker is advisory: never let it fail a sizing
        return None
    total = sum(stage.numTasks for stage in stages if stage)
    return sum(stage.numCompletedTasks for stage in stages if stage) / total if total else None

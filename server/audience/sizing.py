"""size_plan: measure a plan's audiences on data and append the sizing run as one ledger write.

The data pull is retried up to the plan's retry_limit; when it still fails, a data_pull blocker is
recorded (its own write, escalating through the ledger rules) and the error is raised. On any other
failure nothing is written.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from ..core.engine import Engine, WriteResult
from ..core.ledger import record_failed_attempt
from ..errors import ConflictError, EngineError, InputError
from ..model import Plan
from ..model.findings import Finding
from ..model.plan import SizingRun, SizingSource
from ..rules import SQL_DIALECTS
from .backends import PHASES, DataPullError, Measurement, Progress, measure
from .figures import sizing_findings, sizing_run
from .query import build_sizing_query
from .source import DataRequest, check_table_name, data_request

log = logging.getLogger(__name__)
STAGE = "sizing"


class DataPullFailed(EngineError):
    """The data could not be pulled within the retry limit; a data_pull blocker was recorded."""

    def __init__(self, message: str, blocker: WriteResult | None) -> None:
        self.blocker = blocker
        super().__init__(message)


@dataclass
class SizingOutcome:
    write: WriteResult
    run: SizingRun
    findings: list[Finding] = field(default_factory=list)


def _rules_unchanged(sized: Plan, current: Plan) -> bool:
    def part(p: Plan) -> list:
        return [p.attributes, p.profiles, p.activations, p.channels]

    return part(sized) == part(current)


def _pull(
    request: DataRequest,
    plan: Plan,
    now: datetime,
    progress: Progress,
    retry_delay: float,
) -> tuple[Measurement | None, list[str]]:
    failures: list[str] = []
    for attempt in range(plan.error_handling.retry_limit + 1):
        try:
            return measure(request, plan, now, progress), failures
        except DataPullError as exc:
            failures.append(str(exc))
            log.warning("data pull %d from %s failed: %s", attempt + 1, request.location, exc)
            if attempt < plan.error_handling.retry_limit and retry_delay > 0:
                time.sleep(retry_delay * (attempt + 1))
    return None, failures


def size_plan(
    engine: Engine,
    plan_id: str,
    *,
    data: str | None = None,
    dsn: str | None = None,
    table: str | None = None,
    expected_revision: int | None = None,
    actor: str,
    now: datetime | None = None,
    progress: Progress | None = None,
    retry_delay: float = 1.0,
) -> SizingOutcome:
    """Size the plan's profiles on a workspace file (data) or a PostgreSQL table (dsn + table)."""
    report: Progress = progress or (lambda done, total, message: None)
    request = data_request(engine.ws.root, data=data, dsn=dsn, table=table)
    plan = engine.read_plan(plan_id)
    if expected_revision is not None and expected_revision != plan.revision:
        raise ConflictError(plan_id, expected_revision, plan.revision)
    if not plan.profiles:
        raise InputError(f"plan {plan_id} has no profiles to size; define profiles first", field="plan_id")
    evaluated_at = now or engine.clock()
    measurement, failures = _pull(request, plan, evaluated_at, report, retry_delay)
    if measurement is None:
        attempts = len(failures)
        detail = f"{attempts} attempts failed; last error: {failures[-1]}"
        blocker = engine.apply(
            plan_id,
            "sizing",
            lambda p, write_time: record_failed_attempt(
                p,
                kind="data_pull",
                subject=f"data pull from {request.location}"[:200],
                attempts=attempts,
                detail=detail[:4000],
                actor=actor,
                now=write_time,
            ),
            timed=True,
            expected_revision=None,
            actor=actor,
            summary=f"data pull from {request.location} failed {attempts} times",
        )
        raise DataPullFailed(
            f"data: could not pull data from {request.location} after {attempts} attempts (retry_limit "
            f"{plan.error_handling.retry_limit}); recorded a data_pull blocker in revision "
            f"{blocker.revision}. Last error: {failures[-1]}",
            blocker,
        )
    rows = measurement.values["row_count"] or 0
    if rows == 0:
        where = request.location + (f" table {request.table}" if request.table else "")
        raise InputError(
            f"{where} has no rows; there is nothing to size, so nothing was written", field="data"
        )
    source = SizingSource(kind=request.kind, location=request.location, table=request.table)
    at = engine.write_time()
    sized_revision = plan.revision

    def append_run(current: Plan) -> Plan:
        if current.revision != sized_revision and not _rules_unchanged(plan, current):
            # The rules changed while the data was counted: these sizes belong to an older revision.
            raise ConflictError(plan_id, sized_revision, current.revision)
        run = sizing_run(
            current,
            measurement,
            run_id=f"size-{len(current.sizing_runs) + 1}",
            at=at,
            actor=actor,
            evaluated_at=evaluated_at,
            source=source,
        )
        run = run.model_copy(update={"plan_revision": sized_revision})
        metrics = current.success_metrics
        coverage = metrics.attribute_data_coverage_pct.model_copy(update={"actual": run.data_coverage_pct})
        appended.append(run)
        return current.model_copy(
            update={
                "sizing_runs": (*current.sizing_runs, run),
                "success_metrics": metrics.model_copy(update={"attribute_data_coverage_pct": coverage}),
            }
        )

    appended: list[SizingRun] = []
    report(3, PHASES, f"counted {rows} rows; storing the sizing run")
    write = engine.apply(
        plan_id,
        STAGE,
        append_run,
        expected_revision=expected_revision,
        actor=actor,
        summary=f"sized {len(plan.profiles)} profiles on {rows} rows of {request.location}",
    )
    run = appended[-1]
    report(PHASES, PHASES, f"stored sizing run {run.id} in revision {write.revision}")
    stored_plan = engine.read_plan(plan_id)
    return SizingOutcome(write=write, run=run, findings=sizing_findings(stored_plan, run))


def warehouse_sql(plan: Plan, dialect: str, table: str, *, now: datetime) -> str:
    """The sizing query for a warehouse to run (Snowflake, BigQuery, Databricks, or any SQL target).

    The warehouse's columns cannot be inspected from here, so every inventoried attribute is assumed
    to be a column of `table`; time windows are evaluated at the fixed instant `now`.
    """
    if dialect not in SQL_DIALECTS:
        raise InputError(
            f"unknown SQL dialect {dialect!r}; use one of {', '.join(SQL_DIALECTS)}", field="dialect"
        )
    check_table_name(table)
    query = build_sizing_query(
        plan, dialect, table, columns=None, now=now, materialize_flags=dialect == "postgres"
    )
    header = (
        f"-- Audience sizing for {plan.plan_id} r{plan.revision} ({dialect}), evaluated at "
        f"{now.isoformat()}; one result row.\n"
        f"-- Columns, in order: {', '.join(query.outputs)}\n"
    )
    return header + query.sql

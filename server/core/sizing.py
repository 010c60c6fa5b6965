"""The sizing operation: measure a plan's audiences (audience layer) and store the run (one write).

Only a transient failure (connection refused, lost or timed out, a locked database file) is retried,
up to the plan's retry_limit; when every attempt failed, a data_pull blocker is recorded (its own
write, escalating through the ledger rules) and DataPullFailed is raised. Any other failure (a bad
path, DSN, password, table or column) is raised at once and nothing is written.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from ..audience import PHASES, Progress, TransientPullError, measure
from ..checks.sizing import sizing_findings
from ..errors import ConflictError, EngineError
from ..model import Plan
from ..model.findings import Finding
from ..model.plan import SizingRun
from .engine import Engine, WriteResult
from .ledger import record_failed_attempt

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
        lift = p.success_metrics.activation_lift
        # The holdout settings decide the treatment and holdout counts as much as the rules do.
        holdout = (lift.holdout_share, lift.holdout_salt, lift.id_column) if lift else None
        return [p.attributes, p.profiles, p.activations, p.channels, holdout]

    return part(sized) == part(current)


def _no_progress(done: float, total: float, message: str) -> None:
    """Sizing without a listener reports nothing."""


def size_plan(
    engine: Engine,
    plan_id: str,
    *,
    data: str | None = None,
    dsn: str | None = None,
    table: str | None = None,
    engine_name: str | None = None,
    spark_master: str | None = None,
    expected_revision: int | None = None,
    actor: str,
    now: datetime | None = None,
    progress: Progress = _no_progress,
    retry_delay: float = 1.0,
) -> SizingOutcome:
    """Size the plan's profiles on a workspace file (data) or a PostgreSQL table (dsn + table)."""
    plan = engine.read_plan(plan_id)
    if expected_revision is not None and expected_revision != plan.revision:
        raise ConflictError(plan_id, expected_revision, plan.revision)
    evaluated_at = now or engine.clock()
    failures: list[TransientPullError] = []
    limit = plan.error_handling.retry_limit
    while True:
        try:
            run = measure(
                plan,
                workspace_root=engine.ws.root,
                data=data,
                dsn=dsn,
                table=table,
                engine=engine_name,
                spark_master=spark_master,
                now=evaluated_at,
                actor=actor,
                progress=progress,
            )
            break
        except TransientPullError as exc:
            failures.append(exc)
            log.warning("data pull %d from %s failed: %s", len(failures), exc.location, exc)
            if len(failures) > limit:
                raise _record_blocker(engine, plan_id, plan, failures, actor, evaluated_at) from None
            if retry_delay > 0:
                time.sleep(retry_delay * len(failures))
    write, stored = _store(engine, plan_id, plan, run, expected_revision, actor, progress)
    progress(PHASES, PHASES, f"stored sizing run {stored.id} in revision {write.revision}")
    return SizingOutcome(write=write, run=stored, findings=sizing_findings(engine.read_plan(plan_id), stored))


def _record_blocker(
    engine: Engine,
    plan_id: str,
    plan: Plan,
    failures: list[TransientPullError],
    actor: str,
    now: datetime,
) -> DataPullFailed:
    attempts, location, last = len(failures), failures[-1].location, str(failures[-1])
    blocker = engine.apply(
        plan_id,
        STAGE,
        lambda p, write_time: record_failed_attempt(
            p,
            kind="data_pull",
            subject=f"data pull from {location}"[:200],
            attempts=attempts,
            detail=f"{attempts} attempts failed; last error: {last}"[:4000],
            actor=actor,
            now=write_time,
        ),
        timed=True,
        expected_revision=None,
        actor=actor,
        summary=f"data pull from {location} failed {attempts} times",
    )
    return DataPullFailed(
        f"data: could not pull data from {location} after {attempts} attempts (retry_limit "
        f"{plan.error_handling.retry_limit}); recorded a data_pull blocker in revision "
        f"{blocker.revision}. Last error: {last}",
        blocker,
    )


def _store(
    engine: Engine,
    plan_id: str,
    plan: Plan,
    run: SizingRun,
    expected_revision: int | None,
    actor: str,
    progress: Progress,
) -> tuple[WriteResult, SizingRun]:
    stored: list[SizingRun] = []

    def append_run(current: Plan, at: datetime) -> Plan:
        if current.revision != plan.revision and not _rules_unchanged(plan, current):
            # The rules changed while the data was counted: these sizes belong to an older revision.
            raise ConflictError(plan_id, plan.revision, current.revision)
        # Another sizing may have been stored meanwhile: the id follows the runs stored now, and the
        # run is stamped with the time it is stored, not the time the count started.
        stored.append(run.model_copy(update={"id": f"size-{len(current.sizing_runs) + 1}", "at": at}))
        metrics = current.success_metrics
        coverage = metrics.attribute_data_coverage_pct.model_copy(update={"actual": run.data_coverage_pct})
        return current.model_copy(
            update={
                "sizing_runs": (*current.sizing_runs, stored[-1]),
                "success_metrics": metrics.model_copy(update={"attribute_data_coverage_pct": coverage}),
            }
        )

    progress(3, PHASES, f"counted {run.row_count} rows; storing the sizing run")
    write = engine.apply(
        plan_id,
        STAGE,
        append_run,
        timed=True,
        expected_revision=expected_revision,
        actor=actor,
        summary=f"sized {len(plan.profiles)} profiles on {run.row_count} rows of {run.source.location}",
    )
    return write, stored[-1]

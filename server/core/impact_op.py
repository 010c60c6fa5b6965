"""The data impact of a change between two revisions: measured read-only (plan_diff with data), or
stored as an impact run (record_impact, one ledger write that keeps a final plan final).

Both revisions come from the plan's git history and are evaluated at the same instant over one scan
of the same data (audience/impact.py); see docs/impact.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..errors import ConflictError, InputError
from ..model import ChangeItem, Plan
from ..model.impact import Impact, ImpactRun
from ..rules.instants import parse_time_option
from .engine import Engine, WriteResult

STAGE = "impact"


@dataclass(frozen=True)
class DataOptions:
    """Where the records are read (as for sizing) and the instant both revisions are evaluated at."""

    data: str | None = None
    dsn: str | None = None
    table: str | None = None
    engine_name: str | None = None
    spark_master: str | None = None
    now: datetime | str | None = None

    @property
    def given(self) -> bool:
        return any(value is not None for value in (self.data, self.dsn, self.engine_name, self.table))


@dataclass
class ImpactRecord:
    write: WriteResult
    run: ImpactRun
    changes: list[ChangeItem]


def _instant(engine: Engine, now: datetime | str | None) -> datetime:
    if isinstance(now, str):
        return parse_time_option(now, field="now")
    return now or engine.clock()


def measure_change(
    engine: Engine, plan_id: str, from_revision: int, to_revision: int, options: DataOptions
) -> tuple[list[ChangeItem], Impact]:
    """The field diff and the data impact between two revisions; writes nothing."""
    # engine.diff refuses a revision that does not exist, naming the argument and the latest one.
    changes = engine.diff(plan_id, from_revision, to_revision)
    if from_revision == to_revision:
        raise InputError(
            f"from_revision and to_revision are both {from_revision}; name two different revisions "
            "(an earlier one first, or a later one first for what reverting would do)",
            field="to_revision",
        )
    plan_a, plan_b = engine.read_plan(plan_id, from_revision), engine.read_plan(plan_id, to_revision)
    from ..audience import data_request
    from ..audience.impact import measure_impact

    request = data_request(
        engine.ws.root,
        data=options.data,
        dsn=options.dsn,
        table=options.table,
        engine=options.engine_name,
        spark_master=options.spark_master,
    )
    return changes, measure_impact(request, plan_a, plan_b, _instant(engine, options.now))


def record_impact(
    engine: Engine,
    plan_id: str,
    from_revision: int,
    to_revision: int,
    options: DataOptions,
    *,
    actor: str,
    expected_revision: int | None = None,
) -> ImpactRecord:
    """Measure the impact and append it to the plan as an impact run (one write)."""
    current = engine.read_plan(plan_id)
    if expected_revision is not None and expected_revision != current.revision:
        raise ConflictError(plan_id, expected_revision, current.revision)
    changes, impact = measure_change(engine, plan_id, from_revision, to_revision, options)
    stored: list[ImpactRun] = []

    def append_run(plan: Plan, at: datetime) -> Plan:
        run = ImpactRun(**impact.model_dump(), id=f"impact-{len(plan.impact_runs) + 1}", at=at, actor=actor)
        stored.append(run)
        return plan.model_copy(update={"impact_runs": (*plan.impact_runs, run)})

    moved = sum(f.records for f in impact.flows if f.from_profile != f.to_profile)
    write = engine.apply(
        plan_id,
        STAGE,
        append_run,
        timed=True,
        expected_revision=expected_revision,
        actor=actor,
        summary=f"impact of revision {from_revision} -> {to_revision}: {moved} of {impact.row_count} "
        f"records of {impact.source.location} move",
    )
    return ImpactRecord(write=write, run=stored[-1], changes=changes)

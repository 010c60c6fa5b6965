"""The lift readout as a core operation: count membership and outcomes (audience layer), compute
the statistics, and store the readout in the ledger (one write; a final plan stays final).

`success_metrics.activation_lift.actual` becomes the pooled relative lift, in percent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..audience.lift_data import DEFAULT_KPI_COLUMN, count_lift
from ..audience.session import PHASES, Progress, no_progress
from ..errors import ConflictError, InputError
from ..model import Plan
from ..model.lift import LiftMeasurement
from ..rules.holdout import profile_shares
from ..stats import lift as stats
from .engine import Engine, WriteResult
from .lift_figures import readout_profiles

STAGE = "measurement"


@dataclass
class LiftOutcome:
    write: WriteResult
    measurement: LiftMeasurement


@dataclass(frozen=True)
class LiftSources:
    """Where membership and outcomes are read (the tool's and the command's arguments)."""

    data: str | None = None
    dsn: str | None = None
    table: str | None = None
    engine: str | None = None
    spark_master: str | None = None
    outcomes: str | None = None
    outcomes_table: str | None = None
    kpi_column: str = DEFAULT_KPI_COLUMN
    value_column: str | None = None


def _settings(plan: Plan, field: str):
    lift = plan.success_metrics.activation_lift
    if lift is None:
        raise InputError(
            f"revision {plan.revision} of {plan.plan_id} has no success_metrics.activation_lift: set the "
            "KPI, window, target and holdout_share the readout measures",
            field=field,
        )
    shares = profile_shares(plan)
    if not shares:
        raise InputError(f"revision {plan.revision} of {plan.plan_id} holds no profile out", field=field)
    return lift, shares


def build_measurement(
    plan: Plan,
    sources: LiftSources,
    *,
    engine: Engine,
    as_of: datetime,
    actor: str,
    progress: Progress,
    revision: int | None = None,
) -> LiftMeasurement:
    """The readout of `plan`'s revision (not yet stored: id and time are stamped when it is)."""
    lift, shares = _settings(plan, "revision" if revision is not None else "plan_id")
    if as_of.tzinfo is None:
        raise InputError(f"{as_of.isoformat()!r} has no time zone; add Z or +00:00", field="as_of")
    counts = count_lift(
        plan,
        workspace_root=engine.ws.root,
        as_of=as_of,
        data=sources.data,
        dsn=sources.dsn,
        table=sources.table,
        engine=sources.engine,
        spark_master=sources.spark_master,
        outcomes=sources.outcomes,
        outcomes_table=sources.outcomes_table,
        kpi_column=sources.kpi_column,
        value_column=sources.value_column,
        progress=progress,
    )
    profiles, overall = readout_profiles(
        counts,
        shares,
        target=lift.target_pct / 100,
        baseline=lift.baseline_rate,
        with_value=sources.value_column is not None,
    )
    return LiftMeasurement(
        id="lift-0",
        at=as_of,
        actor=actor,
        plan_revision=plan.revision,
        launched_at=as_of,
        window_days=lift.window_days,
        kpi=lift.kpi,
        membership=counts.membership,
        outcomes=counts.outcomes,
        kpi_column=sources.kpi_column,
        value_column=sources.value_column,
        records=counts.records,
        interval_method=stats.INTERVAL_METHOD,
        test_method=stats.TEST_METHOD,
        ratio_method=stats.RATIO_METHOD,
        srm_method=stats.SRM_METHOD,
        value_method=stats.VALUE_METHOD if sources.value_column else None,
        profiles=tuple(profiles),
        overall=overall,
    )


def measure_lift(
    engine: Engine,
    plan_id: str,
    sources: LiftSources,
    *,
    as_of: datetime,
    revision: int | None = None,
    expected_revision: int | None = None,
    actor: str,
    progress: Progress = no_progress,
) -> LiftOutcome:
    """Read out the lift of `revision` (default: the current one) and append it to the ledger."""
    current = engine.read_plan(plan_id)
    if expected_revision is not None and expected_revision != current.revision:
        raise ConflictError(plan_id, expected_revision, current.revision)
    plan = current if revision is None else engine.read_plan(plan_id, revision)
    measurement = build_measurement(
        plan, sources, engine=engine, as_of=as_of, actor=actor, progress=progress, revision=revision
    )
    stored: list[LiftMeasurement] = []

    def append(latest: Plan, at: datetime) -> Plan:
        stored.append(
            measurement.model_copy(update={"id": f"lift-{len(latest.lift_measurements) + 1}", "at": at})
        )
        update: dict = {"lift_measurements": (*latest.lift_measurements, stored[-1])}
        lift = latest.success_metrics.activation_lift
        if lift is not None and measurement.overall is not None:
            actual = lift.model_copy(update={"actual": measurement.overall.relative_lift_pct})
            update["success_metrics"] = latest.success_metrics.model_copy(update={"activation_lift": actual})
        return latest.model_copy(update=update)

    overall = measurement.overall
    shown = (
        "n/a"
        if overall is None or overall.relative_lift_pct is None
        else f"{overall.relative_lift_pct:+.1f}%"
    )
    write = engine.apply(
        plan_id,
        STAGE,
        append,
        timed=True,
        expected_revision=expected_revision,
        actor=actor,
        summary=f"lift readout of r{plan.revision} ({measurement.kpi}): overall {shown} on "
        f"{measurement.records} records of {measurement.membership.location}",
    )
    progress(PHASES, PHASES, f"stored lift readout {stored[-1].id} in revision {write.revision}")
    return LiftOutcome(write=write, measurement=stored[-1])

"""Turn the sizing query's one result row into a SizingRun (the findings it shows are checks.sizing's)."""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any

from ..model import Plan
from ..model.common import duration_seconds
from ..model.plan import (
    ActivationSize,
    AttributeCoverage,
    AttributeFreshness,
    ChannelSize,
    OverlapCount,
    ProfileSize,
    SizingRun,
    SizingSource,
)
from .backends import Measurement
from .query import SizingQuery, channel_key


def _int(value: Any) -> int:
    return int(value or 0)


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=timezone.utc)
    return None


def _profile_sizes(q: SizingQuery, v: dict[str, Any]) -> list[ProfileSize]:
    sizes = []
    for i, pid in enumerate(q.profile_ids):
        winner = _int(v[f"winner_{i}"])
        # holdout_<i> exists only for a profile with a holdout; its winners are split in two.
        holdout = _int(v[f"holdout_{i}"]) if f"holdout_{i}" in v else None
        sizes.append(
            ProfileSize(
                profile_id=pid,
                priority=q.priorities[i],
                eligible=_int(v[f"eligible_{i}"]),
                suppressed=_int(v[f"suppressed_{i}"]),
                removed_by_suppression=_int(v[f"removed_{i}"]),
                net=_int(v[f"net_{i}"]),
                winner=winner,
                holdout=holdout,
                treatment=None if holdout is None else winner - holdout,
            )
        )
    return sizes


def _overlap_counts(q: SizingQuery, v: dict[str, Any]) -> list[OverlapCount]:
    return [
        OverlapCount(profile_a=q.profile_ids[i], profile_b=q.profile_ids[j], both=_int(v[f"overlap_{i}_{j}"]))
        for i, j in q.pairs
    ]


def _activation_sizes(q: SizingQuery, v: dict[str, Any]) -> list[ActivationSize]:
    return [
        ActivationSize(
            profile_id=g.activation.profile_id,
            channel=g.activation.channel,
            net=_int(v[f"activation_net_{g.index}"]),
            activatable=None if g.unmapped else _int(v[f"activatable_{g.index}"]),
            gate_columns=[c.describe() for c in g.checks],
            unmapped_gates=list(g.unmapped),
        )
        for g in q.gates
    ]


def _channel_sizes(q: SizingQuery, v: dict[str, Any]) -> list[ChannelSize]:
    return [
        ChannelSize(
            channel=c,
            reachable=_int(v[f"reachable_{channel_key(c)}"]),
            net_activatable=_int(v[f"activatable_{channel_key(c)}"]) if q.channel_gated[c] else None,
        )
        for c in q.channels
    ]


def _attribute_coverage(plan: Plan, measurement: Measurement, rows: int) -> list[AttributeCoverage]:
    q, v = measurement.query, measurement.values
    coverage = []
    for attribute in plan.attributes:
        present = attribute.name in q.coverage
        non_null = _int(v[f"non_null_{q.coverage.index(attribute.name)}"]) if present else 0
        coverage.append(
            AttributeCoverage(
                name=attribute.name,
                required=attribute.required,
                column_present=present,
                column_type=measurement.columns.get(attribute.name),
                non_null=non_null,
                coverage_pct=round(100.0 * non_null / rows, 2) if rows else 0.0,
            )
        )
    return coverage


def _data_coverage_pct(coverage: list[AttributeCoverage]) -> float | None:
    """The mean coverage of the required attributes, or of all of them when none is required."""
    counted = [c for c in coverage if c.required] or coverage
    return round(sum(c.coverage_pct for c in counted) / len(counted), 2) if counted else None


def _attribute_freshness(
    plan: Plan, q: SizingQuery, v: dict[str, Any], evaluated_at: datetime
) -> list[AttributeFreshness]:
    slas = {a.name: a.freshness_sla for a in plan.attributes}
    freshness = []
    for k, name in enumerate(q.freshness):
        newest = _utc(v[f"newest_{k}"])
        future = _int(v[f"future_{k}"])
        lag = None if newest is None else (evaluated_at - newest).total_seconds()
        sla = slas[name] or ""
        freshness.append(
            AttributeFreshness(
                name=name,
                freshness_sla=sla,
                newest=newest,
                lag_seconds=lag,
                future_values=future,
                # A column holding future values records plans, not arrivals: it vouches for nothing.
                within_sla=future == 0 and lag is not None and lag <= duration_seconds(sla),
            )
        )
    return freshness


def sizing_run(
    plan: Plan,
    measurement: Measurement,
    *,
    run_id: str,
    at: datetime,
    actor: str,
    evaluated_at: datetime,
    source: SizingSource,
) -> SizingRun:
    q, v = measurement.query, measurement.values
    rows = _int(v["row_count"])
    profiles = _profile_sizes(q, v)
    coverage = _attribute_coverage(plan, measurement, rows)
    return SizingRun(
        id=run_id,
        at=at,
        actor=actor,
        evaluated_at=evaluated_at,
        plan_revision=plan.revision,
        source=source,
        row_count=rows,
        profiles=profiles,
        no_winner=rows - sum(p.winner for p in profiles),
        overlaps=_overlap_counts(q, v),
        activations=_activation_sizes(q, v),
        channels=_channel_sizes(q, v),
        coverage=coverage,
        data_coverage_pct=_data_coverage_pct(coverage),
        freshness=_attribute_freshness(plan, q, v, evaluated_at),
    )

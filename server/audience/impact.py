"""Run the impact query where the data lives and read its groups back into the flow matrix.

Holdouts do not enter impact: a record held out of its winning profile still counts as that
profile's winner here, because a rule change moves the audience, holdout and treatment alike.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from ..errors import InputError
from ..model import Plan
from ..model.impact import Driver, Flow, Impact, ProfileImpact
from ..model.sizing import SizingSource
from ..rules.holdout import canonical_id, plan_id_column
from .backends import check_columns
from .impact_query import ImpactQuery, build_impact_query
from .session import Progress, no_progress, open_session
from .source import DataRequest

MAX_ID_TEXT = 200


def measure_impact(
    request: DataRequest, plan_a: Plan, plan_b: Plan, now: datetime, progress: Progress = no_progress
) -> Impact:
    """Evaluate revision A's and B's rules at `now` over one scan of the request's data."""
    id_column = plan_id_column(plan_b)
    with open_session(request, plan_b, progress) as session:
        check_columns(plan_a, session.columns, f"{request.where} (for revision {plan_a.revision})")
        if id_column not in session.columns:
            raise InputError(
                f"{request.where} has no id column {id_column!r} (success_metrics.activation_lift."
                f"id_column, default 'id'), which impact names example records by; nothing was read",
                field="data",
            )
        query = build_impact_query(
            plan_a,
            plan_b,
            session.dialect,
            session.relation,
            id_column=id_column,
            now=now,
            materialize_flags=session.materialize_flags,
        )
        rows = session.fetch_all(query.sql)
    source = SizingSource(
        kind=request.kind, location=request.location, table=request.table, spark_master=request.spark_master
    )
    return read_impact(query, rows, plan_a, plan_b, now=now, source=source, id_column=id_column)


def id_text(value: Any) -> str | None:
    """An example id as text: the canonical form where there is one (docs/audience.md), bounded."""
    if value is None:
        return None
    try:
        text = canonical_id(value)
    except InputError:
        text = None
    text = str(value) if text is None else text
    if not text.isprintable():
        text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= MAX_ID_TEXT else text[: MAX_ID_TEXT - 3] + "..."


def _smallest(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    try:
        return min(present) if present else None
    except TypeError:  # mixed types cannot be ordered: the first is as good an example
        return present[0]


def read_impact(
    query: ImpactQuery,
    rows: list[tuple],
    plan_a: Plan,
    plan_b: Plan,
    *,
    now: datetime,
    source: SizingSource,
    id_column: str,
) -> Impact:
    """Row layout: winner A, winner B, records, one count per flag, then each cause's count and example."""
    groups = [(int(r[0]), int(r[1]), int(r[2]), r[3 : 3 + query.flags], r[3 + query.flags :]) for r in rows]

    def profile_of(order: list[str], index: int) -> str | None:
        return order[index] if index >= 0 else None

    flows = sorted(
        (
            Flow(
                from_profile=profile_of(query.order_a, a), to_profile=profile_of(query.order_b, b), records=n
            )
            for a, b, n, _, _ in groups
            if n
        ),
        key=lambda f: (f.from_profile or "\uffff", f.to_profile or "\uffff"),
    )
    net = [sum(int(g[3][m]) for g in groups) for m in range(query.flags)]
    winners: dict[str, dict[str | None, int]] = {"a": defaultdict(int), "b": defaultdict(int)}
    for a, b, n, _, _ in groups:
        winners["a"][profile_of(query.order_a, a)] += n
        winners["b"][profile_of(query.order_b, b)] += n
    profiles = []
    for profile_id in dict.fromkeys([*query.order_a, *query.order_b]):
        moved = [
            g
            for g in groups
            if profile_of(query.order_a, g[0]) != profile_of(query.order_b, g[1])
            and profile_id in (profile_of(query.order_a, g[0]), profile_of(query.order_b, g[1]))
        ]
        joined = sum(g[2] for g in moved if profile_of(query.order_b, g[1]) == profile_id)
        in_a, in_b = profile_id in query.net_a, profile_id in query.net_b
        profiles.append(
            ProfileImpact(
                profile_id=profile_id,
                winners_before=winners["a"][profile_id] if in_a else None,
                winners_after=winners["b"][profile_id] if in_b else None,
                net_before=net[query.net_a[profile_id]] if in_a else None,
                net_after=net[query.net_b[profile_id]] if in_b else None,
                joined=joined,
                left=sum(g[2] for g in moved) - joined,
                drivers=_drivers(query, moved, profile_id, plan_a.revision, plan_b.revision),
            )
        )
    return Impact(
        from_revision=plan_a.revision,
        to_revision=plan_b.revision,
        evaluated_at=now,
        source=source,
        id_column=id_column,
        row_count=sum(g[2] for g in groups),
        flows=tuple(flows),
        profiles=tuple(profiles),
    )


def _drivers(query: ImpactQuery, moved: list, profile_id: str, rev_a: int, rev_b: int) -> tuple[Driver, ...]:
    found = []
    for k, cause in enumerate(query.causes):
        if cause.profile_id != profile_id:
            continue
        count = sum(int(g[4][2 * k]) for g in moved)
        if count:
            found.append(
                Driver(
                    cause=cause.cause,  # type: ignore[arg-type]
                    revision=rev_a if cause.side == "a" else rev_b,
                    pointer=cause.pointer,
                    condition=cause.condition,
                    records=count,
                    example_id=id_text(_smallest([g[4][2 * k + 1] for g in moved])),
                )
            )
    # Most records first; ties keep the order the causes were listed in (conditions before the rest).
    return tuple(sorted(found, key=lambda d: -d.records))

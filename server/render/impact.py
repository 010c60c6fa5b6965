"""The latest impact run (plan.impact_runs, written by record_impact) as a flow matrix, for display."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..model import Plan
from ..model.impact import ImpactRun, ProfileImpact

NONE_LABEL = "(none)"


@dataclass
class ImpactView:
    run: ImpactRun
    facts: list[tuple[str, str | datetime]]
    labels: list[str]  # rows (revision A's winner) and columns (revision B's winner), "(none)" last
    cells: list[list[int]] = field(default_factory=list)
    profiles: list[ProfileImpact] = field(default_factory=list)

    @property
    def moved(self) -> int:
        return sum(f.records for f in self.run.flows if f.from_profile != f.to_profile)


def latest_impact(plan: Plan) -> ImpactView | None:
    runs = getattr(plan, "impact_runs", ())
    if not runs:
        return None
    run = runs[-1]
    labels = [p.profile_id for p in run.profiles] + [NONE_LABEL]
    index = {label: i for i, label in enumerate(labels)}
    cells = [[0] * len(labels) for _ in labels]
    for flow in run.flows:
        cells[index[flow.from_profile or NONE_LABEL]][index[flow.to_profile or NONE_LABEL]] += flow.records
    table = f" (table {run.source.table})" if run.source.table else ""
    facts: list[tuple[str, str | datetime]] = [
        ("run", f"{run.id} by {run.actor}"),
        ("revisions", f"{run.from_revision} -> {run.to_revision}"),
        ("data", f"{run.source.kind} {run.source.location}{table}, {run.row_count} rows"),
        ("evaluated at", run.evaluated_at),
        ("recorded at", run.at),
    ]
    return ImpactView(run, facts, labels, cells, [p for p in run.profiles if p.joined or p.left])

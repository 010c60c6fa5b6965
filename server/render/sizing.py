"""The latest audience sizing run (plan.sizing_runs, written by the audience layer), for display.

Read through getattr so that the render layer works on plans from before sizing existed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# Beyond this many profiles the heatmap's cells get too small to read; the table still lists all.
MAX_HEATMAP_PROFILES = 40


@dataclass
class SizingView:
    run: Any
    # Times stay datetimes so that each format writes them its own way (ISO in Markdown, readable in HTML).
    facts: list[tuple[str, str | datetime]]
    profiles: list[Any] = field(default_factory=list)
    activations: list[Any] = field(default_factory=list)
    channels: list[Any] = field(default_factory=list)
    coverage: list[Any] = field(default_factory=list)
    freshness: list[Any] = field(default_factory=list)
    overlap_labels: list[str] = field(default_factory=list)
    overlap: list[list[float | None]] = field(default_factory=list)


def _source(source: Any) -> str:
    if source is None:
        return ""
    parts = [str(getattr(source, "kind", "")), str(getattr(source, "location", ""))]
    table = getattr(source, "table", None)
    return " ".join(p for p in parts if p) + (f" (table {table})" if table else "")


def _time(value: Any) -> str | datetime:
    return value if isinstance(value, datetime) else str(value or "")


def latest_sizing(plan: Any) -> SizingView | None:
    runs = getattr(plan, "sizing_runs", None)
    if not runs:
        return None
    run = runs[-1]
    facts: list[tuple[str, str | datetime]] = [
        ("sized at", _time(getattr(run, "at", None))),
        ("rules evaluated at", _time(getattr(run, "evaluated_at", None))),
        ("plan revision sized", str(getattr(run, "plan_revision", ""))),
        ("data source", _source(getattr(run, "source", None))),
        ("rows", f"{getattr(run, 'row_count', 0):,}"),
        ("rows in no profile", f"{getattr(run, 'no_winner', 0):,}"),
    ]
    coverage_pct = getattr(run, "data_coverage_pct", None)
    if coverage_pct is not None:
        facts.append(("measured data coverage", f"{coverage_pct:g}%"))
    profiles = list(getattr(run, "profiles", []))
    labels, matrix = _overlap_matrix(profiles, list(getattr(run, "overlaps", [])))
    return SizingView(
        run=run,
        facts=[(label, value) for label, value in facts if value],
        profiles=profiles,
        activations=list(getattr(run, "activations", [])),
        channels=list(getattr(run, "channels", [])),
        coverage=list(getattr(run, "coverage", [])),
        freshness=list(getattr(run, "freshness", [])),
        overlap_labels=labels,
        overlap=matrix,
    )


def _overlap_matrix(profiles: list[Any], overlaps: list[Any]) -> tuple[list[str], list[list[float | None]]]:
    """Profiles in priority order; the diagonal is each profile's net, the rest members shared."""
    ordered = sorted(profiles, key=lambda p: getattr(p, "priority", 0))[:MAX_HEATMAP_PROFILES]
    labels = [p.profile_id for p in ordered]
    if len(labels) < 2:
        return [], []
    shared = {(o.profile_a, o.profile_b): o.both for o in overlaps}
    net = {p.profile_id: p.net for p in ordered}
    matrix: list[list[float | None]] = [
        [net[a] if a == b else shared.get((a, b), shared.get((b, a))) for b in labels] for a in labels
    ]
    return labels, matrix

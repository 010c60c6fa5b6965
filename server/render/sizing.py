"""The latest audience sizing run (plan.sizing_runs, written by the audience layer), for display.

Read through getattr so that the render layer works on plans from before sizing existed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..checks.lift import plan_power
from ..model import Plan

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
    power: list[PowerRow] = field(default_factory=list)


@dataclass(frozen=True)
class PowerRow:
    """One holdout profile's minimum detectable effect, as the report and plan.md print it."""

    profile_id: str
    share: str
    treatment: str
    holdout: str
    baseline: str
    mde_absolute: str
    mde_relative: str
    verdict: str
    status: str  # "blocked" below the MDE, "ok" detectable, "" without an MDE (the report's classes)


def power_rows(plan: Any) -> list[PowerRow]:
    """Each sized holdout profile's MDE (checks.lift) next to the plan's relative lift target."""
    if not isinstance(plan, Plan) or plan.success_metrics.activation_lift is None:
        return []
    target = plan.success_metrics.activation_lift.target_pct
    rows = []
    for power in plan_power(plan):
        mde = power.mde
        baseline = "unknown: set baseline_rate"
        if power.baseline is not None:
            baseline = f"{100 * power.baseline:.2f}% ({power.baseline_source})"
        under = mde is not None and abs(target) < mde.relative_pct
        if mde is None:
            verdict = "no MDE without a baseline" if power.baseline is None else "an arm is empty"
        else:
            verdict = f"target {target:g}% is below the MDE" if under else f"target {target:g}% is detectable"
        rows.append(
            PowerRow(
                profile_id=power.profile_id,
                share=f"{100 * power.share:g}%",
                treatment=f"{power.n_treatment:,.0f}",
                holdout=f"{power.n_holdout:,.0f}",
                baseline=baseline,
                mde_absolute="" if mde is None else f"{100 * mde.absolute:.2f} points",
                mde_relative="" if mde is None else f"{mde.relative_pct:.1f}%",
                verdict=verdict,
                status="blocked" if under else "ok" if mde is not None else "",
            )
        )
    return rows


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
        power=power_rows(plan),
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

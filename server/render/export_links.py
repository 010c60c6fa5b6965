"""Which export carries each activation, for the checklist and the report (docs/exports.md)."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Activation, Plan
from ..model.ledger import ExportRun


@dataclass(frozen=True)
class ExportLink:
    """status: carried, refused, not_exported or no_target. `href` is relative to the plan's
    deliverables folder (.claude/plans/<plan_id>/), where the checklist and the report live."""

    status: str
    text: str
    href: str | None = None


def export_link(plan: Plan, activation: Activation) -> ExportLink:
    target = activation.export_target
    if target is None:
        return ExportLink("no_target", "no export target named")
    run = _latest(plan, target)
    if run is None:
        return ExportLink("not_exported", f"{target}, not exported yet")
    key = f"{activation.profile_id}/{activation.channel}"
    state = f"{run.id}, revision {run.revision}" + (", draft" if run.draft else "")
    refused = [
        r
        for r in run.refusals
        if r.profile_id == activation.profile_id and r.channel in (None, activation.channel)
    ]
    if refused:
        reasons = "; ".join(f"{r.condition}: {r.reason}" for r in refused)
        return ExportLink("refused", f"{target} ({state}) refused it: {reasons}")
    carrier = run.carriers.get(key)
    if carrier is None:
        return ExportLink("not_exported", f"{target} ({state}) does not carry it; export again")
    href = f"exports/{target}/{carrier}"
    return ExportLink("carried", f"{target} ({state})", href)


def _latest(plan: Plan, target: str) -> ExportRun | None:
    runs = [r for r in plan.exports if r.target == target]
    return runs[-1] if runs else None

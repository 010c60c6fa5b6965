"""Who an escalation reaches: ladder rung owners, their availability and their named fallbacks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..model import Plan
from ..model.stages import OwnerAssignment


def absence(plan: Plan, name: str, on: date) -> OwnerAssignment | None:
    """The governance entry that marks `name` absent on `on`, if any.

    An owner absent until a date is back on that date; an absence without a date lasts until the
    entry is changed.
    """
    for owner in plan.governance.owners:
        if (
            owner.owner == name
            and owner.availability == "absent"
            and (owner.absent_until is None or on < owner.absent_until)
        ):
            return owner
    return None


def _named_fallbacks(plan: Plan, name: str, role: str | None) -> list[str]:
    """Fallbacks in the order they are tried: error_handling.fallback_owners, then the owner's backup."""
    keys = {name} if role is None else {name, role}
    named = [f.fallback for f in plan.error_handling.fallback_owners if f.role in keys]
    named += [o.backup for o in plan.governance.owners if o.owner == name and o.backup]
    return named


def available_fallback(plan: Plan, name: str, role: str | None, on: date) -> str | None:
    """The first available person standing in for an absent `name`, following fallbacks of fallbacks."""
    queue, seen = _named_fallbacks(plan, name, role), {name}
    while queue:
        candidate = queue.pop(0)
        if candidate in seen:
            continue
        seen.add(candidate)
        if absence(plan, candidate, on) is None:
            return candidate
        queue.extend(_named_fallbacks(plan, candidate, None))
    return None


@dataclass(frozen=True)
class Reached:
    rung: int
    role: str
    owner: str | None
    absent_owner: str | None


def reach_rung(plan: Plan, rung: int, on: date) -> Reached:
    """Who holds ladder rung `rung` (1-based, clamped to the ladder) on `on`, rerouting absences."""
    ladder = plan.error_handling.escalation_ladder
    rung = max(1, min(rung, len(ladder)))
    step = ladder[rung - 1]
    if step.owner is None or absence(plan, step.owner, on) is None:
        return Reached(rung=rung, role=step.role, owner=step.owner, absent_owner=None)
    fallback = available_fallback(plan, step.owner, step.role, on)
    if fallback is None:
        # Nobody stands in; the escalation still names the absent owner and a finding asks for a fallback.
        return Reached(rung=rung, role=step.role, owner=step.owner, absent_owner=None)
    return Reached(rung=rung, role=step.role, owner=fallback, absent_owner=step.owner)

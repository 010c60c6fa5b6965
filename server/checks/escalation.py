"""The escalation ladder: opening, climbing and resolving escalations on a plan.

Rung 1 is the person who runs the plan and meets every blocker first, so escalating means going
one rung up from there: the first escalation of anything reaches rung 2, each repeat one higher,
capped at the top of the plan's ladder.
"""

from __future__ import annotations

import re
from datetime import datetime

from ..model import Escalation, Plan
from .owners import reach_rung

FIRST_ESCALATION_RUNG = 2
COVERAGE_SUBJECT = "attribute coverage"
_ID_NUMBER = re.compile(r"-(\d+)$")


def next_id(prefix: str, existing: list[str]) -> str:
    """'esc-4' after 'esc-1'..'esc-3': numbered past the highest id so deleted ids are never reused."""
    numbers = [int(m.group(1)) for i in existing if i.startswith(prefix) and (m := _ID_NUMBER.search(i))]
    return f"{prefix}-{max(numbers, default=0) + 1}"


def top_rung(plan: Plan) -> int:
    return len(plan.error_handling.escalation_ladder)


def open_escalation(plan: Plan, kind: str, subject: str) -> Escalation | None:
    """The open escalation for a blocker identity (kind, subject); there is at most one."""
    return next(
        (e for e in plan.escalations if e.status == "open" and e.kind == kind and e.subject == subject),
        None,
    )


def raise_escalation(
    plan: Plan,
    *,
    kind: str,
    subject: str,
    rung: int,
    trigger: str,
    blocker_ids: list[str],
    now: datetime,
) -> Plan:
    """The plan with an escalation opened at `rung`; an open one for the same identity is superseded.

    Each escalation is its own record, so every climb is an audit entry and a commit trailer.
    """
    escalations = list(plan.escalations)
    current = open_escalation(plan, kind, subject)
    if current is not None:
        escalations[escalations.index(current)] = current.model_copy(
            update={"status": "superseded", "resolved_at": now}
        )
        blocker_ids = list(dict.fromkeys([*current.blocker_ids, *blocker_ids]))
    reached = reach_rung(plan, min(rung, top_rung(plan)), now.date())
    escalation = Escalation(
        id=next_id("esc", [e.id for e in plan.escalations]),
        trigger=trigger[:200],
        kind=kind,
        subject=subject,
        rung=reached.rung,
        role=reached.role,
        owner_reached=reached.owner,
        absent_owner=reached.absent_owner,
        opened_at=now,
        blocker_ids=tuple(blocker_ids),
    )
    return plan.model_copy(update={"escalations": (*escalations, escalation)})


def resolve_escalation(escalation: Escalation, remediation: str, now: datetime) -> Escalation:
    return escalation.model_copy(
        update={"status": "resolved", "resolved_at": now, "remediation": remediation}
    )


def _replace_escalation(plan: Plan, old: Escalation, new: Escalation) -> Plan:
    escalations = list(plan.escalations)
    escalations[escalations.index(old)] = new
    return plan.model_copy(update={"escalations": tuple(escalations)})


# --- automatic coverage escalation -----------------------------------------------------------
_LEDGER_FIELDS = {
    "revision",
    "updated_at",
    "change_log",
    "blockers",
    "escalations",
    "approvals",
    "qa_results",
    "exports",
    "final",
}


def content_changed(before: Plan, after: Plan) -> bool:
    """True when anything but the ledger and server-computed fields differs.

    A new audience sizing (sizing_runs, written by the audience layer) counts: it re-checks coverage
    on data, so a coverage still below target climbs.
    """
    for name in Plan.model_fields:
        if name in _LEDGER_FIELDS:
            continue
        if name == "success_metrics":
            if _metric_targets(before) != _metric_targets(after):
                return True
        elif getattr(before, name) != getattr(after, name):
            return True
    return False


def _metric_targets(plan: Plan) -> dict[str, object]:
    return plan.success_metrics.model_dump(
        exclude={
            "activation_readiness_by_channel": True,
            **{
                name: {"actual"}
                for name in (
                    "attribute_spec_coverage_pct",
                    "attribute_data_coverage_pct",
                    "consent_integrity_pct",
                    "activation_readiness_pct",
                )
            },
        }
    )


def governance_recorded(plan: Plan) -> bool:
    return bool(plan.governance.owners or plan.governance.change_checkpoints or plan.governance.qa_cadence)


def refresh_coverage_escalation(
    plan: Plan, previous: Plan | None, now: datetime, metric: str, value: float | None, target: float | None
) -> Plan:
    """Escalate coverage below target once governance is recorded; climb on each later content write.

    Idempotent for a given `previous`: a climb is measured against the previous revision's rung, so
    running twice on the same write climbs once.
    """
    current = open_escalation(plan, "coverage", COVERAGE_SUBJECT)
    below = value is not None and target is not None and value < target
    if not below:
        if current is None:
            return plan
        if value is None:
            outcome = "can no longer be measured (no attribute is referenced)"
        elif target is None:
            outcome = f"is {value:g}% and no longer has a target"
        else:
            outcome = f"is {value:g}%, meeting its target of {target:g}%"
        return _replace_escalation(plan, current, resolve_escalation(current, f"{metric} {outcome}", now))
    if not governance_recorded(plan):
        return plan
    trigger = f"{metric} {value:g}% is below its target {target:g}%"
    if current is None:
        return raise_escalation(
            plan,
            kind="coverage",
            subject=COVERAGE_SUBJECT,
            rung=FIRST_ESCALATION_RUNG,
            trigger=trigger,
            blocker_ids=[],
            now=now,
        )
    before = open_escalation(previous, "coverage", COVERAGE_SUBJECT) if previous else None
    if (
        before is not None
        and before == current  # still the record the previous revision had: this write has not climbed
        and current.rung < top_rung(plan)
        and content_changed(previous, plan)  # type: ignore[arg-type]
    ):
        return raise_escalation(
            plan,
            kind="coverage",
            subject=COVERAGE_SUBJECT,
            rung=current.rung + 1,
            trigger=f"still: {trigger}",
            blocker_ids=[],
            now=now,
        )
    return plan

"""Ledger operations: blockers, their escalations up the ladder, and reported approvals.

Pure functions, plan in and plan out, run by the write pipeline with the write's time, e.g.
`engine.apply(plan_id, "governance", lambda p, now: record_blocker(p, ..., now=now), ...)`.
Bad input raises InputError naming the field, so nothing is written.
"""

from __future__ import annotations

from datetime import datetime
from typing import get_args

from ..checks.escalation import next_id, open_escalation, raise_escalation, resolve_escalation, top_rung
from ..checks.ledger_findings import approval_roles
from ..commit_message import one_line
from ..errors import InputError
from ..model import Approval, Blocker, Plan
from ..model.common import MAX_LONG_TEXT, MAX_SHORT_TEXT, control_characters

BLOCKER_KINDS: tuple[str, ...] = get_args(Blocker.model_fields["kind"].annotation)
RETRIED_KINDS = ("data_pull", "consent")
DECISIONS: tuple[str, ...] = get_args(Approval.model_fields["decision"].annotation)


def _choice(value: object, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise InputError(f"{value!r} is not allowed; use one of {', '.join(allowed)}", field=field)
    return value  # type: ignore[return-value]


def _text(value: object, field: str, *, limit: int, required: bool = True, multi_line: bool = False) -> str:
    if not isinstance(value, str):
        raise InputError(f"expected text, got {type(value).__name__}", field=field)
    found = control_characters(value, multi_line=multi_line)
    if found:
        allowed = "only newline and tab are allowed" if multi_line else "one line of plain text only"
        raise InputError(f"contains control characters ({', '.join(found)}); {allowed}", field=field)
    text = value.strip()
    if required and not text:
        raise InputError("must not be empty", field=field)
    if len(text) > limit:
        raise InputError(f"is {len(text)} characters long; the limit is {limit}", field=field)
    return text


def _open_ids(plan: Plan) -> str:
    return ", ".join(b.id for b in plan.blockers if b.status == "open") or "none"


def _add_blocker(
    plan: Plan,
    *,
    kind: str,
    subject: str,
    detail: str,
    actor: str,
    now: datetime,
    attempts: int | None = None,
) -> tuple[Plan, Blocker]:
    blocker = Blocker(
        id=next_id("blk", [b.id for b in plan.blockers]),
        kind=kind,  # type: ignore[arg-type]
        subject=_text(subject, "subject", limit=MAX_SHORT_TEXT),
        detail=_text(detail, "detail", limit=MAX_LONG_TEXT, required=False, multi_line=True),
        recorded_at=now,
        recorded_by=_text(one_line(actor), "actor", limit=MAX_SHORT_TEXT),
        attempts=attempts,
    )
    return plan.model_copy(update={"blockers": (*plan.blockers, blocker)}), blocker


def _escalate(plan: Plan, blocker: Blocker, now: datetime, *, at_least: int = 0, reason: str = "") -> Plan:
    """The second open blocker of an identity escalates one rung; each further repeat one more."""
    same = [
        b
        for b in plan.blockers
        if b.status == "open" and b.kind == blocker.kind and b.subject == blocker.subject
    ]
    rung = len(same) if len(same) >= 2 else 0
    rung = max(rung, at_least)
    if rung == 0:
        return plan
    current = open_escalation(plan, blocker.kind, blocker.subject)
    if current is not None:
        rung = max(rung, current.rung + 1)
    repeats = f"open {len(same)} times" if len(same) >= 2 else ""
    trigger = f"{blocker.kind} blocker {blocker.subject!r} " + " and ".join(r for r in (repeats, reason) if r)
    return raise_escalation(
        plan,
        kind=blocker.kind,
        subject=blocker.subject,
        rung=min(rung, top_rung(plan)),
        trigger=trigger,
        blocker_ids=[b.id for b in same],
        now=now,
    )


def record_blocker(plan: Plan, *, kind: str, subject: str, detail: str, actor: str, now: datetime) -> Plan:
    """Record a blocker; a repeat of an open one (same kind and subject) escalates up the ladder."""
    _choice(kind, BLOCKER_KINDS, "kind")
    plan, blocker = _add_blocker(plan, kind=kind, subject=subject, detail=detail, actor=actor, now=now)
    return _escalate(plan, blocker, now)


def record_failed_attempt(
    plan: Plan, *, kind: str, subject: str, attempts: int, detail: str, actor: str, now: datetime
) -> Plan:
    """Record a data pull or consent check that kept failing; more than retry_limit failures escalates."""
    _choice(kind, RETRIED_KINDS, "kind")
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise InputError(
            f"{attempts!r} is not a count of failed attempts; use a whole number >= 1", field="attempts"
        )
    limit = plan.error_handling.retry_limit
    plan, blocker = _add_blocker(
        plan, kind=kind, subject=subject, detail=detail, actor=actor, now=now, attempts=attempts
    )
    exceeded = attempts > limit
    reason = f"failed {attempts} times, more than retry_limit {limit}" if exceeded else ""
    return _escalate(plan, blocker, now, at_least=2 if exceeded else 0, reason=reason)


def resolve_blocker(plan: Plan, *, blocker_id: str, remediation: str, actor: str, now: datetime) -> Plan:
    """Resolve an open blocker with its remediation, together with its recurrences (same kind and
    subject); open escalations they triggered resolve with them."""
    blocker = next((b for b in plan.blockers if b.id == blocker_id), None)
    if blocker is None:
        raise InputError(
            f"no blocker {blocker_id!r} in plan {plan.plan_id}; open blockers: {_open_ids(plan)}",
            field="blocker_id",
        )
    if blocker.status != "open":
        raise InputError(
            f"blocker {blocker_id!r} is already resolved; open blockers: {_open_ids(plan)}",
            field="blocker_id",
        )
    remediation = _text(remediation, "remediation", limit=MAX_LONG_TEXT, multi_line=True)
    actor = _text(one_line(actor), "actor", limit=MAX_SHORT_TEXT)
    # Blockers with the same kind and subject are one problem recurring: resolving it resolves
    # every open record of it, and every escalation they triggered.
    identity = (blocker.kind, blocker.subject)
    resolution = {"status": "resolved", "resolved_at": now, "resolved_by": actor, "remediation": remediation}
    ids = {b.id for b in plan.blockers if b.status == "open" and (b.kind, b.subject) == identity}
    blockers = tuple(b.model_copy(update=resolution) if b.id in ids else b for b in plan.blockers)
    escalations = tuple(
        resolve_escalation(e, remediation, now) if e.status == "open" and ids & set(e.blocker_ids) else e
        for e in plan.escalations
    )
    return plan.model_copy(update={"blockers": blockers, "escalations": escalations})


def record_approval(
    plan: Plan, *, approver: str, role: str, decision: str, note: str, actor: str, now: datetime
) -> Plan:
    """Record a decision someone reports on the current revision (status `reported`, by `actor`).

    A report is not a confirmation: only the named person, running `plans approve` at a terminal,
    confirms (confirmations.py). A later change to the sections the role covers makes it stale.
    """
    approval = Approval(
        id=next_id("apr", [a.id for a in plan.approvals]),
        approver=_text(approver, "approver", limit=MAX_SHORT_TEXT),
        role=_choice(role, tuple(approval_roles(plan)), "role"),
        decision=_choice(decision, DECISIONS, "decision"),  # type: ignore[arg-type]
        note=_text(note, "note", limit=MAX_LONG_TEXT, required=False, multi_line=True),
        revision=plan.revision,
        at=now,
        status="reported",
        reported_by=_text(one_line(actor), "actor", limit=MAX_SHORT_TEXT),
    )
    return plan.model_copy(update={"approvals": (*plan.approvals, approval)})

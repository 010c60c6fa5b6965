"""Commit messages rendered from typed change entries, ending in the audit trailers."""

from __future__ import annotations

from .model import ChangeItem, Plan
from .model.diff import describe, summarize

MAX_MESSAGE_LINES = 40


def render_commit_message(
    plan_id: str,
    revision: int,
    stage: str,
    actor: str,
    changes: list[ChangeItem],
    extra_trailers: dict[str, str] | None = None,
    summary: str | None = None,
) -> str:
    """The commit message is rendered from the typed change entries, ending in trailers."""
    lines = [describe(c) for c in changes]
    if len(lines) > MAX_MESSAGE_LINES:
        lines = [*lines[:MAX_MESSAGE_LINES], f"and {len(lines) - MAX_MESSAGE_LINES} more"]
    body = "\n".join(f"- {line}" for line in lines)
    trailers = {
        "Plan-Id": plan_id,
        "Plan-Revision": str(revision),
        "Stage": stage,
        "Actor": actor,
        **(extra_trailers or {}),
    }
    trailer_text = "\n".join(f"{key}: {one_line(value)}" for key, value in trailers.items())
    subject = one_line(f"{stage}: {summary or summarize(changes)} (r{revision})")[:150]
    return f"{subject}\n\n{body}\n\n{trailer_text}\n"


def one_line(text: str) -> str:
    return " ".join(text.split())


def ledger_trailers(before: Plan, after: Plan) -> dict[str, str]:
    """Escalations and approvals opened or resolved by this write are named in commit trailers."""
    old_escalations = {e.id: e.status for e in before.escalations}
    escalations = [
        f"{e.id} {e.status} (rung {e.rung}, {e.role})"
        for e in after.escalations
        if old_escalations.get(e.id) != e.status
    ]
    old_approvals = {a.id for a in before.approvals}
    approvals = [
        f"{a.id} {a.decision} by {a.approver} ({a.role}) at r{a.revision}"
        for a in after.approvals
        if a.id not in old_approvals
    ]
    trailers = {}
    if escalations:
        trailers["Escalation"] = "; ".join(escalations)
    if approvals:
        trailers["Approval"] = "; ".join(approvals)
    return trailers

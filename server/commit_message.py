"""Commit messages rendered from typed change entries, ending in the audit trailers.

Every text that reaches a message (actor, stage, summary, subject, change lines, trailer values)
is made one line first: git reads trailers from the message's last paragraph, so a newline in an
actor or a summary could otherwise add a line, a paragraph or a forged `Actor:` trailer.
"""

from __future__ import annotations

from collections.abc import Iterable

from .model import ChangeItem, Plan
from .model.diff import describe, summarize

MAX_MESSAGE_LINES = 40
MAX_SUBJECT_CHARS = 150
FROZEN_CLOCK_TRAILER = ("Clock", "frozen")


def render_commit_message(
    plan_id: str,
    revision: int,
    stage: str,
    actor: str,
    changes: list[ChangeItem],
    extra_trailers: dict[str, str] | None = None,
    summary: str | None = None,
    *,
    frozen_clock: bool = False,
) -> str:
    """The commit message is rendered from the typed change entries, ending in trailers.

    frozen_clock: the commit is dated by the demo's frozen clock, not the real time; the message
    says so (`Clock: frozen`) so an auditor can tell.
    """
    subject = f"{stage}: {summary or summarize(changes)} (r{revision})"
    return _message(
        subject,
        [describe(c) for c in changes],
        {"Plan-Id": plan_id, "Plan-Revision": str(revision), "Stage": stage, "Actor": actor},
        extra_trailers,
        frozen_clock,
    )


def render_deliverables_message(
    plan_id: str, revision: int, actor: str, changed: Iterable[str], *, frozen_clock: bool = False
) -> str:
    """The message of a render commit: which deliverables changed, from which plan revision."""
    names = sorted(changed)
    return _message(
        f"render: deliverables of {plan_id} r{revision} ({len(names)} changed)",
        names,
        {"Plan-Id": plan_id, "Plan-Revision": str(revision), "Stage": "render", "Actor": actor},
        None,
        frozen_clock,
    )


def render_export_message(
    plan_id: str,
    revision: int,
    target: str,
    actor: str,
    changed: Iterable[str],
    *,
    draft: bool,
    frozen_clock: bool = False,
) -> str:
    """The message of an export commit: which files of which target, from which plan revision."""
    names = sorted(changed)
    kind = "draft " if draft else ""
    return _message(
        f"export: {kind}{target} files of {plan_id} r{revision} ({len(names)} changed)",
        names,
        {"Plan-Id": plan_id, "Plan-Revision": str(revision), "Stage": "export", "Actor": actor},
        None,
        frozen_clock,
    )


def _message(
    subject: str,
    lines: list[str],
    trailers: dict[str, str],
    extra_trailers: dict[str, str] | None,
    frozen_clock: bool,
) -> str:
    if len(lines) > MAX_MESSAGE_LINES:
        lines = [*lines[:MAX_MESSAGE_LINES], f"and {len(lines) - MAX_MESSAGE_LINES} more"]
    body = "\n".join(f"- {one_line(line)}" for line in lines)
    trailers = {**trailers, **(extra_trailers or {})}
    if frozen_clock:
        trailers[FROZEN_CLOCK_TRAILER[0]] = FROZEN_CLOCK_TRAILER[1]
    trailer_text = "\n".join(f"{one_line(key)}: {one_line(value)}" for key, value in trailers.items())
    return f"{one_line(subject)[:MAX_SUBJECT_CHARS]}\n\n{body}\n\n{trailer_text}\n"


def one_line(text: str) -> str:
    """`text` on one line: control, format and separator characters become single spaces."""
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(printable.split())


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
        f"{a.id} {a.decision} by {a.approver} ({a.role}) at r{a.revision}, {a.status}"
        for a in after.approvals
        if a.id not in old_approvals
    ]
    trailers = {}
    if escalations:
        trailers["Escalation"] = "; ".join(escalations)
    if approvals:
        trailers["Approval"] = "; ".join(approvals)
    return trailers

"""Findings about the ledger: open blockers and escalations; missing, stale, negative or only reported
approvals."""

from __future__ import annotations

from typing import Any

from ..model import ChangeItem, Plan
from ..model.findings import Finding
from ..model.plan import Approval

# Ledger entries, audience sizings, lift readouts and impact runs (measurements on data) say
# nothing new about the plan's content.
_LEDGER_SECTIONS = {
    "blockers",
    "escalations",
    "approvals",
    "sizing_runs",
    "qa_results",
    "exports",
    "lift_measurements",
    "impact_runs",
    "final",
}
_COMPUTED_METRIC_FIELDS = {"actual"}


def is_content_change(item: ChangeItem) -> bool:
    """Ledger entries, sizing runs and recomputed actuals are not content: they never stale an approval."""
    if item.section in _LEDGER_SECTIONS:
        return False
    if item.section != "success_metrics":
        return True
    for change in item.fields:
        if change.field == "activation_readiness_by_channel":
            continue
        before, after = change.before, change.after
        if not (isinstance(before, dict) and isinstance(after, dict)):
            return True
        if {k: v for k, v in before.items() if k not in _COMPUTED_METRIC_FIELDS} != {
            k: v for k, v in after.items() if k not in _COMPUTED_METRIC_FIELDS
        }:
            return True
    return False


def first_content_change_after(plan: Plan, revision: int, covers: frozenset[str] | None = None) -> int | None:
    """The first revision after `revision` whose change-log entry changed content, if any; with
    `covers`, only a change to one of those top-level sections counts. Changes that were all undone
    since (each field back to the value it had at `revision`) count as none: the content an approval
    was given on is the content there is again."""
    entries = [
        (entry.revision, [c for c in entry.changes if _counts(c, covers)])
        for entry in plan.change_log
        if entry.revision > revision
    ]
    since: int | None = None  # the revision since which the content differs from the approved one
    touched: list[ChangeItem] = []
    for at, items in entries:
        if not items:
            continue
        touched += items
        if _all_undone(touched):
            since = None
        elif since is None:
            since = at
    return since


def _counts(item: ChangeItem, covers: frozenset[str] | None) -> bool:
    return is_content_change(item) and (covers is None or item.section.split(".")[0] in covers)


def _all_undone(items: list[ChangeItem]) -> bool:
    """True when every field these changes touched holds its first `before` again. An item added or
    removed is never counted as undone: the change log does not keep a removed item's whole content."""
    first: dict[tuple[str, str | None, str], Any] = {}
    last: dict[tuple[str, str | None, str], Any] = {}
    for item in items:
        if item.op != "changed":
            return False
        for change in item.fields:
            key = (item.section, item.key, change.field)
            first.setdefault(key, change.before)
            last[key] = change.after
    return all(first[key] == last[key] for key in first)


def _sections_changed_at(plan: Plan, revision: int) -> set[str]:
    entry = next((e for e in plan.change_log if e.revision == revision), None)
    changes = entry.changes if entry else ()
    return {c.section.split(".")[0] for c in changes if is_content_change(c)}


def covered_sections(plan: Plan, role: str) -> frozenset[str] | None:
    """The sections a role's approval covers: its ladder rung's `covers`; None (every content
    section) for an empty `covers` and for a checkpoint approver, whose checkpoint can be about
    anything."""
    rung = next((r for r in plan.error_handling.escalation_ladder if r.role == role), None)
    if rung is None or not rung.covers:
        return None
    return frozenset(rung.covers)


def approval_roles(plan: Plan) -> list[str]:
    """Roles whose approval a plan needs: the ladder, then change-checkpoint approvers."""
    roles = [rung.role for rung in plan.error_handling.escalation_ladder]
    roles += [c.approver_role for c in plan.governance.change_checkpoints]
    return list(dict.fromkeys(roles))


def ledger_findings(plan: Plan) -> list[Finding]:
    findings = [
        Finding(
            code="ledger.blocker_open",
            severity="warning",
            pointer=f"/blockers/{i}",
            message=f"blocker {b.id} ({b.kind}: {b.subject}) is open; resolve it with resolve_blocker and "
            "a remediation once fixed",
            stage="governance",
        )
        for i, b in enumerate(plan.blockers)
        if b.status == "open"
    ]
    findings += [
        Finding(
            code="ledger.escalation_open",
            severity="warning",
            pointer=f"/escalations/{i}",
            message=f"escalation {e.id} is open at rung {e.rung} ({e.role}, reached "
            f"{e.owner_reached or 'no named owner'}): {e.trigger}; "
            + (
                f"resolve blocker {', '.join(e.blocker_ids)} with a remediation"
                if e.blocker_ids
                else "fix the cause; it resolves on the next write that clears it"
            ),
            stage="governance",
        )
        for i, e in enumerate(plan.escalations)
        if e.status == "open"
    ]
    return findings + _approvals(plan)


def _approvals(plan: Plan) -> list[Finding]:
    latest: dict[str, tuple[int, Approval]] = {}
    for i, approval in enumerate(plan.approvals):
        latest[approval.role] = (i, approval)
    needed = approval_roles(plan)
    findings = []
    ladder_roles = [rung.role for rung in plan.error_handling.escalation_ladder]
    for k, role in enumerate(ladder_roles):
        if role not in latest:
            findings.append(
                Finding(
                    code="approval.missing",
                    severity="warning",
                    pointer=f"/error_handling/escalation_ladder/{k}",
                    message=f"no approval from {role!r} is recorded; ask them to review revision "
                    f"{plan.revision} and {_how_to_confirm(plan, role)}",
                    stage="governance",
                )
            )
    checkpoint_roles = [r for r in needed if r not in ladder_roles]
    for k, checkpoint in enumerate(plan.governance.change_checkpoints):
        role = checkpoint.approver_role
        if role in checkpoint_roles and role not in latest:
            checkpoint_roles.remove(role)
            findings.append(
                Finding(
                    code="approval.missing",
                    severity="warning",
                    pointer=f"/governance/change_checkpoints/{k}/approver_role",
                    message=f"no approval from {role!r} (approver of checkpoint {checkpoint.id!r}) is "
                    f"recorded; ask them to review revision {plan.revision} and "
                    f"{_how_to_confirm(plan, role)}",
                    stage="governance",
                )
            )
    for role, (i, approval) in latest.items():
        findings += _approval_state(plan, i, approval, role in needed)
    return findings


def _approval_state(plan: Plan, i: int, approval: Approval, needed: bool) -> list[Finding]:
    pointer = f"/approvals/{i}"
    who = f"{approval.approver} ({approval.role})"
    if not needed:
        return [
            Finding(
                code="approval.unknown_role",
                severity="info",
                pointer=pointer,
                message=f"approval {approval.id} by {who} is for a role that is neither on the escalation "
                "ladder nor a checkpoint approver, so it counts for nothing",
                stage="governance",
            )
        ]
    covers = covered_sections(plan, approval.role)
    changed_at = first_content_change_after(plan, approval.revision, covers)
    if changed_at is not None:
        scope = "changed the content"
        if covers is not None:
            touched = _sections_changed_at(plan, changed_at) & covers
            scope += f" its rung covers ({', '.join(sorted(touched))})"
        return [
            Finding(
                code="approval.stale",
                severity="warning",
                pointer=pointer,
                message=f"approval {approval.id} by {who} was given on revision {approval.revision}, but "
                f"revision {changed_at} {scope} since; ask for a new review of revision "
                f"{plan.revision}",
                stage="governance",
            )
        ]
    if approval.decision != "approved":
        return [
            Finding(
                code="approval.not_approved",
                severity="error",
                pointer=pointer,
                message=f"{who} decided {approval.decision!r} on revision {approval.revision}"
                + (f" ({approval.note[:200]})" if approval.note else "")
                + "; address their note and ask for a new review",
                stage="governance",
            )
        ]
    if approval.status == "reported":
        by = f" by {approval.reported_by}" if approval.reported_by else ""
        return [
            Finding(
                code="approval.reported",
                severity="warning",
                pointer=pointer,
                message=f"approval {approval.id} by {who} was reported{by}, not confirmed; "
                f"{approval.approver} must {_how_to_confirm(plan, approval.role)}",
                stage="governance",
            )
        ]
    return []


def _how_to_confirm(plan: Plan, role: str) -> str:
    """How the person confirms for `role`: `plans approve`, after what its rung still lacks."""
    command = f"run 'personalization-engine plans approve {plan.plan_id} --role \"{role}\"' at their terminal"
    ladder = plan.error_handling.escalation_ladder
    k = next((i for i, rung in enumerate(ladder) if rung.role == role), None)
    if k is None:
        return f"{command}, once the escalation ladder has a rung for {role!r} with their email"
    if ladder[k].email is None:
        return f"{command} (first set error_handling.escalation_ladder[{k}].email to theirs)"
    return command

"""Finalize: review revision N, and when nothing blocks it, write revision N+1 that records N as final
and tag that commit `personalization/<plan_id>/final-r<N>`.

The review and the write happen under the plan's lock (the pipeline's operation), so the revision
reviewed is the revision declared final. A refusal lists every reason, each with its JSON Pointer and
what to do, and writes nothing. The tag is made after the commit: when it cannot be made, the answer
says why and the plan still records the final revision; finalizing again retries a missing tag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..checks.ledger_findings import approval_roles
from ..checks.run import run_checks
from ..commit_message import one_line
from ..errors import EngineError, InputError, RepositoryError
from ..history.tags import create_tag, final_tag_name, tag_target
from ..model import Plan
from ..model.common import MAX_SHORT_TEXT
from ..model.final import content_sha256
from ..model.findings import Finding
from ..model.ledger import FinalRecord
from .engine import Engine, WriteResult

# Error findings that the review reports under a kind of their own, not as plain error findings.
_APPROVAL_CODES = ("approval.missing", "approval.stale", "approval.not_approved")
_SCENARIO_CODE = "rules.scenario_failed"
_SENSITIVE = ("sensitive", "special_category")


@dataclass(frozen=True)
class Reason:
    kind: str  # error, approval, owner, scenario, consent
    pointer: str
    message: str

    def line(self) -> str:
        return f"- [{self.kind}] {self.pointer}: {self.message}"


class FinalizeRefused(EngineError):
    """The review found reasons not to finalize; nothing was written."""

    def __init__(self, plan: Plan, reasons: list[Reason]) -> None:
        self.reasons = reasons
        lines = "\n".join(r.line() for r in reasons)
        super().__init__(
            f"plan {plan.plan_id} revision {plan.revision} cannot be finalized; nothing was written. "
            f"{len(reasons)} reason(s):\n{lines}"
        )


def review(plan: Plan, findings: list[Finding]) -> list[Reason]:
    """Every reason the plan as it stands cannot be declared final."""
    errors = [
        Reason("error", f.pointer, f"{f.code}: {f.message}")
        for f in findings
        if f.severity == "error" and f.code not in (*_APPROVAL_CODES, _SCENARIO_CODE)
    ]
    scenarios = [Reason("scenario", f.pointer, f.message) for f in findings if f.code == _SCENARIO_CODE]
    return [
        *errors,
        *_approval_reasons(plan, findings),
        *_unowned_stages(plan),
        *scenarios,
        *_unconfirmed_sensitive_grants(plan),
    ]


def _approval_reasons(plan: Plan, findings: list[Finding]) -> list[Reason]:
    """Missing, stale or negative approvals as the checks find them; approvals only reported, from
    the model (a required role's current approval that its person has not confirmed)."""
    reasons = [Reason("approval", f.pointer, f.message) for f in findings if f.code in _APPROVAL_CODES]
    flagged = {r.pointer for r in reasons}
    latest = {a.role: (i, a) for i, a in enumerate(plan.approvals)}
    for role in approval_roles(plan):
        if role not in latest:
            continue
        i, approval = latest[role]
        if f"/approvals/{i}" in flagged or approval.status == "confirmed":
            continue
        reasons.append(
            Reason(
                "approval",
                f"/approvals/{i}",
                f"the approval of {role!r} by {approval.approver} is only reported"
                f"{f' by {approval.reported_by}' if approval.reported_by else ''}, not confirmed; ask "
                f"{approval.approver} to run: personalization-engine plans approve {plan.plan_id} "
                f"--role {role!r}",
            )
        )
    return reasons


def _unowned_stages(plan: Plan) -> list[Reason]:
    areas = {o.area for o in plan.governance.owners}
    if "program" in areas:
        return []
    return [
        Reason(
            "owner",
            f"/dependencies/nodes/{k}",
            f"stage {node.id!r} of the dependency graph has no owner; add a governance owner with "
            f"area {node.id!r} (or one with area 'program') with plan_governance",
        )
        for k, node in enumerate(plan.dependencies.nodes)
        if node.kind == "stage" and node.id not in areas
    ]


def _unconfirmed_sensitive_grants(plan: Plan) -> list[Reason]:
    reasons = []
    for i, attribute in enumerate(plan.attributes):
        if attribute.pii_class not in _SENSITIVE:
            continue
        for k, grant in enumerate(attribute.consent):
            where = f"/attributes/{i}/consent/{k}"
            what = f"{attribute.pii_class} attribute {attribute.name!r}, purpose {grant.purpose!r}"
            if grant.evidence is None:
                reasons.append(
                    Reason(
                        "consent",
                        f"{where}/evidence",
                        f"the grant of {what} has no evidence; record its CMP purpose, TCF purpose, "
                        "Consent Mode type, LIA or DPIA reference (docs/consent.md)",
                    )
                )
            if grant.confirmed_by is None:
                reasons.append(
                    Reason(
                        "consent",
                        f"{where}/confirmed_by",
                        f"no person confirmed the grant of {what}; ask the privacy lead to run: "
                        f"personalization-engine plans confirm-consent {plan.plan_id} --attribute "
                        f"{attribute.name} --purpose {grant.purpose}",
                    )
                )
    return reasons


@dataclass
class Finalized:
    write: WriteResult
    final_revision: int
    tag: str | None
    tag_error: str | None

    def as_dict(self, write_answer: dict[str, Any]) -> dict[str, Any]:
        final = {"final_revision": self.final_revision, "tag": self.tag, "tag_error": self.tag_error}
        return {**write_answer, **final}


def finalize_plan(engine: Engine, plan_id: str, *, expected_revision: int | None, actor: str) -> Finalized:
    """Review the current revision and declare it final, or raise FinalizeRefused listing why not."""
    actor = one_line(actor).strip()
    if not actor or len(actor) > MAX_SHORT_TEXT:
        raise InputError(f"must be 1 to {MAX_SHORT_TEXT} characters of one line", field="actor")
    repo = engine.repository()
    # Without --expected-revision, the revision reviewed is the one on disk now; a write landing
    # between this read and the lock is then a conflict, never a revision nobody reviewed.
    reviewed = engine.read_plan(plan_id).revision if expected_revision is None else expected_revision

    def declare_final(plan: Plan, now: datetime) -> Plan:
        digest = content_sha256(plan)
        if plan.final is not None and plan.final.content_sha256 == digest:
            return plan  # already final with this content: no new revision
        reasons = review(plan, run_checks(plan))
        if reasons:
            raise FinalizeRefused(plan, reasons)
        name = final_tag_name(plan.plan_id, plan.revision)
        taken = tag_target(repo, name)
        record = FinalRecord(
            revision=plan.revision,
            at=now,
            by=actor,
            content_sha256=digest,
            tag=None if taken else name,
            tag_error=f"tag {name!r} already exists and points at {taken[:12]}" if taken else None,
        )
        return plan.model_copy(update={"final": record})

    result = engine.apply(
        plan_id,
        "finalize",
        declare_final,
        expected_revision=reviewed,
        actor=actor,
        timed=True,
        summary=f"finalized revision {reviewed}",
        extra_trailers={"Final": f"r{reviewed}"},
    )
    plan = engine.read_plan(plan_id)
    record = plan.final
    assert record is not None  # declare_final set it or it was set before
    if not result.written:
        result.summary = f"already final: revision {record.revision} was finalized, content unchanged"
    if record.tag is None:
        return Finalized(result, record.revision, None, record.tag_error)
    tag_error = _make_tag(engine, plan, record)
    return Finalized(result, record.revision, None if tag_error else record.tag, tag_error)


def _make_tag(engine: Engine, plan: Plan, record: FinalRecord) -> str | None:
    """Tag the commit of revision final.revision+1 (the one that declared it final); None when done."""
    assert record.tag is not None
    declared = record.revision + 1
    commit = next((e.commit for e in engine.history(plan.plan_id) if e.revision == declared), None)
    if commit is None:
        return f"revision {declared} of {plan.plan_id} has no commit in git history, so it cannot be tagged"
    message = f"{plan.plan_id}: revision {record.revision} final ({plan.initiative})\n\n" + (
        f"Plan-Id: {plan.plan_id}\nFinal-Revision: {record.revision}\nContent-SHA256: {record.content_sha256}"
    )
    try:
        create_tag(engine.repository(), record.tag, commit, message, record.at)
    except RepositoryError as exc:
        return str(exc)
    return None

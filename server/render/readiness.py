"""Launch readiness: what blocks launch, the approvals by rung, and whether the revision is final.

The top of report.html and the status line of every deliverable come from here. Blockers are
driven by the findings (grouped by their code's prefix, so codes added later land in the right
group) and by the model (approvals per role, consent grants without evidence or a confirming
person), never by a list of known codes alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..checks.ledger_findings import approval_roles
from ..model import Plan
from ..model.final import changed_since_final, is_final
from ..model.findings import Finding
from ..model.ledger import Approval, FinalRecord
from .dates import readable

# Beyond this many items a group shows a count and links to the full list, so the summary stays
# on the first screen.
MAX_ITEMS = 3
_STATE_WORDS = {"missing": "no approval", "stale": "stale", "reported": "reported, not confirmed"}
_POINTER = re.compile(r"^/([a-z_]+)(?:/(\d+))?")
# Finding-code prefixes -> the summary group they belong to; anything else is "other".
_GROUPS = (
    ("approvals", "Approvals not confirmed", ("approval.",)),
    ("consent", "Consent without evidence", ("consent.evidence_missing", "consent.unconfirmed")),
    ("scenarios", "Failing scenarios", ("rules.scenario_failed",)),
    ("qa", "Consent-flow QA missing or failed", ("qa.",)),
)


@dataclass
class Item:
    text: str
    href: str
    severity: str  # "error" or "warning": errors are styled as errors


@dataclass
class Group:
    key: str
    title: str
    items: list[Item] = field(default_factory=list)

    @property
    def shown(self) -> list[Item]:
        return self.items[:MAX_ITEMS]

    @property
    def hidden(self) -> int:
        return max(0, len(self.items) - MAX_ITEMS)

    @property
    def errors(self) -> int:
        return sum(1 for i in self.items if i.severity == "error")


@dataclass
class RungApproval:
    rung: str  # "1", "2", ... or "checkpoint"
    role: str
    owner: str | None
    email: str | None
    approval: Approval | None
    stale: bool

    @property
    def state(self) -> str:
        """missing, stale, reported or confirmed: only a confirmed, current approval counts."""
        if self.approval is None:
            return "missing"
        if self.stale:
            return "stale"
        return self.approval.status

    @property
    def ok(self) -> bool:
        approved = self.approval is not None and self.approval.decision == "approved"
        return approved and self.state == "confirmed"


@dataclass
class Readiness:
    final: bool
    changed_since_final: bool
    record: FinalRecord | None
    errors: Group
    groups: list[Group]
    rungs: list[RungApproval]

    @property
    def status(self) -> str:
        return "final" if self.final else "draft"

    @property
    def blocking(self) -> int:
        return len(self.errors.items) + sum(len(g.items) for g in self.groups)


def anchor(plan: Plan, pointer: str) -> str:
    """The report section a JSON Pointer belongs to."""
    match = _POINTER.match(pointer)
    section, index = (match.group(1), match.group(2)) if match else ("", None)
    i = int(index) if index is not None else -1
    if section == "profiles" and 0 <= i < len(plan.profiles):
        return f"#profile-{plan.profiles[i].id}"
    if section == "scenarios" and 0 <= i < len(plan.scenarios):
        expected = plan.scenarios[i].expected_profile
        return f"#profile-{expected}" if expected in {p.id for p in plan.profiles} else "#profiles"
    if section == "attributes" and 0 <= i < len(plan.attributes):
        return f"#attribute-{plan.attributes[i].name}"
    sections = {
        "activations": "#activation",
        "approvals": "#approvals",
        "qa_results": "#activation",
        "exports": "#activation",
        "blockers": "#governance",
        "escalations": "#governance",
        "governance": "#governance",
        "error_handling": "#approvals",
        "dependencies": "#dependencies",
        "consent_policy": "#matrix",
        "sizing_runs": "#sizing",
    }
    return sections.get(section, "#findings")


def _group_of(code: str) -> str:
    for key, _, prefixes in _GROUPS:
        if code.startswith(prefixes):
            return key
    return "other"


def _rungs(plan: Plan, findings: list[Finding]) -> list[RungApproval]:
    latest: dict[str, tuple[int, Approval]] = {}
    for i, approval in enumerate(plan.approvals):
        latest[approval.role] = (i, approval)
    stale = {f.pointer for f in findings if f.code == "approval.stale"}
    ladder = {rung.role: (str(n), rung) for n, rung in enumerate(plan.error_handling.escalation_ladder, 1)}
    rows = []
    for role in approval_roles(plan):
        number, rung = ladder.get(role, ("checkpoint", None))
        i, approval = latest.get(role, (-1, None))
        rows.append(
            RungApproval(
                rung=number,
                role=role,
                owner=rung.owner if rung else None,
                email=rung.email if rung else None,
                approval=approval,
                stale=f"/approvals/{i}" in stale,
            )
        )
    return rows


def _approval_items(rungs: list[RungApproval]) -> list[Item]:
    items = []
    for row in rungs:
        if row.ok:
            continue
        approval = row.approval
        who = approval.approver if approval else (row.owner or "no one named")
        what = _STATE_WORDS.get(row.state, "")
        if approval is not None and approval.decision != "approved":
            # A rejection blocks whether it was confirmed or only reported; say both.
            what = approval.decision.replace("_", " ") + (f" ({what})" if what else "")
        items.append(Item(f"{row.role} ({who}): {what}", "#approvals", "warning"))
    return items


def _consent_items(plan: Plan) -> list[Item]:
    """Grants without evidence, and grants no person confirmed, counted over the inventory."""
    items = []
    for label, missing in (
        ("carry no evidence", lambda g: g.evidence is None),
        ("were confirmed by no one", lambda g: g.confirmed_by is None),
    ):
        names = [a.name for a in plan.attributes if any(missing(g) for g in a.consent)]
        grants = sum(1 for a in plan.attributes for g in a.consent if missing(g))
        if grants:
            first = next(a for a in plan.attributes if a.name == names[0])
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            items.append(
                Item(
                    f"{grants} grant(s) on {len(names)} attribute(s) {label}: {shown}",
                    f"#attribute-{first.name}",
                    "warning",
                )
            )
    return items


def readiness(plan: Plan, findings: list[Finding], failing: list[tuple[str, str]]) -> Readiness:
    """`failing`: (pointer, message) of each scenario that does not land where it should."""
    groups = {key: Group(key, title) for key, title, _ in _GROUPS}
    errors = Group("errors", "Errors")
    rungs = _rungs(plan, findings)
    groups["approvals"].items += _approval_items(rungs)
    groups["consent"].items += _consent_items(plan)
    scenario_findings = {f.pointer for f in findings if f.code == "rules.scenario_failed"}
    for pointer, message in failing:
        if pointer not in scenario_findings:  # a failing scenario the checks did not report
            groups["scenarios"].items.append(Item(message, anchor(plan, pointer), "error"))
    for finding in findings:
        item = Item(finding.message, anchor(plan, finding.pointer), finding.severity)
        key = _group_of(finding.code)
        if key in ("scenarios", "qa") and finding.severity in ("error", "warning"):
            groups[key].items.append(item)
        elif finding.severity == "error":
            errors.items.append(item)
        # Other warnings are not launch blockers; approvals and consent grants are listed from the
        # model above, and their warnings say the same.
    for group in groups.values():
        group.items.sort(key=lambda i: i.severity != "error")  # errors first, otherwise in order
    errors.title = "Other errors" if any(g.errors for g in groups.values()) else "Errors"
    if changed_since_final(plan):
        groups["approvals"].items.insert(
            0, Item("the content changed since the final revision: finalize again", "#approvals", "warning")
        )
    return Readiness(
        final=is_final(plan),
        changed_since_final=changed_since_final(plan),
        record=plan.final,
        errors=errors,
        # Groups holding errors come first, so the red items lead the summary.
        groups=[g for g in sorted(groups.values(), key=lambda g: g.errors == 0) if g.items],
        rungs=rungs,
    )


def status_line(plan: Plan) -> str:
    """The words every deliverable carries about finality: FINAL with the finalized revision, or DRAFT."""
    if is_final(plan) and plan.final is not None:
        record = plan.final
        return f"FINAL: revision {record.revision} was finalized {readable(record.at)} by {record.by}"
    if changed_since_final(plan) and plan.final is not None:
        return f"DRAFT: changed since revision {plan.final.revision} was finalized; not reviewed for launch"
    return "DRAFT: not finalized; not reviewed for launch"


def status_word(plan: Plan) -> str:
    """ "final rN" or "draft": a short form for CSV cells and YAML comments, with no plan text in it."""
    return f"final r{plan.final.revision}" if plan.final is not None and is_final(plan) else "draft"

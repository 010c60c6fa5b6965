"""What a person confirms at a terminal: an approval for their ladder rung, or a consent grant.

Pure functions, plan in and plan out, like the ledger's (ledger.py), run by the write pipeline as
the person's own commit (`Engine.apply(..., person=...)`). The CLI (cli/person_commands.py) checks
the terminal and asks for the person's yes; these functions check that the identity git gives is
the one the plan names (docs/approvals.md). A mismatch raises InputError, so nothing is written.
"""

from __future__ import annotations

from datetime import datetime

from ..checks.escalation import next_id
from ..errors import InputError, NotFoundError
from ..history.git_repo import Person
from ..model import Approval, Plan
from ..model.common import MAX_LONG_TEXT
from ..model.plan import LadderRung
from ..model.stages import Attribute, Confirmation, ConsentGrant

# The ledger's own input checks, so a confirmation refuses bad text exactly as a report does.
from .ledger import DECISIONS, _choice, _text

_MAX_LISTED = 40

# Variables coding agents set in the shells they run commands in. Each is set by the agent itself,
# not by a terminal a person types in, so its presence means a model may be typing the command:
# - CLAUDECODE, CLAUDE_CODE_ENTRYPOINT: Claude Code (the issue names CLAUDECODE).
# - GEMINI_CLI: Gemini CLI sets GEMINI_CLI=1 for its shell tool's commands.
# - CODEX_SANDBOX, CODEX_THREAD_ID: OpenAI Codex CLI's sandboxed commands and its thread.
# - CURSOR_AGENT: Cursor's agent (not CURSOR_TRACE_ID, which a person's Cursor terminal has too).
# - AUGMENT_AGENT, ANTIGRAVITY_AGENT: the Augment and Google Antigravity agents.
# - AI_AGENT: set by agents such as Vercel's v0 to say an agent runs the command.
# Left out on purpose: the proposed generic AGENT variable, too common a name to refuse a person on.
AGENT_MARKERS = (
    "CLAUDECODE",
    "CLAUDE_CODE_ENTRYPOINT",
    "GEMINI_CLI",
    "CODEX_SANDBOX",
    "CODEX_THREAD_ID",
    "CURSOR_AGENT",
    "AUGMENT_AGENT",
    "ANTIGRAVITY_AGENT",
    "AI_AGENT",
)


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED]) or "none"
    return shown + (f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else "")


def approver_rung(plan: Plan, role: str, person: Person) -> tuple[int, LadderRung]:
    """The ladder rung `role` names, when `person` is its approver; refuses otherwise."""
    ladder = plan.error_handling.escalation_ladder
    k = next((i for i, rung in enumerate(ladder) if rung.role == role), None)
    if k is None:
        raise NotFoundError(
            f"{role!r} is not a role on the escalation ladder of {plan.plan_id}; use one of "
            f"{_listed([r.role for r in ladder])}",
            field="--role",
        )
    rung = ladder[k]
    if rung.email is None:
        raise InputError(
            f"rung {k} ({role}) names no approver email, so nobody can confirm for it; set "
            f"error_handling.escalation_ladder[{k}].email to the approver's email first (plans write)",
            field="--role",
        )
    if person.email.casefold() != rung.email.casefold():
        raise InputError(
            f"your git email {person.email!r} is not the approver email of {role!r}, "
            f"{rung.email!r}; only that person can confirm for this role (their git user.email "
            "must match)",
            field="identity",
        )
    return k, rung


def ladder_person(plan: Plan, person: Person) -> LadderRung:
    """The first rung whose approver `person` is; refuses anyone the ladder does not name."""
    ladder = plan.error_handling.escalation_ladder
    rung = next((r for r in ladder if r.email and r.email.casefold() == person.email.casefold()), None)
    if rung is None:
        emails = [f"{r.role} <{r.email}>" for r in ladder if r.email]
        raise InputError(
            f"your git email {person.email!r} is not the email of any escalation ladder rung "
            f"(approvers with an email: {_listed(emails)}); only an approver on the ladder confirms "
            "consent",
            field="identity",
        )
    return rung


def confirm_approval(
    plan: Plan, *, person: Person, role: str, decision: str, note: str, signed: bool, now: datetime
) -> Plan:
    """The person's confirmed decision on the current revision (the write makes the next one)."""
    approver_rung(plan, role, person)
    confirmation = Confirmation(name=person.name, email=person.email, at=now, revision=plan.revision)
    approval = Approval(
        id=next_id("apr", [a.id for a in plan.approvals]),
        approver=person.name,
        role=role,
        decision=_choice(decision, DECISIONS, "--decision"),  # type: ignore[arg-type]
        note=_text(note, "--comment", limit=MAX_LONG_TEXT, required=False, multi_line=True),
        revision=plan.revision,
        at=now,
        status="confirmed",
        confirmed_by=confirmation,
        signed=signed,
    )
    return plan.model_copy(update={"approvals": (*plan.approvals, approval)})


def consent_grant(plan: Plan, attribute: str, purpose: str) -> tuple[int, Attribute, int, ConsentGrant]:
    """The grant to confirm; refuses an unknown attribute or purpose, and a grant without evidence."""
    index = next((i for i, a in enumerate(plan.attributes) if a.name == attribute), None)
    if index is None:
        raise NotFoundError(
            f"no attribute {attribute!r} in {plan.plan_id}; attributes: "
            f"{_listed([a.name for a in plan.attributes])}",
            field="--attribute",
        )
    attr = plan.attributes[index]
    g = next((j for j, grant in enumerate(attr.consent) if grant.purpose == purpose), None)
    if g is None:
        raise NotFoundError(
            f"attribute {attribute!r} has no consent grant for purpose {purpose!r}; its purposes: "
            f"{_listed([grant.purpose for grant in attr.consent])}",
            field="--purpose",
        )
    grant = attr.consent[g]
    if grant.evidence is None:
        raise InputError(
            f"the grant of {attribute!r} for {purpose!r} has no evidence, so there is nothing to "
            "confirm; record its evidence first with inventory_attributes (or plans attributes)",
            field="--purpose",
        )
    return index, attr, g, grant


def consent_grant_list(plan: Plan, attribute: str) -> tuple[ConsentGrant, ...]:
    """An attribute's grants; refuses an unknown attribute, listing the known ones."""
    attr = next((a for a in plan.attributes if a.name == attribute), None)
    if attr is None:
        raise NotFoundError(
            f"no attribute {attribute!r} in {plan.plan_id}; attributes: "
            f"{_listed([a.name for a in plan.attributes])}",
            field="--attribute",
        )
    return attr.consent


def confirm_consent(plan: Plan, *, person: Person, attribute: str, purpose: str, now: datetime) -> Plan:
    """The grant with `confirmed_by` set to the person, on the current revision."""
    ladder_person(plan, person)
    index, attr, g, grant = consent_grant(plan, attribute, purpose)
    confirmation = Confirmation(name=person.name, email=person.email, at=now, revision=plan.revision)
    grants = list(attr.consent)
    grants[g] = grant.model_copy(update={"confirmed_by": confirmation})
    attributes = list(plan.attributes)
    attributes[index] = attr.model_copy(update={"consent": tuple(grants)})
    return plan.model_copy(update={"attributes": tuple(attributes)})

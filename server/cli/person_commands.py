"""Commands only a person runs, at a terminal: `plans approve` and `plans confirm-consent`.

    personalization-engine plans approve PLAN_ID --role "Data Privacy Lead" --comment "gates ok"

What they prove (docs/approvals.md): someone with the plan's named identity, on this machine,
answered yes at an interactive terminal. It is not a signature, unless they also pass `--sign`.
So each refuses, before reading anything, when an AI agent runs it or no terminal is attached;
then it needs the person's own git identity (never the fallback), checks it against the plan, shows
what is confirmed and asks. The commit is authored and committed by the person.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import datetime

from ..core.confirmations import (
    AGENT_MARKERS,
    approver_rung,
    confirm_approval,
    confirm_consent,
    consent_grant,
    ladder_person,
)
from ..core.engine import Engine
from ..core.results import outcome
from ..errors import InputError
from ..history.git_repo import Person
from ..model import Plan
from .common import engine_for, print_json

DECISIONS = ("approved", "rejected", "changes_requested")


class NotByAPerson(InputError):
    """The command was not run by a person at a terminal; nothing was read or written."""


def register(sub: argparse._SubParsersAction, make_parser) -> None:
    approve = make_parser(
        sub,
        "approve",
        "confirm your approval for your ladder role, interactively, as your git identity "
        "(a confirmed approval; see docs/approvals.md)",
        'personalization-engine plans approve plan-20261124T090000Z --role "Data Privacy Lead" '
        '--comment "Consent gates verified"',
    )
    approve.add_argument("plan_id", metavar="PLAN_ID")
    approve.add_argument("--role", required=True, help="your rung of error_handling.escalation_ladder")
    approve.add_argument("--decision", choices=DECISIONS, default="approved", help="default approved")
    approve.add_argument("--comment", default="", help="a note kept with the decision")
    approve.add_argument(
        "--sign", action="store_true", help="sign the commit with your own git signing setup (gpg.format ...)"
    )
    approve.set_defaults(handler=cmd_approve)
    consent = make_parser(
        sub,
        "confirm-consent",
        "confirm, as a ladder approver, that an attribute's consent grant and its evidence hold",
        "personalization-engine plans confirm-consent plan-20261124T090000Z --attribute email "
        "--purpose email_marketing",
    )
    consent.add_argument("plan_id", metavar="PLAN_ID")
    consent.add_argument("--attribute", required=True, help="the attribute's name")
    consent.add_argument("--purpose", required=True, help="the purpose of its grant")
    consent.set_defaults(handler=cmd_confirm_consent)


def refuse_unless_person_at_terminal(environ: dict[str, str] | os._Environ[str] | None = None) -> None:
    """Refuse when an agent's marker is set, or stdin or stdout is not a terminal."""
    environ = os.environ if environ is None else environ
    markers = [name for name in AGENT_MARKERS if environ.get(name)]
    if markers:
        raise NotByAPerson(
            f"refused: {', '.join(markers)} is set, so an AI agent may be running this command; a "
            "person confirms by running it in their own terminal, outside the agent. Nothing was written"
        )
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise NotByAPerson(
            "refused: this command needs an interactive terminal (standard input and output), so "
            "that a person answers it; run it yourself in a terminal. Nothing was written"
        )


def _ask(lines: list[str], question: str) -> bool:
    for line in lines:
        print(line)
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes"}


def _prepare(args: argparse.Namespace) -> tuple[Engine, Person, Plan, int]:
    refuse_unless_person_at_terminal()
    engine = engine_for(args, read_only=True)
    person = engine.person()
    plan, findings = engine.current_findings(args.plan_id)
    return engine, person, plan, sum(f.severity == "error" for f in findings)


def cmd_approve(args: argparse.Namespace) -> int:
    engine, person, plan, errors = _prepare(args)
    k, rung = approver_rung(plan, args.role, person)

    def operation(current: Plan, now: datetime) -> Plan:
        return confirm_approval(
            current,
            person=person,
            role=args.role,
            decision=args.decision,
            note=args.comment,
            signed=args.sign,
            now=now,
        )

    operation(plan, plan.updated_at)  # a bad decision or comment is refused before asking
    covers = ", ".join(rung.covers) or "every content section"
    lines = [
        f"Plan      {plan.plan_id}: {plan.initiative}",
        f"Revision  {plan.revision} (the one you approve; your approval is written as revision "
        f"{plan.revision + 1})",
        f"Open errors  {errors}",
        f"Rung      {k + 1} of {len(plan.error_handling.escalation_ladder)}: {rung.role}"
        + (f" ({rung.owner})" if rung.owner else ""),
        f"Covers    {covers}",
        f"Decision  {args.decision}" + (f": {args.comment}" if args.comment else ""),
        f"You       {person.ident}" + (", signing with your git signing key" if args.sign else ""),
    ]
    question = f"Record this as your confirmed decision on revision {plan.revision}?"
    return _write_if_yes(args, engine, person, plan, lines, question, "governance", operation)


def cmd_confirm_consent(args: argparse.Namespace) -> int:
    engine, person, plan, errors = _prepare(args)
    rung = ladder_person(plan, person)
    _, attribute, _, grant = consent_grant(plan, args.attribute, args.purpose)

    def operation(current: Plan, now: datetime) -> Plan:
        return confirm_consent(
            current, person=person, attribute=args.attribute, purpose=args.purpose, now=now
        )

    evidence = grant.evidence
    lines = [
        f"Plan      {plan.plan_id}: {plan.initiative}, revision {plan.revision} ({errors} open errors)",
        f"Attribute {attribute.name} (PII class {attribute.pii_class})",
        f"Grant     {grant.purpose} on lawful basis {grant.lawful_basis}",
        f"Evidence  {evidence.kind}: {evidence.ref}" if evidence else "Evidence  none",
        f"You       {person.ident}, {rung.role}",
    ]
    question = "Confirm that this grant and its evidence hold?"
    return _write_if_yes(args, engine, person, plan, lines, question, "attributes", operation)


def _write_if_yes(
    args: argparse.Namespace,
    engine: Engine,
    person: Person,
    plan: Plan,
    lines: list[str],
    question: str,
    stage: str,
    operation: Callable[[Plan, datetime], Plan],
) -> int:
    if not _ask(lines, question):
        print("Not confirmed; nothing was written.", file=sys.stderr)
        return 1
    result = engine.apply(
        args.plan_id,
        stage,
        operation,
        # The person saw this revision: if another write landed meanwhile, they confirm nothing.
        expected_revision=plan.revision,
        actor=person.ident,
        timed=True,
        person=person,
        sign=getattr(args, "sign", False),
    )
    shown = outcome(result)
    if args.json:
        print_json(shown.model_dump(mode="json"))
        return 0
    print(
        f"{shown.plan_id}  revision {shown.revision}  {(shown.commit or 'no commit')[:12]}  {shown.summary}"
    )
    counts = shown.findings
    print(f"findings: {counts.error} error(s), {counts.warning} warning(s), {counts.info} info")
    return 0

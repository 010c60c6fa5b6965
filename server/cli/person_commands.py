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
    consent_grant_list,
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
        "confirm, as a ladder approver, that consent grants and their evidence hold: one grant "
        "(--attribute with --purpose), or every evidenced, unconfirmed grant of the attributes named",
        "personalization-engine plans confirm-consent plan-20261124T090000Z --attribute email "
        "--purpose email_marketing",
    )
    consent.add_argument("plan_id", metavar="PLAN_ID")
    consent.add_argument(
        "--attribute", required=True, action="append", help="an attribute's name (repeat for several)"
    )
    consent.add_argument(
        "--purpose", help="the purpose of its grant; left out, every evidenced grant not yet confirmed"
    )
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
    chosen = _grants_to_confirm(plan, args.attribute, args.purpose)

    def operation(current: Plan, now: datetime) -> Plan:
        for attribute, purpose in chosen:
            current = confirm_consent(current, person=person, attribute=attribute, purpose=purpose, now=now)
        return current

    lines = [f"Plan      {plan.plan_id}: {plan.initiative}, revision {plan.revision} ({errors} open errors)"]
    for attribute, purpose in chosen:
        _, attr, _, grant = consent_grant(plan, attribute, purpose)
        evidence = grant.evidence
        lines.append(
            f"Grant     {attr.name} (PII class {attr.pii_class}): {grant.purpose} on lawful basis "
            f"{grant.lawful_basis}, evidence {evidence.kind}: {evidence.ref}"  # type: ignore[union-attr]
        )
    lines.append(f"You       {person.ident}, {rung.role}")
    question = (
        "Confirm that this grant and its evidence hold?"
        if len(chosen) == 1
        else f"Confirm that these {len(chosen)} grants and their evidence hold?"
    )
    return _write_if_yes(args, engine, person, plan, lines, question, "attributes", operation)


def _grants_to_confirm(plan: Plan, attributes: list[str], purpose: str | None) -> list[tuple[str, str]]:
    """(attribute, purpose) of each grant to confirm. A named purpose must exist and have evidence;
    without one, each named attribute gives its evidenced grants that no one confirmed yet."""
    if purpose is not None:
        for attribute in attributes:
            consent_grant(plan, attribute, purpose)  # refuses unknown names and missing evidence
        return [(attribute, purpose) for attribute in dict.fromkeys(attributes)]
    chosen = []
    for attribute in dict.fromkeys(attributes):
        for grant in consent_grant_list(plan, attribute):
            if grant.evidence is not None and grant.confirmed_by is None:
                chosen.append((attribute, grant.purpose))
    if not chosen:
        raise InputError(
            "the attributes named have no grant with evidence left to confirm; record evidence with "
            "inventory_attributes, or name one grant with --purpose",
            field="--attribute",
        )
    return chosen


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

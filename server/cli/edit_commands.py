"""Plan edits for people: the stage, ledger and write_plan operations, with the tools' JSON arguments.

    personalization-engine plans attributes PLAN_ID --file attributes.json --expected-revision 2

The file holds the same JSON object the MCP tool takes, without plan_id and expected_revision
(which come from the command line); `-` reads it from standard input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..core.ledger import record_approval, record_blocker, resolve_blocker
from ..core.results import outcome
from ..core.sections import apply_sections, parse_sections
from ..core.stage_ops import STAGE_OPERATIONS, parse_edit
from ..errors import InputError
from .common import engine_for, print_json

STAGE_COMMANDS = {
    "intake": ("record_intake", "stage 1: record goals, personas and lifecycle stages"),
    "attributes": ("inventory_attributes", "stage 2: record attributes and data sources"),
    "profiles": ("define_profiles", "stage 3: define profiles and scenarios"),
    "activation": ("map_activation", "stage 4: map profiles to channels"),
    "governance": ("plan_governance", "stage 5: record owners, QA cadence and checkpoints"),
}
EXAMPLE_FILE = {
    "intake": '{"goals": [{"id": "activate", "statement": "Trials reach first value in 7 days"}]}',
    "attributes": '{"attributes": [{"name": "plan_tier", "type": "string", "source_id": "warehouse"}]}',
    "profiles": '{"profiles": [{"id": "trial", "name": "Trial", "eligibility": "plan_tier = \'trial\'"}]}',
    "activation": '{"activations": [{"profile_id": "trial", "channel": "email", "destination": "Braze"}]}',
    "governance": '{"owners": [{"area": "profiles", "owner": "Maya Chen"}], "qa_cadence": "weekly"}',
}


def register(sub: argparse._SubParsersAction, make_parser) -> None:
    for name, (tool, help_text) in STAGE_COMMANDS.items():
        parser = make_parser(
            sub,
            name,
            f"{help_text} (the {tool} tool's JSON arguments)",
            f"echo '{EXAMPLE_FILE[name]}' | personalization-engine plans {name} PLAN_ID --file - "
            "--expected-revision 2",
        )
        _edit_arguments(parser, revision_required=True)
        parser.set_defaults(handler=cmd_stage, stage=name)
    write = make_parser(
        sub,
        "write",
        "replace whole plan sections (the write_plan tool's `sections` object)",
        "personalization-engine plans write PLAN_ID --file sections.json --expected-revision 3",
    )
    _edit_arguments(write, revision_required=True)
    write.set_defaults(handler=cmd_write)
    _ledger_commands(sub, make_parser)


def _ledger_commands(sub: argparse._SubParsersAction, make_parser) -> None:
    blocker = make_parser(
        sub,
        "blocker",
        "record a blocker; a repeat escalates up the ladder",
        'personalization-engine plans blocker PLAN_ID --kind consent --subject "score on web"',
    )
    blocker.add_argument("plan_id", metavar="PLAN_ID")
    blocker.add_argument("--kind", required=True, choices=["consent", "compliance", "coverage", "data_pull"])
    blocker.add_argument("--subject", required=True, help="what it is about")
    blocker.add_argument("--detail", default="", help="what happened and what was tried")
    _common_edit_flags(blocker, revision_required=False)
    blocker.set_defaults(handler=cmd_blocker)
    resolve = make_parser(
        sub,
        "resolve",
        "resolve an open blocker with its remediation",
        'personalization-engine plans resolve PLAN_ID --blocker blk-1 --remediation "consent approved"',
    )
    resolve.add_argument("plan_id", metavar="PLAN_ID")
    resolve.add_argument("--blocker", required=True, dest="blocker_id", help="e.g. blk-1")
    resolve.add_argument("--remediation", required=True, help="what removed the blocker")
    _common_edit_flags(resolve, revision_required=False)
    resolve.set_defaults(handler=cmd_resolve)
    approval = make_parser(
        sub,
        "record-approval",
        "record a decision someone reported (not a confirmed approval)",
        'personalization-engine plans record-approval PLAN_ID --approver "Grace Kim" '
        '--role "Data Privacy Lead" --decision approved',
    )
    approval.add_argument("plan_id", metavar="PLAN_ID")
    approval.add_argument("--approver", required=True)
    approval.add_argument("--role", required=True)
    approval.add_argument("--decision", required=True, choices=["approved", "rejected", "changes_requested"])
    approval.add_argument("--note", default="")
    _common_edit_flags(approval, revision_required=False)
    approval.set_defaults(handler=cmd_record_approval)


def _edit_arguments(parser: argparse.ArgumentParser, *, revision_required: bool) -> None:
    parser.add_argument("plan_id", metavar="PLAN_ID")
    parser.add_argument(
        "--file", required=True, metavar="F", help="a JSON file of the tool's arguments, or -"
    )
    _common_edit_flags(parser, revision_required=revision_required)


def _common_edit_flags(parser: argparse.ArgumentParser, *, revision_required: bool) -> None:
    parser.add_argument(
        "--expected-revision", type=int, required=revision_required, help="the revision you last read"
    )
    parser.add_argument("--actor", help="who asks for the change (default cli:<git user.name or $USER>)")


def read_arguments(source: str) -> dict[str, Any]:
    """The JSON object in a file, or on standard input for `-`."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {source!r}: {exc.strerror}", field="--file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source!r} is not JSON: {exc.msg} at line {exc.lineno}", field="--file") from None
    if not isinstance(data, dict):
        raise InputError(f"{source!r} must hold a JSON object of arguments", field="--file")
    return data


def cmd_stage(args: argparse.Namespace) -> int:

    model, operation = STAGE_OPERATIONS[args.stage]
    data = read_arguments(args.file)
    for given_on_the_command_line in ("plan_id", "expected_revision"):
        data.pop(given_on_the_command_line, None)
    edit = parse_edit(model, data)
    return _apply(args, args.stage, lambda plan: operation(plan, edit))


def cmd_write(args: argparse.Namespace) -> int:

    data = read_arguments(args.file)
    sections = parse_sections(data.get("sections", data))
    return _apply(args, "plan", lambda plan: apply_sections(plan, sections))


def cmd_blocker(args: argparse.Namespace) -> int:

    return _apply_timed(
        args,
        lambda plan, who, now: record_blocker(
            plan, kind=args.kind, subject=args.subject, detail=args.detail, actor=who, now=now
        ),
    )


def cmd_resolve(args: argparse.Namespace) -> int:

    return _apply_timed(
        args,
        lambda plan, who, now: resolve_blocker(
            plan, blocker_id=args.blocker_id, remediation=args.remediation, actor=who, now=now
        ),
    )


def cmd_record_approval(args: argparse.Namespace) -> int:

    return _apply_timed(
        args,
        lambda plan, who, now: record_approval(
            plan,
            approver=args.approver,
            role=args.role,
            decision=args.decision,
            note=args.note,
            actor=who,
            now=now,
        ),
    )


def _apply(args: argparse.Namespace, stage: str, operation) -> int:
    engine = engine_for(args)
    result = engine.apply(
        args.plan_id,
        stage,
        operation,
        expected_revision=args.expected_revision,
        actor=args.actor or engine.default_actor(),
    )
    return _report(args, result)


def _apply_timed(args: argparse.Namespace, operation) -> int:
    engine = engine_for(args)
    who = args.actor or engine.default_actor()
    result = engine.apply(
        args.plan_id,
        "governance",
        lambda plan, now: operation(plan, who, now),
        expected_revision=args.expected_revision,
        actor=who,
        timed=True,
    )
    return _report(args, result)


def _report(args: argparse.Namespace, result) -> int:

    shown = outcome(result)
    if args.json:
        print_json(shown.model_dump(mode="json"))
        return 0
    commit = (shown.commit or "no commit")[:12]
    print(f"{shown.plan_id}  revision {shown.revision}  {commit}  {shown.summary}")
    for line in shown.changes:
        print(f"  {line}")
    counts = shown.findings
    print(f"findings: {counts.error} error(s), {counts.warning} warning(s), {counts.info} info")
    return 0

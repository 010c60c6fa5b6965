"""`personalization-engine plans ...`: create, list, show, validate, log and diff plans."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.results import counts, plan_history
from . import (
    audience_commands,
    edit_commands,
    export_commands,
    finalize_commands,
    impact_commands,
    lift_commands,
    person_commands,
    qa_commands,
    render_commands,
    rules_commands,
)
from .common import (
    add_json_option,
    add_workspace_options,
    engine_for,
    print_json,
    print_table,
    split_list,
)


def _sub(commands, name: str, help_text: str, example: str) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=f"Example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_workspace_options(parser)
    add_json_option(parser)
    return parser


def register(commands: argparse._SubParsersAction) -> None:
    plans = commands.add_parser(
        "plans",
        help="create, inspect, validate and audit plans",
        description="Create, inspect, validate and audit plans in <workspace>/.claude/plans.",
        epilog="Example:\n  personalization-engine plans list --workspace ~/projects/acme",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = plans.add_subparsers(dest="plans_command", metavar="COMMAND", required=True)
    _register_new(sub)
    _register_reads(sub)
    _register_recover(sub)
    for extra in _extra_plan_commands():
        extra(sub, _sub)


def _register_new(sub: argparse._SubParsersAction) -> None:
    new = _sub(
        sub,
        "new",
        "create a plan at revision 1 and commit it",
        'personalization-engine plans new --initiative "PLG Onboarding" --channels web,in-app,email',
    )
    new.add_argument("--initiative", required=True, help="what the program is for")
    new.add_argument("--channels", required=True, help="comma list of web, in-app, email, ads, sales")
    new.add_argument("--metrics", help="comma list of KPIs")
    new.add_argument("--constraints", help="comma list of compliance, consent or tooling constraints")
    new.add_argument("--timeline", help="when it should launch, in words")
    new.add_argument("--pattern", choices=["diamond", "pipeline"], help="stage pattern (default diamond)")
    new.add_argument("--pattern-rationale", help="why this pattern")
    new.add_argument(
        "--regimes", help="comma list of consent law presets: gdpr-eprivacy, uk-gdpr, cpra (docs/consent.md)"
    )
    new.add_argument(
        "--signals", help="comma list of consent signal presets: tcf-v2.2, google-consent-mode-v2"
    )
    new.add_argument("--actor", help="who makes the change (default cli:<git user.name or $USER>)")
    new.add_argument("--now", help=argparse.SUPPRESS)
    new.set_defaults(handler=cmd_new)


def _register_recover(sub: argparse._SubParsersAction) -> None:
    recover = _sub(
        sub,
        "recover",
        "after a crash: commit plan writes that were written but not committed, and remove an "
        "index.lock that no running git process can hold",
        "personalization-engine plans recover",
    )
    recover.set_defaults(handler=cmd_recover)


def _register_reads(sub: argparse._SubParsersAction) -> None:
    sub_list = _sub(sub, "list", "list the plans in the workspace", "personalization-engine plans list")
    sub_list.set_defaults(handler=cmd_list)

    show = _sub(
        sub,
        "show",
        "print a plan (optionally an older revision)",
        "personalization-engine plans show plan-20261124T090000Z --revision 2",
    )
    show.add_argument("plan_id", metavar="PLAN_ID")
    show.add_argument("--revision", type=int, help="an older revision, read from git")
    show.set_defaults(handler=cmd_show)

    validate = _sub(
        sub,
        "validate",
        "check a plan; exit 0 with no errors (warnings may remain), 1 with problems, 2 for usage",
        "personalization-engine plans validate plan-20261124T090000Z",
    )
    validate.add_argument("target", metavar="PLAN_ID|FILE")
    validate.add_argument(
        "--now",
        metavar="ISO-TIME",
        help="evaluate time-dependent findings (an export's frozen windows) at this instant (default: now)",
    )
    validate.set_defaults(handler=cmd_validate)

    log = _sub(
        sub,
        "log",
        "the audit trail of a plan, from git",
        "personalization-engine plans log plan-20261124T090000Z",
    )
    log.add_argument("plan_id", metavar="PLAN_ID")
    log.set_defaults(handler=cmd_log)

    diff = _sub(
        sub,
        "diff",
        "semantic diff between two revisions of a plan; with --data or --dsn, also the data impact "
        "(records moving between profiles, size changes, the condition that moved most), writing nothing",
        "personalization-engine plans diff plan-20261124T090000Z --from 1 --to 3\n"
        "  personalization-engine plans diff plan-20261124T090000Z --from 4 --to 5 --data data/users.parquet",
    )
    diff.add_argument("plan_id", metavar="PLAN_ID")
    diff.add_argument("--from", dest="from_revision", type=int, required=True, metavar="REV")
    diff.add_argument("--to", dest="to_revision", type=int, required=True, metavar="REV")
    impact_commands.add_impact_options(diff)
    diff.set_defaults(handler=impact_commands.cmd_diff)


def _extra_plan_commands():
    """Plan commands owned by later layers (rules, render, audience) register themselves here."""

    return [
        edit_commands.register,
        rules_commands.register,
        render_commands.register,
        export_commands.register,
        impact_commands.register,
        audience_commands.register,
        lift_commands.register,
        qa_commands.register,
        finalize_commands.register,
        person_commands.register,
    ]


def cmd_new(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    result = engine.create_plan(
        initiative=args.initiative,
        channels=split_list(args.channels),
        metrics=split_list(args.metrics),
        constraints=split_list(args.constraints),
        timeline=args.timeline,
        pattern=args.pattern,
        pattern_rationale=args.pattern_rationale,
        regimes=split_list(args.regimes),
        signals=split_list(args.signals),
        actor=args.actor or engine.default_actor(),
    )
    if args.json:
        print_json(_result_json(result))
    else:
        print(f"{result.plan_id}  revision {result.revision}  commit {result.commit[:12]}")
        print(result.path)
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    engine = engine_for(args)  # recovers interrupted writes, printing a note for each
    cleared = engine.clear_stale_index_lock()
    notes = engine.recover()
    if args.json:
        print_json({"index_lock_removed": cleared, "notes": notes})
        return 0
    print("removed stale git lock files" if cleared else "no stale git lock file")
    for note in notes:
        print(note)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    plans = engine_for(args, read_only=True).list_plans()
    rows = [
        {
            "plan_id": p.plan_id,
            "revision": p.revision,
            "initiative": p.initiative,
            "channels": p.channels,
            "updated_at": p.updated_at.isoformat(),
        }
        for p in plans
    ]
    if args.json:
        print_json(rows)
    elif not rows:
        print("no plans yet; create one with: personalization-engine plans new --help")
    else:
        print_table(
            ["PLAN", "REV", "UPDATED", "INITIATIVE", "CHANNELS"],
            [
                [r["plan_id"], r["revision"], r["updated_at"], r["initiative"], ",".join(r["channels"])]
                for r in rows
            ],
        )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    plan = engine_for(args, read_only=True).read_plan(args.plan_id, args.revision)
    data = plan.model_dump(mode="json", by_alias=True)
    if args.json:
        print_json(data)
        return 0
    print(f"{plan.plan_id}  revision {plan.revision}  {plan.initiative}")
    print(f"channels: {', '.join(plan.channels)}   pattern: {plan.pattern.kind}")
    print(
        f"attributes: {len(plan.attributes)}  profiles: {len(plan.profiles)}  "
        f"activations: {len(plan.activations)}  escalations: {len(plan.escalations)}"
    )
    for entry in plan.change_log[-5:]:
        print(f"  r{entry.revision} {entry.at.isoformat()} {entry.actor} [{entry.stage}] {entry.summary}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    where, findings = engine_for(args, read_only=True).validate_target(args.target, cwd=Path.cwd())
    errors = [f for f in findings if f.severity == "error"]
    if args.json:
        print_json(
            {
                "valid": not errors,
                "counts": counts(findings).model_dump(),
                "findings": [f.model_dump() for f in findings],
            }
        )
    else:
        for f in findings:
            print(f"{f.severity:7} {f.code:32} {f.pointer or '/'}  {f.message}")
        print(
            f"{len(errors)} error(s), {len(findings) - len(errors)} other finding(s) in {where}",
            file=sys.stderr,
        )
    return 1 if errors else 0


def cmd_log(args: argparse.Namespace) -> int:
    engine = engine_for(args, read_only=True)
    entries = engine.history(args.plan_id)
    if args.json:
        print_json(plan_history(engine, args.plan_id).model_dump(mode="json"))
        return 0
    print_table(
        ["REV", "TIME", "ACTOR", "STAGE", "COMMIT", "SUMMARY"],
        [[e.revision, e.time, e.actor, e.stage, e.commit[:12], e.summary] for e in entries],
    )
    return 0


def _result_json(result) -> dict:
    return {
        "plan_id": result.plan_id,
        "revision": result.revision,
        "commit": result.commit,
        "path": result.path,
        "summary": result.summary,
        "changes": [c.model_dump(mode="json") for c in result.changes],
    }

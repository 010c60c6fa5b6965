"""`personalization-engine plans export`: a revision as destination files (twin of export_activation)."""

from __future__ import annotations

import argparse

from ..core.export_op import as_answer, export_plan
from ..model.targets import EXPORT_TARGETS, SQL_DIALECTS
from .common import engine_for, print_json


def register(sub: argparse._SubParsersAction, make_parser) -> None:
    parser = make_parser(
        sub,
        "export",
        "export the latest revision's profiles and activations to dbt models or a flag system's file "
        "(flagd, LaunchDarkly, GrowthBook) under .claude/plans/PLAN_ID/exports/TARGET/, commit them and "
        "record the export; refuses a plan with error findings unless --allow-errors (then a draft)",
        "personalization-engine plans export plan-20261124T090000Z --to flagd",
    )
    parser.add_argument("plan_id", metavar="PLAN_ID")
    parser.add_argument(
        "--to", dest="target", required=True, metavar="TARGET", help=" | ".join(EXPORT_TARGETS)
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="write into this new or empty folder inside the workspace instead; commits and records nothing",
    )
    parser.add_argument("--dialect", metavar="DIALECT", help="dbt only: " + " | ".join(SQL_DIALECTS))
    parser.add_argument(
        "--allow-errors", action="store_true", help="export despite error findings; the files say DRAFT"
    )
    parser.add_argument(
        "--now",
        metavar="ISO-TIME",
        help="freeze relative windows (LaunchDarkly, GrowthBook) as of this instant; never dates a commit",
    )
    parser.add_argument("--actor", help="who exports (default cli:<git user.name or $USER>)")
    parser.set_defaults(handler=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    done = as_answer(
        export_plan(
            engine,
            args.plan_id,
            args.target,
            dialect=args.dialect,
            allow_errors=args.allow_errors,
            out=args.out,
            actor=args.actor or engine.default_actor(),
        )
    )
    if args.json:
        print_json(done.model_dump(mode="json"))
        return 0
    state = "draft " if done.draft else ""
    commit = (done.commit or "no commit")[:12]
    print(
        f"{done.plan_id}  {state}{done.target} export of revision {done.revision}  {commit}  {done.folder}/"
    )
    if not done.written:
        print("unchanged since the last export: nothing written")
    for name in done.files:
        print(f"  {name}")
    print(f"carries {len(done.profiles)} profile(s): {', '.join(done.profiles) or 'none'}")
    for refusal in done.refusals:
        where = refusal["profile_id"] + (f"/{refusal['channel']}" if refusal.get("channel") else "")
        print(f"refused {where}: {refusal['condition']} ({refusal['pointer']}): {refusal['reason']}")
    for cutoff in done.cutoffs:
        print(
            f"frozen {cutoff['profile_id']}: '{cutoff['condition']}', window start {cutoff['cutoff']} "
            f"(acceptable for {cutoff['allowed_age']}; export again after that)"
        )
    return 0

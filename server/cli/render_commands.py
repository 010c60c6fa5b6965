"""`personalization-engine plans render`: write and commit a plan revision's deliverables."""

from __future__ import annotations

import argparse

from ..core.render_op import render_and_commit
from .common import engine_for, print_json


def register(sub: argparse._SubParsersAction, make_parser) -> None:
    parser = make_parser(
        sub,
        "render",
        "render a plan revision as deliverables (profile schema .md/.csv, profiles, activation "
        "checklist, plan, ODCS data contract, report.html) under .claude/plans/PLAN_ID/ and commit "
        "them; the plan's revision does not change, and an unchanged revision commits nothing",
        "personalization-engine plans render plan-20261124T090000Z",
    )
    parser.add_argument("plan_id", metavar="PLAN_ID")
    parser.add_argument("--revision", type=int, help="an older revision to render, read from git")
    parser.add_argument("--actor", help="who renders (default cli:<git user.name or $USER>)")
    parser.set_defaults(handler=cmd_render)


def cmd_render(args: argparse.Namespace) -> int:

    engine = engine_for(args)
    result = render_and_commit(engine, args.plan_id, args.revision, args.actor or engine.default_actor())
    if args.json:
        print_json(result.model_dump(mode="json"))
    elif result.changed:
        print(
            f"{result.plan_id}  revision {result.revision}  commit {(result.commit or '')[:12]}  "
            f"{len(result.changed)} of {len(result.files)} file(s) changed"
        )
        print(result.folder + "/")
    else:
        print(f"{result.plan_id}  revision {result.revision}  deliverables already up to date (no commit)")
        print(result.folder + "/")
    return 0

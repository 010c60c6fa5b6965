"""`personalization-engine plans render`: write and commit a plan revision's deliverables."""

from __future__ import annotations

import argparse

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
    # jinja2 and the rules layer load here, not whenever the parser is built.
    from ..render import render_deliverables

    engine = engine_for(args)
    plan = engine.read_plan(args.plan_id, args.revision)
    files = {name: text.encode("utf-8") for name, text in render_deliverables(plan).items()}
    result = engine.commit_deliverables(
        plan.plan_id, files, revision=plan.revision, actor=args.actor or engine.default_actor()
    )
    folder = engine.store.deliverables_dir(plan.plan_id).relative_to(engine.ws.root).as_posix()
    if args.json:
        print_json(
            {
                "plan_id": result.plan_id,
                "revision": result.revision,
                "commit": result.commit,
                "written": bool(result.changed),
                "folder": folder,
                "files": sorted(files),
                "changed": result.changed,
            }
        )
    elif result.changed:
        print(
            f"{result.plan_id}  revision {result.revision}  commit {(result.commit or '')[:12]}  "
            f"{len(result.changed)} of {len(files)} file(s) changed"
        )
        print(folder + "/")
    else:
        print(f"{result.plan_id}  revision {result.revision}  deliverables already up to date (no commit)")
        print(folder + "/")
    return 0

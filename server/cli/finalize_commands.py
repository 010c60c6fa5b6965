"""`personalization-engine plans finalize`: the finalize gate, for people (twin of finalize_plan)."""

from __future__ import annotations

import argparse
import sys

from ..core.finalize import finalize_plan
from ..core.results import answer
from .common import engine_for, print_json


def register(sub: argparse._SubParsersAction, make_parser) -> None:
    parser = make_parser(
        sub,
        "finalize",
        "review the current revision and declare it final: refuses, listing every reason, while "
        "errors are open, a required approval is missing, stale or only reported, a stage has no "
        "owner, a scenario fails or sensitive consent is unconfirmed; on success writes one revision "
        "recording the final one and tags its commit personalization/PLAN_ID/final-rN",
        "personalization-engine plans finalize plan-20261124T090000Z --expected-revision 14",
    )
    parser.add_argument("plan_id", metavar="PLAN_ID")
    parser.add_argument(
        "--expected-revision", type=int, help="the revision you reviewed (default: the current one)"
    )
    parser.add_argument("--actor", help="who finalizes (default cli:<git user.name or $USER>)")
    parser.set_defaults(handler=cmd_finalize)


def cmd_finalize(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    done = finalize_plan(
        engine,
        args.plan_id,
        expected_revision=args.expected_revision,
        actor=args.actor or engine.default_actor(),
    )
    if args.json:
        print_json(done.as_dict(answer(done.write)))
        return 0
    result = done.write
    commit = (result.commit or "no commit")[:12]
    print(f"{result.plan_id}  revision {result.revision}  {commit}  {result.summary}")
    if done.tag:
        print(f"tag: {done.tag}")
    if done.tag_error:
        print(f"warning: the final commit is not tagged: {done.tag_error}", file=sys.stderr)
    return 0

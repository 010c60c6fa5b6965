"""`personalization-engine plans simulate` and `plans compile`: run and translate a plan's profile logic."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..model.targets import TARGETS
from ..rules import load_records, simulate
from .common import engine_for, evaluation_clock, print_json, print_table

if TYPE_CHECKING:
    from ..rules.simulate import SimulationResult

# rules.SQL_DIALECTS plus jsonlogic, spelled out so that building the parser loads neither the rules
# layer nor sqlglot (a test checks they agree).


def register(sub: argparse._SubParsersAction, make_parser) -> None:
    simulate_parser = make_parser(
        sub,
        "simulate",
        "show every profile's verdict for sample records: eligible, suppressed, score, winner, and (up "
        "to 1,000 records) the conditions that decided it and the fallback that applied",
        "personalization-engine plans simulate plan-20261124T090000Z --records samples/users.csv",
    )
    simulate_parser.add_argument("plan_id", metavar="PLAN_ID")
    source = simulate_parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--records", metavar="FILE", help="a CSV (header row) or JSON (list of objects) file in the workspace"
    )
    source.add_argument("--record", metavar="JSON", help='one record inline, e.g. \'{"plan_tier": "free"}\'')
    simulate_parser.add_argument(
        "--no-explain", action="store_true", help="verdicts only, even for 1,000 records or fewer"
    )
    simulate_parser.add_argument(
        "--now", metavar="TIME", help="evaluation time, ISO 8601 with zone (default: the current time)"
    )
    simulate_parser.set_defaults(handler=cmd_simulate)

    compile_parser = make_parser(
        sub,
        "compile",
        "translate the plan's profiles to SQL (a SELECT of member ids, winner and scores) or JSON Logic",
        "personalization-engine plans compile plan-20261124T090000Z --target snowflake",
    )
    compile_parser.add_argument("plan_id", metavar="PLAN_ID")
    compile_parser.add_argument(
        "--target", required=True, choices=TARGETS, help="the SQL dialect or jsonlogic"
    )
    compile_parser.add_argument(
        "--table", default="profiles", help="SQL: the table of records (default profiles)"
    )
    compile_parser.add_argument(
        "--id-column", help="SQL: the record id column (default: activation_lift.id_column, or id)"
    )
    compile_parser.add_argument(
        "--now",
        metavar="TIME",
        help="SQL: evaluate time predicates at this fixed ISO 8601 time instead of CURRENT_TIMESTAMP",
    )
    compile_parser.set_defaults(handler=cmd_compile)


def _inline_records(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"is not valid JSON: {exc.msg} at character {exc.pos}", field="--record") from None
    records = [data] if isinstance(data, dict) else data
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InputError("must be a JSON object (one record) or a list of objects", field="--record")
    return records


def cmd_simulate(args: argparse.Namespace) -> int:
    engine = engine_for(args, read_only=True)
    plan = engine.read_plan(args.plan_id)
    if args.records is not None:
        path = Path(args.records)
        records = load_records(str(path if path.is_absolute() else Path.cwd() / path), engine.ws.root)
    else:
        records = _inline_records(args.record)
    now = engine.clock()
    result = simulate(plan, records, now, explain=False if args.no_explain else None)
    if args.json:
        print_json(result.model_dump(mode="json"))
    else:
        _print_simulation(result)
    return 0


def _print_simulation(result: SimulationResult) -> None:
    print(f"{result.record_count} record(s) evaluated at {result.evaluated_at.isoformat()}")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print_table(
        ["RECORD", "ID", "WINNER", "HOLDOUT", "MEMBERS", "FALLBACK"],
        [
            [
                r.index,
                r.record_id,
                r.winner or "-",
                {True: "held out", False: "treatment", None: "-"}[r.in_holdout],
                ",".join(r.members) or "-",
                f"{r.fallback.profile_id}: {r.fallback.fallback or '(no fallback named)'}"
                if r.fallback
                else "",
            ]
            for r in result.records[:200]
        ],
    )
    if result.record_count > 200:
        print(f"... {result.record_count - 200} more record(s); use --json for all")
    if result.explained:
        for record in result.records[:200]:
            print(f"\nrecord {record.index}:")
            for e in record.explanations or []:
                verdict = (
                    "member"
                    if e.member
                    else ("suppressed" if e.suppressed and e.eligible else "not eligible")
                )
                score = "" if e.score is None else f", score {e.score:.6g} (threshold {e.threshold:g})"
                print(f"  {e.profile_id}: {verdict}{score}")
                for outcome in e.decided_by:
                    print(f"    {outcome.result:7} {outcome.condition}  [{outcome.pointer}]")
                if e.fallback:
                    print(f"    fallback: {e.fallback} (missing: {', '.join(e.missing)})")
    counts = ", ".join(f"{pid} {count}" for pid, count in result.winner_counts.items())
    print(f"\nwinners: {counts or 'no profiles'}; no winner: {result.no_winner}")


def cmd_compile(args: argparse.Namespace) -> int:
    from ..rules import compile_jsonlogic, compile_sql  # the SQL compiler loads sqlglot

    engine = engine_for(args, read_only=True)
    plan = engine.read_plan(args.plan_id)
    if args.target == "jsonlogic":
        logic = compile_jsonlogic(plan)
        print_json({"target": "jsonlogic", "plan_id": plan.plan_id, "revision": plan.revision, **logic})
        return 0
    now = (evaluation_clock(args.now) or (lambda: None))()
    sql = compile_sql(plan, args.target, table=args.table, id_column=args.id_column, now=now)
    if args.json:
        print_json({"target": args.target, "plan_id": plan.plan_id, "revision": plan.revision, "sql": sql})
    else:
        print(sql, end="")
    return 0

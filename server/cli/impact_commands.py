"""`plans diff --data ...` and `plans impact ... [--record]`: the data impact of a change."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.results import outcome, plan_diff
from ..errors import InputError
from ..model.diff import describe
from .common import add_data_options, engine_for, evaluation_clock, print_json, print_table

if TYPE_CHECKING:
    from ..core.impact_op import DataOptions
    from ..model.impact import Impact

EXAMPLE = (
    "personalization-engine plans impact plan-20261124T090000Z --from 4 --to 5 --data data/users.parquet"
)


def add_impact_options(parser: argparse.ArgumentParser) -> None:
    """The data options of `plans diff` and `plans impact` (as for `plans size`) and --now."""
    add_data_options(parser)
    parser.add_argument(
        "--now",
        metavar="TIME",
        help="evaluate both revisions' time windows at this ISO 8601 time (default: now)",
    )


def register(sub: argparse._SubParsersAction, make_parser) -> None:
    impact = make_parser(
        sub,
        "impact",
        "the data impact of a change: evaluate two revisions' rules on the same data in one scan (the "
        "flow of records between profiles, size changes, and the condition that moved most records); "
        "with --record, store it as an impact run",
        EXAMPLE + " --record",
    )
    impact.add_argument("plan_id", metavar="PLAN_ID")
    impact.add_argument("--from", dest="from_revision", type=int, required=True, metavar="REV")
    impact.add_argument("--to", dest="to_revision", type=int, required=True, metavar="REV")
    add_impact_options(impact)
    impact.add_argument("--record", action="store_true", help="store the impact run in the plan (one write)")
    impact.add_argument(
        "--expected-revision", type=int, metavar="REV", help="with --record: fail if the plan moved on"
    )
    impact.add_argument(
        "--actor", help="with --record: who records it (default cli:<git user.name or $USER>)"
    )
    impact.set_defaults(handler=cmd_impact)


def data_options(args: argparse.Namespace) -> DataOptions:
    from ..core.impact_op import DataOptions

    data = args.data
    if data is not None and not Path(data).is_absolute():
        data = str(Path.cwd() / data)  # relative to where the person runs the command
    now = evaluation_clock(args.now)
    return DataOptions(data, args.dsn, args.table, args.engine, args.spark_master, now() if now else None)


def cmd_diff(args: argparse.Namespace) -> int:
    """`plans diff`: the field diff, and with data the impact (read-only either way)."""
    engine = engine_for(args, read_only=True)
    options = data_options(args)
    result = plan_diff(engine, args.plan_id, args.from_revision, args.to_revision, options)
    if args.json:
        if result.impact is None:  # the shape plans diff --json always had
            print_json([c.model_dump(mode="json") for c in result.changes])
        else:
            print_json(result.model_dump(mode="json"))
        return 0
    print_changes(result.changes, args.from_revision, args.to_revision)
    if result.impact is not None:
        print()
        print_impact(result.impact)
    return 0


def cmd_impact(args: argparse.Namespace) -> int:
    if args.data is None and args.dsn is None and args.engine is None:
        # Without data `plans diff` is the field diff; `plans impact` exists to read the data.
        raise InputError("name the records to evaluate: --data FILE or --dsn DSN --table T", field="--data")
    if not args.record:
        if args.expected_revision is not None or args.actor:
            raise InputError("--expected-revision and --actor go with --record", field="--record")
        return cmd_diff(args)
    from ..core.impact_op import record_impact

    engine = engine_for(args)
    result = record_impact(
        engine,
        args.plan_id,
        args.from_revision,
        args.to_revision,
        data_options(args),
        actor=args.actor or engine.default_actor(),
        expected_revision=args.expected_revision,
    )
    if args.json:
        print_json(
            {
                "write": outcome(result.write).model_dump(mode="json"),
                "run": result.run.model_dump(mode="json"),
            }
        )
        return 0
    print_changes(result.changes, args.from_revision, args.to_revision)
    print()
    print_impact(result.run)
    print(
        f"\nstored {result.run.id} in revision {result.write.revision} "
        f"(commit {(result.write.commit or '')[:12]})"
    )
    return 0


def print_changes(changes, from_revision: int, to_revision: int) -> None:
    if not changes:
        print(f"no content change between revision {from_revision} and {to_revision}")
    for change in changes:
        print(describe(change).split(":")[0])
        for field in change.fields:
            print(f"    {field.field}: {_short(field.before)} -> {_short(field.after)}")


def _short(value: object, limit: int = 80) -> str:
    text = "null" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _name(profile: str | None) -> str:
    return profile or "(none)"


def print_impact(impact: Impact) -> None:
    moved = [f for f in impact.flows if f.from_profile != f.to_profile]
    stayed = impact.row_count - sum(f.records for f in moved)
    print(
        f"impact of revision {impact.from_revision} -> {impact.to_revision} on {impact.row_count} rows of "
        f"{impact.source.location}{f' table {impact.source.table}' if impact.source.table else ''}, "
        f"evaluated at {impact.evaluated_at.isoformat()} "
        "(winners by each revision's priorities; holdouts not applied)"
    )
    print(f"{sum(f.records for f in moved)} records move; {stayed} stay where they were\n")
    if moved:
        print_table(
            ["FROM", "TO", "RECORDS"],
            [[_name(f.from_profile), _name(f.to_profile), f.records] for f in moved],
        )
        print()

    def signed(p) -> str:
        if p.winners_before is None or p.winners_after is None:
            return "added" if p.winners_before is None else "removed"
        return f"{p.winners_after - p.winners_before:+d}"

    print_table(
        ["PROFILE", "WINNERS BEFORE", "WINNERS AFTER", "CHANGE", "NET BEFORE", "NET AFTER", "JOINED", "LEFT"],
        [
            [
                p.profile_id,
                p.winners_before,
                p.winners_after,
                signed(p),
                p.net_before,
                p.net_after,
                p.joined,
                p.left,
            ]
            for p in impact.profiles
        ],
    )
    for p in impact.profiles:
        if p.drivers:
            d = p.drivers[0]
            what = f": {d.condition}" if d.condition else ""
            print(
                f"\n{p.profile_id}: {d.cause} at {d.pointer} (revision {d.revision}){what}; "
                f"{d.records} of {p.joined + p.left} moved records, e.g. {impact.id_column} {d.example_id}"
            )

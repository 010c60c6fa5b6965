"""`personalization-engine plans size` and `personalization-engine sample-data`."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.engine import utc_now
from ..core.results import outcome
from ..errors import InputError
from ..model.targets import WAREHOUSE_DIALECTS
from .common import (
    add_data_options,
    add_json_option,
    engine_for,
    evaluation_clock,
    print_json,
    print_table,
)
from .lift_commands import add_outcome_options, cmd_sample_outcomes

if TYPE_CHECKING:
    from ..core.engine import Engine
    from ..core.sizing import SizingOutcome

BAR_WIDTH = 30


def register(sub: argparse._SubParsersAction, make_parser) -> None:
    size = make_parser(
        sub,
        "size",
        "count each profile's audience on real data (eligible, suppressed, net, winner, per channel after "
        "the consent gate, overlaps, attribute coverage and freshness) and store it as a sizing run; with "
        "--dialect, write the sizing SQL for a warehouse instead",
        "personalization-engine plans size plan-20261124T090000Z --data data/users.parquet\n"
        "  personalization-engine plans size plan-20261124T090000Z --dsn postgresql://analyst@db/crm "
        "--table public.users\n"
        "  personalization-engine plans size plan-20261124T090000Z --dialect snowflake --table "
        "analytics.users --sql-out sizing.sql\n"
        "  personalization-engine plans size plan-20261124T090000Z --import-result results/sizing.csv",
    )
    size.add_argument("plan_id", metavar="PLAN_ID")
    source = add_data_options(size)
    source.add_argument(
        "--dialect",
        choices=WAREHOUSE_DIALECTS,
        help="write the sizing SQL for this warehouse to run instead of sizing here (nothing is stored)",
    )
    source.add_argument(
        "--import-result",
        metavar="FILE",
        help="store the result row of that SQL, saved as CSV or JSON inside the workspace, as an imported "
        "sizing run (refused when the plan's rules have changed since the SQL was written)",
    )
    size.add_argument("--sql-out", metavar="FILE", help="with --dialect: write the SQL here, not to stdout")
    size.add_argument("--expected-revision", type=int, metavar="REV", help="fail if the plan has moved on")
    size.add_argument("--actor", help="who runs the sizing (default cli:<git user.name or $USER>)")
    size.add_argument(
        "--now", metavar="TIME", help="evaluate time windows at this ISO 8601 time (default: now)"
    )
    size.set_defaults(handler=cmd_size)


def register_sample_data(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "sample-data",
        help="write deterministic synthetic profile records for the demo plan's inventory",
        description="Write N synthetic people (an id and a column per attribute of the PLG Onboarding "
        "demo's inventory) with realistic nulls, skew and timestamps relative to --now, as Parquet or "
        "CSV. The same arguments always give the same data. Missing folders are created; rows stream "
        "to the file in bounded memory, with a progress bar on stderr when it is a terminal.",
        epilog="Example:\n  personalization-engine sample-data --rows 100000 --now 2026-11-24T09:00:00Z "
        "data/users.parquet",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("out", metavar="OUT", help="the file to write: .parquet or .csv")
    parser.add_argument("--rows", type=int, default=10_000, help="how many people (default 10000)")
    parser.add_argument("--now", metavar="TIME", help="the reference time, ISO 8601 with zone (default: now)")
    parser.add_argument("--seed", type=int, default=0, help="another seed gives other data (default 0)")
    add_outcome_options(parser)
    add_json_option(parser)
    parser.set_defaults(handler=cmd_sample_data)


def _progress_bar(done: float, total: float, message: str) -> None:
    filled = int(BAR_WIDTH * done / total) if total else 0
    line = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {100 * done / total:3.0f}% {message}"
    end = "\n" if done >= total or not sys.stderr.isatty() else ""
    print(f"\r{line[:120]:<120}" if sys.stderr.isatty() else line, end=end, file=sys.stderr, flush=True)


def cmd_size(args: argparse.Namespace) -> int:
    # The audience layer loads sqlglot and DuckDB (DESIGN.md: heavy libraries load when used).
    from ..audience import warehouse_sql
    from ..core.sizing import size_plan

    engine = engine_for(args)
    now = (evaluation_clock(args.now) or (lambda: None))()
    if args.dialect:
        if not args.table:
            raise InputError(
                "name the warehouse table the SQL reads, e.g. --table analytics.users", field="table"
            )
        sql = warehouse_sql(
            engine.read_plan(args.plan_id), args.dialect, args.table, now=now or engine.clock()
        )
        if args.sql_out:
            Path(args.sql_out).write_text(sql, encoding="utf-8")
            print(f"wrote the {args.dialect} sizing SQL to {args.sql_out}", file=sys.stderr)
        else:
            print(sql, end="")
        return 0
    if args.sql_out:
        raise InputError("--sql-out goes with --dialect (writing SQL for a warehouse)", field="--sql-out")
    if args.import_result:
        result = _import_result(args, engine)
    else:
        result = size_plan(
            engine,
            args.plan_id,
            data=_from_cwd(args.data),
            dsn=args.dsn,
            table=args.table,
            engine_name=args.engine,
            spark_master=args.spark_master,
            expected_revision=args.expected_revision,
            actor=args.actor or engine.default_actor(),
            now=now,
            progress=_progress_bar,
        )
    if args.json:
        print_json(
            {
                "write": outcome(result.write).model_dump(mode="json"),
                "plan_id": result.write.plan_id,
                "revision": result.write.revision,
                "commit": result.write.commit,
                "run": result.run.model_dump(mode="json"),
                "data_findings": [f.model_dump() for f in result.findings],
            }
        )
    else:
        _print_sizing(result)
    return 0


def _from_cwd(path: str | None) -> str | None:
    """A relative path as the person meant it: from the folder they ran the command in."""
    return str(Path.cwd() / path) if path is not None and not Path(path).is_absolute() else path


def _import_result(args: argparse.Namespace, engine: Engine) -> SizingOutcome:
    from ..core.import_op import import_sizing_result

    # The row says which table it read and when it was evaluated: options that would say otherwise
    # are refused rather than ignored.
    for option, value in (("--table", args.table), ("--engine", args.engine),
                          ("--spark-master", args.spark_master), ("--now", args.now)):  # fmt: skip
        if value is not None:
            raise InputError(
                f"{option} does not go with --import-result: the result row names its table and "
                "evaluation time",
                field=option,
            )
    return import_sizing_result(
        engine,
        args.plan_id,
        str(_from_cwd(args.import_result)),
        expected_revision=args.expected_revision,
        actor=args.actor or engine.default_actor(),
        progress=_progress_bar,
    )


def _print_sizing(result: SizingOutcome) -> None:
    run = result.run
    print(
        f"{run.id}: {run.row_count} rows of {run.source.location}"
        f"{f' table {run.source.table}' if run.source.table else ''}, rules of revision {run.plan_revision}, "
        f"evaluated at {run.evaluated_at.isoformat()}; stored in revision {result.write.revision} "
        f"(commit {(result.write.commit or '')[:12]})"
    )
    # TREATMENT + HOLDOUT = WINNER for a profile with a holdout; "-" for one without.
    print_table(
        ["PROFILE", "PRIORITY", "ELIGIBLE", "SUPPRESSED", "NET", "WINNER", "TREATMENT", "HOLDOUT"],
        [
            [p.profile_id, p.priority, p.eligible, p.removed_by_suppression, p.net, p.winner]
            + (["-", "-"] if p.holdout is None else [p.treatment, p.holdout])
            for p in run.profiles
        ],
    )
    print(f"no winner: {run.no_winner}\n")
    print_table(
        ["CHANNEL", "REACHABLE", "ACTIVATABLE AFTER CONSENT"],
        [
            [c.channel, c.reachable, "unknown" if c.net_activatable is None else c.net_activatable]
            for c in run.channels
        ],
    )
    overlapping = [o for o in run.overlaps if o.both]
    if overlapping:
        print()
        print_table(
            ["PROFILE A", "PROFILE B", "BOTH"], [[o.profile_a, o.profile_b, o.both] for o in overlapping]
        )
    print(f"\ndata coverage: {run.data_coverage_pct}% (mean non-null share of required attributes)")
    for finding in result.findings:
        print(f"{finding.severity}: {finding.code} {finding.pointer}: {finding.message}")


def cmd_sample_data(args: argparse.Namespace) -> int:
    from ..audience import write_sample_data  # loads DuckDB

    if args.outcomes_for:
        return cmd_sample_outcomes(args)
    reference: datetime = (evaluation_clock(args.now) or _utc_now)()
    # A bar on a terminal only: piped or captured stderr (CI logs) stays free of carriage returns.
    progress = {"progress": _progress_bar} if sys.stderr.isatty() else {}
    out = write_sample_data(Path(args.out), args.rows, reference=reference, seed=args.seed, **progress)
    if args.json:
        print_json({"path": str(out), "rows": args.rows, "now": reference.isoformat(), "seed": args.seed})
    else:
        print(f"wrote {args.rows} rows to {out} (reference time {reference.isoformat()}, seed {args.seed})")
    return 0


def _utc_now() -> datetime:

    return utc_now()

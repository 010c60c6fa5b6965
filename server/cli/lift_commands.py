"""`personalization-engine plans lift` and `sample-data --outcomes-for`: the lift readout after launch."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.results import outcome
from ..errors import InputError
from .common import add_data_options, add_workspace_options, engine_for, parse_time, print_json, print_table

if TYPE_CHECKING:
    from ..model.lift import LiftMeasurement, ProfileLift


def register(sub: argparse._SubParsersAction, make_parser) -> None:
    lift = make_parser(
        sub,
        "lift",
        "read out the lift after launch: membership is the plan's rules evaluated --as-of the launch on "
        "the data it was sized on, outcomes have one row per id (a boolean KPI column, an optional value "
        "column); per profile, treatment and holdout rates, absolute and relative lift with 95 percent "
        "intervals, a p-value, the power check and the sample-ratio-mismatch check; stored in the ledger",
        "personalization-engine plans lift plan-20261124T090000Z --data data/users.parquet --as-of "
        "2026-11-24T09:00:00Z --outcomes data/outcomes.csv\n"
        "  personalization-engine plans lift plan-20261124T090000Z --dsn postgresql://analyst@db/crm "
        "--table public.users --as-of 2026-11-24T09:00:00Z --outcomes-table public.outcomes",
    )
    lift.add_argument("plan_id", metavar="PLAN_ID")
    add_data_options(lift)
    lift.add_argument("--as-of", required=True, metavar="TIME", help="the launch time, ISO 8601 with zone")
    outcomes = lift.add_mutually_exclusive_group(required=True)
    outcomes.add_argument("--outcomes", metavar="FILE", help="a CSV or Parquet file in the workspace")
    outcomes.add_argument(
        "--outcomes-table", metavar="TABLE", help="a table in the membership's database (PostgreSQL, Spark)"
    )
    lift.add_argument("--kpi-column", default="converted", help="the boolean KPI column (default converted)")
    lift.add_argument("--value-column", help="a numeric value column, e.g. revenue (optional)")
    lift.add_argument("--revision", type=int, metavar="REV", help="the revision whose rules were launched")
    lift.add_argument("--expected-revision", type=int, metavar="REV", help="fail if the plan has moved on")
    lift.add_argument("--actor", help="who runs the readout (default cli:<git user.name or $USER>)")
    lift.set_defaults(handler=cmd_lift)


def _workspace_file(path: str | None) -> str | None:
    # Relative to where the person stands, like plans size's --data.
    return path if path is None or Path(path).is_absolute() else str(Path.cwd() / path)


def cmd_lift(args: argparse.Namespace) -> int:
    from ..core.lift_op import LiftSources, measure_lift

    engine = engine_for(args)
    sources = LiftSources(
        data=_workspace_file(args.data),
        dsn=args.dsn,
        table=args.table,
        engine=args.engine,
        spark_master=args.spark_master,
        outcomes=_workspace_file(args.outcomes),
        outcomes_table=args.outcomes_table,
        kpi_column=args.kpi_column,
        value_column=args.value_column,
    )
    result = measure_lift(
        engine,
        args.plan_id,
        sources,
        as_of=parse_time(args.as_of, "--as-of"),
        revision=args.revision,
        expected_revision=args.expected_revision,
        actor=args.actor or engine.default_actor(),
    )
    if args.json:
        print_json(
            {
                "write": outcome(result.write).model_dump(mode="json"),
                "readout": result.measurement.model_dump(mode="json"),
            }
        )
    else:
        _print_readout(result.measurement, result.write.revision, result.write.commit)
    return 0


def _interval(pair: tuple[float, float] | None, unit: str) -> str:
    return "n/a" if pair is None else f"[{pair[0]:+.1f}{unit}, {pair[1]:+.1f}{unit}]"


def _row(p: ProfileLift) -> list[object]:
    rate = lambda r: "n/a" if r is None else f"{r:.1f}%"  # noqa: E731
    return [
        p.profile_id,
        p.treatment,
        p.holdout,
        rate(p.treatment_rate),
        rate(p.holdout_rate),
        "n/a" if p.relative_lift_pct is None else f"{p.relative_lift_pct:+.1f}%",
        _interval(p.relative_ci_pct, "%"),
        "n/a" if p.p_value is None else f"{p.p_value:.3g}",
        "n/a" if p.srm_p_value is None else f"{p.srm_p_value:.3g}",
    ]


def _print_readout(m: LiftMeasurement, revision: int, commit: str | None) -> None:
    print(
        f"{m.id}: rules of revision {m.plan_revision} as of {m.launched_at.isoformat()} on {m.records} "
        f"records of {m.membership.location}; {m.kpi} from {m.outcomes.location}"
        f"{f' table {m.outcomes.table}' if m.outcomes.table else ''}; stored in revision {revision} "
        f"(commit {(commit or '')[:12]})"
    )
    rows = [_row(p) for p in m.profiles] + ([_row(m.overall)] if m.overall else [])
    print_table(["PROFILE", "TREATMENT", "HOLDOUT", "T RATE", "H RATE", "LIFT", "95% CI", "P", "SRM P"], rows)
    print(f"\nintervals: {m.interval_method}; relative: {m.ratio_method}; p: {m.test_method}")
    for p in (*m.profiles, *([m.overall] if m.overall else [])):
        for warning in p.warnings:
            print(f"warning: {p.profile_id}: {warning}")


def add_outcome_options(parser: argparse.ArgumentParser) -> None:
    """sample-data's options for writing outcomes with a planted lift instead of records."""
    parser.add_argument("--outcomes-for", metavar="PLAN_ID", help="write outcomes for this plan's records")
    parser.add_argument("--records", metavar="FILE", help="with --outcomes-for: the records (.parquet, .csv)")
    parser.add_argument("--as-of", metavar="TIME", help="with --outcomes-for: the launch time")
    parser.add_argument(
        "--lift",
        action="append",
        default=[],
        metavar="PROFILE=FRACTION",
        help="with --outcomes-for: a planted relative lift, e.g. new-trial-activation=0.2 (default 0)",
    )
    add_workspace_options(parser)


def _lifts(pairs: list[str]) -> dict[str, float]:
    lifts: dict[str, float] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            lifts[name.strip()] = float(value)
        except ValueError:
            raise InputError(
                f"{pair!r} is not PROFILE=FRACTION (e.g. dormant-free=0.1)", field="--lift"
            ) from None
    return lifts


def cmd_sample_outcomes(args: argparse.Namespace) -> int:
    from ..audience.sample_outcomes import write_sample_outcomes

    if not args.records or not args.as_of:
        raise InputError("--outcomes-for needs --records FILE and --as-of TIME", field="--outcomes-for")
    engine = engine_for(args, read_only=True)
    written = write_sample_outcomes(
        engine.read_plan(args.outcomes_for),
        Path(args.records),
        Path(args.out),
        as_of=parse_time(args.as_of, "--as-of"),
        lifts=_lifts(args.lift),
        seed=args.seed,
    )
    if args.json:
        print_json({"path": str(written.path), "rows": written.rows, "baselines": written.baselines,
                    "lifts": written.lifts, "seed": args.seed})  # fmt: skip
    else:
        planted = ", ".join(f"{p} {v:+.0%}" for p, v in written.lifts.items())
        print(
            f"wrote {written.rows} outcome rows to {written.path} (planted lift: {planted}; seed {args.seed})"
        )
    return 0

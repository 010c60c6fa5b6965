"""The audience layer's two entry points: measure a plan on data, or write the SQL for a warehouse.

Both are pure as far as the plan goes: they read a Plan and return a SizingRun or SQL text, and
write nothing. Storing the run, retrying transient failures and recording a data_pull blocker are
the core's job (the sizing operation), which calls measure() once per attempt.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ..errors import InputError
from ..model import Plan
from ..model.plan import SizingRun, SizingSource
from ..rules import SQL_DIALECTS
from .backends import Progress, measure_request, no_progress
from .figures import sizing_run
from .names import qualified_table, string_literal
from .query import build_sizing_query
from .rules_hash import evaluation_text, rules_sha256
from .source import data_request

WAREHOUSE_DIALECTS = tuple(d for d in SQL_DIALECTS if d not in ("duckdb",))


def measure(
    plan: Plan,
    *,
    workspace_root: Path,
    data: str | None = None,
    dsn: str | None = None,
    table: str | None = None,
    engine: str | None = None,
    spark_master: str | None = None,
    now: datetime,
    actor: str,
    progress: Progress = no_progress,
) -> SizingRun:
    """Size `plan`'s profiles on a workspace file (data) or a PostgreSQL table (dsn and table).

    Time windows are evaluated at `now`. The run's plan_revision is plan.revision; its id (the next
    one after plan.sizing_runs) and `at` (set to `now`) are provisional: the operation that stores
    the run stamps them with the id and the real time it is stored at. Raises InputError when
    retrying cannot help and TransientPullError when it may; reports progress 1 to 2 of PHASES.
    """
    request = data_request(
        workspace_root, data=data, dsn=dsn, table=table, engine=engine, spark_master=spark_master
    )
    if not plan.profiles:
        raise InputError(
            f"plan {plan.plan_id} has no profiles to size; define profiles first", field="plan_id"
        )
    measurement = measure_request(request, plan, now, progress)
    if not measurement.values["row_count"]:
        raise InputError(
            f"{request.where} has no rows; there is nothing to size, so nothing was written", field="data"
        )
    run = sizing_run(
        plan,
        measurement,
        run_id=f"size-{len(plan.sizing_runs) + 1}",
        at=now,
        actor=actor,
        evaluated_at=now,
        source=SizingSource(
            kind=request.kind,
            location=request.location,
            table=request.table,
            spark_master=request.spark_master,
        ),
    )
    # The same hash a warehouse query selects: a local run and an imported one of the same rules
    # and time say so by carrying equal hashes.
    return run.model_copy(update={"rules_sha256": rules_sha256(plan, now)})


# The constant columns every sizing query selects after its counts: what the result row belongs to.
RESULT_HEADER_COLUMNS = ("pe_plan_id", "pe_revision", "pe_rules_sha256", "pe_evaluated_at", "pe_table")


def warehouse_sql(plan: Plan, dialect: str, table: str, *, now: datetime) -> str:
    """The sizing query for a warehouse to run (Snowflake, BigQuery, Databricks, or any SQL target).

    `table` is a name as the dialect spells it (analytics.public.users, my-project.dataset.users).
    The warehouse's columns cannot be inspected from here, so every inventoried attribute is assumed
    to be a column of `table`; time windows are evaluated at the fixed instant `now`. The row also
    carries the plan id, revision, rules hash (rules_hash.py), evaluation time and table as
    constants, so `plans size --import-result` can tell which rules the counts belong to.
    """
    if dialect not in SQL_DIALECTS:
        raise InputError(
            f"unknown SQL dialect {dialect!r}; use one of {', '.join(SQL_DIALECTS)}", field="dialect"
        )
    relation = qualified_table(table, dialect)
    query = build_sizing_query(
        plan, dialect, relation, columns=None, now=now, materialize_flags=dialect == "postgres"
    )
    constants = (plan.plan_id, str(plan.revision), rules_sha256(plan, now), evaluation_text(now), relation)
    selected = ",\n  ".join(
        f"{string_literal(value, dialect)} AS {name}"
        for name, value in zip(RESULT_HEADER_COLUMNS, constants, strict=True)
    )
    header = (
        f"-- Audience sizing for {plan.plan_id} r{plan.revision} ({dialect}), evaluated at "
        f"{evaluation_text(now)}; one result row.\n"
        "-- pe_rules_sha256 is the sha256 of the plan's sizing rules and the evaluation time. Save the\n"
        f"-- row as CSV or JSON and store it with: plans size {plan.plan_id} --import-result FILE\n"
        "-- (a row whose rules have changed since is refused).\n"
        f"-- Columns, in order: {', '.join((*query.outputs, *RESULT_HEADER_COLUMNS))}\n"
    )
    # The constants come after the counts, so the counts keep the positions they always had.
    return f"{header}SELECT\n  pe_sizing.*,\n  {selected}\nFROM (\n{query.sql}) AS pe_sizing\n"

"""Read-only rule operations: simulate the profiles on records, compile them to a target."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..errors import InputError
from ..model.targets import Target
from ..rules import load_records, simulate
from ..rules.instants import parse_time_option
from ..rules.simulate import SimulationResult
from .engine import Engine


class CompiledRules(BaseModel):
    plan_id: str
    revision: int
    target: str
    sql: str | None = Field(None, description="SQL targets: a SELECT of eligible, non-suppressed ids.")
    jsonlogic: dict[str, Any] | None = Field(
        None, description="Per profile: eligibility, suppression, score."
    )


def simulate_profiles(
    engine: Engine,
    plan_id: str,
    *,
    records: list[dict[str, Any]] | None,
    records_file: str | None,
    explain: bool | None,
    now: str | None = None,
) -> SimulationResult:

    if (records is None) == (records_file is None):
        raise InputError("give exactly one of records or records_file", field="records")
    plan = engine.read_plan(plan_id)
    rows = records if records is not None else load_records(records_file or "", engine.ws.root)
    at = parse_time_option(now, field="now") if now else engine.clock()
    return simulate(plan, rows, at, explain=explain)


def compile_rules(
    engine: Engine,
    plan_id: str,
    target: Target,
    *,
    table: str = "profiles",
    id_column: str | None = None,
    now: str | None = None,
) -> CompiledRules:
    """SQL (time windows at `now` when given, else the database's current time) or JSON Logic."""
    from ..rules import compile_jsonlogic, compile_sql  # the SQL compiler loads sqlglot

    at = parse_time_option(now, field="now") if now else None
    plan = engine.read_plan(plan_id)
    if target == "jsonlogic":
        return CompiledRules(
            plan_id=plan_id, revision=plan.revision, target=target, jsonlogic=compile_jsonlogic(plan, now=at)
        )
    sql = compile_sql(plan, target, table=table, id_column=id_column, now=at)
    return CompiledRules(plan_id=plan_id, revision=plan.revision, target=target, sql=sql)

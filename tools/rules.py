"""Rules tools: simulate the profiles on sample records, and compile them to SQL or JSON Logic."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from ..core import rule_ops
from ..model.targets import Target
from ._common import READ_ONLY, PlanIdArg, ToolSpec, advertised_as, engine, run, text_or_null


def simulate_profiles(
    plan_id: PlanIdArg,
    ctx: Context,
    records: Annotated[
        list[dict[str, Any]] | None,
        Field(max_length=10_000, description="Records keyed by attribute name."),
        advertised_as(list[dict[str, Any]]),
    ] = None,
    records_file: Annotated[
        str | None,
        Field(max_length=1000, description="A CSV (header row) or JSON file in the workspace."),
        text_or_null(1000),
    ] = None,
    explain: Annotated[bool | None, Field(description="False: verdicts only."), advertised_as(bool)] = None,
    now: Annotated[
        str | None, Field(max_length=64, description="Evaluation time, ISO 8601."), text_or_null(64)
    ] = None,
) -> dict[str, Any]:
    """Run the profiles on sample records, writing nothing: per record each profile's verdict,
    the winner, and (up to 1,000 records) the deciding conditions and fallbacks. Example:
    {"plan_id": "...", "records": [{"user_id": "u1", "plan_tier": "trial"}]}
    """
    return run(
        lambda: rule_ops.simulate_profiles(
            engine(ctx), plan_id, records=records, records_file=records_file, explain=explain, now=now
        ).model_dump(mode="json")
    )


def compile_rules(
    plan_id: PlanIdArg,
    target: Annotated[Target, Field(description="A SQL dialect, or jsonlogic for real-time engines.")],
    ctx: Context,
    table: Annotated[
        str, Field(max_length=200, description="SQL: the table of profile records.")
    ] = "profiles",
    id_column: Annotated[
        str | None,
        Field(max_length=200, description="SQL: the id column (default: the plan's)."),
        text_or_null(200),
    ] = None,
    now: Annotated[
        str | None, Field(max_length=64, description="Fix time windows at this time."), text_or_null(64)
    ] = None,
) -> dict[str, Any]:
    """Compile the profiles to SQL (a SELECT of member ids, scores and the winner) or JSON Logic.
    Show the SQL to the data engineer. Example: {"plan_id": "...", "target": "snowflake",
    "table": "analytics.user_profiles"}
    """
    return run(
        lambda: rule_ops.compile_rules(
            engine(ctx), plan_id, target, table=table, id_column=id_column, now=now
        ).model_dump(mode="json")
    )


TOOLS = (
    ToolSpec(simulate_profiles, "Simulate profiles on sample records", READ_ONLY),
    ToolSpec(compile_rules, "Compile rules to SQL or JSON Logic", READ_ONLY),
)

"""Rules tools: simulate the profiles on sample records, and compile them to SQL or JSON Logic."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field

from ..errors import InputError
from ..rules.simulate import SimulationResult
from ._common import READ_ONLY, PlanIdArg, Runtime, tool

# The compiler's SQL_DIALECTS plus jsonlogic; a test checks they agree.
Target = Literal["duckdb", "postgres", "snowflake", "bigquery", "databricks", "jsonlogic"]


class CompiledRules(BaseModel):
    plan_id: str
    revision: int
    target: str
    sql: str | None = Field(None, description="For SQL targets: a SELECT of eligible, non-suppressed ids.")
    jsonlogic: dict[str, Any] | None = Field(
        None, description="For jsonlogic: per profile, eligibility, suppression and score rules."
    )


def register(server: MCPServer, rt: Runtime) -> None:
    @tool(server, "simulate_profiles", "Simulate profiles on sample records", READ_ONLY)
    def simulate_profiles(
        plan_id: PlanIdArg,
        records: Annotated[
            list[dict[str, Any]] | None,
            Field(max_length=10_000, description="Sample records inline: objects keyed by attribute name."),
        ] = None,
        records_file: Annotated[
            str | None,
            Field(max_length=1000, description="A CSV (header row) or JSON file inside the workspace."),
        ] = None,
        explain: Annotated[
            bool | None, Field(description="False for verdicts only; explanations need <= 1,000 records.")
        ] = None,
    ) -> SimulationResult:
        """Run the plan's profile logic on sample records without writing anything. For each record:
        every profile's verdict (eligible, suppressed, score), the winning profile by priority, and,
        for up to 1,000 records, which conditions decided each verdict and which fallback applied
        when data was missing. Use it before launch, on the user's edge cases, and after changing a
        rule. Give exactly one of records or records_file. Example: {"plan_id":
        "plan-20261124T093000Z", "records": [{"user_id": "u1", "plan_tier": "trial", "signup_at":
        "2026-11-20T10:00:00Z", "onboarding_steps_completed": 1}]}
        """

        def run() -> SimulationResult:
            from ..rules import load_records, simulate

            if (records is None) == (records_file is None):
                raise InputError("give exactly one of records or records_file", field="records")
            plan = rt.engine.read_plan(plan_id)
            rows = records if records is not None else load_records(records_file or "", rt.engine.ws.root)
            return simulate(plan, rows, rt.engine.clock(), explain=explain)

        return rt.read(run)

    @tool(server, "compile_rules", "Compile rules to SQL or JSON Logic", READ_ONLY)
    def compile_rules(
        plan_id: PlanIdArg,
        target: Annotated[Target, Field(description="A SQL dialect, or jsonlogic for real-time engines.")],
        table: Annotated[
            str, Field(max_length=200, description="SQL: the table of profile records.")
        ] = "profiles",
        id_column: Annotated[str, Field(max_length=200, description="SQL: the record id column.")] = "id",
    ) -> CompiledRules:
        """Translate every profile's eligibility, suppression and scoring into one target: SQL for
        duckdb, postgres, snowflake, bigquery or databricks (a SELECT of eligible, non-suppressed ids
        with scores and the winning profile), or JSON Logic for real-time engines (flagd/OpenFeature
        style; the evaluation time is passed as data, and exponential decay uses the documented
        custom operation). Show the SQL to the data engineer reviewing feasibility. Example:
        {"plan_id": "plan-20261124T093000Z", "target": "snowflake", "table": "analytics.user_profiles"}
        """

        def run() -> CompiledRules:
            from ..rules import compile_jsonlogic, compile_sql

            plan = rt.engine.read_plan(plan_id)
            if target == "jsonlogic":
                return CompiledRules(
                    plan_id=plan_id, revision=plan.revision, target=target, jsonlogic=compile_jsonlogic(plan)
                )
            sql = compile_sql(plan, target, table=table, id_column=id_column)
            return CompiledRules(plan_id=plan_id, revision=plan.revision, target=target, sql=sql)

        return rt.read(run)

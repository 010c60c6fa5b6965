"""size_audiences: count each profile's audience on real data and store the sizing run."""

from __future__ import annotations

from typing import Annotated

import anyio
import anyio.from_thread
import anyio.to_thread
from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from ..checks.findings import Finding
from ..model.plan import SizingRun
from ._common import ADDITIVE, ActorArg, PlanIdArg, Runtime, WriteOutcome, outcome, tool, tool_errors


class SizingResult(BaseModel):
    write: WriteOutcome = Field(description="The ledger write that stored the run.")
    run: SizingRun = Field(description="The sizing run as stored in the plan under sizing_runs.")
    data_findings: list[Finding] = Field(
        description="What the data shows: missing columns, sparse required attributes, stale data, "
        "consent gates with no column, empty profiles."
    )


def register(server: MCPServer, rt: Runtime) -> None:
    @tool(server, "size_audiences", "Size audiences on data", ADDITIVE)
    async def size_audiences(
        plan_id: PlanIdArg,
        data: Annotated[
            str | None,
            Field(
                max_length=1000,
                description="A CSV, Parquet or DuckDB file inside the workspace (relative to its root).",
            ),
        ] = None,
        dsn: Annotated[
            str | None,
            Field(
                max_length=2000,
                description="A PostgreSQL connection string, e.g. postgresql://analyst@db:5432/crm; the "
                "password never enters the plan (prefer PGPASSWORD or ~/.pgpass).",
            ),
        ] = None,
        table: Annotated[
            str | None,
            Field(max_length=130, description="The table to size: required with dsn, optional for DuckDB."),
        ] = None,
        expected_revision: Annotated[
            int | None,
            Field(ge=1, description="The revision you last read; omit to size the current revision."),
        ] = None,
        actor: ActorArg = None,
        ctx: Context | None = None,
    ) -> SizingResult:
        """Run the plan's compiled profile rules on real data, one row per person with a column per
        inventoried attribute, and store the counts as a dated sizing run (a new revision).

        Counts per profile (eligible, suppressed, net, winner after priority), per activation and
        channel after the consent gate (gate signals are boolean attributes: 'email_opt_in' passes
        when TRUE, 'not email_unsubscribed' when FALSE, unknown never passes), the overlap between
        every pair of profiles, the non-null coverage of every attribute against its required flag
        (this sets success_metrics.attribute_data_coverage_pct.actual), and freshness of timestamp
        attributes against their SLA. Only counts leave the database. Give either data (a workspace
        file, read with DuckDB) or dsn and table (PostgreSQL). A data pull that keeps failing is
        retried retry_limit times, then recorded as a data_pull blocker. Call it after profiles and
        activations are defined, and again whenever the rules or the data change.
        Example: {"plan_id": "plan-20261124T093000Z", "data": "data/users.parquet"} or
        {"plan_id": "plan-20261124T093000Z", "dsn": "postgresql://analyst@db:5432/crm",
        "table": "public.users", "expected_revision": 7}
        """
        who = rt.actor(actor, ctx)

        def progress(done: float, total: float, message: str) -> None:
            if ctx is not None:
                anyio.from_thread.run(ctx.report_progress, done, total, message)

        def work():
            from ..sizing_op import size_plan  # on first use: the rules layer is not loaded at start-up

            return size_plan(
                rt.engine,
                plan_id,
                data=data,
                dsn=dsn,
                table=table,
                expected_revision=expected_revision,
                actor=who,
                progress=progress,
            )

        with tool_errors():
            result = await anyio.to_thread.run_sync(work)
        return SizingResult(write=outcome(result.write), run=result.run, data_findings=result.findings)

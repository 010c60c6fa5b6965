"""What every tool module shares: the engine, actor resolution, error mapping and result models."""

from __future__ import annotations

import contextlib
import inspect
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from ..checks.findings import Finding
from ..engine import Engine, WriteResult
from ..errors import EngineError
from ..history.diff import describe

PlanIdArg = Annotated[
    str,
    Field(max_length=64, description="The plan id, e.g. 'plan-20261124T093000Z' (see list_plans)."),
]
RevisionArg = Annotated[
    int,
    Field(ge=1, le=10_000_000, description="The revision you last read; a stale one is a conflict."),
]
ActorArg = Annotated[
    str | None,
    Field(None, max_length=200, description="Who asks for the change; defaults to the client's name."),
]

READ_ONLY = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
# Replacing or removing content: destructive by the MCP spec's definition. Repeating the same call
# yields the same content (and no new revision), so it is idempotent.
REPLACING = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)
# Appending to a ledger or creating a new plan: additive, never overwrites, not idempotent.
ADDITIVE = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
)


class FindingCounts(BaseModel):
    error: int = 0
    warning: int = 0
    info: int = 0


class WriteOutcome(BaseModel):
    """What every write tool returns."""

    plan_id: str
    revision: int = Field(description="The plan's revision after the call.")
    commit: str | None = Field(description="The git commit of this change; null when nothing changed.")
    written: bool = Field(description="False when the call changed nothing (no new revision, no commit).")
    summary: str
    changes: list[str] = Field(description="One line per semantic change.")
    findings: FindingCounts = Field(description="Counts of all open findings after the write.")
    new_findings: list[Finding]
    resolved_findings: list[Finding]


def counts(findings: list[Finding]) -> FindingCounts:
    # A plan can have a thousand open findings; setattr on a pydantic model per finding cost 0.4 ms.
    tally = Counter(finding.severity for finding in findings)
    return FindingCounts(error=tally["error"], warning=tally["warning"], info=tally["info"])


def outcome(result: WriteResult) -> WriteOutcome:
    return WriteOutcome(
        plan_id=result.plan_id,
        revision=result.revision,
        commit=result.commit,
        written=result.written,
        summary=result.summary,
        changes=[describe(c) for c in result.changes],
        findings=counts(result.findings),
        new_findings=result.new_findings,
        resolved_findings=result.resolved_findings,
    )


@contextlib.contextmanager
def tool_errors() -> Iterator[None]:
    """Engine errors become isError results whose text names the field and what is allowed."""
    try:
        yield
    except EngineError as exc:
        raise ToolError(str(exc)) from exc


class Runtime:
    """What the tools share: the engine (or a function that builds it on first use) and helpers."""

    def __init__(self, engine: Engine | Callable[[], Engine]) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        return self._engine() if callable(self._engine) else self._engine

    def actor(self, given: str | None, ctx: Context | None) -> str:
        if given:
            return given
        name = None
        with contextlib.suppress(AttributeError):
            params = ctx.session.client_params if ctx is not None else None
            name = params.client_info.name if params is not None else None
        return name or "mcp-client"

    def write(self, fn: Callable[[], WriteResult]) -> WriteOutcome:
        with tool_errors():
            return outcome(fn())

    def read(self, fn: Callable[[], Any]) -> Any:
        with tool_errors():
            return fn()


def tool(
    server: MCPServer,
    name: str,
    title: str,
    annotations: ToolAnnotations,
    *,
    structured_output: bool | None = None,
) -> Callable[[Callable], Callable]:
    """Register a tool whose description is its docstring, dedented for the model to read."""

    def decorate(fn: Callable) -> Callable:
        return server.tool(
            name=name,
            title=title,
            description=inspect.cleandoc(fn.__doc__ or ""),
            annotations=annotations,
            structured_output=structured_output,
        )(fn)

    return decorate

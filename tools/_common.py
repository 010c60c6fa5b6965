"""What every tool module shares: annotations, argument types, the engine and error mapping."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field, TypeAdapter, ValidationError, WithJsonSchema

from ..core.engine import Engine, input_error
from ..errors import EngineError

T = TypeVar("T")


def text_or_null(max_length: int) -> WithJsonSchema:
    """Advertise an optional argument as plain text, yet still accept null: clients often send null
    for arguments they leave out, and `anyOf [..., null]` on every optional argument costs the tool
    list (which the model reads every session) hundreds of bytes."""
    return WithJsonSchema({"type": "string", "maxLength": max_length})


def advertised_as(plain_type: Any) -> WithJsonSchema:
    """As text_or_null, for any optional argument: advertise the schema of its non-null type."""
    return WithJsonSchema(TypeAdapter(plain_type).json_schema())


def whole_number_or_null(minimum: int = 1) -> WithJsonSchema:
    """As text_or_null, for an optional whole number."""
    return WithJsonSchema({"type": "integer", "minimum": minimum})


PlanIdArg = Annotated[str, Field(max_length=64)]
RevisionArg = Annotated[int, Field(ge=1, description="The revision you last read.")]
# Who asks for a change (the commit's Actor trailer); the client's name when left out.
ActorArg = Annotated[str | None, Field(max_length=200), text_or_null(200)]
# Ledger writes append, so the revision is optional there.
OptionalRevisionArg = Annotated[
    int | None, Field(ge=1, description="Given: a stale revision is a conflict."), whole_number_or_null()
]

# Where records are read (size_audiences, measure_lift, plan_diff, record_impact).
DataArg = Annotated[
    str | None,
    Field(max_length=1000, description="A CSV, Parquet or DuckDB file in the workspace."),
    text_or_null(1000),
]
DsnArg = Annotated[
    str | None,
    Field(max_length=2000, description="A PostgreSQL DSN; the password never enters the plan."),
    text_or_null(2000),
]
TableArg = Annotated[
    str | None, Field(max_length=400, description="With dsn; or a Spark catalog table."), text_or_null(400)
]
EngineArg = Annotated[
    str | None, Field(max_length=10, description="'spark' to read with Spark."), text_or_null(10)
]
SparkMasterArg = Annotated[
    str | None, Field(max_length=400, description="Default local[*]; or sc://host:port."), text_or_null(400)
]
NowArg = Annotated[
    str | None, Field(max_length=64, description="Evaluation time, ISO 8601."), text_or_null(64)
]


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)  # optional all the same: it is not in `required`


def _bare_text(max_length: int) -> Any:
    """An optional text argument advertised as just a string (limits still enforced), for the data
    arguments of plan_diff and record_impact: size_audiences describes them once, and the tool-list
    budget is tight."""
    return Annotated[
        str | None,
        Field(max_length=max_length, json_schema_extra=_no_default),
        WithJsonSchema({"type": "string"}),
    ]


BareData = _bare_text(1000)
BareDsn = _bare_text(2000)
BareTable = _bare_text(400)
BareEngine = _bare_text(10)
BareSparkMaster = _bare_text(400)
BareNow = _bare_text(64)

# What write tools return: the write outcome as a plain JSON object, {plan_id, revision, commit,
# written, summary, changes, findings {error, warning, info}, new_findings, resolved_findings}.
# A plain object keeps each write tool's output schema to a few bytes (the tool-list budget).
WriteAnswer = dict[str, Any]

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


@dataclass(frozen=True)
class ToolSpec:
    """A tool as server.py registers it: the function (its docstring is the description)."""

    fn: Callable[..., Any]
    title: str
    annotations: ToolAnnotations
    structured_output: bool | None = None


def engine(ctx: Context) -> Engine:
    """The engine the server's lifespan opened for this workspace."""
    return ctx.request_context.lifespan_context


# For tools whose own argument is named `engine` (the data engine, e.g. spark).
workspace_engine = engine


def who_asks(given: str | None, ctx: Context) -> str:
    if given:
        return given
    name = None
    with contextlib.suppress(AttributeError, ValueError):
        params = ctx.session.client_params
        name = params.client_info.name if params is not None else None
    return name or "mcp-client"


@contextlib.contextmanager
def tool_errors() -> Iterator[None]:
    """Engine errors become isError results whose text names the field and what is allowed."""
    try:
        yield
    except EngineError as exc:
        raise ToolError(str(exc)) from exc
    except ValidationError as exc:
        # A model built inside an operation refused a value the tool's schema let through. Left
        # alone, the SDK would answer only "Error executing tool X"; name each field instead.
        raise ToolError(str(input_error(exc, None))) from None


def run(fn: Callable[[], T]) -> T:
    with tool_errors():
        return fn()

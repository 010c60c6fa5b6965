"""MCPServer wiring: tools, resources, prompt and transports.

Each tool is a module-level function in personalization_engine.tools, registered here once with the
SDK's decorator; the engine reaches the tools through the server's lifespan context.
"""

from __future__ import annotations

import hmac
import inspect
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import Tool as MCPTool

from . import __version__
from .core.engine import Engine
from .errors import EngineError
from .model.schema import plan_json_schema_text
from .store.plans import serialize
from .tools import ALL as ALL_TOOLS

SERVER_KEY = "engine"
PLUGIN_NAME = "personalization-engine"
INSTRUCTIONS = (
    "personalization-engine keeps a personalization plan as audited JSON in the user's repository. "
    "Work through five stages with the stage tools (record_intake, inventory_attributes, "
    "define_profiles, map_activation, plan_governance) after create_plan; every write needs the "
    "plan's current revision as expected_revision and returns {plan_id, revision, commit, written, "
    "summary, changes, findings, new_findings, resolved_findings}; review findings with validate_plan. "
    "The server computes coverage, consent integrity, escalations and diffs; never type them in."
)


def without_generated_titles(schema: Any) -> Any:
    """The schema without `title` keywords: pydantic titles every argument after its name ("Plan
    Id") and the schema after the function ("create_planArguments"), which repeats what the model
    already reads, in every session. Property names and descriptions are untouched."""
    if isinstance(schema, dict):
        return {
            key: without_generated_titles(value)
            for key, value in schema.items()
            if not (key == "title" and isinstance(value, str))
        }
    if isinstance(schema, list):
        return [without_generated_titles(value) for value in schema]
    return schema


class CompactServer(MCPServer):
    """MCPServer whose tools/list leaves out generated schema titles (the tool-list budget)."""

    async def list_tools(self) -> list[MCPTool]:
        return [
            tool.model_copy(
                update={
                    "input_schema": without_generated_titles(tool.input_schema),
                    "output_schema": without_generated_titles(tool.output_schema),
                }
            )
            for tool in await super().list_tools()
        ]


def register_tools(server: MCPServer) -> None:
    """Register every tool, in the order tools/list gives them; the docstring is the description."""
    for spec in ALL_TOOLS:
        server.tool(
            name=spec.fn.__name__,
            title=spec.title,
            description=inspect.cleandoc(spec.fn.__doc__ or ""),
            annotations=spec.annotations,
            structured_output=spec.structured_output,
        )(spec.fn)


async def registered_tools() -> list[MCPTool]:
    """The tools as tools/list gives them (for generated docs and budgets)."""
    server = CompactServer(name=PLUGIN_NAME)
    register_tools(server)
    return await server.list_tools()


class StaticTokenVerifier:
    """Accepts exactly one bearer token, compared in constant time."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def verify_token(self, token: str) -> AccessToken | None:
        if hmac.compare_digest(token.encode(), self._token.encode()):
            return AccessToken(token=token, client_id="token-holder", scopes=[])
        return None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def prompt_template() -> str:
    return resources.files("personalization_engine.prompts").joinpath("define-profiles.md").read_text("utf-8")


def command_arguments(
    initiative: str, channels: str, metrics: str | None, constraints: str | None, timeline: str | None
) -> str:
    parts = [f'--initiative "{initiative}"', f'--channels "{channels}"']
    for flag, value in (("--metrics", metrics), ("--constraints", constraints), ("--timeline", timeline)):
        if value:
            parts.append(f'{flag} "{value}"')
    return " ".join(parts)


def build_server(engine: Engine, *, token: str | None = None, public_url: str | None = None) -> MCPServer:
    """The server over one engine (one workspace)."""

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[Engine]:
        yield engine

    auth_kwargs: dict = {}
    if token:
        # A static bearer token: 401 without protected-resource metadata, so clients do not start
        # an OAuth flow that has no authorization server to finish at.
        url = public_url or "http://127.0.0.1:8000"
        auth_kwargs = {
            "token_verifier": StaticTokenVerifier(token),
            "auth": AuthSettings(issuer_url=url, resource_server_url=None),
        }
    server = CompactServer(
        name=PLUGIN_NAME,
        title="Personalization Engine",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        **auth_kwargs,
    )
    register_tools(server)

    @server.resource("plan://{plan_id}", name="plan", title="Plan JSON", mime_type="application/json")
    def plan_resource(plan_id: str) -> str:
        """The current revision of a plan as JSON."""

        try:
            return serialize(engine.read_plan(plan_id)).decode("utf-8")
        except EngineError as exc:
            raise ResourceError(str(exc)) from exc

    @server.resource(
        "schema://plan", name="plan-schema", title="Plan JSON Schema", mime_type="application/schema+json"
    )
    def schema_resource() -> str:
        """The JSON Schema (2020-12) every plan file follows."""
        return plan_json_schema_text()

    @server.prompt(name="define-profiles", title="Define audience profiles")
    def define_profiles_prompt(
        initiative: str,
        channels: str,
        metrics: str | None = None,
        constraints: str | None = None,
        timeline: str | None = None,
    ) -> str:
        """Walk through the five stages of a personalization plan (the /define-profiles command)."""
        arguments = command_arguments(initiative, channels, metrics, constraints, timeline)
        return prompt_template().replace("$ARGUMENTS", arguments)

    return server


def http_security(host: str, port: int) -> TransportSecuritySettings:
    """Host and Origin checks for loopback binds, so a web page cannot rebind to the server."""
    if is_loopback(host):
        hosts = [f"{h}:{port}" for h in ("127.0.0.1", "localhost", "[::1]")] + [
            "127.0.0.1",
            "localhost",
            "[::1]",
        ]
        origins = [f"http://{h}:{port}" for h in ("127.0.0.1", "localhost", "[::1]")]
        return TransportSecuritySettings(
            enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
        )
    return TransportSecuritySettings(enable_dns_rebinding_protection=False)


def describe_tools(tools: list[MCPTool]) -> list[dict]:
    """Tool metadata for generated docs and the command's allowed-tools, as clients see it."""
    return [
        {
            "name": tool.name,
            "title": tool.title,
            "description": tool.description or "",
            "annotations": tool.annotations.model_dump(exclude_none=True) if tool.annotations else {},
            "input_schema": tool.input_schema,
            "output_schema": tool.output_schema,
        }
        for tool in sorted(tools, key=lambda t: t.name)
    ]


def full_tool_name(tool: str) -> str:
    return f"mcp__plugin_{PLUGIN_NAME}_{SERVER_KEY}__{tool}"

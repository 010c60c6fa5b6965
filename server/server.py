"""MCPServer wiring: tools, resources, prompt and transports."""

from __future__ import annotations

import hmac
import ipaddress
import json
import threading
from collections.abc import Callable, Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.server.stdio import stdio_server
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import CallToolResult, InputRequiredResult
from mcp.types import Tool as MCPTool

from . import __version__
from .errors import EngineError
from .stdio_pipes import pipes_available, stdio_pipes

if TYPE_CHECKING:
    from .engine import Engine

# Nothing here imports the engine, the plan model or the tool modules at start-up: tools/list is
# answered from the generated catalog, and the rest loads on first use (docs/performance.md).

SERVER_KEY = "engine"
PLUGIN_NAME = "personalization-engine"
INSTRUCTIONS = (
    "personalization-engine keeps a personalization plan as audited JSON in the user's repository. "
    "Work through five stages with the stage tools (record_intake, inventory_attributes, "
    "define_profiles, map_activation, plan_governance) after create_plan; every write needs the "
    "plan's current revision as expected_revision and returns findings to review with validate_plan. "
    "The server computes coverage, consent integrity, escalations and diffs; never type them in."
)


def register_tools(server: MCPServer, engine: Engine | Callable[[], Engine]) -> None:
    """Register every tool, in the order tools/list gives them."""
    from .tools import audience, ledger, plans, render, rules, stages
    from .tools._common import Runtime

    runtime = Runtime(engine)
    for module in (plans, stages, ledger, rules, audience, render):
        module.register(server, runtime)


def registered_tools() -> list[MCPTool]:
    """The tools as their modules declare them (not the catalog): docgen writes the catalog from these."""
    import anyio

    def no_engine() -> Engine:
        raise RuntimeError("registering tools never needs the engine")

    server = MCPServer(name=PLUGIN_NAME)
    register_tools(server, no_engine)
    return anyio.run(server.list_tools)


def load_catalog() -> list[MCPTool]:
    """The tools as tools/list gives them, from server/tool_catalog.py (written by docgen)."""
    from .tool_catalog import TOOLS_JSON

    return [MCPTool.model_validate(entry) for entry in json.loads(TOOLS_JSON)]


class LazyToolsServer(MCPServer):
    """Answers tools/list from the catalog and registers the real tools on the first tools/call.

    Registering the tools imports their modules (the plan's pydantic models, the engine) and builds
    each tool's argument model and JSON Schemas: about 0.3 s, most of our start-up beyond the SDK.
    The catalog holds exactly what tools/list would answer; a test keeps it equal to what
    `register_tools` registers.
    """

    def __init__(self, *, register_tools: Callable[[MCPServer], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._register_tools = register_tools
        self._catalog = load_catalog()
        self._input_schemas = {t.name: t.input_schema for t in self._catalog}
        self._tools_loaded = False
        self._load_lock = threading.Lock()

    async def list_tools(self) -> list[MCPTool]:
        return list(self._catalog)

    def _tool_input_schema(self, name: str) -> Mapping[str, Any] | None:
        # The SDK asks for this before dispatch (Mcp-Param header checks over HTTP).
        return self._input_schemas.get(name)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context | None = None
    ) -> CallToolResult | InputRequiredResult:
        if not self._tools_loaded:
            # In a worker thread, so the event loop keeps serving while the tool modules import.
            await anyio.to_thread.run_sync(self.load_tools)
        return await super().call_tool(name, arguments, context)

    def load_tools(self) -> None:
        with self._load_lock:
            if not self._tools_loaded:
                self._register_tools(self)
                self._tools_loaded = True

    async def run_stdio_async(self) -> None:
        """The SDK's stdio session over event-loop pipes (stdio_pipes.py), when stdin and stdout
        are pipes; otherwise the SDK's own thread-based streams."""
        if not pipes_available():
            await super().run_stdio_async()
            return
        # stdio_server only iterates the request lines and calls write() and flush(), which is all
        # these streams provide; the rest mirrors MCPServer.run_stdio_async.
        async with stdio_pipes() as (lines, writer), stdio_server(lines, writer) as (read, write):
            lowlevel = self._lowlevel_server
            await lowlevel.run(read, write, lowlevel.create_initialization_options())


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


def build_server(
    engine: Engine | Callable[[], Engine], *, token: str | None = None, public_url: str | None = None
) -> MCPServer:
    """The server over an engine, or over a function that builds the engine on first use."""

    def get_engine() -> Engine:
        return engine() if callable(engine) else engine

    auth_kwargs: dict = {}
    if token:
        url = public_url or "http://127.0.0.1:8000"
        auth_kwargs = {
            "token_verifier": StaticTokenVerifier(token),
            "auth": AuthSettings(issuer_url=url, resource_server_url=f"{url}/mcp"),
        }
    server = LazyToolsServer(
        register_tools=lambda s: register_tools(s, engine),
        name=PLUGIN_NAME,
        title="Personalization Engine",
        version=__version__,
        instructions=INSTRUCTIONS,
        **auth_kwargs,
    )

    @server.resource("plan://{plan_id}", name="plan", title="Plan JSON", mime_type="application/json")
    def plan_resource(plan_id: str) -> str:
        """The current revision of a plan as JSON."""
        from .store import serialize

        try:
            return serialize(get_engine().read_plan(plan_id)).decode("utf-8")
        except EngineError as exc:
            raise ResourceError(str(exc)) from exc

    @server.resource(
        "schema://plan", name="plan-schema", title="Plan JSON Schema", mime_type="application/schema+json"
    )
    def schema_resource() -> str:
        """The JSON Schema (2020-12) every plan file follows."""
        from .model.schema import plan_json_schema_text

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

"""Wiring: every tool is registered once from its module-level function, and has a CLI twin."""

from __future__ import annotations

import argparse

import anyio
import pytest
from mcp import Client

from personalization_engine.cli.main import build_parser
from personalization_engine.cli.twins import TOOL_COMMANDS
from personalization_engine.core.engine import Engine
from personalization_engine.server import build_server, registered_tools
from personalization_engine.tools import ALL

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


def wire(tools) -> list[dict]:
    return [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]


def test_tools_list_answers_exactly_what_the_tool_modules_register(engine: Engine):
    async def listed():
        async with Client(build_server(engine)) as c:
            return (await c.list_tools()).tools

    listed_tools = anyio.run(listed)
    assert wire(listed_tools) == wire(anyio.run(registered_tools))
    assert [t.name for t in listed_tools] == [spec.fn.__name__ for spec in ALL]


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> set[str]:
    found = {" ".join(path)} if path else set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found |= _commands(sub, (*path, name))
    return found


def test_every_tool_has_a_cli_command_that_exists():
    commands = _commands(build_parser())
    tools = {spec.fn.__name__ for spec in ALL}
    assert tools == set(TOOL_COMMANDS), "a tool without a CLI twin, or a twin of no tool"
    missing = {tool: command for tool, command in TOOL_COMMANDS.items() if command not in commands}
    assert not missing


async def test_the_engine_reaches_tools_through_the_lifespan_and_a_tool_call_uses_it(engine: Engine):
    async with Client(build_server(engine)) as c:
        created = await c.call_tool("create_plan", {"initiative": "X", "channels": ["web"]})
        assert not created.is_error
        listed = await c.call_tool("list_plans", {})
    assert [p["plan_id"] for p in listed.structured_content["plans"]] == [
        p.plan_id for p in engine.list_plans()
    ]

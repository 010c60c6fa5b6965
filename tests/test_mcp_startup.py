"""Start-up: tools/list comes from the generated catalog; the engine and the tool modules load on use."""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading

import anyio
import pytest
from mcp import Client

from personalization_engine.cli.common import LazyEngine
from personalization_engine.core.engine import Engine
from personalization_engine.model import Attribute
from personalization_engine.server import build_server, registered_tools
from personalization_engine.store.plans import serialize

from .conftest import git

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

    assert wire(anyio.run(listed)) == wire(registered_tools())


async def test_listing_prompts_and_the_schema_never_build_the_engine_and_a_tool_call_does(engine: Engine):
    built = []

    def build() -> Engine:
        built.append(threading.current_thread().name)
        return engine

    async with Client(build_server(build)) as c:
        await c.list_tools()
        await c.list_resources()
        await c.list_resource_templates()
        await c.list_prompts()
        await c.get_prompt("define-profiles", {"initiative": "X", "channels": "web"})
        await c.read_resource("schema://plan")
        assert built == []
        # The first calls arrive together: both wait for the one registration of the tools.
        async with anyio.create_task_group() as tg:
            for _ in range(2):
                tg.start_soon(c.call_tool, "list_plans", {})
        result = await c.call_tool("create_plan", {"initiative": "X", "channels": ["web"]})
        assert not result.is_error
    assert built


def test_the_serve_path_imports_neither_the_engine_nor_the_tool_modules_before_a_tool_call(repo_dir):
    script = f"""
import sys
import anyio
from personalization_engine.cli.common import LazyEngine
from personalization_engine.cli.main import build_parser
from personalization_engine.server import build_server

args = build_parser().parse_args(["serve", "--workspace", {str(repo_dir)!r}])
server = build_server(LazyEngine(args))
anyio.run(server.list_tools)
heavy = ["personalization_engine.core.engine", "personalization_engine.model", "git", "jinja2", "sqlglot",
         "personalization_engine.tools.plans", "personalization_engine.store.plans"]
print(sorted(name for name in heavy if name in sys.modules))
anyio.run(server.call_tool, "list_plans", {{}})
print(sorted(name for name in heavy if name in sys.modules))
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL
    )
    before, after = proc.stdout.splitlines()
    assert before == "[]", proc.stdout
    assert "personalization_engine.core.engine" in after and "personalization_engine.tools.plans" in after


def test_a_lazy_engine_checks_the_workspace_at_once_and_recovers_on_first_use(
    engine, plan_id, repo_dir, capsys
):
    plan = engine.read_plan(plan_id)
    plan.revision = 2
    plan.attributes.append(Attribute(name="late", type="string"))
    engine.store.write(plan_id, serialize(plan))  # as if the process died before committing
    args = argparse.Namespace(workspace=str(repo_dir), allow_enclosing_repo=False, now=None)

    lazy = LazyEngine(args)
    assert lazy.ws.root == repo_dir.resolve()
    assert git(repo_dir, "status", "--porcelain") != ""  # nothing recovered yet
    engines = []
    threads = [threading.Thread(target=lambda: engines.append(lazy())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(e) for e in engines}) == 1
    assert git(repo_dir, "status", "--porcelain") == ""
    assert capsys.readouterr().err.count(f"recovered {plan_id} revision 2") == 1


def test_a_lazy_engine_refuses_a_missing_workspace_before_anything_starts(tmp_path):
    from personalization_engine.errors import WorkspaceError

    args = argparse.Namespace(workspace=str(tmp_path / "missing"), allow_enclosing_repo=False, now=None)
    with pytest.raises(WorkspaceError):
        LazyEngine(args)

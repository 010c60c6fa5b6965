"""The render_deliverables tool through the in-memory MCP client."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client
from mcp.types import Implementation

from personalization_engine.core.engine import Engine
from personalization_engine.render import DELIVERABLES
from personalization_engine.server import build_server

from ..conftest import git
from .helpers import fill_plan

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


def client(engine: Engine) -> Client:
    return Client(build_server(engine), client_info=Implementation(name="test-client", version="1.0"))


def text(result) -> str:
    return " ".join(getattr(part, "text", "") for part in result.content)


def tree(repo: Path) -> tuple[str, list[str]]:
    plans = repo / ".claude" / "plans"
    return git(repo, "rev-parse", "HEAD"), sorted(p.relative_to(plans).as_posix() for p in plans.rglob("*"))


async def test_the_tool_is_annotated_as_replacing_files_and_idempotent(engine):
    async with client(engine) as c:
        tool = next(t for t in (await c.list_tools()).tools if t.name == "render_deliverables")
    hints = tool.annotations
    assert hints.read_only_hint is False and hints.destructive_hint is True
    assert hints.idempotent_hint is True and hints.open_world_hint is False
    assert "Example" in (tool.description or "")


async def test_render_deliverables_commits_every_file_and_a_second_call_changes_nothing(
    engine, plan_id, repo_dir
):
    revision = fill_plan(engine, plan_id)
    async with client(engine) as c:
        first = await c.call_tool("render_deliverables", {"plan_id": plan_id})
        assert not first.is_error, text(first)
        data = first.structured_content
        assert data["revision"] == revision and data["written"] is True and data["commit"]
        assert sorted(data["changed"]) == sorted(DELIVERABLES) == data["files"]
        assert data["folder"] == f".claude/plans/{plan_id}"
        head = git(repo_dir, "rev-parse", "HEAD")
        assert head.startswith(data["commit"][:12])
        assert "Actor: test-client" in git(repo_dir, "log", "-1", "--format=%B")

        again = await c.call_tool("render_deliverables", {"plan_id": plan_id, "actor": "someone"})
        assert not again.is_error, text(again)
        assert again.structured_content["written"] is False and again.structured_content["commit"] is None
    assert git(repo_dir, "rev-parse", "HEAD") == head
    assert git(repo_dir, "status", "--porcelain") == ""
    assert engine.read_plan(plan_id).revision == revision
    report = (repo_dir / ".claude" / "plans" / plan_id / "report.html").read_text(encoding="utf-8")
    assert all(p.name in report for p in engine.read_plan(plan_id).profiles)


async def test_an_older_revision_is_rendered_from_git(engine, plan_id, repo_dir):
    fill_plan(engine, plan_id)
    async with client(engine) as c:
        result = await c.call_tool("render_deliverables", {"plan_id": plan_id, "revision": 1})
        assert not result.is_error, text(result)
        assert result.structured_content["revision"] == 1
    assert "Plan-Revision: 1" in git(repo_dir, "log", "-1", "--format=%B")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"plan_id": "plan-20990101T000000Z"}, "unknown plan 'plan-20990101T000000Z'"),
        ({"plan_id": "../../etc/passwd"}, "is not a plan id"),
        ({"plan_id": "{plan}", "revision": 5}, "revision 5 of"),
        ({"plan_id": "{plan}", "revision": 0}, "greater than or equal to 1"),
        ({"plan_id": "{plan}", "revision": "two"}, "valid integer"),
        ({"plan_id": "{plan}", "actor": "a" * 500}, "at most 200 characters"),
    ],
)
async def test_bad_input_is_an_error_naming_the_field_and_nothing_is_written(
    engine, plan_id, repo_dir, args, expected
):
    before = tree(repo_dir)
    args = {k: (v.replace("{plan}", plan_id) if isinstance(v, str) else v) for k, v in args.items()}
    async with client(engine) as c:
        result = await c.call_tool("render_deliverables", args)
    assert result.is_error
    assert expected in text(result)
    assert len(text(result)) < 2000
    assert tree(repo_dir) == before

"""Rendering a plan with an uncommitted hand edit is refused, as writes are.

Otherwise the deliverables would show the edit while their commit names the last committed
revision. The error names the file and both ways out; nothing is written or committed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client
from mcp.types import Implementation

from personalization_engine.cli.main import main
from personalization_engine.server import build_server

from ..conftest import git
from .helpers import fill_plan


def hand_edit(repo: Path, plan_id: str) -> Path:
    path = repo / ".claude" / "plans" / f"{plan_id}.json"
    data = json.loads(path.read_text())
    data["initiative"] = "Edited by hand"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def state(repo: Path, plan_id: str) -> tuple[str, str, list[tuple[str, bytes]]]:
    folder = repo / ".claude" / "plans" / plan_id
    files = sorted((p.name, p.read_bytes()) for p in folder.iterdir()) if folder.exists() else []
    return git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain"), files


def assert_names_the_file_and_the_ways_out(message: str, plan_id: str) -> None:
    rel = f".claude/plans/{plan_id}.json"
    assert f"{rel} has changes that personalization-engine did not make" in message, message
    assert "Commit them" in message and f"'git checkout -- {rel}'" in message
    assert "Traceback" not in message


@pytest.mark.parametrize("rendered_before", [False, True])
def test_plans_render_refuses_a_hand_edited_plan_and_writes_nothing(
    engine, plan_id, repo_dir, capsys, rendered_before
):
    fill_plan(engine, plan_id)
    if rendered_before:
        assert main(["plans", "render", plan_id, "--workspace", str(repo_dir)]) == 0
    edited = hand_edit(repo_dir, plan_id)
    edited_bytes = edited.read_bytes()
    capsys.readouterr()
    before = state(repo_dir, plan_id)
    code = main(["plans", "render", plan_id, "--workspace", str(repo_dir)])
    err = capsys.readouterr().err
    assert code == 1
    assert_names_the_file_and_the_ways_out(err, plan_id)
    assert state(repo_dir, plan_id) == before
    assert edited.read_bytes() == edited_bytes  # the edit is the user's: left exactly as it was


def test_once_the_edit_is_committed_render_shows_it(engine, plan_id, repo_dir, capsys):
    fill_plan(engine, plan_id)
    hand_edit(repo_dir, plan_id)
    git(repo_dir, "commit", "-qam", "hand edit")
    assert main(["plans", "render", plan_id, "--workspace", str(repo_dir)]) == 0
    summary = (repo_dir / ".claude" / "plans" / plan_id / "plan.md").read_text()
    assert "Edited by hand" in summary


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_render_deliverables_refuses_a_hand_edited_plan(engine, plan_id, repo_dir):
    fill_plan(engine, plan_id)
    hand_edit(repo_dir, plan_id)
    before = state(repo_dir, plan_id)
    async with Client(build_server(engine), client_info=Implementation(name="t", version="1")) as client:
        result = await client.call_tool("render_deliverables", {"plan_id": plan_id})
    message = " ".join(getattr(part, "text", "") for part in result.content)
    assert result.is_error
    assert_names_the_file_and_the_ways_out(message, plan_id)
    assert state(repo_dir, plan_id) == before

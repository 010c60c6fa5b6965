"""Symlinks inside .claude/plans never lead the store outside the workspace.

Each file or folder the store reads or writes under .claude/plans (the write-state folder and its
files, the lock file, the .gitignore, the deliverables folder and its files) is refused when it is
a symlink, dangling or not: the error names the path and says to remove the link, nothing is
written outside, nothing is committed, and the CLI prints no traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client
from mcp.types import Implementation

from personalization_engine.cli.main import main
from personalization_engine.core.engine import Engine
from personalization_engine.server import build_server

from .conftest import git
from .render.helpers import fill_plan

NEW_PLAN = ["plans", "new", "--initiative", "Second", "--channels", "web"]


def cli(capsys, repo: Path, *argv: str) -> tuple[int, str, str]:
    # main() itself: an exception it does not turn into an error message fails the test, which is
    # what a traceback would be for a user.
    code = main([*argv, "--workspace", str(repo)])
    out, err = capsys.readouterr()
    return code, out, err


def listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


def assert_refused(code: int, err: str, link: Path) -> None:
    assert code == 2, err
    assert err.startswith("error: ") and "Traceback" not in err
    assert f"{str(link)!r} is a symlink" in err
    assert f"Remove the link (rm {link})" in err and "nothing was written" in err


def test_a_state_folder_linked_outside_gets_no_state_files(engine, plan_id, repo_dir, outside, capsys):
    state = repo_dir / ".claude" / "plans" / ".state"
    for child in state.iterdir():
        child.unlink()
    state.rmdir()
    state.symlink_to(outside)
    head = git(repo_dir, "rev-parse", "HEAD")
    for argv in (NEW_PLAN, ["plans", "recover"], ["plans", "show", plan_id]):
        code, _, err = cli(capsys, repo_dir, *argv)
        assert_refused(code, err, state)
    assert listing(outside) == []
    assert git(repo_dir, "rev-parse", "HEAD") == head


def test_a_state_file_linked_outside_is_neither_read_nor_replaced(engine, plan_id, repo_dir, outside, capsys):
    secret = outside / "secret"
    secret.write_text("SECRET-hash committed\n")
    state_file = repo_dir / ".claude" / "plans" / ".state" / f"{plan_id}.sha256"
    state_file.unlink()
    state_file.symlink_to(secret)
    code, _, err = cli(capsys, repo_dir, "plans", "show", plan_id)
    assert_refused(code, err, state_file)
    assert "SECRET" not in err
    assert state_file.is_symlink() and secret.read_text() == "SECRET-hash committed\n"


def test_a_dangling_lock_file_link_creates_nothing_outside(engine, plan_id, repo_dir, outside, capsys):
    lock = repo_dir / ".claude" / "plans" / ".write.lock"
    lock.unlink()
    lock.symlink_to(outside / "created-by-lock")
    code, _, err = cli(capsys, repo_dir, *NEW_PLAN)
    assert_refused(code, err, lock)
    assert listing(outside) == []
    assert [p.name for p in (repo_dir / ".claude" / "plans").glob("plan-*.json")] == [f"{plan_id}.json"]


@pytest.mark.parametrize("target", ["gitignore", "missing-folder/gitignore"])
def test_a_dangling_gitignore_link_writes_nothing_outside_and_prints_no_traceback(
    repo_dir, outside, target, capsys
):
    plans = repo_dir / ".claude" / "plans"
    plans.mkdir(parents=True)
    gitignore = plans / ".gitignore"
    gitignore.symlink_to(outside / target)
    code, _, err = cli(capsys, repo_dir, *NEW_PLAN)
    assert_refused(code, err, gitignore)
    assert listing(outside) == []
    assert list(plans.glob("plan-*.json")) == []
    assert git(repo_dir, "rev-list", "--all") == ""


def test_a_deliverables_folder_linked_outside_gets_nothing(engine, plan_id, repo_dir, outside, capsys):
    fill_plan(engine, plan_id)
    folder = repo_dir / ".claude" / "plans" / plan_id
    folder.symlink_to(outside)
    head = git(repo_dir, "rev-parse", "HEAD")
    code, _, err = cli(capsys, repo_dir, "plans", "render", plan_id)
    assert_refused(code, err, folder)
    assert listing(outside) == []
    assert git(repo_dir, "rev-parse", "HEAD") == head


def test_a_deliverable_linked_outside_is_neither_read_nor_replaced(
    engine, plan_id, repo_dir, outside, capsys
):
    fill_plan(engine, plan_id)
    assert cli(capsys, repo_dir, "plans", "render", plan_id)[0] == 0
    secret = outside / "secret.md"
    secret.write_text("SECRET\n")
    deliverable = repo_dir / ".claude" / "plans" / plan_id / "profiles.md"
    deliverable.unlink()
    deliverable.symlink_to(secret)
    head = git(repo_dir, "rev-parse", "HEAD")
    code, _, err = cli(capsys, repo_dir, "plans", "render", plan_id)
    assert_refused(code, err, deliverable)
    assert deliverable.is_symlink() and secret.read_text() == "SECRET\n"
    assert git(repo_dir, "rev-parse", "HEAD") == head


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_over_mcp_the_links_are_refused_by_name_and_nothing_is_written(
    engine: Engine, plan_id, repo_dir, outside
):
    fill_plan(engine, plan_id)
    plans = repo_dir / ".claude" / "plans"
    lock = plans / ".write.lock"
    lock.unlink()
    lock.symlink_to(outside / "created-by-lock")
    (plans / plan_id).symlink_to(outside)
    head = git(repo_dir, "rev-parse", "HEAD")
    server = build_server(engine)
    async with Client(server, client_info=Implementation(name="t", version="1")) as client:
        created = await client.call_tool("create_plan", {"initiative": "X", "channels": ["web"]})
        lock.unlink()  # the lock link is refused first; the deliverables link is next
        rendered = await client.call_tool("render_deliverables", {"plan_id": plan_id})
    for result, link in ((created, lock), (rendered, plans / plan_id)):
        message = " ".join(getattr(part, "text", "") for part in result.content)
        assert result.is_error and f"{str(link)!r} is a symlink" in message, message
        assert "Traceback" not in message
    assert listing(outside) == []
    assert git(repo_dir, "rev-parse", "HEAD") == head

"""Read-only means read-only: reading, validating, compiling and simulating write nothing anywhere in
the workspace (files and .git alike), and never `git init`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import anyio
import pytest
from mcp import Client

from personalization_engine.audience import write_sample_data
from personalization_engine.cli.main import main
from personalization_engine.core.engine import Engine
from personalization_engine.model import Activation
from personalization_engine.server import build_server

from .conftest import START
from .render.helpers import fill_plan


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Every file and folder under root with its mode and content hash."""
    found: dict[str, tuple[int, str]] = {}
    for path in sorted(root.rglob("*")):
        stat = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        found[path.relative_to(root).as_posix()] = (stat.st_mode, digest)
    return found


@pytest.fixture
def filled(engine: Engine, plan_id: str, repo_dir: Path) -> str:
    fill_plan(engine, plan_id)
    # Data for the impact reads (plans diff --data, plan_diff with data): every column the profiles read.
    write_sample_data(repo_dir / "data" / "users.csv", 50, reference=START)
    return plan_id


def read_commands(plan_id: str, data: Path) -> list[list[str]]:
    record = json.dumps({"plan_tier": "trial"})
    return [
        ["plans", "list"],
        ["plans", "show", plan_id],
        ["plans", "show", plan_id, "--revision", "1"],
        ["plans", "validate", plan_id],
        ["plans", "log", plan_id],
        ["plans", "diff", plan_id, "--from", "1", "--to", "2"],
        ["plans", "diff", plan_id, "--from", "1", "--to", "2", "--data", str(data)],
        ["plans", "impact", plan_id, "--from", "1", "--to", "2", "--data", str(data), "--json"],
        ["plans", "compile", plan_id, "--target", "postgres"],
        ["plans", "compile", plan_id, "--target", "jsonlogic"],
        ["plans", "simulate", plan_id, "--record", record],
    ]


def test_every_read_only_command_leaves_the_workspace_and_git_byte_for_byte_unchanged(
    filled: str, repo_dir: Path, capsys
):
    for argv in read_commands(filled, repo_dir / "data" / "users.csv"):
        before = snapshot(repo_dir)
        code = main([*argv, "--workspace", str(repo_dir)])
        capsys.readouterr()
        assert code in (0, 1), argv  # validate exits 1 when the plan has errors
        assert snapshot(repo_dir) == before, f"{' '.join(argv)} wrote to the workspace"


def test_validate_leaves_no_lock_file_behind_when_the_plans_folder_has_none(
    filled: str, repo_dir: Path, capsys
):
    lock = repo_dir / ".claude" / "plans" / ".write.lock"
    lock.unlink(missing_ok=True)
    assert main(["plans", "validate", filled, "--workspace", str(repo_dir)]) in (0, 1)
    capsys.readouterr()
    assert not lock.exists()


def test_a_read_in_a_folder_that_is_not_a_repository_never_runs_git_init(tmp_path: Path, capsys):
    folder = tmp_path / "plain"
    folder.mkdir()
    assert main(["plans", "list", "--workspace", str(folder)]) == 0
    capsys.readouterr()
    assert not (folder / ".git").exists()
    assert list(folder.iterdir()) == []


def test_every_read_only_tool_leaves_the_workspace_and_git_unchanged(
    engine: Engine, filled: str, repo_dir: Path
):
    calls = [
        ("list_plans", {}),
        ("read_plan", {"plan_id": filled}),
        ("read_plan", {"plan_id": filled, "revision": 1}),
        ("validate_plan", {"plan_id": filled}),
        ("plan_history", {"plan_id": filled}),
        ("plan_diff", {"plan_id": filled, "from_revision": 1, "to_revision": 2}),
        ("plan_diff", {"plan_id": filled, "from_revision": 1, "to_revision": 2, "data": "data/users.csv"}),
        ("compile_rules", {"plan_id": filled, "target": "snowflake"}),
        ("simulate_profiles", {"plan_id": filled, "records": [{"plan_tier": "trial"}]}),
    ]

    async def run() -> None:
        async with Client(build_server(engine)) as client:
            for name, arguments in calls:
                before = snapshot(repo_dir)
                result = await client.call_tool(name, arguments)
                assert not result.is_error, (name, result.content)
                assert snapshot(repo_dir) == before, f"{name} wrote to the workspace"

    anyio.run(run)


def test_a_refused_finalize_leaves_the_workspace_git_and_tags_unchanged(
    engine: Engine, filled: str, repo_dir: Path, capsys
):
    # The filled plan has no approvals (and open findings): the finalize gate refuses it.
    async def run() -> str:
        async with Client(build_server(engine)) as client:
            result = await client.call_tool(
                "finalize_plan", {"plan_id": filled, "expected_revision": engine.read_plan(filled).revision}
            )
            assert result.is_error
            return " ".join(getattr(part, "text", "") for part in result.content)

    before = snapshot(repo_dir)
    assert "cannot be finalized; nothing was written" in anyio.run(run)
    assert snapshot(repo_dir) == before
    assert main(["plans", "finalize", filled, "--workspace", str(repo_dir)]) == 1
    assert "cannot be finalized" in capsys.readouterr().err
    assert snapshot(repo_dir) == before


def test_a_refused_export_leaves_the_workspace_and_git_unchanged(
    engine: Engine, filled: str, repo_dir: Path, capsys
):
    # An email activation without its consent gate is an error: the export refuses it without
    # --allow-errors.
    def ungated(plan):
        activation = Activation(profile_id="dormant-free", channel="email", export_target="dbt")
        return plan.model_copy(update={"activations": (activation,)})

    engine.apply(filled, "activation", ungated, expected_revision=None, actor="test")
    assert any(f.severity == "error" for f in engine.current_findings(filled)[1])

    async def run() -> str:
        async with Client(build_server(engine)) as client:
            result = await client.call_tool("export_activation", {"plan_id": filled, "target": "dbt"})
            assert result.is_error
            return " ".join(getattr(part, "text", "") for part in result.content)

    before = snapshot(repo_dir)
    assert "error finding" in anyio.run(run)
    assert snapshot(repo_dir) == before
    # Exit 2: bad input, as for every refused argument.
    assert main(["plans", "export", filled, "--to", "growthbook", "--workspace", str(repo_dir)]) == 2
    assert "allow-errors" in capsys.readouterr().err
    assert snapshot(repo_dir) == before

"""The CLI is a peer of MCP: stage, ledger and write_plan edits from a terminal, with the tools' JSON."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from mcp import Client

from personalization_engine.cli.main import main
from personalization_engine.core.engine import Engine
from personalization_engine.demo_content import ATTRIBUTES, DATA_SOURCES, PROFILES
from personalization_engine.server import build_server
from personalization_engine.store.workspace import Workspace

from .conftest import START, TickingClock, git, init_repo


def cli(capsys, *argv: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def new_plan(capsys, repo: Path) -> str:
    code, out, _ = cli(
        capsys,
        "plans",
        "new",
        "--workspace",
        str(repo),
        "--initiative",
        "X",
        "--channels",
        "web,email",
        "--json",
        "--frozen-clock",
        "2026-11-24T09:00:00Z",
    )
    assert code == 0
    return json.loads(out)["plan_id"]


def write_file(path: Path, data: object) -> str:
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_a_person_fills_every_stage_from_json_files_and_each_is_one_commit(repo_dir, tmp_path, capsys):
    plan_id = new_plan(capsys, repo_dir)
    steps = [
        ("intake", {"goals": [{"id": "activate", "statement": "Trials reach value in 7 days"}]}),
        ("attributes", {"data_sources": DATA_SOURCES, "attributes": ATTRIBUTES}),
        ("profiles", {"profiles": PROFILES}),
        (
            "activation",
            {
                "activations": [
                    {"profile_id": PROFILES[0]["id"], "channel": "web", "destination": "Optimizely"}
                ]
            },
        ),
        ("governance", {"owners": [{"area": "profiles", "owner": "Maya Chen"}], "qa_cadence": "weekly"}),
    ]
    for revision, (command, arguments) in enumerate(steps, start=1):
        args_file = write_file(tmp_path / f"{command}.json", arguments)
        code, out, err = cli(
            capsys,
            "plans",
            command,
            plan_id,
            "--file",
            args_file,
            "--expected-revision",
            str(revision),
            "--workspace",
            str(repo_dir),
            "--json",
        )
        assert code == 0, err
        assert json.loads(out)["revision"] == revision + 1
    assert git(repo_dir, "rev-list", "--count", "HEAD") == "6"
    assert "Stage: governance" in git(repo_dir, "log", "-1", "--format=%B")


def test_stage_arguments_can_come_from_standard_input(repo_dir, capsys, monkeypatch):
    plan_id = new_plan(capsys, repo_dir)
    code, out, err = cli(
        capsys,
        "plans",
        "intake",
        plan_id,
        "--file",
        "-",
        "--expected-revision",
        "1",
        "--workspace",
        str(repo_dir),
        stdin='{"notes": "from a pipe"}',
        monkeypatch=monkeypatch,
    )
    assert code == 0, err
    assert "revision 2" in out


def test_the_cli_and_the_mcp_tool_build_the_same_plan_content(tmp_path, capsys, anyio_backend_name="asyncio"):
    import anyio

    arguments = {"data_sources": DATA_SOURCES, "attributes": ATTRIBUTES}
    by_cli = init_repo(tmp_path / "cli")
    plan_id = new_plan(capsys, by_cli)
    code, _, err = cli(
        capsys,
        "plans",
        "attributes",
        plan_id,
        "--file",
        write_file(tmp_path / "a.json", arguments),
        "--expected-revision",
        "1",
        "--workspace",
        str(by_cli),
    )
    assert code == 0, err
    by_mcp = init_repo(tmp_path / "mcp")
    engine = Engine(
        Workspace(root=by_mcp.resolve(), source="option"), clock=TickingClock(START), frozen_clock=True
    )

    async def over_mcp() -> None:
        async with Client(build_server(engine)) as client:
            created = await client.call_tool("create_plan", {"initiative": "X", "channels": ["web", "email"]})
            mcp_id = created.structured_content["plan_id"]
            done = await client.call_tool(
                "inventory_attributes", {"plan_id": mcp_id, "expected_revision": 1, **arguments}
            )
            assert not done.is_error, done.content

    anyio.run(over_mcp)
    cli_plan = Engine(Workspace(root=by_cli.resolve(), source="option")).list_plans()[0]
    mcp_plan = engine.list_plans()[0]
    assert cli_plan.attributes == mcp_plan.attributes
    assert cli_plan.data_sources == mcp_plan.data_sources


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"attributes": [{"name": "Bad Name", "type": "string"}]}, "/attributes/0/name"),
        ({"attributes": [{"name": "ok", "type": "colour"}]}, "/attributes/0/type"),
        ({"attributes": [], "surprise": 1}, "/surprise"),
    ],
)
def test_a_bad_item_is_refused_naming_its_pointer_and_nothing_is_written(
    repo_dir, tmp_path, capsys, arguments, expected
):
    plan_id = new_plan(capsys, repo_dir)
    before = git(repo_dir, "rev-parse", "HEAD")
    code, _, err = cli(
        capsys,
        "plans",
        "attributes",
        plan_id,
        "--file",
        write_file(tmp_path / "a.json", arguments),
        "--expected-revision",
        "1",
        "--workspace",
        str(repo_dir),
    )
    assert code != 0
    assert expected in err
    assert git(repo_dir, "rev-parse", "HEAD") == before
    assert git(repo_dir, "status", "--porcelain") == ""


def test_a_file_that_is_not_a_json_object_is_refused(repo_dir, tmp_path, capsys):
    plan_id = new_plan(capsys, repo_dir)
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2", encoding="utf-8")
    code, _, err = cli(
        capsys,
        "plans",
        "intake",
        plan_id,
        "--file",
        str(bad),
        "--expected-revision",
        "1",
        "--workspace",
        str(repo_dir),
    )
    assert code != 0 and "--file" in err and "not JSON" in err
    bad.write_text("[1, 2]", encoding="utf-8")
    code, _, err = cli(
        capsys,
        "plans",
        "intake",
        plan_id,
        "--file",
        str(bad),
        "--expected-revision",
        "1",
        "--workspace",
        str(repo_dir),
    )
    assert code != 0 and "JSON object" in err


def test_blockers_escalate_resolve_and_approvals_are_recorded_from_the_cli(repo_dir, capsys):
    plan_id = new_plan(capsys, repo_dir)
    ws = ["--workspace", str(repo_dir)]
    for _ in range(2):
        code, _, err = cli(
            capsys, "plans", "blocker", plan_id, "--kind", "consent", "--subject", "score on web", *ws
        )
        assert code == 0, err
    assert "Escalation: esc-1 open" in git(repo_dir, "log", "-1", "--format=%B")
    code, _, err = cli(
        capsys, "plans", "resolve", plan_id, "--blocker", "blk-2", "--remediation", "consent fixed", *ws
    )
    assert code == 0, err
    code, _, err = cli(
        capsys,
        "plans",
        "record-approval",
        plan_id,
        "--approver",
        "Grace Kim",
        "--role",
        "Data Privacy Lead",
        "--decision",
        "approved",
        *ws,
    )
    assert code == 0, err
    code, _, err = cli(
        capsys,
        "plans",
        "record-approval",
        plan_id,
        "--approver",
        "Grace Kim",
        "--role",
        "Janitor",
        "--decision",
        "approved",
        *ws,
    )
    assert code != 0 and "role" in err and "Janitor" in err


def test_plans_write_replaces_sections_and_refuses_server_owned_ones(repo_dir, tmp_path, capsys):
    plan_id = new_plan(capsys, repo_dir)
    ws = ["--workspace", str(repo_dir)]
    good = write_file(tmp_path / "s.json", {"sections": {"timeline": "Launch by 2027-02-01"}})
    code, _, err = cli(capsys, "plans", "write", plan_id, "--file", good, "--expected-revision", "1", *ws)
    assert code == 0, err
    before = git(repo_dir, "rev-parse", "HEAD")
    bad = write_file(tmp_path / "b.json", {"sections": {"revision": 9}})
    code, _, err = cli(capsys, "plans", "write", plan_id, "--file", bad, "--expected-revision", "2", *ws)
    assert code != 0 and "revision is server-owned" in err
    assert git(repo_dir, "rev-parse", "HEAD") == before


def test_now_changes_evaluation_only_and_never_dates_a_commit(repo_dir, capsys):
    code, out, _ = cli(
        capsys,
        "plans",
        "new",
        "--workspace",
        str(repo_dir),
        "--initiative",
        "X",
        "--channels",
        "web",
        "--now",
        "2020-01-01T00:00:00Z",
        "--json",
    )
    assert code == 0
    committed = datetime.fromisoformat(git(repo_dir, "log", "-1", "--format=%cI"))
    assert committed.year >= 2026
    assert not json.loads(out)["plan_id"].startswith("plan-2020")
    assert "Clock:" not in git(repo_dir, "log", "-1", "--format=%B")


def test_the_frozen_clock_says_so_in_every_commit(repo_dir, capsys):
    new_plan(capsys, repo_dir)
    assert git(repo_dir, "log", "-1", "--format=%cI").startswith("2026-11-24T09:00:00")
    assert "Clock: frozen" in git(repo_dir, "log", "-1", "--format=%B")
    assert datetime.now(timezone.utc).year >= 2026


def test_plans_recover_removes_an_index_lock_left_by_a_crash_and_writes_work_again(
    repo_dir, capsys, monkeypatch
):
    monkeypatch.setenv("PERSONALIZATION_ENGINE_GIT_LOCK_WAIT", "0")
    plan_id = new_plan(capsys, repo_dir)
    lock = repo_dir / ".git" / "index.lock"
    lock.write_bytes(b"")  # what a git killed mid-commit leaves behind; no git process runs now
    ws = ["--workspace", str(repo_dir)]
    code, _, err = cli(capsys, "plans", "blocker", plan_id, "--kind", "consent", "--subject", "x", *ws)
    assert code != 0 and "plans recover" in err
    code, out, err = cli(capsys, "plans", "recover", *ws)
    assert code == 0, err
    assert "removed stale git lock files" in out and not lock.exists()
    code, _, err = cli(capsys, "plans", "blocker", plan_id, "--kind", "consent", "--subject", "x", *ws)
    assert code == 0, err


def test_a_command_piped_to_head_ends_quietly_without_a_traceback(repo_dir, tmp_path, capsys):
    import subprocess
    import sys

    plan_id = new_plan(capsys, repo_dir)
    # Far more output than a pipe holds (64 KiB), so the writer meets the closed pipe.
    many = [{"name": f"attribute_{i}", "type": "string", "description": "x" * 200} for i in range(1000)]
    args_file = write_file(tmp_path / "a.json", {"attributes": many})
    assert (
        main(
            [
                "plans",
                "attributes",
                plan_id,
                "--file",
                args_file,
                "--expected-revision",
                "1",
                "--workspace",
                str(repo_dir),
            ]
        )
        == 0
    )
    capsys.readouterr()
    command = [
        sys.executable,
        "-m",
        "personalization_engine.cli.main",
        "plans",
        "show",
        plan_id,
        "--json",
        "--workspace",
        str(repo_dir),
    ]
    shown = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert shown.stdout is not None
    shown.stdout.read(10)
    shown.stdout.close()  # as `head -c 10` does
    _, err = shown.communicate(timeout=60)
    assert b"Traceback" not in err and b"BrokenPipeError" not in err
    assert shown.returncode == 141

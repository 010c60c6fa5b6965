"""`personalization-engine plans render`: writes and commits the deliverables, or changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personalization_engine.cli.main import main
from personalization_engine.render import DELIVERABLES

from ..conftest import git
from .helpers import fill_plan


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def folder(repo: Path, plan_id: str) -> Path:
    return repo / ".claude" / "plans" / plan_id


def test_plans_render_writes_every_deliverable_in_one_commit_and_keeps_the_revision(
    engine, plan_id, repo_dir, capsys
):
    revision = fill_plan(engine, plan_id)
    before = int(git(repo_dir, "rev-list", "--count", "HEAD"))
    code, out, _ = run(capsys, "plans", "render", plan_id, "--workspace", str(repo_dir))
    assert code == 0
    assert out.startswith(f"{plan_id}  revision {revision}  commit ")
    assert f"{len(DELIVERABLES)} of {len(DELIVERABLES)} file(s) changed" in out
    assert sorted(p.name for p in folder(repo_dir, plan_id).iterdir()) == sorted(DELIVERABLES)
    assert int(git(repo_dir, "rev-list", "--count", "HEAD")) == before + 1
    assert git(repo_dir, "status", "--porcelain") == ""
    assert engine.read_plan(plan_id).revision == revision
    assert "Actor: cli:Test User" in git(repo_dir, "log", "-1", "--format=%B")


def test_plans_render_again_reports_up_to_date_and_makes_no_commit(engine, plan_id, repo_dir, capsys):
    fill_plan(engine, plan_id)
    run(capsys, "plans", "render", plan_id, "--workspace", str(repo_dir))
    head = git(repo_dir, "rev-parse", "HEAD")
    code, out, _ = run(capsys, "plans", "render", plan_id, "--workspace", str(repo_dir), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["written"] is False and result["commit"] is None and result["changed"] == []
    assert result["files"] == sorted(DELIVERABLES)
    assert result["folder"] == f".claude/plans/{plan_id}"
    assert git(repo_dir, "rev-parse", "HEAD") == head


def test_plans_render_revision_renders_an_older_revision_from_git(engine, plan_id, repo_dir, capsys):
    fill_plan(engine, plan_id)
    code, out, _ = run(
        capsys, "plans", "render", plan_id, "--revision", "1", "--workspace", str(repo_dir), "--json"
    )
    assert code == 0
    assert json.loads(out)["revision"] == 1
    plan_md = (folder(repo_dir, plan_id) / "plan.md").read_text(encoding="utf-8")
    assert "revision 1 ·" in plan_md
    assert "Plan-Revision: 1" in git(repo_dir, "log", "-1", "--format=%B")
    assert "0 attribute(s)" in (folder(repo_dir, plan_id) / "profile-schema.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan-20991231T000000Z"], "plan-20991231T000000Z"),
        (["not-a-plan"], "not-a-plan"),
        (["{plan}", "--revision", "9"], "revision 9"),
        (["{plan}", "--revision", "0"], "revision 0"),
    ],
)
def test_plans_render_bad_input_prints_one_line_naming_the_value_and_writes_nothing(
    plan_id, repo_dir, capsys, args, message
):
    head = git(repo_dir, "rev-parse", "HEAD")
    argv = [a.replace("{plan}", plan_id) for a in args]
    code, out, err = run(capsys, "plans", "render", *argv, "--workspace", str(repo_dir))
    assert code != 0
    assert out == ""
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1
    assert git(repo_dir, "rev-parse", "HEAD") == head
    assert not folder(repo_dir, plan_id).exists()
    assert git(repo_dir, "status", "--porcelain") == ""


def test_plans_render_with_a_non_number_revision_is_a_usage_error(plan_id, repo_dir, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["plans", "render", plan_id, "--revision", "latest", "--workspace", str(repo_dir)])
    assert stop.value.code == 2
    assert "--revision: invalid int value: 'latest'" in capsys.readouterr().err
    assert not folder(repo_dir, plan_id).exists()

"""The `personalization-engine plans` commands, as a person uses them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from personalization_engine.cli.main import main
from personalization_engine.model import Attribute

from .conftest import git


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plans_new_creates_and_commits_a_plan_and_prints_id_and_path(repo_dir, capsys):
    code, out, _ = run(
        capsys,
        "plans",
        "new",
        "--workspace",
        str(repo_dir),
        "--initiative",
        "PLG Onboarding",
        "--channels",
        "web,in-app,email",
        "--metrics",
        "activation rate",
        "--pattern",
        "pipeline",
        "--frozen-clock",
        "2026-11-24T09:00:00Z",
    )
    assert code == 0
    assert out.splitlines()[0].startswith("plan-20261124T090000Z  revision 1  commit ")
    assert out.splitlines()[1].endswith(".claude/plans/plan-20261124T090000Z.json")
    assert "Actor: cli:Test User" in git(repo_dir, "log", "-1", "--format=%B")


def test_plans_new_with_json_prints_the_result(repo_dir, capsys):
    code, out, _ = run(
        capsys,
        "plans",
        "new",
        "--workspace",
        str(repo_dir),
        "--initiative",
        "X",
        "--channels",
        "web",
        "--json",
    )
    assert code == 0
    assert json.loads(out)["revision"] == 1


def test_plans_new_with_a_bad_channel_names_the_field_and_allowed_values(repo_dir, capsys):
    code, _, err = run(
        capsys, "plans", "new", "--workspace", str(repo_dir), "--initiative", "X", "--channels", "web,fax"
    )
    assert code == 2
    assert "/channels/1" in err and "'web', 'in-app', 'email', 'ads' or 'sales'" in err
    assert not (repo_dir / ".claude" / "plans").exists() or not list(
        (repo_dir / ".claude/plans").glob("*.json")
    )


def test_list_show_log_and_diff_report_the_plan_and_its_history(engine, plan_id, repo_dir, capsys):
    def add(plan):
        return plan.model_copy(
            update={"attributes": (*plan.attributes, Attribute(name="plan_tier", type="string"))}
        )

    def change(plan):
        first = plan.attributes[0].model_copy(update={"type": "integer"})
        attributes = (first, *plan.attributes[1:], Attribute(name="signup_at", type="timestamp"))
        return plan.model_copy(update={"attributes": attributes})

    engine.apply(plan_id, "attributes", add, expected_revision=1, actor="alice")
    engine.apply(plan_id, "attributes", change, expected_revision=2, actor="bob")
    ws = ["--workspace", str(repo_dir)]
    code, out, _ = run(capsys, "plans", "list", *ws, "--json")
    assert code == 0 and json.loads(out)[0]["revision"] == 3
    code, out, _ = run(capsys, "plans", "show", plan_id, "--revision", "2", "--json", *ws)
    assert json.loads(out)["attributes"][0]["type"] == "string"
    code, out, _ = run(capsys, "plans", "log", plan_id, *ws, "--json")
    history = json.loads(out)
    assert history["plan_id"] == plan_id
    log = history["revisions"]
    assert [(e["revision"], e["actor"], e["stage"]) for e in log] == [
        (3, "bob", "attributes"),
        (2, "alice", "attributes"),
        (1, "test", "create"),
    ]
    assert log[0]["summary"] == "changed attribute plan_tier: type; added attribute signup_at"
    assert log[0]["commit"] == git(repo_dir, "rev-parse", "HEAD")
    code, out, _ = run(capsys, "plans", "diff", plan_id, "--from", "1", "--to", "3", *ws)
    assert out.splitlines() == ["added attribute plan_tier", "added attribute signup_at"]
    code, out, _ = run(capsys, "plans", "diff", plan_id, "--from", "2", "--to", "3", *ws)
    assert "changed attribute plan_tier" in out and "    type: string -> integer" in out


def test_validate_exits_0_when_clean_1_with_problems_and_2_for_an_unknown_plan(
    engine, plan_id, repo_dir, capsys
):
    ws = ["--workspace", str(repo_dir)]
    assert run(capsys, "plans", "validate", plan_id, *ws)[0] == 0
    broken = repo_dir / "broken.json"
    data = json.loads((repo_dir / ".claude/plans" / f"{plan_id}.json").read_text())
    data["revision"] = "x"
    data["channels"] = ["fax"]
    broken.write_text(json.dumps(data))
    code, out, _ = run(capsys, "plans", "validate", str(broken), *ws)
    assert code == 1
    assert "/revision" in out and "/channels/0" in out
    code, _, err = run(capsys, "plans", "validate", "plan-20990101T000000Z", *ws)
    assert code == 2 and "unknown plan" in err


def test_validate_refuses_a_file_outside_the_workspace(plan_id, repo_dir, tmp_path, capsys):
    outside = tmp_path / "elsewhere.json"
    outside.write_text("{}")
    code, _, err = run(capsys, "plans", "validate", str(outside), "--workspace", str(repo_dir))
    assert code == 2 and "outside the workspace" in err


def test_errors_print_one_line_and_debug_shows_the_traceback(repo_dir, capsys):
    code, _, err = run(capsys, "plans", "show", "../etc", "--workspace", str(repo_dir))
    assert code == 2 and err.count("\n") == 1 and "is not a plan id" in err
    with pytest.raises(Exception, match="is not a plan id"):
        main(["--debug", "plans", "show", "../etc", "--workspace", str(repo_dir)])


def test_the_console_script_runs_in_a_subprocess(repo_dir):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "personalization_engine.cli.main",
            "plans",
            "list",
            "--workspace",
            str(repo_dir),
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "no plans yet" in proc.stdout


def test_every_cli_command_has_help_and_an_example():
    from personalization_engine.cli.main import build_parser

    parser = build_parser()

    def walk(p, path):
        actions = [a for a in p._actions if a.__class__.__name__ == "_SubParsersAction"]
        if not actions:
            yield path, p
            return
        for name, sub in actions[0].choices.items():
            yield from walk(sub, [*path, name])

    commands = list(walk(parser, []))
    assert len(commands) >= 6
    for path, sub in commands:
        assert sub.description, path
        assert "Example:" in (sub.epilog or ""), path
    documented = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text()
    for path, _ in commands:
        assert f"personalization-engine {' '.join(path)}" in documented, path

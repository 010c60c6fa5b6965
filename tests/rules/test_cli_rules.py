"""`plans simulate` and `plans compile` on a real repository, through the CLI entry point."""

from __future__ import annotations

import json

import pytest
import sqlglot

from personalization_engine.cli.main import main

from ..conftest import git
from .helpers import ENGAGED, NEW_FREE, write_profiles

NOW = "2026-11-24T09:00:00Z"


@pytest.fixture
def stored(engine, plan_id):
    write_profiles(engine, plan_id, [NEW_FREE, ENGAGED])
    return plan_id


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_an_inline_record_prints_verdicts_and_the_deciding_conditions(capsys, repo_dir, stored):
    record = '{"id": "u1", "plan_tier": "free", "signup_at": "2026-11-20", "email_bounced": false}'
    code, out, _ = run(
        capsys, "plans", "simulate", stored, "--record", record, "--workspace", str(repo_dir), "--now", NOW
    )
    assert code == 0
    assert "1 record(s) evaluated at 2026-11-24T09:00:00+00:00" in out
    assert "new-free: member" in out
    assert "true    plan_tier = 'free'  [/profiles/0/eligibility/all/0]" in out
    assert "winners: new-free 1, engaged 0; no winner: 0" in out


def test_simulate_records_from_a_workspace_file_as_json(capsys, repo_dir, stored):
    (repo_dir / "samples.csv").write_text(
        "id,plan_tier,signup_at,email_bounced,sessions,last_seen_at\n"
        "u1,free,2026-11-20,false,,\n"
        "u2,pro,,,9,2026-11-24T09:00:00Z\n"
        "u3,free,,,,\n"
    )
    code, out, _ = run(
        capsys,
        "plans",
        "simulate",
        stored,
        "--records",
        str(repo_dir / "samples.csv"),
        "--json",
        "--workspace",
        str(repo_dir),
        "--now",
        NOW,
    )
    assert code == 0
    result = json.loads(out)
    assert [r["winner"] for r in result["records"]] == ["new-free", "engaged", None]
    assert result["records"][1]["scores"] == {"engaged": 3.5}
    assert result["explained"] is True
    assert result["records"][1]["fallback"] is None  # plan_tier 'pro' decides new-free without signup_at
    assert result["records"][2]["fallback"] == {
        "profile_id": "new-free",
        "fallback": "generic onboarding",
        "missing": ["email_bounced", "signup_at"],
    }


def test_simulate_without_explanations(capsys, repo_dir, stored):
    code, out, _ = run(
        capsys,
        "plans",
        "simulate",
        stored,
        "--record",
        '[{"plan_tier": "free"}]',
        "--no-explain",
        "--json",
        "--workspace",
        str(repo_dir),
        "--now",
        NOW,
    )
    assert code == 0
    assert json.loads(out)["records"][0]["explanations"] is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--record", "{oops"], "error: --record: is not valid JSON"),
        (["--record", "[1, 2]"], "error: --record: must be a JSON object (one record) or a list of objects"),
        (["--records", "/etc/passwd"], "is outside the workspace"),
        (["--record", '{"sessions": "many"}'], "record 0: sessions = 'many' is not a valid integer"),
    ],
)
def test_simulate_bad_input_is_one_line_on_stderr_and_writes_nothing(capsys, repo_dir, stored, argv, message):
    head = git(repo_dir, "rev-parse", "HEAD")
    code, out, err = run(
        capsys, "plans", "simulate", stored, *argv, "--workspace", str(repo_dir), "--now", NOW
    )
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert out == ""
    assert git(repo_dir, "rev-parse", "HEAD") == head
    assert git(repo_dir, "status", "--porcelain") == ""


def test_simulate_needs_records_or_a_record(capsys, repo_dir, stored):
    with pytest.raises(SystemExit) as caught:
        main(["plans", "simulate", stored, "--workspace", str(repo_dir)])
    assert caught.value.code == 2
    assert "one of the arguments --records --record is required" in capsys.readouterr().err


@pytest.mark.parametrize("target", ["duckdb", "postgres", "snowflake", "bigquery", "databricks"])
def test_compile_prints_sql_for_each_dialect(capsys, repo_dir, stored, target):
    code, out, _ = run(capsys, "plans", "compile", stored, "--target", target, "--workspace", str(repo_dir))
    assert code == 0
    selects = [name.lower() for name in sqlglot.parse_one(out, read=target).named_selects[:2]]
    assert selects == ["id", "winner"]  # Snowflake's are upper case, as its unquoted names fold


def test_compile_json_wraps_the_sql_with_plan_and_revision(capsys, repo_dir, stored):
    code, out, _ = run(
        capsys,
        "plans",
        "compile",
        stored,
        "--target",
        "duckdb",
        "--json",
        "--now",
        NOW,
        "--table",
        "analytics.users",
        "--id-column",
        "user_id",
        "--workspace",
        str(repo_dir),
    )
    data = json.loads(out)
    assert (code, data["target"], data["plan_id"], data["revision"]) == (0, "duckdb", stored, 2)
    assert 'FROM "analytics"."users"' in data["sql"]
    assert 'EPOCH_US("signup_at") >= 1794301200000000 /* 2026-11-10T09:00:00Z */' in data["sql"]


def test_compile_to_json_logic(capsys, repo_dir, stored):
    code, out, _ = run(
        capsys, "plans", "compile", stored, "--target", "jsonlogic", "--workspace", str(repo_dir)
    )
    data = json.loads(out)
    assert code == 0
    assert data["now_var"] == "$now"
    assert sorted(data["profiles"]) == ["engaged", "new-free"]
    assert "half_life_decay" in data["custom_operations"]


def test_compile_an_unknown_plan_or_target_fails_cleanly(capsys, repo_dir, stored):
    code, _, err = run(
        capsys,
        "plans",
        "compile",
        "plan-20990101T000000Z",
        "--target",
        "duckdb",
        "--workspace",
        str(repo_dir),
    )
    assert code == 2
    assert err.startswith("error: ")
    with pytest.raises(SystemExit):
        main(["plans", "compile", stored, "--target", "oracle", "--workspace", str(repo_dir)])
    assert "invalid choice: 'oracle'" in capsys.readouterr().err


def test_the_cli_offers_exactly_the_compiler_targets():
    from personalization_engine.cli import rules_commands
    from personalization_engine.rules import SQL_DIALECTS

    assert (*SQL_DIALECTS, "jsonlogic") == rules_commands.TARGETS

"""The impact of a change where people and models ask for it: `plans diff --data`, `plans impact
[--record]`, plan_diff and record_impact in process and over stdio; bad input refused by name with
nothing written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import anyio
import pytest
from mcp import Client

from personalization_engine.cli.main import main
from personalization_engine.core.engine import Engine
from personalization_engine.model.final import content_sha256
from personalization_engine.server import build_server

from ..audience.conftest import snapshot
from ..conftest import git

NOW_TEXT = "2026-11-24T09:00:00Z"


def cli(repo_dir: Path, capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["plans", *argv, "--workspace", str(repo_dir)])
    out, err = capsys.readouterr()
    return code, out, err


def data_args(users_csv: Path) -> list[str]:
    return ["--data", str(users_csv), "--now", NOW_TEXT]


def test_plans_diff_with_data_prints_the_field_diff_the_flows_and_the_driver_and_writes_nothing(
    engine: Engine, impact_plan: str, users_csv: Path, repo_dir: Path, capsys
):
    before = snapshot(engine, impact_plan)
    code, out, err = cli(
        repo_dir, capsys, "diff", impact_plan, "--from", "2", "--to", "3", *data_args(users_csv)
    )
    assert code == 0, err
    assert "changed profile trial" in out
    assert "4 records move; 4 stay where they were" in out
    assert re.search(r"\ntrial +\(none\) +2\n", out)
    assert "trial: condition added at /profiles/0/eligibility/all/1 (revision 3): seats < 5; 3 of 3" in out
    assert "e.g. id 2" in out
    assert snapshot(engine, impact_plan) == before
    # plans impact without --record prints the same
    code, same, _ = cli(
        repo_dir, capsys, "impact", impact_plan, "--from", "2", "--to", "3", *data_args(users_csv)
    )
    assert (code, same) == (0, out)
    assert snapshot(engine, impact_plan) == before


def test_plans_diff_json_keeps_its_shape_without_data_and_adds_the_impact_with_it(
    impact_plan: str, users_csv: Path, repo_dir: Path, capsys
):
    code, out, _ = cli(repo_dir, capsys, "diff", impact_plan, "--from", "2", "--to", "3", "--json")
    assert code == 0 and isinstance(json.loads(out), list)
    code, out, _ = cli(
        repo_dir, capsys, "diff", impact_plan, "--from", "2", "--to", "3", *data_args(users_csv), "--json"
    )
    answer = json.loads(out)
    assert answer["impact"]["row_count"] == 8 and answer["changes"]
    assert {"from_profile": None, "to_profile": "big", "records": 1} in answer["impact"]["flows"]


def test_plans_impact_record_appends_one_impact_run_in_one_commit_and_leaves_the_content_alone(
    engine: Engine, impact_plan: str, users_csv: Path, repo_dir: Path, capsys
):
    plan = engine.read_plan(impact_plan)
    args = ["impact", impact_plan, "--from", "2", "--to", "3", *data_args(users_csv), "--record", "--json"]
    code, out, err = cli(repo_dir, capsys, *args, "--actor", "analyst")
    assert code == 0, err
    answer = json.loads(out)
    after = engine.read_plan(impact_plan)
    assert after.revision == plan.revision + 1 == answer["write"]["revision"]
    assert content_sha256(after) == content_sha256(plan)  # a ledger write: a final plan stays final
    (run,) = after.impact_runs
    assert (run.id, run.actor, run.from_revision, run.to_revision, run.row_count) == (
        "impact-1",
        "analyst",
        2,
        3,
        8,
    )
    assert (
        run.source.location == "data/users.csv"
        and run.evaluated_at.isoformat() == "2026-11-24T09:00:00+00:00"
    )
    assert answer["run"]["profiles"][0]["drivers"][0]["example_id"] == "2"
    message = git(repo_dir, "log", "-1", "--format=%B")
    assert "Stage: impact" in message and "Actor: analyst" in message
    assert git(repo_dir, "status", "--porcelain", "--", ".claude") == ""


@pytest.mark.parametrize(
    ("revisions", "field", "text"),
    [
        (("2", "9"), "to_revision", "revision 9 of {plan} does not exist; revisions run 1..5"),
        (("0", "3"), "from_revision", "revision 0 of {plan} does not exist; revisions run 1..5"),
        (("3", "3"), "to_revision", "from_revision and to_revision are both 3; name two different revisions"),
    ],
)
def test_impact_between_revisions_that_do_not_exist_is_refused_by_name_and_nothing_is_written(
    engine: Engine, impact_plan: str, users_csv: Path, repo_dir: Path, capsys, revisions, field, text
):
    before = snapshot(engine, impact_plan)
    for command in (["diff"], ["impact"], ["impact", "--record"]):
        args = [command[0], impact_plan, "--from", revisions[0], "--to", revisions[1], *command[1:]]
        code, _, err = cli(repo_dir, capsys, *args, *data_args(users_csv))
        assert code == 2, err
        assert f"error: {field}: {text.format(plan=impact_plan)}" in err
        assert snapshot(engine, impact_plan) == before

    async def call() -> str:
        async with Client(build_server(engine)) as client:
            result = await client.call_tool(
                "record_impact",
                {"plan_id": impact_plan, "from_revision": int(revisions[0]) or 1,
                 "to_revision": int(revisions[1]), "data": "data/users.csv"},
            )  # fmt: skip
            assert result.is_error
            return result.content[0].text

    if revisions[0] != "0":  # the tool's schema refuses 0 itself
        assert text.format(plan=impact_plan) in anyio.run(call)
    assert snapshot(engine, impact_plan) == before


def test_data_lacking_a_column_the_older_revision_reads_or_the_id_is_refused_and_nothing_is_written(
    engine: Engine, impact_plan: str, repo_dir: Path, capsys
):
    before = snapshot(engine, impact_plan)
    no_seats = repo_dir / "data" / "no_seats.csv"
    no_seats.parent.mkdir(exist_ok=True)
    no_seats.write_text("id,plan_tier\n1,trial\n", encoding="utf-8")
    code, _, err = cli(
        repo_dir, capsys, "impact", impact_plan, "--from", "2", "--to", "1", "--data", str(no_seats)
    )
    assert code == 2
    assert "data/no_seats.csv (for revision 2) has no column for seats, which the profiles read" in err
    no_id = repo_dir / "data" / "no_id.csv"
    no_id.write_text("user,plan_tier,seats\n1,trial,3\n", encoding="utf-8")
    code, _, err = cli(
        repo_dir, capsys, "impact", impact_plan, "--from", "2", "--to", "3", "--data", str(no_id), "--record"
    )
    assert code == 2
    assert "has no id column 'id' (success_metrics.activation_lift.id_column" in err
    assert snapshot(engine, impact_plan) == before


def test_plan_diff_and_record_impact_in_process_answer_like_the_cli(
    engine: Engine, impact_plan: str, users_csv: Path, repo_dir: Path
):
    before = snapshot(engine, impact_plan)
    base = {
        "plan_id": impact_plan,
        "from_revision": 2,
        "to_revision": 3,
        "data": "data/users.csv",
        "now": NOW_TEXT,
    }

    async def calls() -> tuple[dict, dict]:
        async with Client(build_server(engine)) as client:
            diff = await client.call_tool("plan_diff", base)
            assert not diff.is_error, diff.content
            assert snapshot(engine, impact_plan) == before  # read-only
            recorded = await client.call_tool("record_impact", base)
            assert not recorded.is_error, recorded.content
            return diff.structured_content, recorded.structured_content

    diff, recorded = anyio.run(calls)
    assert diff["impact"]["flows"] == recorded["run"]["flows"]
    assert recorded["write"]["revision"] == before[0] + 1
    assert (
        engine.read_plan(impact_plan).impact_runs[0].flows
        == engine.read_plan(impact_plan).impact_runs[0].flows
    )


def test_record_impact_through_the_real_server_over_stdio_commits_the_run(
    impact_plan: str, users_csv: Path, repo_dir: Path
):
    from ..test_transports import stdio_params

    async def call() -> dict:
        with anyio.fail_after(120):
            async with Client(stdio_params(repo_dir)) as client:
                arguments = {
                    "plan_id": impact_plan,
                    "from_revision": 2,
                    "to_revision": 4,
                    "data": "data/users.csv",
                }
                result = await client.call_tool("record_impact", {**arguments, "actor": "stdio-test"})
                assert not result.is_error, result.content
                return result.structured_content

    done = anyio.run(call)
    assert done["run"]["flows"][0]["records"] >= 1 and done["write"]["commit"]
    assert {"from_profile": "trial", "to_profile": "big", "records": 1} in done["run"]["flows"]
    assert "Actor: stdio-test" in git(repo_dir, "log", "-1", "--format=%B", done["write"]["commit"])
    assert git(repo_dir, "status", "--porcelain", "--", ".claude") == ""


def test_the_report_renders_the_latest_impact_run_as_a_flow_table(
    engine: Engine, impact_plan: str, users_csv: Path, repo_dir: Path, capsys
):
    from personalization_engine.render import render_report_html

    assert 'id="impact"' not in render_report_html(engine.read_plan(impact_plan))
    args = ["impact", impact_plan, "--from", "2", "--to", "3", *data_args(users_csv), "--record"]
    assert cli(repo_dir, capsys, *args)[0] == 0
    html = render_report_html(engine.read_plan(impact_plan))
    section = html[html.index('<section id="impact">') : html.index('<section id="governance">')]
    assert "<th>From \\ to</th><th>trial</th><th>big</th><th>(none)</th>" in section
    # trial -> (none): 2 records, a move; trial -> trial: 1, no move
    assert (
        '<tr><th>trial</th><td class="">1</td><td class="pending">1</td><td class="pending">2</td></tr>'
        in section
    )
    assert "condition added <code>/profiles/0/eligibility/all/1</code> (revision 3): seats &lt; 5" in section
    assert "4 records move" in section


@pytest.mark.parametrize(
    ("extra", "text"),
    [
        ([], "error: --data: name the records to evaluate: --data FILE or --dsn DSN --table T"),
        (["--record"], "error: --data: name the records to evaluate"),
        (
            ["--data", "x.csv", "--actor", "a"],
            "error: --record: --expected-revision and --actor go with --record",
        ),
    ],
)
def test_plans_impact_without_data_or_with_record_options_alone_is_refused_and_writes_nothing(
    engine: Engine, impact_plan: str, repo_dir: Path, capsys, extra, text
):
    before = snapshot(engine, impact_plan)
    code, _, err = cli(repo_dir, capsys, "impact", impact_plan, "--from", "2", "--to", "3", *extra)
    assert code == 2 and text in err
    assert snapshot(engine, impact_plan) == before


@pytest.mark.slow
def test_the_demos_impact_step_records_the_impact_of_one_rule_change_after_launch(tmp_path: Path):
    import io

    from personalization_engine import demo
    from personalization_engine.docgen import EXAMPLE_NOW

    assert demo.impact_steps in demo.EXTRA_STEPS
    out = io.StringIO()
    demo.run_demo(str(tmp_path / "demo"), EXAMPLE_NOW, out=out)
    text = out.getvalue()
    assert "r28 record_impact r26 -> r27: 309 of 20,000 people move" in text
    # The team keeps the launched rule: the plan is final again, and the final review says so.
    assert "the team keeps the launched rule (r29): the plan is final again" in text
    assert "(none)                 -> power-user-upgrade        309" in text
    assert (
        "power-user-upgrade: condition changed /profiles/3/eligibility/all/1 (feature_adoption_score" in text
    )

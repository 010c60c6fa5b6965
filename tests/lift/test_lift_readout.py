"""The lift readout at the surfaces people and models touch: plans lift, measure_lift (in memory
and over stdio), what it stores, and each bad input refused by name with nothing written."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import anyio
import duckdb
import pytest
from mcp import Client, StdioServerParameters

from personalization_engine.checks.run import run_checks
from personalization_engine.cli.main import main
from personalization_engine.core.engine import Engine
from personalization_engine.core.lift_op import LiftSources, measure_lift
from personalization_engine.errors import InputError
from personalization_engine.model.final import is_final
from personalization_engine.rules import simulate
from personalization_engine.rules.holdout import in_holdout, plan_salt, profile_shares
from personalization_engine.server import build_server

from ..conftest import START, git
from ..finalize_helpers import ready_plan
from .helpers import LIFTS, OUTCOMES, RECORDS, with_holdouts, write_data

AS_OF = START.isoformat().replace("+00:00", "Z")


@pytest.fixture
def launched(engine: Engine, plan_id: str, repo_dir: Path, monkeypatch) -> str:
    monkeypatch.chdir(repo_dir)  # the CLI reads relative paths from where the person stands
    with_holdouts(engine, plan_id)
    write_data(engine, plan_id, repo_dir)
    git(repo_dir, "add", "data")
    git(repo_dir, "commit", "-qm", "data")
    return plan_id


def state(repo: Path, plan_id: str) -> tuple[bytes, str]:
    return (repo / ".claude" / "plans" / f"{plan_id}.json").read_bytes(), git(repo, "log", "--oneline")


def lift_cli(repo: Path, plan_id: str, *extra: str, capsys) -> tuple[int, str, str]:
    code = main(["plans", "lift", plan_id, "--workspace", str(repo), "--as-of", AS_OF, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_plans_lift_stores_one_readout_and_sets_the_actual_lift_from_the_pooled_figure(
    engine: Engine, launched: str, repo_dir: Path, capsys
):
    before = engine.read_plan(launched).revision
    code, out, err = lift_cli(
        repo_dir, launched, "--data", str(repo_dir / RECORDS), "--outcomes", str(repo_dir / OUTCOMES),
        "--value-column", "revenue", "--json", capsys=capsys,
    )  # fmt: skip
    assert code == 0, err
    answer = json.loads(out)
    plan = engine.read_plan(launched)
    assert plan.revision == before + 1 == answer["write"]["revision"]
    (stored,) = plan.lift_measurements
    assert stored.model_dump(mode="json") == answer["readout"]
    assert stored.id == "lift-1" and stored.plan_revision == before and stored.launched_at == START
    assert stored.membership.location == RECORDS and stored.outcomes.location == OUTCOMES
    assert "Newcombe" in stored.interval_method and "Katz" in stored.ratio_method
    assert plan.success_metrics.activation_lift.actual == stored.overall.relative_lift_pct
    assert git(repo_dir, "log", "-1", "--format=%(trailers:key=Stage,valueonly)") == "measurement"
    by_id = {p.profile_id: p for p in stored.profiles}
    assert by_id["stalled-trial"].holdout_share == 0.25 and by_id["dormant-free"].holdout_share == 0.1
    for profile in stored.profiles:
        assert profile.treatment + profile.holdout > 0
        assert profile.value is not None and profile.srm_p_value is not None


def test_the_readout_interval_contains_the_planted_lift_of_each_profile_with_enough_people(
    engine: Engine, launched: str, repo_dir: Path
):
    readout = measure_lift(
        engine, launched, LiftSources(data=RECORDS, outcomes=OUTCOMES), as_of=START, actor="test"
    ).measurement
    for profile in readout.profiles:
        if profile.profile_id in LIFTS and profile.relative_ci_pct is not None:
            low, high = profile.relative_ci_pct
            assert low <= 100 * LIFTS[profile.profile_id] <= high, profile


def test_counts_equal_simulate_winners_and_python_holdout_assignment_on_the_same_records(
    engine: Engine, launched: str, repo_dir: Path
):
    plan = engine.read_plan(launched)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    cursor = con.execute(f"SELECT * FROM read_parquet('{repo_dir / RECORDS}')")
    names = [d[0] for d in cursor.description]
    records = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    verdicts = simulate(plan, records, START, explain=False).records
    shares, salt = profile_shares(plan), plan_salt(plan)
    expected: dict[str, list[int]] = {}
    for record, verdict in zip(records, verdicts, strict=True):
        if verdict.winner:
            held = in_holdout(salt, verdict.winner, record["id"], shares[verdict.winner])
            expected.setdefault(verdict.winner, [0, 0])[held] += 1
    readout = measure_lift(
        engine, launched, LiftSources(data=RECORDS, outcomes=OUTCOMES), as_of=START, actor="test"
    ).measurement
    assert {
        p.profile_id: [p.treatment, p.holdout] for p in readout.profiles if p.treatment + p.holdout
    } == expected
    assert readout.records == len(records)


def test_measure_lift_keeps_a_final_plan_final(engine: Engine, repo_dir: Path):
    plan_id = ready_plan(engine)

    async def finalize() -> None:
        async with Client(build_server(engine)) as client:
            revision = engine.read_plan(plan_id).revision
            done = await client.call_tool(
                "finalize_plan", {"plan_id": plan_id, "expected_revision": revision}
            )
            assert not done.is_error, done.content

    anyio.run(finalize)
    assert is_final(engine.read_plan(plan_id))
    write_data(engine, plan_id, repo_dir)
    measure_lift(engine, plan_id, LiftSources(data=RECORDS, outcomes=OUTCOMES), as_of=START, actor="test")
    plan = engine.read_plan(plan_id)
    assert len(plan.lift_measurements) == 1 and is_final(plan)
    assert plan.success_metrics.activation_lift.actual is not None
    # A readout is a measurement, not a change: no approval goes stale.
    assert "approval.stale" not in {f.code for f in run_checks(plan)}


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_measure_lift_through_the_in_memory_client_answers_the_readout_and_its_write(
    engine: Engine, launched: str, anyio_backend
):
    async with Client(build_server(engine)) as client:
        result = await client.call_tool(
            "measure_lift",
            {"plan_id": launched, "as_of": AS_OF, "data": RECORDS, "outcomes": OUTCOMES, "actor": "model"},
        )
    assert not result.is_error, result.content
    data = result.structured_content
    assert data["write"]["revision"] == engine.read_plan(launched).revision
    assert data["readout"]["actor"] == "model" and len(data["readout"]["profiles"]) == 5


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_measure_lift_over_a_stdio_subprocess_stores_the_readout(
    engine: Engine, launched: str, repo_dir: Path, anyio_backend
):
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "personalization_engine.cli.main", "serve", "--workspace", str(repo_dir)],
        env=dict(os.environ),
        cwd=str(repo_dir),
    )
    with anyio.fail_after(120):
        async with Client(params) as client:
            result = await client.call_tool(
                "measure_lift", {"plan_id": launched, "as_of": AS_OF, "data": RECORDS, "outcomes": OUTCOMES}
            )
    assert not result.is_error, result.content
    assert len(engine.read_plan(launched).lift_measurements) == 1


def _rewrite_outcomes(repo: Path, select: str, name: str = "data/bad.csv") -> str:
    con = duckdb.connect()
    con.execute(
        f"COPY ({select.format(o=repr(str(repo / OUTCOMES)))}) TO '{repo / name}' (FORMAT csv, HEADER true)"
    )
    return name


BAD_OUTCOMES = [
    (
        "SELECT * FROM read_parquet({o}) UNION ALL (SELECT * FROM read_parquet({o}) ORDER BY id LIMIT 3)",
        "has 3 ids on more than one row (e.g. '1')",
    ),
    (
        "SELECT * FROM read_parquet({o}) UNION ALL SELECT 99999999 AS id, true AS converted, 1.0 AS revenue",
        "has 1 id that match no record of the membership data (e.g. '99999999')",
    ),
    ("SELECT id, revenue FROM read_parquet({o})", "has no KPI column 'converted'"),
    (
        # 1/0 in a CSV reads as a number; DuckDB already reads true/false and yes/no as booleans.
        "SELECT id, CAST(converted AS INTEGER) AS converted FROM read_parquet({o})",
        "KPI column converted of data/bad.csv is BIGINT, not boolean",
    ),
]


@pytest.mark.parametrize(("select", "message"), BAD_OUTCOMES)
def test_bad_outcomes_are_refused_by_name_and_nothing_is_written(
    launched: str, repo_dir: Path, capsys, select: str, message: str
):
    bad = _rewrite_outcomes(repo_dir, select)
    before = state(repo_dir, launched)
    code, _, err = lift_cli(repo_dir, launched, "--data", RECORDS, "--outcomes", bad, capsys=capsys)
    assert code == 2 and message in err, err
    assert state(repo_dir, launched) == before


def test_outcomes_outside_the_workspace_are_refused_and_nothing_is_written(
    launched: str, repo_dir: Path, tmp_path: Path, capsys
):
    outside = tmp_path / "outcomes.parquet"
    outside.write_bytes((repo_dir / OUTCOMES).read_bytes())
    before = state(repo_dir, launched)
    code, _, err = lift_cli(repo_dir, launched, "--data", RECORDS, "--outcomes", str(outside), capsys=capsys)
    assert code == 2 and "is outside the workspace" in err and "outcomes" in err
    assert state(repo_dir, launched) == before


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_measure_lift_refuses_duplicate_ids_through_mcp_naming_the_field_and_writes_nothing(
    engine: Engine, launched: str, repo_dir: Path, anyio_backend
):
    bad = _rewrite_outcomes(repo_dir, BAD_OUTCOMES[0][0])
    before = state(repo_dir, launched)
    async with Client(build_server(engine)) as client:
        result = await client.call_tool(
            "measure_lift", {"plan_id": launched, "as_of": AS_OF, "data": RECORDS, "outcomes": bad}
        )
    text = " ".join(getattr(part, "text", "") for part in result.content)
    assert result.is_error and "outcomes" in text and "more than one row" in text
    assert state(repo_dir, launched) == before


def test_a_plan_without_holdouts_is_refused_by_name(
    engine: Engine, plan_id: str, repo_dir: Path, capsys, monkeypatch
):
    from ..render.helpers import fill_plan

    fill_plan(engine, plan_id)
    write_data(engine, plan_id, repo_dir)
    monkeypatch.chdir(repo_dir)
    before = state(repo_dir, plan_id)
    code, _, err = lift_cli(repo_dir, plan_id, "--data", RECORDS, "--outcomes", OUTCOMES, capsys=capsys)
    assert code == 2 and "success_metrics.activation_lift" in err
    assert state(repo_dir, plan_id) == before


def test_the_report_and_the_plan_summary_show_the_latest_readout(engine: Engine, launched: str):
    from personalization_engine.render import render_plan_md, render_report_html

    assert "Lift readout" not in render_report_html(engine.read_plan(launched))
    measure_lift(engine, launched, LiftSources(data=RECORDS, outcomes=OUTCOMES), as_of=START, actor="test")
    plan = engine.read_plan(launched)
    overall = plan.lift_measurements[-1].overall
    summary = render_plan_md(plan)
    assert "### Latest lift readout" in summary and "| `overall` |" in summary
    assert f"| {round(overall.relative_lift_pct, 1):g}% |" in summary  # the actual beside the target
    report = render_report_html(plan)
    assert '<section id="lift">' in report and "Newcombe" in report and "<code>stalled-trial</code>" in report


def _outcomes_as(repo: Path, select: str, name: str) -> str:
    con = duckdb.connect()
    con.execute(f"COPY ({select.format(o=repr(str(repo / OUTCOMES)))}) TO '{repo / name}' (FORMAT parquet)")
    return name


def test_text_ids_in_the_outcomes_meet_integer_ids_in_the_records_on_their_canonical_text(
    engine: Engine, launched: str, repo_dir: Path
):
    text_ids = _outcomes_as(
        repo_dir,
        "SELECT CAST(id AS VARCHAR) AS id, converted FROM read_parquet({o})",
        "data/text-ids.parquet",
    )
    as_text = measure_lift(
        engine, launched, LiftSources(data=RECORDS, outcomes=text_ids), as_of=START, actor="t"
    )
    as_integers = measure_lift(
        engine, launched, LiftSources(data=RECORDS, outcomes=OUTCOMES), as_of=START, actor="t"
    )
    assert as_text.measurement.profiles == as_integers.measurement.profiles


def test_a_null_or_unicode_id_in_the_outcomes_matches_no_record_and_is_refused_by_name(
    engine: Engine, launched: str, repo_dir: Path
):
    for extra, shown in (("NULL", "a null id"), ("'Ünïcode-42'", "'Ünïcode-42'")):
        select = (
            "SELECT CAST(id AS VARCHAR) AS id, converted FROM read_parquet({o}) "
            f"UNION ALL SELECT {extra}, false"
        )
        name = _outcomes_as(repo_dir, select, "data/odd.parquet")
        before = state(repo_dir, launched)
        with pytest.raises(InputError, match="match no record") as caught:
            measure_lift(engine, launched, LiftSources(data=RECORDS, outcomes=name), as_of=START, actor="t")
        assert shown in str(caught.value) and caught.value.field == "outcomes"
        assert state(repo_dir, launched) == before


def test_sample_data_writes_the_same_outcomes_for_the_same_seed_and_refuses_an_unknown_profile(
    launched: str, repo_dir: Path, capsys
):
    def sample(out: str, *lift: str, seed: str = "3") -> int:
        argv = ["sample-data", "--outcomes-for", launched, "--records", RECORDS, "--as-of", AS_OF]
        argv += [item for pair in (("--lift", entry) for entry in lift) for item in pair]
        return main([*argv, "--seed", seed, "--workspace", str(repo_dir), out, "--json"])

    assert sample("data/a.csv", "new-trial-activation=0.2") == 0
    written = json.loads(capsys.readouterr().out)
    assert written["lifts"]["new-trial-activation"] == 0.2 and written["lifts"]["dormant-free"] == 0.0
    assert sample("data/b.csv", "new-trial-activation=0.2") == 0
    assert (repo_dir / "data/a.csv").read_bytes() == (repo_dir / "data/b.csv").read_bytes()
    assert sample("data/c.csv", "new-trial-activation=0.2", seed="4") == 0
    assert (repo_dir / "data/a.csv").read_bytes() != (repo_dir / "data/c.csv").read_bytes()
    capsys.readouterr()
    assert sample("data/d.csv", "no-such-profile=0.2") == 2
    assert "lift: no profile 'no-such-profile'" in capsys.readouterr().err
    assert sample("data/d.csv", "dormant-free=-1.5") == 2
    assert "a planted lift is a fraction above -1" in capsys.readouterr().err
    assert not (repo_dir / "data/d.csv").exists()

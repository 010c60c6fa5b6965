"""The lift readout and the impact of a change on Spark (local mode) equal DuckDB's on the same
files: both run through the same data session as sizing, in the databricks dialect."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from personalization_engine.audience import write_sample_data
from personalization_engine.cli.main import main
from personalization_engine.core.engine import Engine
from personalization_engine.core.impact_op import DataOptions, measure_change
from personalization_engine.core.lift_op import LiftSources, measure_lift

from ..conftest import START, git
from ..lift.helpers import OUTCOMES, RECORDS, with_holdouts, write_data

pytestmark = pytest.mark.usefixtures("spark_master")
NOW = datetime(2026, 11, 24, 9, tzinfo=timezone.utc)


def test_a_lift_readout_on_spark_equals_duckdbs_profile_by_profile(
    engine: Engine, plan_id: str, repo_dir: Path, spark_master: str
):
    with_holdouts(engine, plan_id)
    write_data(engine, plan_id, repo_dir, rows=3000)
    duck = measure_lift(
        engine, plan_id, LiftSources(data=RECORDS, outcomes=OUTCOMES, value_column="revenue"),
        as_of=START, actor="test",
    ).measurement  # fmt: skip
    spark = measure_lift(
        engine, plan_id,
        LiftSources(
            data=RECORDS, outcomes=OUTCOMES, value_column="revenue", engine="spark", spark_master=spark_master
        ),
        as_of=START, actor="test",
    ).measurement  # fmt: skip
    assert spark.membership.kind == "spark" and duck.membership.kind == "parquet"
    assert spark.records == duck.records == 3000
    strip = {"value"}
    assert [p.model_dump(exclude=strip) for p in spark.profiles] == [
        p.model_dump(exclude=strip) for p in duck.profiles
    ]
    for ours, theirs in zip(spark.profiles, duck.profiles, strict=True):
        assert ours.value.difference == pytest.approx(theirs.value.difference, abs=1e-6)


def test_the_impact_of_a_change_on_spark_equals_duckdbs_through_the_cli(
    engine: Engine, plan_id: str, repo_dir: Path, spark_master: str, capsys
):
    import json

    with_holdouts(engine, plan_id)
    first = engine.read_plan(plan_id).revision
    profile = next(p for p in engine.read_plan(plan_id).profiles if p.id == "stalled-trial")

    def loosen(plan):
        changed = profile.model_copy(update={"priority": 1})  # stalled-trial now outranks everyone
        return plan.model_copy(
            update={"profiles": tuple(changed if p.id == profile.id else p for p in plan.profiles)}
        )

    second = engine.apply(plan_id, "profiles", loosen, expected_revision=first, actor="test").revision
    write_sample_data(repo_dir / "data" / "users.parquet", 3000, reference=NOW)
    _, duck = measure_change(engine, plan_id, first, second, DataOptions(data="data/users.parquet", now=NOW))
    code = main([
        "plans", "diff", plan_id, "--from", str(first), "--to", str(second), "--workspace", str(repo_dir),
        "--data", str(repo_dir / "data" / "users.parquet"),
        "--engine", "spark", "--spark-master", spark_master,
        "--now", "2026-11-24T09:00:00Z", "--json",
    ])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    spark = json.loads(out)["impact"]
    assert spark["flows"] == [f.model_dump(mode="json") for f in duck.flows]
    assert spark["profiles"] == [p.model_dump(mode="json") for p in duck.profiles]
    assert sum(f["records"] for f in spark["flows"] if f["from_profile"] != f["to_profile"]) > 0
    assert git(repo_dir, "status", "--porcelain", "--", ".claude") == ""

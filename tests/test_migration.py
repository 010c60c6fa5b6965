"""Plan format versions: a 1.0, 1.1, 1.2 and 1.3 plan (the worked example as each format wrote it)
are upgraded in memory on read, validate, and are stored in the current format by their next write."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

from personalization_engine.core.engine import Engine
from personalization_engine.model import Attribute
from personalization_engine.model.common import SCHEMA_VERSION
from personalization_engine.model.issues import model_issues, schema_issues
from personalization_engine.store.plans import GITIGNORE, GITIGNORE_TEXT

from .conftest import git

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE = FIXTURES / "plan-v1.0.json"
FIXTURE_1_1 = FIXTURES / "plan-v1.1.json"
FIXTURE_1_2 = FIXTURES / "plan-v1.2.json"
FIXTURE_1_3 = FIXTURES / "plan-v1.3.json"
PLAN_ID = "plan-20261124T090000Z"


def _install_fixture(repo_dir: Path, fixture: Path = FIXTURE) -> Path:
    """A file checked into the project, as an older version of the server left it."""
    path = repo_dir / ".claude" / "plans" / f"{PLAN_ID}.json"
    path.parent.mkdir(parents=True)
    (path.parent / GITIGNORE).write_text(GITIGNORE_TEXT)
    shutil.copyfile(fixture, path)
    git(repo_dir, "add", ".claude")
    git(repo_dir, "commit", "-q", "-m", f"plan written by {fixture.name}")
    return path


def test_the_fixture_is_a_1_0_plan_with_scenarios_that_carry_no_time():
    document = json.loads(FIXTURE.read_text())
    assert document["schema_version"] == "1.0" and SCHEMA_VERSION == "1.4"
    assert document["scenarios"] and all("as_of" not in s for s in document["scenarios"])


def test_a_1_0_plan_is_upgraded_in_memory_on_read_and_validates(engine: Engine, repo_dir):
    path = _install_fixture(repo_dir)
    before = path.read_bytes()
    updated_at = datetime.fromisoformat(json.loads(before)["updated_at"].replace("Z", "+00:00"))

    plan, _ = engine.store.load(PLAN_ID)
    assert plan.schema_version == SCHEMA_VERSION
    assert plan.scenarios and all(s.as_of == updated_at for s in plan.scenarios)
    assert engine.read_plan(PLAN_ID) == plan

    document = plan.model_dump(mode="json", by_alias=True)
    assert schema_issues(document) == [] and model_issues(document) == []
    _, findings = engine.validate_target(PLAN_ID, cwd=repo_dir)
    # Its constraint names GDPR and ePrivacy, whose preset a 1.0 plan cannot have applied: that is
    # reported (format 1.2), and its consent policy itself stays the default.
    errors = [(f.code, f.pointer) for f in findings if f.severity == "error"]
    assert errors == [("consent.regime_not_applied", "/constraints/0")]
    # Reading (and validating) never rewrites the file.
    assert path.read_bytes() == before


def test_a_1_0_file_the_server_wrote_itself_is_upgraded_too(engine: Engine, repo_dir):
    path = _install_fixture(repo_dir)
    engine.store.ensure_dirs()
    engine.store.remember_write(PLAN_ID, path.read_bytes(), "committed")  # the trusted read path
    plan, _ = engine.store.load(PLAN_ID)
    assert plan.schema_version == SCHEMA_VERSION and all(s.as_of is not None for s in plan.scenarios)


def test_the_next_write_through_the_engine_stores_a_1_0_plan_in_the_current_format(engine: Engine, repo_dir):
    path = _install_fixture(repo_dir)
    upgraded = engine.read_plan(PLAN_ID)

    def add(plan):
        return plan.model_copy(
            update={"attributes": (*plan.attributes, Attribute(name="migrated", type="string"))}
        )

    result = engine.apply(PLAN_ID, "attributes", add, expected_revision=15, actor="migration-test")
    assert result.revision == 16 and result.summary == "added attribute migrated"
    on_disk = json.loads(path.read_text())
    assert on_disk["schema_version"] == SCHEMA_VERSION and on_disk["revision"] == 16
    assert [s["as_of"] for s in on_disk["scenarios"]] == ["2026-11-24T09:00:17Z"] * len(upgraded.scenarios)
    assert schema_issues(on_disk) == []
    assert "Plan-Revision: 16" in git(repo_dir, "log", "-1", "--format=%B")
    assert git(repo_dir, "status", "--porcelain") == ""


def test_the_1_1_fixture_holds_approvals_that_nobody_confirmed():
    document = json.loads(FIXTURE_1_1.read_text())
    assert document["schema_version"] == "1.1"
    assert document["approvals"] and all("status" not in a for a in document["approvals"])


def test_a_1_1_plan_reads_with_every_approval_reported_and_ladders_covering_everything(
    engine: Engine, repo_dir
):
    path = _install_fixture(repo_dir, FIXTURE_1_1)
    before = path.read_bytes()
    plan, _ = engine.store.load(PLAN_ID)
    assert plan.schema_version == SCHEMA_VERSION
    assert {a.status for a in plan.approvals} == {"reported"}
    assert all(a.confirmed_by is None for a in plan.approvals)
    assert all(rung.covers == () for rung in plan.error_handling.escalation_ladder)
    assert plan.final is None and plan.qa_results == ()
    document = plan.model_dump(mode="json", by_alias=True)
    assert schema_issues(document) == [] and model_issues(document) == []
    assert path.read_bytes() == before


def test_the_next_write_stores_a_1_1_plan_in_the_current_format(engine: Engine, repo_dir):
    path = _install_fixture(repo_dir, FIXTURE_1_1)

    def add(plan):
        return plan.model_copy(
            update={"attributes": (*plan.attributes, Attribute(name="migrated", type="string"))}
        )

    revision = json.loads(path.read_text())["revision"]
    result = engine.apply(PLAN_ID, "attributes", add, expected_revision=revision, actor="migration-test")
    on_disk = json.loads(path.read_text())
    assert result.revision == revision + 1
    assert on_disk["schema_version"] == SCHEMA_VERSION
    assert {a["status"] for a in on_disk["approvals"]} == {"reported"}
    assert schema_issues(on_disk) == []
    assert git(repo_dir, "status", "--porcelain") == ""


def test_the_1_2_fixture_is_the_finalized_worked_example_without_export_targets():
    document = json.loads(FIXTURE_1_2.read_text())
    assert document["schema_version"] == "1.2" and document["final"] is not None
    assert document["activations"] and all("export_target" not in a for a in document["activations"])
    assert "exports" not in document


def test_a_1_2_plan_reads_with_no_export_targets_no_exports_and_stays_final(engine: Engine, repo_dir):
    from personalization_engine.model.final import is_final

    path = _install_fixture(repo_dir, FIXTURE_1_2)
    before = path.read_bytes()
    plan, _ = engine.store.load(PLAN_ID)
    assert plan.schema_version == SCHEMA_VERSION
    assert plan.exports == () and all(a.export_target is None for a in plan.activations)
    # The new fields have defaults the content hash leaves as they were: the plan is still final.
    assert is_final(plan)
    document = plan.model_dump(mode="json", by_alias=True)
    assert schema_issues(document) == [] and model_issues(document) == []
    findings = engine.current_findings(PLAN_ID)[1]
    assert {f.code for f in findings if f.code.startswith("export.")} == {"export.target_missing"}
    assert path.read_bytes() == before


def test_the_next_write_stores_a_1_2_plan_in_the_current_format(engine: Engine, repo_dir):
    path = _install_fixture(repo_dir, FIXTURE_1_2)

    def add(plan):
        return plan.model_copy(
            update={"attributes": (*plan.attributes, Attribute(name="migrated", type="string"))}
        )

    revision = json.loads(path.read_text())["revision"]
    result = engine.apply(PLAN_ID, "attributes", add, expected_revision=revision, actor="migration-test")
    on_disk = json.loads(path.read_text())
    assert result.revision == revision + 1
    assert on_disk["schema_version"] == SCHEMA_VERSION and on_disk["exports"] == []
    assert all(a["export_target"] is None for a in on_disk["activations"])
    assert schema_issues(on_disk) == []
    assert git(repo_dir, "status", "--porcelain") == ""


def test_the_1_3_fixture_is_the_finalized_worked_example_with_exports_and_no_holdout_fields():
    document = json.loads(FIXTURE_1_3.read_text())
    assert document["schema_version"] == "1.3" and document["final"] is not None
    assert document["exports"] and "lift_measurements" not in document and "impact_runs" not in document
    assert all("holdout_share" not in p for p in document["profiles"])
    assert set(document["success_metrics"]["activation_lift"]) == {
        "target_pct", "kpi", "holdout_share", "window_days", "method"
    }  # fmt: skip


def test_a_1_3_plan_reads_with_no_readouts_and_stays_final(engine: Engine, repo_dir):
    from personalization_engine.model.final import is_final

    path = _install_fixture(repo_dir, FIXTURE_1_3)
    before = path.read_bytes()
    plan, _ = engine.store.load(PLAN_ID)
    assert plan.schema_version == SCHEMA_VERSION
    assert plan.lift_measurements == () and plan.impact_runs == ()
    assert all(p.holdout_share is None for p in plan.profiles)
    lift = plan.success_metrics.activation_lift
    assert lift is not None and lift.holdout_salt is None and lift.actual is None
    assert is_final(plan)
    document = plan.model_dump(mode="json", by_alias=True)
    assert schema_issues(document) == [] and model_issues(document) == []
    assert path.read_bytes() == before


def test_a_1_3_plan_holding_out_more_than_half_loads_and_is_stored_in_the_current_format(
    engine: Engine, repo_dir
):
    document = json.loads(FIXTURE_1_3.read_text())
    document["success_metrics"]["activation_lift"]["holdout_share"] = 0.7
    altered = repo_dir / "plan-v1.3-share.json"
    altered.write_text(json.dumps(document))
    path = _install_fixture(repo_dir, altered)
    plan, _ = engine.store.load(PLAN_ID)
    assert plan.success_metrics.activation_lift is not None
    assert plan.success_metrics.activation_lift.holdout_share == 0.7

    def add(plan):
        return plan.model_copy(
            update={"attributes": (*plan.attributes, Attribute(name="migrated", type="string"))}
        )

    engine.apply(PLAN_ID, "attributes", add, expected_revision=plan.revision, actor="migration-test")
    on_disk = json.loads(path.read_text())
    assert on_disk["schema_version"] == SCHEMA_VERSION
    assert on_disk["lift_measurements"] == [] and on_disk["impact_runs"] == []
    assert on_disk["success_metrics"]["activation_lift"]["holdout_share"] == 0.7

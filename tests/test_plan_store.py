"""The plan core: creating, reading, writing and committing plans in a real git repository."""

from __future__ import annotations

import json

import pytest

from personalization_engine.core.engine import Engine
from personalization_engine.errors import ConflictError, InputError
from personalization_engine.model import Attribute

from .conftest import git


def test_create_plan_writes_revision_1_and_commits_it_with_trailers(engine: Engine, repo_dir):
    result = engine.create_plan(initiative="PLG Onboarding", channels=["web", "email"], actor="alice")
    assert result.plan_id == "plan-20261124T090000Z"
    assert result.revision == 1
    data = json.loads((repo_dir / ".claude/plans/plan-20261124T090000Z.json").read_text())
    assert data["revision"] == 1
    assert data["error_handling"]["retry_limit"] == 2
    assert [r["role"] for r in data["error_handling"]["escalation_ladder"]] == [
        "Personalization Architect",
        "Data Privacy Lead",
        "Exec sponsor",
    ]
    message = git(repo_dir, "log", "-1", "--format=%B")
    assert "Plan-Id: plan-20261124T090000Z" in message
    assert "Plan-Revision: 1" in message
    assert "Actor: alice" in message
    assert git(repo_dir, "status", "--porcelain") == ""


def test_a_second_plan_in_the_same_second_gets_a_numbered_suffix(workspace):
    from datetime import datetime, timezone

    fixed = datetime(2026, 11, 24, 9, 0, 0, tzinfo=timezone.utc)
    engine = Engine(workspace, clock=lambda: fixed, frozen_clock=True)
    ids = [engine.create_plan(initiative="X", channels=["web"], actor="a").plan_id for _ in range(3)]
    assert ids == ["plan-20261124T090000Z", "plan-20261124T090000Z-2", "plan-20261124T090000Z-3"]


def test_apply_bumps_revision_logs_a_semantic_summary_and_commits(engine: Engine, plan_id, repo_dir):
    def add_attribute(plan):
        return plan.model_copy(
            update={"attributes": (*plan.attributes, Attribute(name="plan_tier", type="string"))}
        )

    result = engine.apply(plan_id, "attributes", add_attribute, expected_revision=1, actor="bob")
    assert result.revision == 2
    assert result.summary == "added attribute plan_tier"
    plan = engine.read_plan(plan_id)
    assert plan.change_log[-1].summary == "added attribute plan_tier"
    assert "attributes: added attribute plan_tier (r2)" in git(repo_dir, "log", "-1", "--format=%s")


def test_a_stale_expected_revision_is_a_conflict_that_names_the_current_one(engine, plan_id, repo_dir):
    before = git(repo_dir, "rev-parse", "HEAD")
    with pytest.raises(ConflictError, match="is at revision 1, not expected_revision 5"):
        engine.apply(plan_id, "attributes", lambda p: p, expected_revision=5, actor="x")
    assert git(repo_dir, "rev-parse", "HEAD") == before


def test_a_write_that_breaks_the_model_names_the_field_and_writes_nothing(engine, plan_id, repo_dir):
    before = (repo_dir / f".claude/plans/{plan_id}.json").read_bytes()

    def bad(plan):
        # model_copy skips validation: the write pipeline must still refuse the result.
        error_handling = plan.error_handling.model_copy(update={"retry_limit": 99})
        return plan.model_copy(update={"error_handling": error_handling})

    with pytest.raises(InputError, match="/error_handling/retry_limit"):
        engine.apply(plan_id, "plan", bad, expected_revision=1, actor="x")
    assert (repo_dir / f".claude/plans/{plan_id}.json").read_bytes() == before


def test_duplicate_keys_are_refused_naming_the_pointer(engine, plan_id):
    def dup(plan):
        return plan.model_copy(
            update={"attributes": (*plan.attributes, Attribute(name="a"), Attribute(name="a"))}
        )

    with pytest.raises(InputError, match="/attributes/1: key 'a' is used twice"):
        engine.apply(plan_id, "attributes", dup, expected_revision=1, actor="x")
    assert engine.read_plan(plan_id).revision == 1


def test_plan_files_are_ordinary_readable_project_files(engine: Engine, plan_id, repo_dir):
    import stat

    path = repo_dir / ".claude" / "plans" / f"{plan_id}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_deliverables_commit_on_their_own_without_a_new_revision_and_never_empty(engine, plan_id, repo_dir):
    files = {"profiles.md": b"# Profiles\n", "profile-schema.csv": b"name\n"}
    first = engine.commit_deliverables(plan_id, files, revision=1, actor="render")
    assert first.commit == git(repo_dir, "rev-parse", "HEAD")
    assert sorted(first.changed) == ["profile-schema.csv", "profiles.md"]
    message = git(repo_dir, "log", "-1", "--format=%B")
    assert "Plan-Revision: 1" in message and "Stage: render" in message
    assert engine.read_plan(plan_id).revision == 1
    again = engine.commit_deliverables(plan_id, files, revision=1, actor="render")
    assert again.commit is None and again.changed == []
    assert git(repo_dir, "rev-list", "--count", "HEAD") == "2"
    assert git(repo_dir, "status", "--porcelain") == ""


def test_deliverable_names_that_could_leave_the_folder_are_refused(engine, plan_id, repo_dir):
    with pytest.raises(InputError, match=r"deliverable name '\.\./x\.md' is not allowed"):
        engine.commit_deliverables(plan_id, {"../x.md": b"x"}, revision=1, actor="r")
    assert not (repo_dir / ".claude" / "plans" / plan_id).exists()


def test_diff_names_a_new_sizing_run_as_one_added_item():
    from personalization_engine.model.diff import diff_documents

    before = {"sizing_runs": [{"id": "size-1", "row_count": 5}]}
    after = {"sizing_runs": [{"id": "size-1", "row_count": 5}, {"id": "size-2", "row_count": 7}]}
    changes = diff_documents(before, after)
    assert [(c.op, c.section, c.key, c.fields) for c in changes] == [("added", "sizing_runs", "size-2", ())]


def test_the_write_state_is_recorded_after_the_text_is_complete_and_before_it_replaces_the_file(
    engine: Engine, plan_id
):
    from personalization_engine.store.plans import atomic_write, content_hash

    path = engine.store.plan_path(plan_id)
    old = path.read_bytes()
    seen = []
    atomic_write(path, b"new", before_replace=lambda: seen.append(path.read_bytes()))
    assert seen == [old] and path.read_bytes() == b"new"
    # The store's write records the hash of the text it writes.
    engine.store.write(plan_id, old)
    assert engine.store.last_write_hash(plan_id) == content_hash(old)
    assert path.read_bytes() == old

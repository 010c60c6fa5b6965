"""The user's repository state never breaks, hangs or leaks into a plan write."""

from __future__ import annotations

from pathlib import Path

import pytest

from personalization_engine.core.engine import Engine
from personalization_engine.errors import PlanFileError, RepositoryError
from personalization_engine.model import Attribute
from personalization_engine.store.workspace import Workspace

from .conftest import git, init_repo


def add_attr(name: str):
    def mutate(plan):
        return plan.model_copy(update={"attributes": (*plan.attributes, Attribute(name=name, type="string"))})

    return mutate


def test_unrelated_staged_files_stay_staged_and_uncommitted(engine: Engine, plan_id, repo_dir: Path):
    (repo_dir / "notes.txt").write_text("mine\n")
    git(repo_dir, "add", "notes.txt")
    engine.apply(plan_id, "attributes", add_attr("a"), expected_revision=1, actor="x")
    assert "notes.txt" not in git(repo_dir, "show", "--name-only", "--format=", "HEAD")
    assert git(repo_dir, "diff", "--cached", "--name-only") == "notes.txt"


def test_a_repository_with_no_commits_yet_gets_a_root_commit(engine: Engine, repo_dir: Path):
    engine.create_plan(initiative="X", channels=["web"], actor="a")
    assert git(repo_dir, "rev-list", "--count", "HEAD") == "1"


def test_detached_head_is_committed_on_top_of(engine: Engine, plan_id, repo_dir: Path):
    git(repo_dir, "checkout", "-q", "--detach")
    engine.apply(plan_id, "attributes", add_attr("a"), expected_revision=1, actor="x")
    assert git(repo_dir, "rev-list", "--count", "HEAD") == "2"


def test_a_merge_in_progress_is_refused_and_nothing_is_written(engine: Engine, plan_id, repo_dir: Path):
    (repo_dir / ".git" / "MERGE_HEAD").write_text(git(repo_dir, "rev-parse", "HEAD") + "\n")
    path = repo_dir / ".claude" / "plans" / f"{plan_id}.json"
    before = path.read_bytes()
    with pytest.raises(RepositoryError, match="a merge in progress"):
        engine.apply(plan_id, "attributes", add_attr("a"), expected_revision=1, actor="x")
    assert path.read_bytes() == before


def test_a_held_index_lock_waits_then_reports_busy_and_is_never_deleted(
    engine: Engine, plan_id, repo_dir: Path, monkeypatch
):
    monkeypatch.setenv("PERSONALIZATION_ENGINE_GIT_LOCK_WAIT", "0.3")
    lock = repo_dir / ".git" / "index.lock"
    lock.write_text("")
    with pytest.raises(RepositoryError, match="repository busy"):
        engine.apply(plan_id, "attributes", add_attr("a"), expected_revision=1, actor="x")
    assert lock.exists()
    lock.unlink()
    assert engine.read_plan(plan_id).revision == 1


def test_failing_and_slow_hooks_gpgsign_and_missing_identity_do_not_break_a_write(tmp_path: Path):
    project = tmp_path / "p"
    project.mkdir()
    git(project, "init", "-q")
    hooks = project / ".git" / "hooks"
    for name, body in {"pre-commit": "exit 1", "commit-msg": "exit 1", "post-commit": "sleep 60"}.items():
        hook = hooks / name
        hook.write_text(f"#!/bin/sh\necho hook-output\n{body}\n")
        hook.chmod(0o755)
    git(project, "config", "commit.gpgsign", "true")
    git(project, "config", "user.signingkey", "DEADBEEF")
    engine = Engine(Workspace(root=project.resolve(), source="option"))
    env_home = tmp_path / "home"  # no global identity either
    env_home.mkdir()
    import os

    old = os.environ.get("HOME")
    os.environ["HOME"] = str(env_home)
    os.environ["GIT_CONFIG_NOSYSTEM"] = "1"
    try:
        result = engine.create_plan(initiative="X", channels=["web"], actor="a")
    finally:
        os.environ["HOME"] = old or ""
        del os.environ["GIT_CONFIG_NOSYSTEM"]
    assert result.commit
    assert git(project, "log", "-1", "--format=%cn <%ce>") == (
        "personalization-engine <personalization-engine@localhost>"
    )


def test_an_identity_configured_between_writes_is_used_by_the_next_commit(
    engine: Engine, plan_id, repo_dir: Path
):
    # Nothing remembers the identity: a config change reaches the next commit. The actor is only
    # the Actor trailer; author and committer are the configured identity.
    engine.apply(plan_id, "attributes", add_attr("a"), expected_revision=1, actor="x")
    assert git(repo_dir, "log", "-1", "--format=%ae") == "test@example.com"
    git(repo_dir, "config", "user.email", "someone-else@example.com")
    git(repo_dir, "config", "user.name", "Someone Else")
    engine.apply(plan_id, "attributes", add_attr("b"), expected_revision=2, actor="x")
    assert git(repo_dir, "log", "-1", "--format=%an <%ae> / %cn <%ce> / %(trailers:key=Actor)") == (
        "Someone Else <someone-else@example.com> / Someone Else <someone-else@example.com> / Actor: x"
    )


def test_a_truncated_plan_file_is_a_clear_error_naming_the_file(engine: Engine, plan_id, repo_dir: Path):
    path = repo_dir / ".claude" / "plans" / f"{plan_id}.json"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(PlanFileError, match=rf"{plan_id}.json.*not valid JSON.*truncated"):
        engine.read_plan(plan_id)
    with pytest.raises(PlanFileError):
        engine.apply(plan_id, "attributes", add_attr("a"), expected_revision=1, actor="x")
    assert len(path.read_bytes()) == 200


def test_merge_conflict_markers_are_a_clear_error_and_never_overwritten(engine, plan_id, repo_dir: Path):
    path = repo_dir / ".claude" / "plans" / f"{plan_id}.json"
    text = path.read_text().replace(
        '"revision": 1,', '<<<<<<< HEAD\n"revision": 1,\n=======\n"revision": 2,\n>>>>>>> b\n'
    )
    path.write_text(text)
    with pytest.raises(PlanFileError, match="merge-conflict markers"):
        engine.read_plan(plan_id)
    with pytest.raises(PlanFileError, match="merge-conflict markers"):
        engine.apply(plan_id, "attributes", add_attr("a"), expected_revision=1, actor="x")
    assert path.read_text() == text


def test_a_hand_edit_is_reported_and_never_overwritten(engine: Engine, plan_id, repo_dir: Path):
    path = repo_dir / ".claude" / "plans" / f"{plan_id}.json"
    edited = path.read_text().replace('"PLG Onboarding"', '"PLG Onboarding v2"')
    path.write_text(edited)
    assert engine.read_plan(plan_id).initiative == "PLG Onboarding v2"  # validated by schema too
    with pytest.raises(PlanFileError, match=r"did not make.*hand edit.*git checkout --"):
        engine.apply(plan_id, "attributes", add_attr("a"), expected_revision=1, actor="x")
    assert path.read_text() == edited
    notes = engine.recover()
    assert any("hand edit" in n for n in notes)
    assert path.read_text() == edited


def test_an_invalid_hand_edit_is_caught_by_the_schema_on_read(engine: Engine, plan_id, repo_dir):
    path = repo_dir / ".claude" / "plans" / f"{plan_id}.json"
    path.write_text(path.read_text().replace('"retry_limit": 2', '"retry_limit": "2"'))
    with pytest.raises(PlanFileError, match=r"/error_handling/retry_limit"):
        engine.read_plan(plan_id)


def test_a_revision_written_but_not_committed_is_recovered_with_a_trailer(engine, plan_id, repo_dir):
    current = engine.read_plan(plan_id)
    plan = current.model_copy(
        update={"revision": 2, "attributes": (*current.attributes, Attribute(name="late", type="string"))}
    )
    from personalization_engine.store.plans import serialize

    engine.store.write(plan_id, serialize(plan))  # as if the process died before committing
    notes = engine.recover()
    assert notes == [f"recovered {plan_id} revision 2: it was written but not committed"]
    assert "Recovered: true" in git(repo_dir, "log", "-1", "--format=%B")
    assert git(repo_dir, "status", "--porcelain") == ""
    assert [e.revision for e in engine.history(plan_id)] == [2, 1]


def test_reading_an_older_revision_comes_from_git(engine: Engine, plan_id):
    engine.apply(plan_id, "attributes", add_attr("a"), expected_revision=1, actor="x")
    engine.apply(plan_id, "attributes", add_attr("b"), expected_revision=2, actor="x")
    old = engine.read_plan(plan_id, revision=2)
    assert [a.name for a in old.attributes] == ["a"]
    assert old.revision == 2


def test_unknown_plans_and_revisions_are_refused_with_what_exists(engine: Engine, plan_id):
    from personalization_engine.errors import NotFoundError

    with pytest.raises(NotFoundError, match=rf"unknown plan 'plan-20990101T000000Z'; known plans: {plan_id}"):
        engine.read_plan("plan-20990101T000000Z")
    with pytest.raises(NotFoundError, match=r"revisions run 1\.\.1"):
        engine.read_plan(plan_id, revision=7)


def test_a_workspace_with_a_user_gitignore_for_claude_still_commits_plans(tmp_path: Path):
    project = init_repo(tmp_path / "p")
    (project / ".gitignore").write_text(".claude/\n")
    engine = Engine(Workspace(root=project.resolve(), source="option"))
    plan_id = engine.create_plan(initiative="X", channels=["web"], actor="a").plan_id
    assert f".claude/plans/{plan_id}.json" in git(project, "ls-files")

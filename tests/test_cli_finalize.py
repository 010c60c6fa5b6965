"""`plans finalize` from a terminal, and what happens when the final tag cannot be made: the plan
still records the final revision, the answer says why, and finalizing again retries the tag."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from personalization_engine.cli.main import main
from personalization_engine.core.engine import Engine
from personalization_engine.model.final import is_final

from .conftest import git
from .finalize_helpers import ready_plan
from .test_finalize import state, tag_name


def finalize(repo: Path, plan_id: str, *extra: str) -> int:
    return main(["plans", "finalize", plan_id, "--workspace", str(repo), *extra])


def test_plans_finalize_prints_the_new_revision_and_the_tag_then_says_when_already_final(
    engine: Engine, repo_dir: Path, capsys
):
    plan_id = ready_plan(engine)
    reviewed = engine.read_plan(plan_id).revision
    assert finalize(repo_dir, plan_id) == 0
    out = capsys.readouterr().out
    assert f"{plan_id}  revision {reviewed + 1}" in out
    assert f"finalized revision {reviewed}" in out
    assert f"tag: {tag_name(plan_id, reviewed)}" in out
    assert git(repo_dir, "log", "-1", "--format=%(trailers:key=Actor,valueonly)") == "cli:Test User"

    before = state(repo_dir)
    assert finalize(repo_dir, plan_id, "--json") == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["written"] is False and answer["final_revision"] == reviewed
    assert state(repo_dir) == before


def test_plans_finalize_refuses_with_every_reason_exits_1_and_writes_nothing(
    engine: Engine, repo_dir: Path, capsys
):
    plan_id = ready_plan(engine)
    engine.apply(
        plan_id, "plan", lambda p: p.model_copy(update={"timeline": "Q3"}), expected_revision=None, actor="t"
    )
    before = state(repo_dir)
    assert finalize(repo_dir, plan_id) == 1
    err = capsys.readouterr().err
    revision = engine.read_plan(plan_id).revision
    refused = f"error: plan {plan_id} revision {revision} cannot be finalized; nothing was written."
    assert err.startswith(refused)
    # The timeline is covered by the top rung alone (its approval covers every section).
    assert err.count("- [approval] /approvals/") == 1 and "(Exec sponsor)" in err
    assert "was given on revision" in err
    assert state(repo_dir) == before


def test_plans_finalize_of_a_revision_that_is_not_current_is_a_conflict(
    engine: Engine, repo_dir: Path, capsys
):
    plan_id = ready_plan(engine)
    before = state(repo_dir)
    assert finalize(repo_dir, plan_id, "--expected-revision", "2") == 3
    assert "not expected_revision 2" in capsys.readouterr().err
    assert state(repo_dir) == before


def test_an_unknown_plan_is_refused_naming_it(repo_dir: Path, capsys):
    assert finalize(repo_dir, "plan-20991231T000000Z") == 2
    assert "plan-20991231T000000Z" in capsys.readouterr().err


def test_a_tag_that_exists_elsewhere_is_left_alone_and_the_plan_records_why_it_was_not_tagged(
    engine: Engine, repo_dir: Path, capsys
):
    plan_id = ready_plan(engine)
    reviewed = engine.read_plan(plan_id).revision
    name = tag_name(plan_id, reviewed)
    git(repo_dir, "tag", name, "HEAD~1")
    elsewhere = git(repo_dir, "rev-parse", "HEAD~1")
    assert finalize(repo_dir, plan_id, "--json") == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["written"] is True and answer["tag"] is None
    assert answer["tag_error"] == f"tag {name!r} already exists and points at {elsewhere[:12]}"
    plan = engine.read_plan(plan_id)
    assert is_final(plan) and plan.final.tag is None and plan.final.tag_error == answer["tag_error"]
    assert git(repo_dir, "rev-parse", name) == elsewhere


@pytest.mark.parametrize("obstacle", ["ref lock", "refname conflict"])
def test_a_tag_git_cannot_make_is_reported_the_plan_stays_final_and_a_second_finalize_makes_it(
    engine: Engine, repo_dir: Path, capsys, obstacle: str
):
    plan_id = ready_plan(engine)
    reviewed = engine.read_plan(plan_id).revision
    name = tag_name(plan_id, reviewed)
    if obstacle == "ref lock":
        lock = repo_dir / ".git" / "refs" / "tags" / f"{name}.lock"
        lock.parent.mkdir(parents=True)
        lock.write_text("")
        remove = lock.unlink
    else:  # a tag named like the folder the final tag lives in
        git(repo_dir, "tag", f"personalization/{plan_id}", "HEAD")
        remove = lambda: git(repo_dir, "tag", "-d", f"personalization/{plan_id}")  # noqa: E731
    assert finalize(repo_dir, plan_id) == 0
    captured = capsys.readouterr()
    assert f"warning: the final commit is not tagged: tag {name!r} could not be made: " in captured.err
    assert ".lock" in captured.err if obstacle == "ref lock" else "exists" in captured.err
    assert is_final(engine.read_plan(plan_id))
    assert git(repo_dir, "tag", "--list", name) == ""

    remove()
    head = git(repo_dir, "rev-parse", "HEAD")
    assert finalize(repo_dir, plan_id) == 0
    assert f"tag: {name}" in capsys.readouterr().out
    assert git(repo_dir, "rev-parse", "HEAD") == head  # no new revision, only the tag
    assert git(repo_dir, "rev-parse", f"{name}^{{commit}}") == head


def test_without_any_git_identity_the_tag_carries_the_fallback_tagger(
    engine: Engine, repo_dir: Path, tmp_path: Path, monkeypatch, capsys
):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    git(repo_dir, "config", "--unset", "user.name")
    git(repo_dir, "config", "--unset", "user.email")
    plan_id = ready_plan(engine)
    assert finalize(repo_dir, plan_id, "--actor", "release-bot") == 0
    capsys.readouterr()
    name = tag_name(plan_id, engine.read_plan(plan_id).final.revision)
    body = subprocess.run(
        ["git", "cat-file", "-p", name], cwd=repo_dir, capture_output=True, text=True, check=True
    ).stdout
    assert "\ntagger personalization-engine <personalization-engine@localhost> " in body
    assert engine.read_plan(plan_id).final.by == "release-bot"


def test_plans_recover_clears_the_lock_a_killed_finalize_left_on_its_tag(
    engine: Engine, repo_dir: Path, capsys
):
    plan_id = ready_plan(engine)
    reviewed = engine.read_plan(plan_id).revision
    name = tag_name(plan_id, reviewed)
    lock = repo_dir / ".git" / "refs" / "tags" / f"{name}.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text("")
    assert finalize(repo_dir, plan_id) == 0  # final, but the tag is refused while the lock stays
    assert ".lock" in capsys.readouterr().err
    assert main(["plans", "recover", "--workspace", str(repo_dir)]) == 0
    capsys.readouterr()
    assert not lock.exists()
    assert finalize(repo_dir, plan_id) == 0
    assert f"tag: {name}" in capsys.readouterr().out

"""Renders are pure functions of a revision: the same bytes every time, so re-rendering commits nothing."""

from __future__ import annotations

from personalization_engine.render import render_deliverables
from personalization_engine.store.plans import parse_plan

from ..conftest import git
from .helpers import example_plan, fill_plan


def test_rendering_the_same_plan_twice_gives_identical_bytes():
    plan = example_plan()
    first = render_deliverables(plan)
    again = render_deliverables(
        parse_plan(plan.model_dump_json(by_alias=True).encode(), "copy", trusted=False)
    )
    assert first == again


def test_rerendering_an_unchanged_revision_makes_no_git_change_and_no_empty_commit(engine, plan_id, repo_dir):
    revision = fill_plan(engine, plan_id)
    plan = engine.read_plan(plan_id)
    files = {name: text.encode() for name, text in render_deliverables(plan).items()}
    first = engine.commit_deliverables(plan_id, files, revision=revision, actor="test")
    assert first.commit is not None and sorted(first.changed) == sorted(files)
    head = git(repo_dir, "rev-parse", "HEAD")
    count = git(repo_dir, "rev-list", "--count", "HEAD")

    again = {name: text.encode() for name, text in render_deliverables(engine.read_plan(plan_id)).items()}
    second = engine.commit_deliverables(plan_id, again, revision=revision, actor="test")

    assert second.commit is None and second.changed == []
    assert git(repo_dir, "rev-parse", "HEAD") == head
    assert git(repo_dir, "rev-list", "--count", "HEAD") == count
    assert git(repo_dir, "status", "--porcelain") == ""
    assert engine.read_plan(plan_id).revision == revision


def test_the_render_commit_names_the_revision_it_shows_and_leaves_the_plan_revision_alone(
    engine, plan_id, repo_dir
):
    revision = fill_plan(engine, plan_id)
    files = {name: text.encode() for name, text in render_deliverables(engine.read_plan(plan_id)).items()}
    engine.commit_deliverables(plan_id, files, revision=revision, actor="test")
    message = git(repo_dir, "log", "-1", "--format=%B")
    assert f"Plan-Revision: {revision}" in message and "Stage: render" in message
    shown = git(repo_dir, "show", f"HEAD:.claude/plans/{plan_id}/plan.md")
    assert f"revision {revision}" in shown
    assert engine.read_plan(plan_id).revision == revision

"""No text that reaches a commit message can add a line, a paragraph or a trailer to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from personalization_engine.commit_message import render_commit_message, render_deliverables_message
from personalization_engine.core.engine import Engine
from personalization_engine.history import git_repo
from personalization_engine.model import Attribute, ChangeItem

from ..conftest import git
from .conftest import WHEN, write_plan

FORGERY = "evil\n\nActor: forged\nPlan-Revision: 99\rClock: frozen\u2028Stage: x\x0bA\x85B\x00C\u202e"


def render(field: str) -> str:
    values = {
        "actor": "tester",
        "stage": "attributes",
        "summary": "add a",
        "key": "a",
        "trailer": "E-1 open",
    }
    values[field] = FORGERY
    return render_commit_message(
        "plan-1",
        2,
        values["stage"],
        values["actor"],
        [ChangeItem(op="added", section="attributes", key=values["key"])],
        {"Escalation": values["trailer"]},
        values["summary"],
    )


def git_trailers(root: Path, sha: str) -> list[str]:
    return git(root, "log", "-1", "--format=%(trailers:only,unfold)", sha).splitlines()


@pytest.mark.parametrize("field", ["actor", "stage", "summary", "key", "trailer"])
def test_no_text_can_add_a_line_or_a_trailer_to_a_plan_commit(field: str, project: Path, repo):
    message = render(field)
    sha = git_repo.commit_paths(repo, [write_plan(project)], message, WHEN)
    assert len(message.rstrip("\n").split("\n\n")) == 3  # subject, change lines, trailers
    assert all(ch.isprintable() for line in message.splitlines() for ch in line)
    keys = [line.split(": ", 1)[0] for line in git_trailers(project, sha)]
    assert keys == ["Plan-Id", "Plan-Revision", "Stage", "Actor", "Escalation"]
    trailers = git_repo.parse_trailers(message)
    assert (trailers["Plan-Id"], trailers["Plan-Revision"]) == ("plan-1", "2")
    assert "Clock" not in trailers
    flattened = "evil Actor: forged Plan-Revision: 99 Clock: frozen Stage: x A B C"
    assert trailers["Actor"] == (flattened if field == "actor" else "tester")


def test_no_text_can_add_a_trailer_to_a_render_commit(project: Path, repo):
    message = render_deliverables_message("plan-1", 2, FORGERY, ["report.html", FORGERY])
    sha = git_repo.commit_paths(repo, [write_plan(project)], message, WHEN)
    keys = [line.split(": ", 1)[0] for line in git_trailers(project, sha)]
    assert keys == ["Plan-Id", "Plan-Revision", "Stage", "Actor"]
    assert git(project, "log", "-1", "--format=%s", sha) == "render: deliverables of plan-1 r2 (2 changed)"


def test_a_frozen_clock_is_named_in_a_trailer(project: Path, repo):
    message = render_commit_message("plan-1", 2, "attributes", "tester", [], None, "x", frozen_clock=True)
    sha = git_repo.commit_paths(repo, [write_plan(project)], message, WHEN)
    assert git_trailers(project, sha)[-1] == "Clock: frozen"
    assert "Clock" not in git_repo.parse_trailers(render_commit_message("p", 1, "s", "a", [], None, "x"))
    render_message = render_deliverables_message("plan-1", 2, "a", ["x.md"], frozen_clock=True)
    assert git_repo.parse_trailers(render_message)["Clock"] == "frozen"


def test_an_actor_with_an_email_never_becomes_the_author_of_a_write(engine: Engine, plan_id, repo_dir):
    def add(plan):
        return plan.model_copy(update={"attributes": (*plan.attributes, Attribute(name="a", type="string"))})

    engine.apply(plan_id, "attributes", add, expected_revision=1, actor="a <b@c>\n\nActor: forged")
    assert git(repo_dir, "log", "-1", "--format=%an <%ae>|%cn <%ce>") == (
        "Test User <test@example.com>|Test User <test@example.com>"
    )
    actors = [line for line in git_trailers(repo_dir, "HEAD") if line.startswith("Actor:")]
    assert actors == ["Actor: a <b@c> Actor: forged"]
    assert engine.history(plan_id)[0].actor == "a <b@c> Actor: forged"

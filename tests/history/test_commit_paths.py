"""commit_paths commits exactly our files, as their bytes are, and leaves the user's index alone."""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from personalization_engine.errors import ConfinementError, RepositoryError
from personalization_engine.history import git_command, git_repo

from ..conftest import git, init_repo
from .conftest import MESSAGE, WHEN, open_repo, write_plan

FALLBACK = "personalization-engine <personalization-engine@localhost>"


def test_the_users_staged_and_unstaged_changes_stay_as_they_were_and_are_never_committed(project: Path, repo):
    (project / "notes.txt").write_text("staged\n")
    git(project, "add", "notes.txt")
    (project / "notes.txt").write_text("staged, then edited\n")
    (project / "scratch.txt").write_text("untracked\n")
    sha = git_repo.commit_paths(repo, [write_plan(project)], MESSAGE, WHEN)
    assert git(project, "show", "--name-only", "--format=", sha) == ".claude/plans/plan-1.json"
    assert git(project, "status", "--porcelain") == "AM notes.txt\n?? scratch.txt"
    assert git(project, "show", ":notes.txt") == "staged"


def test_our_paths_look_clean_to_git_status_diff_and_diff_index_after_a_refresh(project: Path, repo):
    plan = write_plan(project)
    report = project / ".claude" / "plans" / "plan-1" / "new-report.md"
    report.write_text("# new\n")
    git_repo.commit_paths(repo, [plan, report], MESSAGE, WHEN)
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "diff", "--name-only") == ""
    assert git(project, "diff", "--cached", "--name-only") == ""
    git(project, "update-index", "-q", "--refresh")
    assert git(project, "diff-index", "--name-only", "HEAD") == ""


def test_an_edit_right_after_the_commit_shows_as_modified(project: Path, repo):
    # The index entry carries no stat data, so git compares content: a same-size edit within the
    # same second (git's "racy" case) is still seen.
    plan = write_plan(project, '{"revision": 2}\n')
    git_repo.commit_paths(repo, [plan], MESSAGE, WHEN)
    plan.write_text('{"revision": 3}\n')
    assert git(project, "status", "--porcelain") == "M .claude/plans/plan-1.json"


def test_plan_files_are_committed_byte_for_byte_without_end_of_line_conversion_or_ident(project: Path, repo):
    (project / ".gitattributes").write_text("*.json text eol=crlf ident\n*.md text\n")
    git(project, "config", "core.autocrlf", "true")
    content = '{"id": "$Id$",\r\n "text": "line\\n"}\n'
    plan = write_plan(project, content)
    sha = git_repo.commit_paths(repo, [plan], MESSAGE, WHEN)
    assert git_repo.file_at(repo, sha, ".claude/plans/plan-1.json") == content.encode()


def test_the_commit_is_dated_with_the_time_given_in_its_own_zone(project: Path, repo):
    when = datetime(2026, 11, 24, 10, 0, 5, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))
    sha = git_repo.commit_paths(repo, [write_plan(project)], MESSAGE, when)
    assert git(project, "log", "-1", "--format=%aI %cI", sha) == (
        "2026-11-24T10:00:05-05:30 2026-11-24T10:00:05-05:30"
    )


def test_a_commit_time_without_a_zone_is_refused_and_nothing_is_committed(project: Path, repo):
    head = git(project, "rev-parse", "HEAD")
    with pytest.raises(ValueError, match="time zone"):
        git_repo.commit_paths(repo, [write_plan(project)], MESSAGE, datetime(2026, 11, 24))
    assert git(project, "rev-parse", "HEAD") == head


def test_the_author_and_committer_are_the_configured_identity_and_the_message_is_verbatim(
    project: Path, repo
):
    sha = git_repo.commit_paths(repo, [write_plan(project)], MESSAGE, WHEN)
    assert git(project, "log", "-1", "--format=%an <%ae>|%cn <%ce>", sha) == (
        "Test User <test@example.com>|Test User <test@example.com>"
    )
    raw = subprocess.run(["git", "cat-file", "commit", sha], cwd=project, capture_output=True, check=True)
    assert raw.stdout.decode().split("\n\n", 1)[1] == MESSAGE
    assert (
        git(project, "reflog", "-1", "--format=%gs")
        == "commit (personalization-engine): attributes: add a (r2)"
    )


def test_author_and_committer_settings_are_honoured_and_missing_parts_fall_back(tmp_path: Path):
    root = tmp_path / "p"
    root.mkdir()
    git(root, "init", "-q")
    git(root, "config", "user.name", "Only A Name")
    git(root, "config", "author.email", "author@example.com")
    git(root, "config", "user.useConfigOnly", "true")  # plain git would refuse to commit
    plan = write_plan_in(root)
    sha = git_repo.commit_paths(open_repo(root), [plan], MESSAGE, WHEN)
    assert git(root, "log", "-1", "--format=%an <%ae>|%cn <%ce>", sha) == (
        "Only A Name <author@example.com>|Only A Name <personalization-engine@localhost>"
    )


def test_no_identity_at_all_falls_back_and_identity_characters_git_cannot_store_are_dropped(tmp_path: Path):
    root = tmp_path / "p"
    root.mkdir()
    git(root, "init", "-q")
    sha = git_repo.commit_paths(open_repo(root), [write_plan_in(root)], MESSAGE, WHEN)
    assert git(root, "log", "-1", "--format=%an <%ae>|%cn <%ce>", sha) == f"{FALLBACK}|{FALLBACK}"
    git(root, "config", "user.name", "Eve <eve@evil>")
    git(root, "config", "user.email", "<>")
    sha = git_repo.commit_paths(open_repo(root), [write_plan_in(root, "2")], MESSAGE, WHEN)
    assert (
        git(root, "log", "-1", "--format=%an <%ae>", sha) == "Eve eve@evil <personalization-engine@localhost>"
    )


def write_plan_in(root: Path, text: str = "1") -> Path:
    path = root / ".claude" / "plans" / "plan-1.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_the_first_commit_of_an_empty_repository_is_a_root_commit(tmp_path: Path):
    root = init_repo(tmp_path / "empty")
    repo = open_repo(root)
    assert git_repo.head_content(repo, root / "x.json") is None
    assert git_repo.log_for(repo, ["x.json"]) == []
    sha = git_repo.commit_paths(repo, [write_plan_in(root)], MESSAGE, WHEN)
    assert git(root, "rev-list", "--parents", "HEAD") == sha
    assert git(root, "symbolic-ref", "HEAD") == "refs/heads/main"
    assert git(root, "status", "--porcelain") == ""


def test_a_path_that_no_longer_exists_is_removed_by_the_commit(project: Path, repo):
    report = project / ".claude" / "plans" / "plan-1" / "profiles.md"
    report.unlink()
    sha = git_repo.commit_paths(repo, [report], MESSAGE, WHEN)
    assert git(project, "show", "--name-status", "--format=", sha) == "D\t.claude/plans/plan-1/profiles.md"
    assert git(project, "status", "--porcelain") == ""


def test_paths_outside_the_repository_in_its_git_folder_or_behind_a_symlink_are_refused(
    project: Path, repo, tmp_path: Path
):
    head = git(project, "rev-parse", "HEAD")
    outside = tmp_path / "outside.json"
    outside.write_text("{}")
    link = project / ".claude" / "plans" / "plan-2.json"
    link.symlink_to(project / ".claude" / "plans" / "plan-1.json")
    cases = [
        (outside, "is outside the repository"),
        (project / ".git" / "config", "inside the git folder"),
        (link, "is a symlink; only regular files are committed"),
        (project / "-rf.json", "must not be empty, start with '-'"),
        (project / "a\nb.json", "control character"),
    ]
    for path, error in cases:
        with pytest.raises(ConfinementError, match=error):
            git_repo.commit_paths(repo, [path], MESSAGE, WHEN)
    assert git(project, "rev-parse", "HEAD") == head


def test_a_branch_moved_by_someone_else_during_the_write_fails_cleanly(project: Path, repo, monkeypatch):
    # As if another commit landed between reading HEAD and moving it: the stale parent is refused.
    stale = git(project, "rev-parse", "HEAD")
    (project / "theirs.txt").write_text("x\n")
    git(project, "add", "theirs.txt")
    git(project, "commit", "-q", "-m", "theirs")
    theirs = git(project, "rev-parse", "HEAD")
    monkeypatch.setattr(git_repo, "_parent", lambda _repo: stale)
    with pytest.raises(RepositoryError, match="HEAD moved while the plan was being committed"):
        git_repo.commit_paths(repo, [write_plan(project)], MESSAGE, WHEN)
    assert git(project, "rev-parse", "HEAD") == theirs
    assert git(project, "diff", "--cached", "--name-only") == ""


def test_an_index_lock_taken_during_the_write_undoes_the_commit(project: Path, repo, monkeypatch):
    monkeypatch.setenv("PERSONALIZATION_ENGINE_GIT_LOCK_WAIT", "0")
    head = git(project, "rev-parse", "HEAD")
    lock = project / ".git" / "index.lock"
    lock.write_text("")  # taken after our readiness check, before the index update
    with pytest.raises(RepositoryError, match=r"index\.lock.*the commit was undone"):
        git_repo.commit_paths(repo, [write_plan(project)], MESSAGE, WHEN)
    assert lock.exists()
    assert git(project, "rev-parse", "HEAD") == head
    assert git(project, "show", "HEAD:.claude/plans/plan-1.json") == '{"revision": 1}'
    lock.unlink()
    assert git(project, "diff", "--cached", "--name-only") == ""


def test_a_plan_write_costs_five_git_commands_and_none_is_porcelain(project: Path, repo, git_calls):
    git_repo.commit_paths(repo, [write_plan(project)], MESSAGE, WHEN)
    assert [args[0] for args in git_calls()] == [
        "config",
        "rev-parse",
        "fast-import",
        "update-ref",
        "update-index",
    ]
    assert not git(project, "for-each-ref", "refs/personalization-engine")  # no scratch ref left


def test_every_git_command_carries_the_settings_that_stop_programs_reads_included(project: Path, git_calls):
    repo = open_repo(project)
    sha = git_repo.commit_paths(repo, [write_plan(project)], MESSAGE, WHEN)
    git_repo.log_for(repo, [".claude/plans/plan-1.json"])
    git_repo.file_at(repo, sha, ".claude/plans/plan-1.json")
    git_repo.head_content(repo, project / ".claude" / "plans" / "plan-1.json")
    git_repo.git_user_name(repo)
    calls = git_calls(with_settings=True)
    assert len(calls) == 10
    for settings, args in calls:
        assert settings == list(git_command.HARDENING), args


def test_output_beyond_the_read_bound_is_refused_without_being_read(project: Path, repo, monkeypatch):
    plan = write_plan(project, "x" * 5000)
    sha = git_repo.commit_paths(repo, [plan], MESSAGE, WHEN)
    monkeypatch.setattr(git_command, "MAX_OUTPUT_BYTES", 1000)
    with pytest.raises(RepositoryError, match=r"git cat-file printed 50\d\d bytes, more than the 1000"):
        git_repo.file_at(repo, sha, ".claude/plans/plan-1.json")


def test_a_failed_commit_leaves_nothing_behind_in_the_git_folder(project: Path, repo, monkeypatch):
    head = git(project, "rev-parse", "HEAD")
    before = sorted(p.name for p in (project / ".git").iterdir())
    monkeypatch.setattr(git_repo, "_parent", lambda _repo: "1" * 40)  # a commit that does not exist
    with pytest.raises(RepositoryError, match="git fast-import failed"):
        git_repo.commit_paths(repo, [write_plan(project)], MESSAGE, WHEN)
    assert sorted(p.name for p in (project / ".git").iterdir()) == before
    assert git(project, "rev-parse", "HEAD") == head
    assert not git(project, "for-each-ref", "refs/personalization-engine")

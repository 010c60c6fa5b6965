"""Repositories that git refuses, states that must not take a commit, and locks left by crashes."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from personalization_engine.core.engine import Engine
from personalization_engine.errors import RepositoryError, WorkspaceError
from personalization_engine.history import git_command, git_repo, repo_state
from personalization_engine.store.workspace import Workspace

from ..conftest import git
from .conftest import MESSAGE, WHEN, open_repo, write_plan

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="changing a folder's owner needs root")
NOBODY = 65534


def chown_tree(root: Path, uid: int) -> None:
    for folder, dirs, files in os.walk(root):
        for path in [Path(folder), *(Path(folder) / name for name in dirs + files)]:
            os.lchown(path, uid, uid)


@as_root
def test_a_repository_owned_by_another_user_is_refused_naming_safe_directory(project: Path, monkeypatch):
    repo = open_repo(project)
    chown_tree(project, NOBODY)
    where = str(project.resolve())
    refusal = rf"dubious ownership.*safe\.directory.*git config --global --add safe\.directory {where}"
    with pytest.raises(RepositoryError, match=refusal):
        git_repo.open_repository(Workspace(root=project.resolve(), source="option"), create=True)
    # A repository opened before its owner changed is checked again by every command.
    with pytest.raises(RepositoryError, match=refusal):
        git_repo.commit_paths(repo, [write_plan(project)], MESSAGE, WHEN)
    # Pinning GIT_DIR (as a server started from a git hook would have it) does not skip the check.
    monkeypatch.setenv("GIT_DIR", str(project / ".git"))
    with pytest.raises(RepositoryError, match=refusal):
        git_repo.open_repository(Workspace(root=project.resolve(), source="option"), create=False)
    assert git(project, "-c", f"safe.directory={where}", "log", "--format=%s") == "plan r1"


@as_root
def test_safe_directory_in_the_global_config_allows_another_users_repository(project: Path, home: Path):
    chown_tree(project, NOBODY)
    (home / ".gitconfig").write_text(f"[safe]\n\tdirectory = {project.resolve()}\n")
    repo = open_repo(project)
    sha = git_repo.commit_paths(repo, [write_plan(project)], MESSAGE, WHEN)
    assert git_repo.log_for(repo, [".claude/plans/plan-1.json"])[0].sha == sha


def test_a_bisect_is_refused_naming_the_way_out_and_nothing_is_written(engine: Engine, plan_id, repo_dir):
    engine.apply(plan_id, "attributes", _add("a"), expected_revision=1, actor="x")
    git(repo_dir, "bisect", "start", "HEAD", "HEAD~1")
    path = repo_dir / ".claude" / "plans" / f"{plan_id}.json"
    before = path.read_bytes()
    with pytest.raises(RepositoryError, match=r"a bisect .*in progress; finish it with 'git bisect reset'"):
        engine.apply(plan_id, "attributes", _add("b"), expected_revision=2, actor="x")
    assert path.read_bytes() == before
    git(repo_dir, "bisect", "reset")
    assert engine.apply(plan_id, "attributes", _add("b"), expected_revision=2, actor="x").revision == 3


def _paused_sequence(root: Path, command: str) -> None:
    """A two-commit cherry-pick or revert that stopped at a conflict, resolved and committed by hand."""
    git(root, "checkout", "-q", "-b", "side")
    for name in ("f.txt", "g.txt"):
        (root / name).write_text(f"{name} on side\n")
        git(root, "add", name)
        git(root, "commit", "-q", "-m", f"side {name}")
    git(root, "checkout", "-q", "main")
    if command == "revert":
        git(root, "merge", "-q", "side")
        (root / "f.txt").write_text("f.txt changed again\n")
        git(root, "commit", "-q", "-am", "again")
        args = ["revert", "--no-edit", "side~1", "side"]
    else:
        (root / "f.txt").write_text("f.txt on main\n")
        git(root, "add", "f.txt")
        git(root, "commit", "-q", "-m", "main f")
        args = ["cherry-pick", "side~1", "side"]
    subprocess.run(["git", *args], cwd=root, capture_output=True, stdin=subprocess.DEVNULL)
    (root / "f.txt").write_text("resolved\n")
    git(root, "add", "f.txt")
    git(root, "-c", "core.editor=true", "commit", "-q", "--no-edit")


@pytest.mark.parametrize("command", ["cherry-pick", "revert"])
def test_a_paused_cherry_pick_or_revert_sequence_is_refused(engine: Engine, plan_id, repo_dir, command):
    _paused_sequence(repo_dir, command)
    assert (repo_dir / ".git" / "sequencer").is_dir()
    path = repo_dir / ".claude" / "plans" / f"{plan_id}.json"
    before = path.read_bytes()
    way_out = rf"a paused {command} sequence in progress; finish it with 'git {command} --continue'"
    with pytest.raises(RepositoryError, match=rf"{way_out}.*'git {command} --abort'"):
        engine.apply(plan_id, "attributes", _add("a"), expected_revision=1, actor="x")
    assert path.read_bytes() == before


def _add(name: str):
    from personalization_engine.model import Attribute

    def mutate(plan):
        return plan.model_copy(update={"attributes": (*plan.attributes, Attribute(name=name, type="string"))})

    return mutate


def test_a_lock_left_by_a_crash_is_named_with_the_command_that_clears_it(repo, project: Path, monkeypatch):
    monkeypatch.setenv("PERSONALIZATION_ENGINE_GIT_LOCK_WAIT", "0")
    lock = project / ".git" / "index.lock"
    lock.write_text("")
    with pytest.raises(RepositoryError, match=r"left by a git command that crashed") as refusal:
        git_repo.check_ready_to_commit(repo)
    assert f"'rm {lock}'" in str(refusal.value)
    assert "'personalization-engine plans recover'" in str(refusal.value)
    assert lock.exists()
    assert git_repo.clear_stale_index_lock(repo) is True
    assert not lock.exists()
    assert git_repo.clear_stale_index_lock(repo) is False
    git_repo.check_ready_to_commit(repo)


def _until_listed(repo, pid: int, bound_s: float = 30.0) -> None:
    """Poll (bounded) until /proc shows the git process in the repository: on a loaded machine the
    kernel may show it a moment after Popen returns, and a process /proc does not show yet is one
    no check can see (the failure this test once had under heavy load)."""
    deadline = time.monotonic() + bound_s
    while pid not in [found for found, _ in repo_state.git_processes_in(repo) or []]:
        assert time.monotonic() < deadline, f"git process {pid} never showed in /proc"
        time.sleep(0.01)


def test_a_lock_is_never_cleared_while_a_git_process_runs_in_the_repository(repo, project: Path, monkeypatch):
    monkeypatch.setenv("PERSONALIZATION_ENGINE_GIT_LOCK_WAIT", "0")
    lock = project / ".git" / "index.lock"
    lock.write_text("")
    # A git process that stays alive in the repository until its input closes.
    running = subprocess.Popen(["git", "cat-file", "--batch"], cwd=project, stdin=subprocess.PIPE)
    try:
        _until_listed(repo, running.pid)
        held = rf"held by a running git process \(pid {running.pid}: git cat-file --batch\)"
        with pytest.raises(RepositoryError, match=held):
            git_repo.check_ready_to_commit(repo)
        with pytest.raises(RepositoryError, match=rf"not removed: a git process .*pid {running.pid}"):
            git_repo.clear_stale_index_lock(repo)
        assert lock.exists()
    finally:
        running.communicate(b"")
    assert git_repo.clear_stale_index_lock(repo) is True


READ_ONLY_WRITE = """
import sys
from datetime import datetime, timezone
from pathlib import Path
from personalization_engine.errors import RepositoryError
from personalization_engine.history import git_command, git_repo, repo_state
from personalization_engine.store.workspace import Workspace
root = Path(sys.argv[1])
repo = git_repo.open_repository(Workspace(root=root, source="option"), create=False)
plan = root / "plan.json"
plan.write_text("{}")
try:
    git_repo.commit_paths(repo, [plan], "m\\n", datetime.now(timezone.utc))
except RepositoryError as exc:
    print(exc)
"""


def test_a_read_only_git_folder_is_reported_as_such_not_as_a_busy_repository():
    # As root, chmod does not stop writes: the write then runs as another user who owns the
    # repository but may not write to its .git folder.
    folder = Path(tempfile.mkdtemp(prefix="pe-read-only-"))
    try:
        root = folder / "project"
        root.mkdir()
        git(root, "init", "-q")
        if os.geteuid() == 0:
            chown_tree(folder, NOBODY)
        for path in [root / ".git", *(root / ".git").rglob("*")]:
            if path.is_dir():
                path.chmod(0o555)
        prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        command = [*(prefix if os.geteuid() == 0 else []), sys.executable, "-c", READ_ONLY_WRITE, str(root)]
        done = subprocess.run(
            command, capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd=folder, timeout=120
        )
        assert "cannot write to the repository's git folder" in done.stdout, done.stdout + done.stderr
        assert "Permission denied" in done.stdout and "busy" not in done.stdout
        assert not (root / ".git" / "index").exists()
    finally:
        for path in [folder, *folder.rglob("*")]:
            if path.is_dir():
                path.chmod(0o755)
        shutil.rmtree(folder)


def test_an_endless_included_config_file_is_a_clear_error_not_a_growing_process(project: Path):
    repo = open_repo(project)
    with (project / ".git" / "config").open("a") as config:
        config.write("[include]\n\tpath = /dev/zero\n")
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reading = r"bad config line 1 in file /dev/zero"
    with pytest.raises(RepositoryError, match=reading):
        git_repo.open_repository(Workspace(root=project.resolve(), source="option"), create=False)
    with pytest.raises(RepositoryError, match=reading):
        git_repo.commit_paths(repo, [write_plan(project)], MESSAGE, WHEN)
    for read in (
        lambda: git_repo.log_for(repo, [".claude/plans/plan-1.json"]),
        lambda: git_repo.head_content(repo, project / ".claude" / "plans" / "plan-1.json"),
        lambda: git_repo.git_user_name(repo),
    ):
        with pytest.raises(RepositoryError, match=reading):
            read()
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kib < 50_000  # gitpython's config reader grew to the memory limit here


def test_a_workspace_inside_a_bare_repository_is_refused(tmp_path: Path):
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    with pytest.raises(WorkspaceError, match=r"inside a bare repository or a \.git folder"):
        git_repo.open_repository(Workspace(root=bare.resolve(), source="option"), create=True)


def test_an_included_config_that_never_ends_is_stopped_at_the_timeout(project: Path, monkeypatch):
    repo = open_repo(project)
    head = git(project, "rev-parse", "HEAD")
    fifo = project.parent / "never-written"
    os.mkfifo(fifo)  # git blocks opening it: no writer ever comes
    with (project / ".git" / "config").open("a") as config:
        config.write(f"[include]\n\tpath = {fifo}\n")
    monkeypatch.setattr(git_command, "GIT_TIMEOUT_S", 1)
    with pytest.raises(RepositoryError, match=r"git config did not finish within 1s .*include\.path"):
        git_repo.commit_paths(repo, [write_plan(project)], MESSAGE, WHEN)
    # (No git command can read this repository now, ours or the test's: read the ref file.)
    assert (project / ".git" / "refs" / "heads" / "main").read_text().strip() == head

"""What a kill -9 can leave behind, set up exactly, and the way out that must exist for each.

Both were found by tests/test_crashes.py: a ref lock left by a killed `git update-ref`, and a render
killed between writing its files and committing them.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from personalization_engine.cli.main import main
from personalization_engine.core.engine import Engine

from .conftest import git


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def test_a_ref_lock_left_by_a_killed_git_is_named_and_cleared_by_plans_recover(
    engine: Engine, plan_id: str, repo_dir: Path, capsys, monkeypatch
):
    monkeypatch.setenv("PERSONALIZATION_ENGINE_GIT_LOCK_WAIT", "0")
    lock = repo_dir / ".git" / "refs" / "heads" / "main.lock"
    lock.write_text("")  # as `git update-ref` leaves it when killed: no git process holds it
    write = (
        "plans",
        "write",
        plan_id,
        "--file",
        "-",
        "--expected-revision",
        "1",
        "--workspace",
        str(repo_dir),
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"timeline": "soon"})))

    code, out = run(capsys, *write)

    assert code != 0 and "main.lock" in out and "plans recover" in out, out
    assert "HEAD moved" not in out
    code, out = run(capsys, "plans", "recover", "--workspace", str(repo_dir))
    assert code == 0 and not lock.exists(), out
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"timeline": "soon"})))
    code, out = run(capsys, *write)
    assert code == 0, out


def test_a_render_killed_before_its_commit_is_committed_by_the_next_render(
    engine: Engine, plan_id: str, repo_dir: Path, capsys
):
    code, out = run(capsys, "plans", "render", plan_id, "--workspace", str(repo_dir))
    assert code == 0, out
    # Exactly what a kill between writing the files and committing them leaves: the files on
    # disk, HEAD and the index without them.
    git(repo_dir, "reset", "-q", "--soft", "HEAD~1")
    git(repo_dir, "reset", "-q", "--", f".claude/plans/{plan_id}")
    assert git(repo_dir, "status", "--porcelain", "--", ".claude/plans") != ""

    code, out = run(capsys, "plans", "render", plan_id, "--workspace", str(repo_dir))

    assert code == 0, out
    assert git(repo_dir, "status", "--porcelain", "--", ".claude/plans") == ""

"""A write reported as failed never lands later, even when undoing it failed too (issue 13).

Real conditions, no mocks: the commit fails because git cannot create its pack file (the pack
folder is a file), and restoring the previous plan file fails because the process may not write a
file that large (RLIMIT_FSIZE, which binds root too, standing in for a full disk). The new
revision then stays on disk, but the client was told the write failed, so recovery must treat it
as a hand edit and never commit it with `Recovered: true`.
"""

from __future__ import annotations

import io
import json
import resource
import signal
import subprocess
import sys
from pathlib import Path

from personalization_engine.cli.main import main
from personalization_engine.core.engine import Engine
from personalization_engine.store.workspace import Workspace

from .conftest import git
from .render.helpers import fill_plan


def _limited_file_size(limit: int):
    def apply() -> None:
        # Past the limit a write fails with EFBIG instead of killing the process with SIGXFSZ.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _cli(repo: Path, *args: str, stdin: str | None = None, limit: int | None = None):
    return subprocess.run(
        [sys.executable, "-m", "personalization_engine.cli.main", "plans", *args, "--workspace", str(repo)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=_limited_file_size(limit) if limit else None,
    )


def _run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def test_a_write_whose_commit_and_undo_both_fail_is_reported_failed_and_never_recovered(
    engine: Engine, plan_id: str, repo_dir: Path, capsys, monkeypatch
):
    revision = fill_plan(engine, plan_id)
    path = repo_dir / ".claude" / "plans" / f"{plan_id}.json"
    old = path.read_bytes()
    head = git(repo_dir, "rev-parse", "HEAD")
    pack = repo_dir / ".git" / "objects" / "pack"
    pack.rmdir()
    pack.write_text("")  # git cannot create its pack: the commit fails
    shrink = json.dumps({"profiles": [], "scenarios": []})
    args = ("write", plan_id, "--file", "-", "--expected-revision", str(revision))
    # The new (smaller) plan file can be written; the old, larger one cannot be put back.
    limit = len(old) - 1000

    failed = _cli(repo_dir, *args, stdin=shrink, limit=limit)

    assert failed.returncode != 0
    assert "fast-import" in failed.stderr and "putting the previous plan file back failed" in failed.stderr
    assert "Nothing was committed" in failed.stderr and "will not be recovered" in failed.stderr
    assert "Traceback" not in failed.stderr
    left = path.read_bytes()
    assert left != old and json.loads(left)["revision"] == revision + 1  # the undo really failed
    pack.unlink()
    pack.mkdir()

    # A server starting here (and the CLI's recover) finds a hand edit, and commits nothing.
    notes = Engine(Workspace(root=repo_dir.resolve(), source="option")).recover()
    code, recovered = _run(capsys, "plans", "recover", "--workspace", str(repo_dir))

    assert code == 0, recovered
    for text in (*notes, recovered):
        assert "recovered plan" not in text.lower() and "written but not committed" not in text
    assert len(notes) == 1 and "did not make" in notes[0]
    assert f"git checkout -- .claude/plans/{path.name}" in notes[0]
    assert "did not make" in recovered
    assert git(repo_dir, "rev-parse", "HEAD") == head
    assert "Recovered: true" not in git(repo_dir, "log", "--format=%B")
    assert path.read_bytes() == left  # a hand edit is reported, never overwritten
    # The next write refuses, naming the file and the two ways out, and writes nothing.
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"timeline": "later"})))
    code, refused = _run(capsys, "plans", *args, "--workspace", str(repo_dir))
    assert code != 0 and "did not make" in refused, refused
    assert git(repo_dir, "rev-parse", "HEAD") == head
    assert path.read_bytes() == left

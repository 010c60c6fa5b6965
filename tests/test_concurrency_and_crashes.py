"""No lost updates across processes."""

from __future__ import annotations

import subprocess
import sys

from personalization_engine.core.engine import Engine

from .conftest import git

WRITER = """
import sys
from personalization_engine.core.engine import Engine
from personalization_engine.errors import ConflictError, RepositoryError
from personalization_engine.model import Attribute
from personalization_engine.store.workspace import Workspace
from pathlib import Path

root, plan_id, tag, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
engine = Engine(Workspace(root=Path(root), source="option"))
done = 0
while done < count:
    current = engine.read_plan(plan_id)
    def add(plan, name=f"{tag}_{done}"):
        attributes = (*plan.attributes, Attribute(name=name, type="string"))
        return plan.model_copy(update={"attributes": attributes})
    try:
        engine.apply(plan_id, "attributes", add, expected_revision=current.revision, actor=tag)
        done += 1
    except (ConflictError, RepositoryError):
        pass
"""


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, *args], stdin=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def test_two_processes_doing_50_read_modify_writes_each_lose_no_update(engine: Engine, plan_id, repo_dir):
    writers = [_spawn(str(repo_dir), plan_id, tag, "50") for tag in ("left", "right")]
    for proc in writers:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode()
    plan = engine.read_plan(plan_id)
    assert plan.revision == 101
    names = {a.name for a in plan.attributes}
    assert names == {f"{tag}_{i}" for tag in ("left", "right") for i in range(50)}
    assert git(repo_dir, "rev-list", "--count", "HEAD") == "101"
    revisions = [e.revision for e in engine.history(plan_id)]
    assert revisions == list(range(101, 0, -1))


# Killed writers and renders: tests/test_crashes.py (real CLI processes, kill -9 at random points).

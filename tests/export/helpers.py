"""The worked example installed in a fresh repository, as a user's project holds it."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from personalization_engine.store.plans import GITIGNORE, GITIGNORE_TEXT

from ..conftest import git
from ..render.helpers import EXAMPLE

EXAMPLE_ID = EXAMPLE.stem


def install_example(repo_dir: Path) -> str:
    """The example plan (final, revision 21, activations naming every target), committed."""
    plans = repo_dir / ".claude" / "plans"
    plans.mkdir(parents=True, exist_ok=True)
    (plans / GITIGNORE).write_text(GITIGNORE_TEXT)
    shutil.copyfile(EXAMPLE, plans / EXAMPLE.name)
    git(repo_dir, "add", ".claude")
    git(repo_dir, "commit", "-q", "-m", "the worked example")
    return EXAMPLE_ID


def export_folder(repo_dir: Path, target: str, plan_id: str = EXAMPLE_ID) -> Path:
    return repo_dir / ".claude" / "plans" / plan_id / "exports" / target


def tree_state(root: Path) -> dict[str, str]:
    """Every file below root (.git included) with its content hash: 'nothing was written'."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != ".write.lock"
    }

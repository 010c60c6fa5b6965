"""The worked example installed in a fresh repository, as a user's project holds it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from personalization_engine.store.plans import GITIGNORE, GITIGNORE_TEXT

from ..conftest import git
from ..render.helpers import EXAMPLE

EXAMPLE_ID = EXAMPLE.stem


def install_example(repo_dir: Path) -> str:
    """The example plan (final at revision 20, activations naming every target) as it stood before
    the demo exported it: its ledger holds no export (its lift readout stays). Committed, at revision 26."""
    plans = repo_dir / ".claude" / "plans"
    plans.mkdir(parents=True, exist_ok=True)
    (plans / GITIGNORE).write_text(GITIGNORE_TEXT)
    document = json.loads(EXAMPLE.read_text())
    document["exports"] = []
    (plans / EXAMPLE.name).write_text(json.dumps(document, indent=2) + "\n")
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

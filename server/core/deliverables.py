"""Rendered deliverables under .claude/plans/<plan_id>/: written and committed on their own."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ..commit_message import render_deliverables_message
from ..errors import InputError
from ..history import git_repo
from ..store.plans import PlanStore, atomic_write, check_plan_id
from .recovery import recover_plan

DELIVERABLE_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


@dataclass
class DeliverablesResult:
    plan_id: str
    revision: int
    commit: str | None
    paths: list[str]
    changed: list[str]


def commit_deliverables(
    store: PlanStore,
    repo: git_repo.Repository,
    plan_id: str,
    files: dict[str, bytes],
    *,
    revision: int,
    actor: str,
    now: datetime,
    frozen_clock: bool = False,
) -> DeliverablesResult:
    """Write the files and commit them alone; the plan's revision does not change.

    The commit names the revision the files show. Unchanged bytes are not rewritten, and when
    nothing changed there is no commit.
    """
    check_plan_id(plan_id)
    for name in files:
        if not DELIVERABLE_NAME.fullmatch(name):
            raise InputError(
                f"deliverable name {name!r} is not allowed: use a plain file name such as "
                "'profiles.md' (letters, digits, '.', '-', '_')",
                field="files",
            )
    with store.locked():
        git_repo.check_ready_to_commit(repo)
        # Rendering shows the file on disk: a hand edit would be committed as the old revision.
        recover_plan(store, repo, plan_id, lambda: now)
        folder = store.deliverables_dir(plan_id)
        targets = {name: store.deliverable_path(plan_id, name) for name in files}
        folder.mkdir(exist_ok=True)
        previous = {name: path.read_bytes() for name, path in targets.items() if path.is_file()}
        # Compared with the last commit as well as the disk: a render killed after writing its files
        # but before committing them left them on disk, and they still need their commit.
        changed = [
            name
            for name, data in files.items()
            if previous.get(name) != data or git_repo.head_content(repo, targets[name]) != data
        ]
        paths = [folder / name for name in sorted(files)]
        if not changed:
            return DeliverablesResult(plan_id, revision, None, [str(p) for p in paths], [])
        for name in changed:
            atomic_write(folder / name, files[name])
        message = render_deliverables_message(plan_id, revision, actor, changed, frozen_clock=frozen_clock)
        try:
            sha = git_repo.commit_paths(repo, [folder / n for n in sorted(changed)], message, now)
        except BaseException:
            for name in changed:
                if name in previous:
                    atomic_write(folder / name, previous[name])
                else:
                    (folder / name).unlink(missing_ok=True)
            raise
        return DeliverablesResult(plan_id, revision, sha, [str(p) for p in paths], sorted(changed))

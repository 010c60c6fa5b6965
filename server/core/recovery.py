"""Crash recovery: a revision written but not committed is committed; hand edits are left alone."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from ..commit_message import render_commit_message
from ..errors import PlanFileError
from ..history import git_repo
from ..model import Plan
from ..store.plans import PlanStore, content_hash, parse_plan

log = logging.getLogger(__name__)


def recover_plan(
    store: PlanStore,
    repo: git_repo.Repository,
    plan_id: str,
    clock: Callable[[], datetime],
    *,
    raise_on_hand_edit: bool = True,
    on_disk: bytes | None = None,
) -> str | None:
    """Apply the recovery rule to one plan; returns a note, or None when the file is as committed.

    A file that differs from its last commit while carrying a newer revision that the server itself
    wrote is committed with the trailer `Recovered: true`. Any other difference is a hand edit:
    reported (raised when `raise_on_hand_edit`), never overwritten. `on_disk`: the file's bytes
    when the caller has just read them.
    """
    path = store.plan_path(plan_id)
    if on_disk is None:
        if not path.is_file():
            return None
        on_disk = path.read_bytes()
    if store.committed_as_written(plan_id, on_disk):
        return None  # our own last write, and its commit succeeded: no need to ask git
    committed = git_repo.head_content(repo, path)
    if committed == on_disk:
        return None
    ours = content_hash(on_disk) == store.last_write_hash(plan_id)
    where = str(path)
    try:
        disk_plan = parse_plan(on_disk, where, trusted=ours)
    except PlanFileError as exc:
        if raise_on_hand_edit:
            raise
        return str(exc)
    committed_revision = 0
    if committed is not None:
        try:
            committed_revision = parse_plan(committed, f"{where}@HEAD", trusted=False).revision
        except PlanFileError:
            committed_revision = 0
    if ours and disk_plan.revision > committed_revision:
        return _commit_recovered(store, repo, plan_id, disk_plan, on_disk, clock)
    note = (
        f"{where} has changes that personalization-engine did not make (a hand edit or another "
        "tool); they are left untouched. Commit them, or discard them with "
        f"'git checkout -- {path.relative_to(store.ws.root).as_posix()}', before writing or "
        "rendering this plan"
    )
    if raise_on_hand_edit:
        raise PlanFileError(note)
    return note


def _commit_recovered(
    store: PlanStore,
    repo: git_repo.Repository,
    plan_id: str,
    disk_plan: Plan,
    on_disk: bytes,
    clock: Callable[[], datetime],
) -> str:
    """Commit a revision the server wrote but did not commit, with the trailer `Recovered: true`."""
    path = store.plan_path(plan_id)
    entry = disk_plan.change_log[-1] if disk_plan.change_log else None
    message = render_commit_message(
        plan_id,
        disk_plan.revision,
        entry.stage if entry else "recovery",
        entry.actor if entry else "personalization-engine",
        entry.changes if entry else [],
        {"Recovered": "true"},
    )
    git_repo.check_ready_to_commit(repo)
    extra = [p for p in [store.plans_dir / ".gitignore"] if p.exists()]
    git_repo.commit_paths(repo, [path, *extra], message, entry.at if entry else clock())
    store.remember_write(plan_id, on_disk, status="committed")
    note = f"recovered {plan_id} revision {disk_plan.revision}: it was written but not committed"
    log.warning(note)
    return note

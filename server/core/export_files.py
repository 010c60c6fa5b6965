"""Export files under .claude/plans/<plan_id>/exports/<target>/: written and committed on their own,
or written into a person's own new or empty folder (`--out`) and committed nowhere."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..commit_message import render_export_message
from ..errors import ConfinementError, InputError
from ..history import git_repo
from ..paths import confined_path
from ..store.plans import PlanStore, atomic_write, refuse_link
from .recovery import recover_plan

EXPORT_PATH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(/[A-Za-z0-9][A-Za-z0-9._-]{0,99}){0,5}$")


@dataclass
class ExportFilesResult:
    folder: Path
    commit: str | None
    files: list[str]
    changed: list[str]


def check_names(files: dict[str, bytes]) -> None:
    for name in files:
        if not EXPORT_PATH.fullmatch(name) or ".." in name.split("/"):
            raise InputError(
                f"export file name {name!r} is not allowed: use lower-case relative paths such as "
                "'models/pe_trial.sql' (letters, digits, '.', '-', '_')",
                field="files",
            )


def exports_folder(store: PlanStore, plan_id: str, target: str) -> Path:
    base = refuse_link(store.deliverables_dir(plan_id) / "exports", "the exports folder")
    return refuse_link(base / target, "the export folder")


def commit_export(
    store: PlanStore,
    repo: git_repo.Repository,
    plan_id: str,
    target: str,
    files: dict[str, bytes],
    *,
    revision: int,
    draft: bool,
    actor: str,
    now: datetime,
    frozen_clock: bool = False,
) -> ExportFilesResult:
    """Write the target's files and commit them alone; files the export no longer makes are removed
    in the same commit. Unchanged bytes are not rewritten, and when nothing changed, no commit."""
    check_names(files)
    with store.locked():
        git_repo.check_ready_to_commit(repo)
        recover_plan(store, repo, plan_id, lambda: now)
        folder = exports_folder(store, plan_id, target)
        existing = _files_below(folder)
        targets = {name: _inside(folder, name) for name in files}
        previous = {name: path.read_bytes() for name, path in existing.items()}
        changed = [
            name
            for name, data in files.items()
            if previous.get(name) != data or git_repo.head_content(repo, targets[name]) != data
        ]
        gone = sorted(name for name in existing if name not in files)
        listed = sorted(files)
        if not changed and not gone:
            return ExportFilesResult(folder, None, listed, [])
        for name in changed:
            targets[name].parent.mkdir(parents=True, exist_ok=True)
            atomic_write(targets[name], files[name])
        for name in gone:
            existing[name].unlink()
        paths = [folder / n for n in sorted({*changed, *gone})]
        message = render_export_message(
            plan_id,
            revision,
            target,
            actor,
            sorted({*changed, *gone}),
            draft=draft,
            frozen_clock=frozen_clock,
        )
        try:
            sha = git_repo.commit_paths(repo, paths, message, now)
        except BaseException:
            _restore(folder, previous, [*changed, *gone])
            raise
        return ExportFilesResult(folder, sha, listed, sorted({*changed, *gone}))


def write_out(root: Path, out: str, files: dict[str, bytes]) -> Path:
    """Write into `out`: a new or empty folder inside the workspace (symlinks that lead out count as
    outside). It never writes over a file, tracked or not, and commits nothing."""
    check_names(files)
    folder = confined_path(root, out, field="out")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {out!r} is a file; name a new or empty folder", field="out")
    if folder.is_dir() and any(folder.iterdir()):
        raise InputError(
            f"--out {out!r} is not empty; name a new or empty folder, so no file is written over",
            field="out",
        )
    if folder == root.resolve() or (root.resolve() / ".git") in (folder, *folder.parents):
        raise ConfinementError(f"--out {out!r} is the workspace or its .git folder", field="out")
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(files.items()):
        path = _inside(folder, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as handle:  # exclusive: never over a file that appeared meanwhile
            handle.write(data)
    return folder


def _inside(folder: Path, name: str) -> Path:
    path = folder.joinpath(*name.split("/"))
    for parent in [path, *path.parents]:
        if parent == folder:
            break
        refuse_link(parent, "the export file")
    return path


def _files_below(folder: Path) -> dict[str, Path]:
    """The files an earlier export left, refusing any link below the folder: a planted link could
    lead a rewrite, or the removal of a file the export no longer makes, outside the workspace."""
    found: dict[str, Path] = {}
    if not folder.is_dir():
        return found
    for top, dirs, files in os.walk(folder, followlinks=False):
        for name in [*dirs, *files]:
            refuse_link(Path(top) / name, "a file in the export folder")
        for name in files:
            path = Path(top) / name
            found[path.relative_to(folder).as_posix()] = path
    return found


def _restore(folder: Path, previous: dict[str, bytes], names: list[str]) -> None:
    for name in names:
        path = _inside(folder, name)
        if name in previous:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, previous[name])
        else:
            path.unlink(missing_ok=True)

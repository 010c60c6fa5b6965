"""Export files under .claude/plans/<plan_id>/exports/<target>/: written and committed on their own,
or written into a person's own new or empty folder (`--out`) and committed nowhere."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
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
    made_before: frozenset[str] = frozenset(),
    frozen_clock: bool = False,
) -> ExportFilesResult:
    """Write the target's files and commit them alone. A file an earlier export made (`made_before`)
    and this one does not is removed in the same commit; any other file in the folder is the
    user's and is left alone. Unchanged bytes are not rewritten; when nothing changed, no commit."""
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
        gone = sorted(name for name in existing if name not in files and name in made_before)
        touched = sorted({*changed, *gone})
        if not touched:
            return ExportFilesResult(folder, None, sorted(files), [])
        message = render_export_message(
            plan_id, revision, target, actor, touched, draft=draft, frozen_clock=frozen_clock
        )
        folders_before = _folders(folder)
        try:
            _write(folder, targets, files, changed, [existing[name] for name in gone])
            sha = git_repo.commit_paths(repo, [folder / n for n in touched], message, now)
        except BaseException as exc:
            _restore(folder, previous, touched)
            _remove_new_folders(folder, folders_before)
            if isinstance(exc, OSError):
                raise InputError(
                    f"could not write the {target} export in {str(folder)!r}: {exc.strerror or exc}; "
                    "nothing was written",
                    field="target",
                ) from None
            raise
        return ExportFilesResult(folder, sha, sorted(files), touched)


def _write(
    folder: Path, targets: dict[str, Path], files: dict[str, bytes], changed: list[str], gone: list[Path]
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in changed:
        targets[name].parent.mkdir(parents=True, exist_ok=True)
        atomic_write(targets[name], files[name])
    for path in gone:
        path.unlink()


def write_out(root: Path, out: str, files: dict[str, bytes], *, tracked: Callable[[Path], list[str]]) -> Path:
    """Write into `out`: a new or empty folder inside the workspace (symlinks that lead out count as
    outside), outside the plans store and git's folder, holding no path git tracks. It never writes
    over a file, tracked or not, and commits nothing. `tracked` lists the paths git tracks below a
    folder."""
    check_names(files)
    folder = confined_path(root, out, field="out")
    plans = root.resolve() / ".claude" / "plans"
    if folder == plans or plans in folder.parents:
        raise ConfinementError(
            f"--out {out!r} is inside .claude/plans, which the server owns; name a folder elsewhere "
            "(exports to the plan's own folder are committed without --out)",
            field="out",
        )
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out {out!r} is a file; name a new or empty folder", field="out")
    if folder.is_dir() and any(folder.iterdir()):
        raise InputError(
            f"--out {out!r} is not empty; name a new or empty folder, so no file is written over",
            field="out",
        )
    if folder == root.resolve() or (root.resolve() / ".git") in (folder, *folder.parents):
        raise ConfinementError(f"--out {out!r} is the workspace or its .git folder", field="out")
    held = tracked(folder)
    if held:
        raise InputError(
            f"--out {out!r} holds paths git tracks ({', '.join(held[:3])}), though they are not on "
            "disk; name a folder git does not track, so no tracked file is written over",
            field="out",
        )
    try:
        _write_new(folder, files)
    except OSError as exc:
        raise InputError(f"--out {out!r} cannot be written: {exc.strerror or exc}", field="out") from None
    return folder


def _write_new(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(files.items()):
        path = _inside(folder, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as handle:  # exclusive: never over a file that appeared meanwhile
            handle.write(data)


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


def _folders(folder: Path) -> set[Path]:
    """The folders that exist at and below `folder` (links are refused before this runs)."""
    found = {folder, *folder.parents}
    if folder.is_dir():
        found |= {Path(top) / name for top, dirs, _ in os.walk(folder) for name in dirs}
    return {path for path in found if path.is_dir()}


def _remove_new_folders(folder: Path, before: set[Path]) -> None:
    """After a failed export: the empty folders it made go too (deepest first), best effort."""
    made = sorted((p for p in _folders(folder) if p not in before), key=lambda p: len(p.parts), reverse=True)
    for path in made:
        try:
            path.rmdir()
        except OSError:
            continue


def _restore(folder: Path, previous: dict[str, bytes], names: list[str]) -> None:
    """Best effort, after a failed export: what blocked the write (a folder where a file goes) may
    block restoring too, and must not hide the first error."""
    for name in names:
        path = folder.joinpath(*name.split("/"))
        try:
            if name in previous:
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(path, previous[name])
            elif path.is_file() and not path.is_symlink():
                path.unlink()
        except OSError:
            continue

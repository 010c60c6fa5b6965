"""Whether the repository can take a plan commit now: no operation in progress, no index.lock.

A lock file is never deleted while a git process may hold it. When none can (no git process runs
in the repository, and the lock existed before we looked for one), it was left by a git command
that crashed, and the error says how to clear it; `clear_stale_index_lock` does so on request.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import RepositoryError

LOCK_WAIT_ENV = "PERSONALIZATION_ENGINE_GIT_LOCK_WAIT"
DEFAULT_LOCK_WAIT_S = 10.0
RECOVER_COMMAND = "personalization-engine plans recover"

# (marker in the git folder, what is in progress, how to get out of it), most specific first.
_OPERATIONS = (
    ("rebase-merge", "a rebase", "'git rebase --continue' or 'git rebase --abort'"),
    ("rebase-apply/applying", "a 'git am'", "'git am --continue' or 'git am --abort'"),
    ("rebase-apply", "a rebase", "'git rebase --continue' or 'git rebase --abort'"),
    ("MERGE_HEAD", "a merge", "'git merge --continue' (after resolving) or 'git merge --abort'"),
    ("CHERRY_PICK_HEAD", "a cherry-pick", "'git cherry-pick --continue' or 'git cherry-pick --abort'"),
    ("REVERT_HEAD", "a revert", "'git revert --continue' or 'git revert --abort'"),
    (
        "BISECT_START",
        "a bisect (HEAD is a commit under test, not your branch, so a plan commit would be lost)",
        "'git bisect reset'",
    ),
    (
        "BISECT_LOG",
        "a bisect (HEAD is a commit under test, not your branch, so a plan commit would be lost)",
        "'git bisect reset'",
    ),
)


@dataclass(frozen=True)
class Repository:
    """The repository's work tree (`root`) and its git folder (for a linked worktree, that
    worktree's own folder: where its index, index.lock and bisect or merge state live)."""

    root: Path
    git_dir: Path


def operation_in_progress(repo: Repository) -> tuple[str, str] | None:
    """(what is in progress, how to finish or abandon it), or None."""
    for marker, name, way_out in _OPERATIONS:
        if (repo.git_dir / marker).exists():
            return name, way_out
    sequencer = repo.git_dir / "sequencer"
    if sequencer.is_dir():
        command = "revert" if _first_todo_word(sequencer / "todo") == "revert" else "cherry-pick"
        return (
            f"a paused {command} sequence",
            f"'git {command} --continue' (or '--skip') or 'git {command} --abort'",
        )
    return None


def _first_todo_word(todo: Path) -> str:
    try:
        with todo.open("rb") as handle:
            line = handle.read(200).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return line.split(" ", 1)[0] if line else ""


def check_ready_to_commit(repo: Repository, lock_wait_s: float | None = None) -> None:
    """Raise RepositoryError unless a commit can be made now; waits a bounded time for index.lock."""
    operation = operation_in_progress(repo)
    if operation:
        name, way_out = operation
        raise RepositoryError(
            f"repository {str(repo.root)!r} has {name} in progress; finish it with {way_out} before "
            "writing plans (nothing was written)"
        )
    wait = lock_wait_s if lock_wait_s is not None else configured_lock_wait()
    if not wait_for_index_lock(repo, wait):
        raise RepositoryError(index_lock_report(repo, wait))
    for lock in ref_locks(repo):
        # A killed `git update-ref` leaves the branch's lock behind; git then refuses every commit.
        if not _wait_gone(lock, wait):
            raise RepositoryError(index_lock_report(repo, wait, lock))


def _common_dir(repo: Repository) -> Path:
    pointer = repo.git_dir / "commondir"
    if pointer.is_file():
        return (repo.git_dir / pointer.read_text().strip()).resolve()
    return repo.git_dir


def final_tag_locks(repo: Repository) -> list[Path]:
    """Lock files a killed finalize left on its tag (refs/tags/personalization/...); git then
    refuses that tag until the lock is gone."""
    folder = _common_dir(repo) / "refs" / "tags" / "personalization"
    return sorted(folder.rglob("*.lock")) if folder.is_dir() else []


def ref_locks(repo: Repository) -> list[Path]:
    """Lock files of HEAD and of the branch it points at that exist now."""
    common = _common_dir(repo)
    candidates = [repo.git_dir / "HEAD.lock"]
    try:
        head = (repo.git_dir / "HEAD").read_text(errors="replace").strip()
    except OSError:
        head = ""
    if head.startswith("ref: refs/"):
        candidates.append(common / f"{head[5:]}.lock")
    return [lock for lock in candidates if lock.exists()]


def _wait_gone(lock: Path, wait_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    while lock.exists():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def configured_lock_wait() -> float:
    """How long to wait for another git command's index.lock ($PERSONALIZATION_ENGINE_GIT_LOCK_WAIT)."""
    raw = os.environ.get(LOCK_WAIT_ENV, "")
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_LOCK_WAIT_S
    except ValueError:
        return DEFAULT_LOCK_WAIT_S


def wait_for_index_lock(repo: Repository, wait_s: float) -> bool:
    """True once index.lock is gone; False when it is still there after `wait_s`."""
    lock = repo.git_dir / "index.lock"
    deadline = time.monotonic() + wait_s
    while lock.exists():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)  # git holds the lock for milliseconds; poll rather than spin
    return True


def index_lock_report(repo: Repository, waited_s: float, lock: Path | None = None) -> str:
    """Why index.lock (or `lock`) blocks a write, and what to do about it."""
    lock = lock or repo.git_dir / "index.lock"
    holders = git_processes_in(repo)
    if holders:
        pid, command = holders[0]
        return (
            f"repository busy: {str(lock)!r} is held by a running git process (pid {pid}: {command}); "
            f"waited {waited_s:g}s and left it alone. Retry when it finishes (nothing was written)"
        )
    if holders is None:
        return (
            f"repository busy: {str(lock)!r} exists; waited {waited_s:g}s and left it alone. If no "
            f"git command is running in {str(repo.root)!r}, a crashed one left it: remove it with "
            f"'rm {lock}' and retry (nothing was written)"
        )
    return (
        f"repository busy: {str(lock)!r} was left by a git command that crashed: it was there "
        f"before this write and no git process is running in {str(repo.root)!r}. Clear it with "
        f"'{RECOVER_COMMAND}' or 'rm {lock}', then retry (nothing was written)"
    )


def clear_stale_index_lock(repo: Repository) -> bool:
    """Remove index.lock, HEAD's ref locks and final tags' locks if no git process can hold them;
    False when none.

    Raises RepositoryError, leaving a lock alone, when a git process runs in the repository or
    when the running processes cannot be listed (no /proc).
    """
    cleared = False
    for lock in [repo.git_dir / "index.lock", *ref_locks(repo), *final_tag_locks(repo)]:
        cleared = _clear_stale_lock(repo, lock) or cleared
    return cleared


def _clear_stale_lock(repo: Repository, lock: Path) -> bool:
    before = _identity(lock)
    if before is None:
        return False
    holders = git_processes_in(repo)  # listed after the lock existed: its creator, if alive, is here
    if holders is None:
        raise RepositoryError(
            f"cannot tell whether a git process holds {str(lock)!r} (no /proc to list processes); "
            f"if no git command is running in {str(repo.root)!r}, remove it with 'rm {lock}'"
        )
    if holders:
        pid, command = holders[0]
        raise RepositoryError(
            f"{str(lock)!r} was not removed: a git process is running in {str(repo.root)!r} "
            f"(pid {pid}: {command}) and may hold it; retry when it finishes"
        )
    if _identity(lock) != before:
        raise RepositoryError(f"{str(lock)!r} was not removed: a git command has just taken it; retry")
    lock.unlink(missing_ok=True)
    return True


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_mtime_ns


def git_processes_in(repo: Repository) -> list[tuple[int, str]] | None:
    """Git processes that may work in the repository, as (pid, command line); None: cannot tell.

    A process counts when its program is git (git, git-*) and its folder, its command line or its
    GIT_DIR/GIT_WORK_TREE/GIT_INDEX_FILE lead into the repository, or when we may not look at it.
    """
    proc = Path("/proc")
    if not (proc / "self" / "cmdline").exists():
        return None
    places = {str(repo.root), str(repo.git_dir)}
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        argv = _read_argv(entry)
        if not argv or not Path(argv[0]).name.startswith("git"):
            continue
        if _works_in(entry, argv, places):
            found.append((int(entry.name), " ".join(argv)[:200]))
    return found


def _read_argv(process: Path) -> list[str]:
    try:
        raw = (process / "cmdline").read_bytes()
    except OSError:  # the process has ended
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def _works_in(process: Path, argv: list[str], places: set[str]) -> bool:
    def inside(path: str) -> bool:
        return any(path == place or path.startswith(place.rstrip("/") + "/") for place in places)

    try:
        cwd = str((process / "cwd").readlink())
        environ = (process / "environ").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False  # it has ended
    except OSError:
        return True  # another user's process: it may be working here
    named = [
        value.decode("utf-8", "replace")
        for key, _, value in (item.partition(b"=") for item in environ)
        if key in (b"GIT_DIR", b"GIT_WORK_TREE", b"GIT_INDEX_FILE")
    ]
    # A path can hide in an option (-C/path, --git-dir=/path): any mention counts.
    mentioned = any(place in arg for arg in argv[1:] for place in places)
    return inside(cwd) or mentioned or any(inside(path) for path in named)

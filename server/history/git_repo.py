"""Git for the plan store: plain functions over one repository, confined to the workspace.

Choices for the user's repository state (docs/user-guide.md, "Git behaviour"):
- Only the written paths are committed (`git commit --only -- paths`); the user's other staged
  changes stay staged and uncommitted.
- Hooks are not run for plan commits (core.hooksPath points nowhere and --no-verify): plan commits
  are machine-written audit records, a hook that rewrites the JSON would commit content other than
  the validated revision, and a slow or interactive hook must not block a tool call.
- Plan commits are never signed (--no-gpg-sign): signing needs a key and often a passphrase prompt
  that would hang a server with no terminal. The Actor trailer records who asked for the change.
- With no user.name or user.email configured, the commit uses 'personalization-engine'
  <personalization-engine@localhost> so a write never fails for want of an identity.
- Plan commits skip git's automatic maintenance (`gc --auto`): it would start another process in
  the middle of a tool call. The user's own git commands still run it, and it packs our objects too.
- index.lock held by another git process: wait a bounded time, then report "repository busy".
  The lock is never deleted: it belongs to a process we know nothing about.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import git
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError

from ..errors import ConfinementError, RepositoryError, WorkspaceError
from ..store.workspace import ALLOW_ENCLOSING_ENV, HOW_TO_SET, Workspace
from .process import run_captured

FALLBACK_NAME = "personalization-engine"
FALLBACK_EMAIL = "personalization-engine@localhost"
GIT_TIMEOUT_S = 60
LOCK_WAIT_ENV = "PERSONALIZATION_ENGINE_GIT_LOCK_WAIT"
_TRAILER_RE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*): (.*)$")
# Points hooks at a folder that cannot exist, so no user hook runs for a plan commit.
_NO_HOOKS = "/dev/null/personalization-engine-no-hooks"
# A commit ends by starting `git maintenance run --auto`, one more process per write.
_NO_AUTO_MAINTENANCE = ["-c", "maintenance.auto=false", "-c", "gc.auto=0"]


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    time: str
    author: str
    subject: str
    trailers: dict[str, str] = field(default_factory=dict)


def _safe_arg(value: str, what: str) -> str:
    if not value or value.startswith("-") or "\0" in value:
        raise ConfinementError(
            f"{what} {value!r} is not allowed: it must not be empty, start with '-' or contain a NUL byte"
        )
    return value


def _git_env(repo: git.Repo) -> dict[str, str]:
    # A server started from inside a git hook inherits GIT_DIR/GIT_INDEX_FILE pointing elsewhere;
    # pin every command to this repository so no git command runs outside it.
    git_dir = str(Path(repo.git_dir).resolve())
    return {
        "GIT_DIR": git_dir,
        "GIT_WORK_TREE": str(Path(repo.working_tree_dir or ".").resolve()),
        "GIT_INDEX_FILE": str(Path(git_dir) / "index"),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_EDITOR": "true",
        "GIT_PAGER": "cat",
        "LC_ALL": "C",
    }


def git_output(
    repo: git.Repo,
    *args: str,
    extra_env: dict[str, str] | None = None,
    started: Callable[[], None] | None = None,
    cpus: set[int] | None = None,
) -> bytes:
    """Run one git command in the repository with stdin closed; return its stdout as bytes.

    Not gitpython's execute: its timeout starts a watchdog thread per command, and on a write's
    critical path every process and thread shows (see process.py for the deadline we use instead).
    """
    command = ["git", *args]
    try:
        done = run_captured(
            command,
            cwd=repo.working_tree_dir,
            env={**os.environ, **_git_env(repo), **(extra_env or {})},
            timeout_s=GIT_TIMEOUT_S,
            started=started,
            cpus=cpus,
        )
    except subprocess.TimeoutExpired as exc:
        raise GitCommandError(command, "timeout", f"timed out after {GIT_TIMEOUT_S}s") from exc
    if done.returncode != 0:
        stdout = done.stdout.decode("utf-8", "replace")
        raise GitCommandError(command, done.returncode, done.stderr.decode("utf-8", "replace"), stdout)
    return done.stdout


def run_git(
    repo: git.Repo,
    *args: str,
    strip: bool = True,
    extra_env: dict[str, str] | None = None,
    started: Callable[[], None] | None = None,
    cpus: set[int] | None = None,
) -> str:
    """git_output as text, without its final newline unless strip=False."""
    stdout = git_output(repo, *args, extra_env=extra_env, started=started, cpus=cpus)
    stdout = stdout.decode("utf-8", "replace")
    return stdout.removesuffix("\n") if strip else stdout


def open_repository(ws: Workspace, *, create: bool) -> git.Repo | None:
    """The workspace's own repository, initialising one when the user named the workspace.

    Refuses a workspace that sits inside another repository without being its top level, unless
    the user allowed it, so nothing is committed to a repository they did not choose.
    """
    try:
        repo = git.Repo(ws.root, search_parent_directories=True)
    except (InvalidGitRepositoryError, NoSuchPathError):
        repo = None
    if repo is not None and repo.working_tree_dir is None:
        raise WorkspaceError(f"workspace {str(ws.root)!r} is inside a bare repository; {HOW_TO_SET}")
    if repo is not None:
        top = Path(repo.working_tree_dir or "").resolve()
        if top != ws.root and not ws.allow_enclosing_repo:
            raise WorkspaceError(
                f"workspace {str(ws.root)!r} is inside the git repository {str(top)!r} but is not "
                "its top level; plans would be committed to that repository. Use the repository's "
                f"top level as the workspace, or allow it with --allow-enclosing-repo or "
                f"{ALLOW_ENCLOSING_ENV}=1"
            )
        return repo
    if not create:
        return None
    if not ws.named_by_user:
        raise WorkspaceError(
            f"the current folder {str(ws.root)!r} is not a git repository and was not named as the "
            f"workspace, so it will not be initialised; {HOW_TO_SET}"
        )
    return git.Repo.init(ws.root)


def _operation_in_progress(repo: git.Repo) -> str | None:
    git_dir = Path(repo.git_dir)
    for marker, name in (
        ("MERGE_HEAD", "a merge"),
        ("CHERRY_PICK_HEAD", "a cherry-pick"),
        ("REVERT_HEAD", "a revert"),
        ("rebase-merge", "a rebase"),
        ("rebase-apply", "a rebase or am"),
    ):
        if (git_dir / marker).exists():
            return name
    return None


def check_ready_to_commit(repo: git.Repo, lock_wait_s: float | None = None) -> None:
    """Raise RepositoryError unless a commit can be made now; waits a bounded time for index.lock."""
    operation = _operation_in_progress(repo)
    if operation:
        raise RepositoryError(
            f"repository {repo.working_tree_dir!r} has {operation} in progress; finish or abort it "
            "before writing plans (nothing was written)"
        )
    wait = lock_wait_s if lock_wait_s is not None else float(os.environ.get(LOCK_WAIT_ENV, "10"))
    lock = Path(repo.git_dir) / "index.lock"
    deadline = time.monotonic() + wait
    while lock.exists():
        if time.monotonic() >= deadline:
            raise RepositoryError(
                f"repository busy: {str(lock)!r} is held by another git process; waited {wait:g}s "
                "and left it alone. Retry when that process finishes (nothing was written)"
            )
        time.sleep(0.05)


# git_dir -> (the config files' stamps, (user.name, user.email)). Parsing the config costs about
# 0.3 ms per write; a stat of each file tells whether it can have changed. (A change made only in
# a file that a config includes is seen once one of the files read here changes.)
_Stamps = tuple[tuple[str, tuple[int, int, int] | None], ...]
_identities: dict[str, tuple[_Stamps, tuple[str | None, str | None]]] = {}


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        status = Path(path).stat()
    except OSError:
        return None
    # git config rewrites the file through a lock file and a rename, so the inode changes too.
    return (status.st_ino, status.st_mtime_ns, status.st_size)


def _identity(repo: git.Repo) -> tuple[str | None, str | None]:
    # The files gitpython's config_reader reads, in its order (system, user, global, repository).
    files = [repo._get_config_path(level) for level in repo.config_level]
    stamps = tuple((path, _stamp(path)) for path in files)
    known = _identities.get(repo.git_dir)
    if known is not None and known[0] == stamps:
        return known[1]
    reader = repo.config_reader()
    name = reader.get_value("user", "name", default="") or None
    email = reader.get_value("user", "email", default="") or None
    identity = (str(name) if name else None, str(email) if email else None)
    _identities[repo.git_dir] = (stamps, identity)
    return identity


def git_user_name(repo: git.Repo | None) -> str | None:
    if repo is None:
        return None
    return _identity(repo)[0]


def commit_paths(
    repo: git.Repo,
    paths: Sequence[Path],
    message: str,
    author_name: str,
    when: datetime,
    *,
    new_paths: Sequence[Path] | None = None,
    committing: Callable[[], None] | None = None,
    cpus: set[int] | None = None,
) -> str:
    """Commit exactly `paths` (already written) and return the new commit's SHA.

    Only `new_paths` (files git may not track yet) are added first, so an update of a tracked plan
    costs one git process. The commit carries the plan's own change time, so the audit trail and
    the change log agree and a demo run with a fixed clock produces the same history.
    `committing` is called once the commit process has started, and `cpus` keeps the git
    processes to those CPUs (see process.run_captured).
    """
    root = Path(repo.working_tree_dir or "").resolve()
    rel = [_safe_arg(p.resolve().relative_to(root).as_posix(), "path") for p in paths]
    added = [_safe_arg(p.resolve().relative_to(root).as_posix(), "path") for p in (new_paths or [])]
    name, email = _identity(repo)
    config = ["-c", f"core.hooksPath={_NO_HOOKS}", "-c", "commit.gpgsign=false", *_NO_AUTO_MAINTENANCE]
    if not name:
        config += ["-c", f"user.name={FALLBACK_NAME}"]
    if not email:
        config += ["-c", f"user.email={FALLBACK_EMAIL}"]
    author = f"{author_name} <{email or FALLBACK_EMAIL}>"
    dates = {"GIT_AUTHOR_DATE": when.isoformat(), "GIT_COMMITTER_DATE": when.isoformat()}
    commit = [
        *config,
        "commit",
        "--only",
        "--no-verify",
        "--no-gpg-sign",
        "--quiet",
        "--cleanup=verbatim",
        f"--author={author}",
        "-m",
        message,
        "--",
    ]
    try:
        if added:
            # -f: many projects ignore .claude/; the plan must still be committed.
            run_git(repo, *config, "add", "-f", "--", *added, cpus=cpus)
        try:
            run_git(repo, *commit, *rel, extra_env=dates, started=committing, cpus=cpus)
        except GitCommandError as exc:
            if "did not match any file" not in (exc.stderr or ""):
                raise
            # Someone untracked the plan (git rm --cached): add it back and commit.
            run_git(repo, *config, "add", "-f", "--", *rel, cpus=cpus)
            run_git(repo, *commit, *rel, extra_env=dates, started=committing, cpus=cpus)
    except GitCommandError as exc:
        detail = (exc.stderr or str(exc)).strip()
        if "index.lock" in detail:
            raise RepositoryError(
                "repository busy: another git process holds index.lock; retry when it finishes"
            ) from exc
        raise RepositoryError(f"git commit failed: {detail[-500:]}") from exc
    # Read the new HEAD from the ref files in-process rather than spawning `git rev-parse`.
    # (repo.head.commit would start a persistent `git cat-file --batch-check` that lives until the
    # Repo object is collected: one stray process per write in a long-running server.)
    return git.refs.SymbolicReference.dereference_recursive(repo, "HEAD")


def head_content(repo: git.Repo, path: Path) -> bytes | None:
    """The committed content of `path` at HEAD, or None when it is not committed (or no HEAD)."""
    root = Path(repo.working_tree_dir or "").resolve()
    rel = _safe_arg(path.resolve().relative_to(root).as_posix(), "path")
    try:
        return file_at(repo, "HEAD", rel)
    except GitCommandError:
        return None


def file_at(repo: git.Repo, rev: str, rel_path: str) -> bytes:
    _safe_arg(rev, "revision")
    _safe_arg(rel_path, "path")
    return git_output(repo, "cat-file", "blob", f"{rev}:{rel_path}")


def parse_trailers(message: str) -> dict[str, str]:
    paragraphs = [p for p in message.strip().split("\n\n") if p.strip()]
    if not paragraphs:
        return {}
    trailers: dict[str, str] = {}
    for line in paragraphs[-1].splitlines():
        match = _TRAILER_RE.match(line.strip())
        if match:
            trailers[match.group(1)] = match.group(2).strip()
    return trailers


def log_for(repo: git.Repo, rel_paths: Iterable[str]) -> list[CommitInfo]:
    """Commits touching the paths, newest first, with their trailers."""
    paths = [_safe_arg(p, "path") for p in rel_paths]
    try:
        out = run_git(repo, "log", "--format=%H%x1f%aI%x1f%an%x1f%B%x1e", "--", *paths, strip=False)
    except GitCommandError:
        return []  # no commits yet
    commits = []
    for record in out.split("\x1e"):
        record = record.strip("\n")
        if not record:
            continue
        sha, when, author, body = record.split("\x1f", 3)
        commits.append(
            CommitInfo(
                sha=sha,
                time=when,
                author=author,
                subject=body.splitlines()[0] if body else "",
                trailers=parse_trailers(body),
            )
        )
    return commits

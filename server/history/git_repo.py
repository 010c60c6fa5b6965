"""Git for the plan store: plain functions over one repository, confined to the workspace.

Why plumbing. Porcelain commands (`git add`, `git commit`, `git status`) run programs that the
repository configures: hooks, core.fsmonitor, the clean/smudge/process filters named in
.gitattributes, signing programs. A `-c` override cannot switch off a filter driver whose name we
do not know, and git 2.39 has no --attr-source. So a plan commit is built from commands that run
none of them, and whose input is our bytes as they are (no filters, no end-of-line conversion):
  1. `git config --get-regexp` reads the identity (user.*, author.*, committer.*);
  2. `git rev-parse --verify HEAD^{commit}` gives the parent;
  3. `git fast-import` (fast_import.py) writes the blobs and the commit object from our bytes, on
     top of the parent's tree, without touching any ref (git starts `unpack-objects` from here for
     a small import, so the objects end up loose, as a commit's would);
  4. `git update-ref HEAD <new> <parent>` moves the branch only if it still points at the parent,
     so a concurrent commit or checkout makes the write fail cleanly instead of being overwritten;
  5. `git update-index --index-info` sets the user's index entries for our paths to the committed
     blobs. Nothing else in the index changes: the user's other staged changes stay staged and are
     never committed. The entries carry no stat data (setting it would mean reading the file
     through its filters), so git's next `status` or `diff` compares our file's content once, finds
     it equal and refreshes the entry: our paths look clean.
That is five git processes per write, against one for `git commit`. Every command also gets the
settings and environment of git_command.py, reads included.

Other choices (docs/user-guide.md, "Git behaviour"):
- Commits are never signed: signing needs a key and often a passphrase prompt. The `Actor:` trailer
  records who asked for a change; the actor never becomes the author or committer, who is the
  identity git is configured with, or 'personalization-engine <personalization-engine@localhost>'
  for any part that is missing, so a missing identity never breaks a write.
  The exception is a person's own command at a terminal (`plans approve`, `plans confirm-consent`):
  they author and commit it under their git identity, which must exist, and `--sign` signs it with
  their own key because they ask for it (person.py, docs/approvals.md).
- The commit time is the caller's (`when`): the real time, or the demo's frozen clock, whose
  commits say so in a `Clock: frozen` trailer (commit_message.py).
- git's ownership check applies: every command looks for the repository in the workspace's top
  folder (never GIT_DIR, which skips the check), so a repository owned by another user is refused
  unless git's safe.directory setting lists it.
- index.lock held by another git process: wait a bounded time, then report it. The lock is never
  deleted while a git process may hold it (repo_state.py).
- What git prints is bounded (git_command.MAX_OUTPUT_BYTES) and every command has a timeout.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..errors import ConfinementError, RepositoryError, WorkspaceError
from ..store.workspace import ALLOW_ENCLOSING_ENV, HOW_TO_SET, Workspace
from .fast_import import import_stream, run_fast_import
from .git_command import GitFailed, run_git
from .person import Person, person_identity, signed_copy
from .repo_state import (
    Repository,
    check_ready_to_commit,
    clear_stale_index_lock,
    configured_lock_wait,
    index_lock_report,
    wait_for_index_lock,
)

__all__ = [
    "CommitInfo",
    "Person",
    "Repository",
    "RepositoryError",
    "check_ready_to_commit",
    "clear_stale_index_lock",
    "commit_paths",
    "file_at",
    "git_user_name",
    "head_content",
    "log_for",
    "open_repository",
    "parse_trailers",
    "person_identity",
]

FALLBACK_NAME = "personalization-engine"
FALLBACK_EMAIL = "personalization-engine@localhost"
_TRAILER_RE = re.compile(r"^([A-Za-z][A-Za-z0-9-]*): (.*)$")


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    time: str
    author: str
    subject: str
    trailers: dict[str, str] = field(default_factory=dict)


def _safe_arg(value: str, what: str) -> str:
    if not value or value.startswith("-") or any(ord(ch) < 0x20 for ch in value):
        raise ConfinementError(
            f"{what} {value!r} is not allowed: it must not be empty, start with '-' or contain a "
            "control character"
        )
    return value


def _git(repo: Repository, *args: str, input: bytes | None = None) -> bytes:
    return run_git(repo.root, *args, top=repo.root, input=input)


def open_repository(ws: Workspace, *, create: bool) -> Repository | None:
    """The workspace's own repository, initialising one when the user named the workspace.

    Refuses a workspace that sits inside another repository without being its top level, unless
    the user allowed it, so nothing is committed to a repository they did not choose; and a
    repository that git itself refuses (owned by another user and not in safe.directory).
    """
    try:
        found = run_git(ws.root, "rev-parse", "--absolute-git-dir", "--show-toplevel", top=None)
    except GitFailed as exc:
        if "must be run in a work tree" in exc.stderr:
            raise WorkspaceError(
                f"workspace {str(ws.root)!r} is inside a bare repository or a .git folder; {HOW_TO_SET}"
            ) from None
        if "not a git repository" not in exc.stderr:
            raise
        found = b""
    if found:
        git_dir, top = (Path(line) for line in found.decode("utf-8", "surrogateescape").splitlines()[:2])
        if top.resolve() != ws.root and not ws.allow_enclosing_repo:
            raise WorkspaceError(
                f"workspace {str(ws.root)!r} is inside the git repository {str(top)!r} but is not "
                "its top level; plans would be committed to that repository. Use the repository's "
                f"top level as the workspace, or allow it with --allow-enclosing-repo or "
                f"{ALLOW_ENCLOSING_ENV}=1"
            )
        return Repository(root=top.resolve(), git_dir=git_dir.resolve())
    if not create:
        return None
    if not ws.named_by_user:
        raise WorkspaceError(
            f"the current folder {str(ws.root)!r} is not a git repository and was not named as the "
            f"workspace, so it will not be initialised; {HOW_TO_SET}"
        )
    run_git(ws.root, "init", "--quiet", top=None)
    return Repository(root=ws.root, git_dir=(ws.root / ".git").resolve())


def _config_identity(repo: Repository) -> dict[str, str]:
    """user.*, author.* and committer.* name and email from git's config (its includes too)."""
    try:
        out = _git(repo, "config", "-z", "--get-regexp", r"^(user|author|committer)\.(name|email)$")
    except GitFailed as exc:
        if exc.returncode == 1 and not exc.stderr.strip():
            return {}  # none set
        raise
    values = {}
    for item in out.decode("utf-8", "replace").split("\0"):
        key, _, value = item.partition("\n")
        if key:
            values[key.lower()] = value  # the last one wins, as in git
    return values


def _ident_part(value: str | None, fallback: str) -> str:
    # fast-import (like git) cannot store these characters in an identity.
    cleaned = " ".join("".join(" " if ch in "<>" else ch for ch in value or "").split())
    return cleaned or fallback


def _identities(repo: Repository) -> tuple[str, str]:
    """('Name <email>' of the author, of the committer), with the fallback for any missing part."""
    config = _config_identity(repo)

    def ident(role: str) -> str:
        name = _ident_part(config.get(f"{role}.name") or config.get("user.name"), FALLBACK_NAME)
        email = _ident_part(config.get(f"{role}.email") or config.get("user.email"), FALLBACK_EMAIL)
        return f"{name} <{email}>"

    return ident("author"), ident("committer")


def git_user_name(repo: Repository | None) -> str | None:
    """user.name as git's config gives it, or None."""
    if repo is None:
        return None
    return _config_identity(repo).get("user.name") or None


def _relative(repo: Repository, path: Path) -> str:
    # The folder is resolved, not the file: a symlinked file would otherwise commit its target's path.
    full = path.parent.resolve() / path.name
    try:
        rel = full.relative_to(repo.root).as_posix()
    except ValueError:
        raise ConfinementError(f"path {str(path)!r} is outside the repository {str(repo.root)!r}") from None
    if rel == ".git" or rel.startswith(".git/"):
        raise ConfinementError(f"path {str(path)!r} is inside the git folder")
    return _safe_arg(rel, "path")


def _read_ours(path: Path) -> bytes | None:
    """The file's bytes, or None when it no longer exists (the commit then removes it)."""
    if path.is_symlink():
        raise ConfinementError(f"{str(path)!r} is a symlink; only regular files are committed")
    if path.is_dir():
        raise ConfinementError(f"{str(path)!r} is a folder; only regular files are committed")
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _parent(repo: Repository) -> str | None:
    try:
        return _git(repo, "rev-parse", "--quiet", "--verify", "HEAD^{commit}").decode().strip()
    except GitFailed as exc:
        if exc.returncode == 1 and not exc.stderr.strip():
            return None  # no commit yet
        raise


def _move_head(repo: Repository, new: str | None, old: str | None, reason: str) -> None:
    """Point HEAD's branch (or a detached HEAD) at `new` only if it is still at `old`."""
    try:
        if new is None:
            _git(repo, "update-ref", "-m", reason, "-d", "HEAD", old or "")
        else:
            _git(repo, "update-ref", "-m", reason, "HEAD", new, old or "")
    except GitFailed as exc:
        raise RepositoryError(
            "HEAD moved while the plan was being committed (a commit, checkout or reset ran at "
            f"the same time): {exc}. Nothing was committed; retry"
        ) from None


def _stage(repo: Repository, entries: dict[str, str | None], zero: str) -> None:
    """Set the index entries of our paths (None: remove the entry), and nothing else."""
    lines = b"".join(
        (f"100644 {sha}\t{rel}" if sha else f"0 {zero}\t{rel}").encode("utf-8") + b"\0"
        for rel, sha in entries.items()
    )
    try:
        _git(repo, "update-index", "-z", "--index-info", input=lines)
    except GitFailed as exc:
        # Another git command took index.lock after our check: wait for it once more, then retry.
        if "index.lock" not in exc.stderr or not wait_for_index_lock(repo, configured_lock_wait()):
            raise
        _git(repo, "update-index", "-z", "--index-info", input=lines)


def commit_paths(
    repo: Repository,
    paths: Sequence[Path],
    message: str,
    when: datetime,
    *,
    person: Person | None = None,
    sign: bool = False,
) -> str:
    """Commit exactly `paths`, as their bytes are on disk now, dated `when`; return the commit SHA.

    A path that no longer exists is removed in the commit. The user's index keeps everything else
    it holds. On any failure nothing is committed and HEAD and the index are as they were.
    `person`: a person's own command; they author and commit it, and with `sign` they sign it with
    their own key (person.py).
    """
    if not paths:
        raise ValueError("commit_paths needs at least one path")
    if "\0" in message:
        raise ValueError("a commit message cannot contain a NUL byte")
    contents = {_relative(repo, path): _read_ours(path) for path in paths}
    idents = (person.ident, person.ident) if person else _identities(repo)
    parent = _parent(repo)
    stream = import_stream(contents, message.encode("utf-8"), idents, when, parent)
    *blobs, commit = run_fast_import(repo, stream)
    if sign:
        if person is None:
            raise ValueError("only a person's own commit is signed")
        commit = signed_copy(repo, commit, parent, message, person, when)
    subject = message.split("\n", 1)[0]
    _move_head(repo, commit, parent, f"commit (personalization-engine): {subject}")
    blob_of = dict(zip([rel for rel, data in contents.items() if data is not None], blobs, strict=True))
    try:
        _stage(repo, {rel: blob_of.get(rel) for rel in contents}, "0" * len(commit))
    except RepositoryError as exc:
        locked = isinstance(exc, GitFailed) and "index.lock" in exc.stderr
        detail = index_lock_report(repo, configured_lock_wait()) if locked else str(exc)
        try:
            _move_head(repo, parent, commit, "personalization-engine: undo, the index update failed")
        except RepositoryError as undo:
            raise RepositoryError(
                f"commit {commit} was made but the index could not be updated ({detail}), and "
                f"HEAD could not be moved back ({undo})"
            ) from None
        raise RepositoryError(f"{detail}; the commit was undone") from None
    return commit


def parse_trailers(message: str) -> dict[str, str]:
    """The `Key: value` lines of the message's last paragraph."""
    paragraphs = [p for p in message.strip().split("\n\n") if p.strip()]
    if not paragraphs:
        return {}
    trailers: dict[str, str] = {}
    for line in paragraphs[-1].splitlines():
        match = _TRAILER_RE.match(line.strip())
        if match:
            trailers[match.group(1)] = match.group(2).strip()
    return trailers


def _blob(repo: Repository, spec: str) -> bytes | None:
    """The blob named `rev:path`, or None when that path does not exist there."""
    out = _git(repo, "cat-file", "--batch", input=spec.encode("utf-8") + b"\n")
    header, _, rest = out.partition(b"\n")
    fields = header.split()
    if len(fields) == 3 and fields[1] == b"blob":
        return rest[: int(fields[2])]
    if header.endswith(b" missing"):
        return None
    kind = fields[1].decode("utf-8", "replace") if len(fields) == 3 else header.decode("utf-8", "replace")
    raise RepositoryError(f"{spec!r} is not a file in git ({kind})")


def head_content(repo: Repository, path: Path) -> bytes | None:
    """The committed content of `path` at HEAD, or None when it is not committed (or no HEAD)."""
    return _blob(repo, f"HEAD:{_relative(repo, path)}")


def tracked_below(repo: Repository, folder: Path) -> list[str]:
    """Paths git tracks (in the index) under `folder`, relative to the repository's top."""
    rel = _relative(repo, folder / "x").rsplit("/", 1)[0] if folder != repo.root else ""
    listing = _git(repo, "ls-files", "-z", "--", f":(literal){rel}" if rel else ".")
    return [p for p in listing.decode("utf-8", "surrogateescape").split("\0") if p]


def file_at(repo: Repository, rev: str, rel_path: str) -> bytes:
    """The content of `rel_path` (relative to the repository's top) at revision `rev`."""
    content = _blob(repo, f"{_safe_arg(rev, 'revision')}:{_safe_arg(rel_path, 'path')}")
    if content is None:
        raise RepositoryError(f"{rel_path!r} does not exist at revision {rev!r}")
    return content


def log_for(repo: Repository, rel_paths: Iterable[str]) -> list[CommitInfo]:
    """Commits touching the paths, newest first, with their trailers."""
    paths = [_safe_arg(p, "path") for p in rel_paths]
    try:
        out = _git(
            repo,
            "log",
            "--no-show-signature",
            "--no-ext-diff",
            "--no-textconv",
            "-z",
            "--format=%H%x1f%aI%x1f%an%x1f%B",
            "--",
            *paths,
        )
    except GitFailed as exc:
        if "does not have any commits yet" in exc.stderr:
            return []
        raise
    commits = []
    for record in out.decode("utf-8", "replace").split("\0"):
        if not record.strip():
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

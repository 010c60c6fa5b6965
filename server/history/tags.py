"""Annotated tags on plan commits (finalize), made so that no repository setting runs code.

`git tag -a` is porcelain: it would run the signing program when tag.gpgSign or tag.forceSignAnnotated
is set and the reference-transaction hook. The tag is built from plumbing instead, as commits are
(git_repo.py): `git mktag` writes the tag object from our text (never signed), then
`git update-ref <ref> <tag> ""` creates the ref only if it does not exist yet, so an existing tag is
never moved. Both run with git_command.HARDENING (hooks off, signing off). The tagger is the
committer identity git is configured with, with the same fallback as commits for a missing part.
"""

from __future__ import annotations

from datetime import datetime

from ..errors import RepositoryError
from .git_command import GitFailed
from .git_repo import Repository, _git, _identities, _safe_arg

TAG_PREFIX = "refs/tags/"


def final_tag_name(plan_id: str, revision: int) -> str:
    """The tag finalize gives the commit that declares `revision` final."""
    return f"personalization/{plan_id}/final-r{revision}"


def tag_target(repo: Repository, name: str) -> str | None:
    """The commit the tag `name` points at (peeled), or None when there is no such tag."""
    ref = TAG_PREFIX + _safe_arg(name, "tag")
    try:
        out = _git(repo, "rev-parse", "--quiet", "--verify", f"{ref}^{{commit}}")
    except GitFailed as exc:
        if exc.returncode == 1 and not exc.stderr.strip():
            return None
        raise
    return out.decode().strip() or None


def _tag_object(repo: Repository, name: str, commit: str, message: str, when: datetime) -> bytes:
    _, committer = _identities(repo)
    offset = when.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    zone = f"{sign}{minutes // 60:02d}{minutes % 60:02d}"
    header = f"object {commit}\ntype commit\ntag {name}\ntagger {committer} {int(when.timestamp())} {zone}\n"
    return f"{header}\n{message.rstrip()}\n".encode()


def create_tag(repo: Repository, name: str, commit: str, message: str, when: datetime) -> None:
    """Tag `commit` as `name` with an annotated, unsigned tag; refuse to move an existing tag.

    Raises RepositoryError saying why the tag could not be made (it exists and points elsewhere, a
    lock on the ref, a name git refuses). A tag that already points at `commit` is left as it is.
    """
    _safe_arg(commit, "commit")
    existing = tag_target(repo, name)
    if existing == commit:
        return
    if existing is not None:
        raise RepositoryError(f"tag {name!r} already exists and points at {existing[:12]}, not {commit[:12]}")
    if "\0" in message:
        raise ValueError("a tag message cannot contain a NUL byte")
    try:
        tag = _git(repo, "mktag", input=_tag_object(repo, name, commit, message, when)).decode().strip()
        _git(repo, "update-ref", "-m", f"tag (personalization-engine): {name}", TAG_PREFIX + name, tag, "")
    except GitFailed as exc:
        lines = [line.strip() for line in exc.stderr.splitlines() if line.strip()]
        why = " ".join(line.removeprefix("fatal: ").removeprefix("error: ") for line in lines)[:600]
        raise RepositoryError(f"tag {name!r} could not be made: {why or 'git gave no reason'}") from None

"""A person's own git identity and, when they ask, their own signature on a commit.

Plan commits normally carry the configured identity or a fallback, and are never signed
(git_repo.py). Two commands a person runs at a terminal differ (docs/approvals.md):
- `plans approve` and `plans confirm-consent` need the person's identity and refuse without one
  (the documented exception to "a missing identity never breaks a write"). It comes from
  `git var GIT_AUTHOR_IDENT`, which honours GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL and user.name /
  user.email and runs no repository code. `user.useConfigOnly=true` stops git from guessing a
  name or an email from the login and host name: a guessed identity is not the person's.
- `--sign` signs the commit with the person's own signing setup (gpg.format, user.signingkey,
  gpg.program): the one exception to invariant 8, because the person asks for it. The commit is
  rebuilt with `git commit-tree -S` on the tree fast-import wrote, with the same parent, message,
  identities and time; the unsigned twin is never referenced and git's gc drops it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ..errors import RepositoryError
from .fast_import import git_time
from .git_command import GitFailed, run_git
from .repo_state import Repository

_IDENT_RE = re.compile(r"^(?P<name>.*?) <(?P<email>[^<>]*)> \d+ [+-]\d{4}$")
HOW_TO_SET_IDENTITY = (
    'set it with: git config user.name "Your Name" && git config user.email you@example.com '
    "(or GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL for this command)"
)


class IdentityMissing(RepositoryError):
    """git has no name or no email for the person running the command."""


@dataclass(frozen=True)
class Person:
    name: str
    email: str

    @property
    def ident(self) -> str:
        return f"{self.name} <{self.email}>"


def person_identity(repo: Repository) -> Person:
    """The identity git would author a commit with here, never a guessed one."""
    try:
        out = run_git(
            repo.root, "-c", "user.useConfigOnly=true", "var", "GIT_AUTHOR_IDENT", top=repo.root
        ).decode("utf-8", "replace")
    except GitFailed as exc:
        missing = "name" if "no name was given" in exc.stderr else "email"
        if "auto-detection is disabled" in exc.stderr or "empty ident" in exc.stderr:
            raise IdentityMissing(
                f"your git identity has no {missing}, and this command records who you are; "
                f"{HOW_TO_SET_IDENTITY}"
            ) from None
        raise
    match = _IDENT_RE.match(out.strip())
    if match is None or not match["name"].strip() or not match["email"].strip():
        raise IdentityMissing(f"git gave no usable identity ({out.strip()!r}); {HOW_TO_SET_IDENTITY}")
    return Person(name=match["name"].strip(), email=match["email"].strip())


def signed_copy(
    repo: Repository, commit: str, parent: str | None, message: str, person: Person, when: datetime
) -> str:
    """`commit` made again, signed with the person's own key; returns the signed commit's SHA."""
    tree = run_git(repo.root, "rev-parse", "--verify", f"{commit}^{{tree}}", top=repo.root).decode().strip()
    stamp = git_time(when).decode()
    env = {
        "GIT_AUTHOR_NAME": person.name,
        "GIT_AUTHOR_EMAIL": person.email,
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_NAME": person.name,
        "GIT_COMMITTER_EMAIL": person.email,
        "GIT_COMMITTER_DATE": stamp,
    }
    parents = ("-p", parent) if parent else ()
    try:
        out = run_git(
            repo.root,
            "commit-tree",
            "-S",
            *parents,
            tree,
            top=repo.root,
            input=message.encode("utf-8"),
            extra_env=env,
        )
    except GitFailed as exc:
        raise RepositoryError(
            f"signing the commit with your git signing setup failed: {exc}. Check gpg.format, "
            "user.signingkey and gpg.program (git help config), or run without --sign. Nothing "
            "was written"
        ) from None
    return out.decode().strip()

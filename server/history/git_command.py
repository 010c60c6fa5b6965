"""Running one git command in the workspace's repository, so that no repository setting runs code.

Every command gets the same settings (`HARDENING`) and environment (`git_env`); see git_repo.py for
why the commands we use are plumbing. Each setting below switches off one way a repository, a file
it includes, or the user's global config can make git start a program:
- `core.fsmonitor=false`: an fsmonitor hook (or daemon) runs whenever the index is read.
- `core.hooksPath=/dev/null`: no hook can exist under it. update-ref runs `reference-transaction`
  and update-index runs `post-index-change`, so this matters even without `git commit`.
- `commit.gpgSign`, `tag.gpgSign`, `log.showSignature=false`: gpg.program (or the ssh/x509
  signers) runs to sign a commit or to verify one shown by `git log`.
- `core.pager=cat` and GIT_PAGER=cat: git treats "cat" as "no pager".
- GIT_EDITOR=":" and GIT_SEQUENCE_EDITOR=":": git treats ":" as "no editor".
- GIT_ASKPASS="" and SSH_ASKPASS="": an empty GIT_ASKPASS stops git from falling back to
  core.askPass or SSH_ASKPASS; with GIT_TERMINAL_PROMPT=0 nothing prompts. We never use the
  network, so core.sshCommand and credential helpers have nothing to run for.
- `maintenance.auto=false`, `gc.auto=0`: no background maintenance started from our commands.
- `color.ui=false`, `i18n.logOutputEncoding=UTF-8`: output we parse stays plain UTF-8.
Settings given with `-c` come last in git's reading order, so they win over the repository
config, files it includes (include.path, includeIf) and the global and system config.
GIT_CONFIG_NOSYSTEM is not set: the system config may hold the administrator's safe.directory
list or identity, and everything in it that could run a program is overridden above.

Filters, textconv and diff.external have no `-c` switch that covers drivers whose names we do not
know; they run only in porcelain and diff commands, which we do not use (log is run without diffs
and with --no-ext-diff --no-textconv).

Environment variables that point git at another repository, index or config (the ones git itself
clears when it enters another repository, plus GIT_CONFIG_PARAMETERS, through which `-c` values
such as `safe.directory=*` reach child processes) are removed, so a server started from a git hook
still works on the workspace's own repository, and git's ownership check always applies.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from ..errors import RepositoryError

GIT_TIMEOUT_S = 60
# More output than this from one read is refused rather than held in memory (a plan file is a few
# MB; a blob or log this large is not one of ours).
MAX_OUTPUT_BYTES = 128 * 1024 * 1024

HARDENING = (
    *("-c", "core.fsmonitor=false"),
    *("-c", "core.hooksPath=/dev/null"),
    *("-c", "commit.gpgSign=false"),
    *("-c", "tag.gpgSign=false"),
    *("-c", "log.showSignature=false"),
    *("-c", "core.pager=cat"),
    *("-c", "color.ui=false"),
    *("-c", "i18n.logOutputEncoding=UTF-8"),
    *("-c", "maintenance.auto=false"),
    *("-c", "gc.auto=0"),
)

_REDIRECTING = {
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_GRAFT_FILE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_REPLACE_REF_BASE",
    "GIT_PREFIX",
    "GIT_INTERNAL_SUPER_PREFIX",
    "GIT_SHALLOW_FILE",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_EXTERNAL_DIFF",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_PROXY_COMMAND",
}
_DUBIOUS = re.compile(r"detected dubious ownership in repository at '([^']*)'")
_WRITE_REFUSED = ("Permission denied", "Read-only file system", "Operation not permitted")


class GitFailed(RepositoryError):
    """A git command exited with an error; `stderr` keeps its text for callers that look closer."""

    def __init__(self, subcommand: str, stderr: str, returncode: int) -> None:
        self.stderr = stderr
        self.returncode = returncode
        lines = [line for line in stderr.strip().splitlines() if line.strip()]
        super().__init__(f"git {subcommand} failed: {' / '.join(lines[-3:])[-500:] or 'no message'}")


def git_env(top: Path | None) -> dict[str, str]:
    """The environment for a git command; with `top`, discovery cannot leave that repository."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _REDIRECTING and not key.startswith(("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))
    }
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_ASKPASS="",
        SSH_ASKPASS="",
        GIT_EDITOR=":",
        GIT_SEQUENCE_EDITOR=":",
        GIT_PAGER="cat",
        PAGER="cat",
        GIT_OPTIONAL_LOCKS="0",
        LC_ALL="C",
        LANGUAGE="C",
    )
    if top is not None:
        # git looks for the repository in `top` only: it never climbs into an enclosing one, and
        # its ownership check (safe.directory) runs on every command, which GIT_DIR would skip.
        env["GIT_CEILING_DIRECTORIES"] = str(top.parent)
    return env


def run_git(
    cwd: Path,
    *args: str,
    top: Path | None,
    input: bytes | None = None,
    extra_env: dict[str, str] | None = None,
) -> bytes:
    """Run `git <args>` in `cwd` and return its stdout; raise RepositoryError on any failure.

    `extra_env` adds variables after the hardened environment (a person's commit dates).

    stdout goes to a temporary file, so output beyond MAX_OUTPUT_BYTES is refused without ever
    being held in this process's memory.
    """
    command = ["git", *HARDENING, *args]
    subcommand = args[0] if args else "git"
    stdin = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
    with tempfile.TemporaryFile() as out:
        try:
            done = subprocess.run(
                command,
                cwd=cwd,
                env={**git_env(top), **(extra_env or {})},
                stdout=out,
                stderr=subprocess.PIPE,
                timeout=GIT_TIMEOUT_S,
                check=False,
                **stdin,
            )
        except subprocess.TimeoutExpired:
            raise RepositoryError(
                f"git {subcommand} did not finish within {GIT_TIMEOUT_S}s in {str(cwd)!r} and was "
                "stopped; check the repository's config (an include.path that never ends, a "
                "network file system) and retry"
            ) from None
        except FileNotFoundError:
            if not cwd.is_dir():
                raise RepositoryError(f"folder {str(cwd)!r} does not exist") from None
            raise RepositoryError("git is not installed or not on PATH; install git to keep plans") from None
        stderr = done.stderr.decode("utf-8", "replace")
        if done.returncode != 0:
            raise _failure(subcommand, stderr, done.returncode)
        size = out.seek(0, os.SEEK_END)
        limit = MAX_OUTPUT_BYTES
        if size > limit:
            raise RepositoryError(
                f"git {subcommand} printed {size} bytes, more than the {limit} bytes allowed for "
                "one read; the repository holds an object far larger than a plan"
            )
        out.seek(0)
        return out.read()


def _failure(subcommand: str, stderr: str, returncode: int) -> RepositoryError:
    dubious = _DUBIOUS.search(stderr)
    if dubious:
        where = dubious.group(1)
        return RepositoryError(
            f"git refuses the repository {where!r}: it is owned by another user ('detected dubious "
            "ownership'), and git's safe.directory setting does not list it. If you trust it, "
            f"allow it with: git config --global --add safe.directory {where} (nothing was written)"
        )
    if any(reason in stderr for reason in _WRITE_REFUSED) and "Unable to create" in stderr:
        return RepositoryError(
            f"cannot write to the repository's git folder: {_first_line(stderr)}. The folder is "
            "read-only or not writable by this user; make it writable and retry (nothing was written)"
        )
    return GitFailed(subcommand, stderr, returncode)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip().removeprefix("fatal: ").removeprefix("error: ")
    return "no message"

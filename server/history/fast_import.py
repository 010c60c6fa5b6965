"""The fast-import half of a plan commit: our bytes in, blob and commit SHAs out (git_repo.py, step 3).

fast-import runs no hooks, filters or end-of-line conversion, so the objects hold exactly the bytes
we give it. It writes objects only: the stream builds its commit on a scratch branch and drops that
branch again, and git_repo.py moves HEAD itself, checking it has not moved meanwhile.
"""

from __future__ import annotations

import re
from datetime import datetime

from .git_command import GitFailed, run_git
from .repo_state import Repository

# fast-import needs a branch name to build a commit on; `reset` drops it before any ref is written.
_SCRATCH_BRANCH = "refs/personalization-engine/commit"
_CRASH_REPORT = re.compile(r"dumping crash report to (\S+)")


def _quoted(rel: str) -> bytes:
    return ('"' + rel.replace("\\", "\\\\").replace('"', '\\"') + '"').encode("utf-8")


def git_time(when: datetime) -> bytes:
    offset = when.utcoffset()
    if offset is None:
        raise ValueError("the commit time must carry a time zone")
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{int(when.timestamp())} {sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}".encode()


def import_stream(
    contents: dict[str, bytes | None],
    message: bytes,
    idents: tuple[str, str],
    when: datetime,
    parent: str | None,
) -> bytes:
    """A fast-import stream: the blobs, one commit on top of `parent`, then the marks we need.

    `contents` maps each repository-relative path to its bytes, or to None to delete it; `idents`
    are the author's and the committer's 'Name <email>'.
    """
    parts = [b"feature done\n"]
    written = [rel for rel, data in contents.items() if data is not None]
    for mark, rel in enumerate(written, start=1):
        data = contents[rel] or b""
        parts += [b"blob\nmark :%d\ndata %d\n" % (mark, len(data)), data, b"\n"]
    commit_mark = len(written) + 1
    stamp = git_time(when)
    parts += [
        b"commit %s\nmark :%d\n" % (_SCRATCH_BRANCH.encode(), commit_mark),
        b"author %s %s\n" % (idents[0].encode("utf-8"), stamp),
        b"committer %s %s\n" % (idents[1].encode("utf-8"), stamp),
        b"data %d\n" % len(message),
        message,
        b"\n",
    ]
    if parent:
        parts.append(b"from %s\n" % parent.encode())
    for mark, rel in enumerate(written, start=1):
        parts.append(b"M 100644 :%d %s\n" % (mark, _quoted(rel)))
    parts += [b"D %s\n" % _quoted(rel) for rel, data in contents.items() if data is None]
    parts.append(b"\n")
    parts += [b"get-mark :%d\n" % mark for mark in range(1, commit_mark + 1)]
    parts.append(b"reset %s\n\ndone\n" % _SCRATCH_BRANCH.encode())
    return b"".join(parts)


def run_fast_import(repo: Repository, stream: bytes) -> list[str]:
    """Run fast-import; return the SHAs it prints for our marks, in mark order."""
    try:
        return (
            run_git(repo.root, "fast-import", "--quiet", "--done", top=repo.root, input=stream)
            .decode()
            .split()
        )
    except GitFailed as exc:
        # fast-import leaves a crash report in the git folder; its gist is in our error already.
        report = _CRASH_REPORT.search(exc.stderr)
        if report:
            path = repo.root / report.group(1)
            if path.parent.resolve() == repo.git_dir and path.name.startswith("fast_import_crash_"):
                path.unlink(missing_ok=True)
            stderr = exc.stderr.replace(report.group(0), "").replace("fast-import: ", "")
            raise GitFailed("fast-import", stderr, exc.returncode) from None
        raise

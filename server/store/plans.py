"""Plan files under <workspace>/.claude/plans: confinement, lock, atomic write, validation on read."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shlex
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import ConfinementError, NotFoundError, PlanFileError, RepositoryError
from ..model import PLAN_ID_PATTERN, Plan
from ..model.issues import pydantic_issues, schema_issues
from ..model.migrate import upgrade
from .workspace import Workspace

PLAN_ID_RE = re.compile(PLAN_ID_PATTERN)
LOCK_WAIT_S = 30.0
GITIGNORE = ".gitignore"
# Files the server keeps next to plans that never belong in git.
GITIGNORE_TEXT = "# personalization-engine: local lock and write-state files\n.write.lock\n.state/\n*.tmp\n"
_CONFLICT_MARKERS = re.compile(rb"^(<{7}|={7}|>{7})( |$)", re.MULTILINE)
_process_lock = threading.RLock()


# A plan of the largest allowed size is a few MB; anything far larger is not a plan, and reading it
# whole would only exhaust memory.
MAX_PLAN_BYTES = 64 * 1024 * 1024


def read_bounded(path: Path, limit: int = MAX_PLAN_BYTES) -> bytes:
    """The file's bytes, refusing (without reading it) anything over `limit` or not a regular file."""
    if not path.is_file() and path.exists():
        raise PlanFileError(f"{str(path)!r} is not a regular file")
    too_large = PlanFileError(
        f"{str(path)!r} is larger than {limit // (1024 * 1024)} MiB; it is not a plan file"
    )
    with path.open("rb") as handle:
        # The size on disk refuses a huge file without reading a byte; the bounded read still
        # catches a file that grows between the two.
        if os.fstat(handle.fileno()).st_size > limit:
            raise too_large
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise too_large
    return data


def refuse_link(path: Path, what: str) -> Path:
    """`path`, refused when it is a symlink (dangling or not): the store only follows real files.

    `.claude` and `.claude/plans` are checked to be real folders inside the workspace, so a path
    below them leaves the workspace only through a link of its own.
    """
    if path.is_symlink():
        raise ConfinementError(
            f"{what} {str(path)!r} is a symlink; personalization-engine reads and writes only real "
            "files and folders inside .claude/plans, so a link could lead outside the workspace. "
            f"Remove the link (rm {shlex.quote(str(path))}) and retry; nothing was written"
        )
    return path


def check_plan_id(plan_id: str) -> str:
    """Refuse anything that is not exactly a plan id, so no id can name a path elsewhere."""
    if not isinstance(plan_id, str) or not PLAN_ID_RE.fullmatch(plan_id):
        raise ConfinementError(
            f"plan_id {plan_id!r} is not a plan id: expected plan-YYYYMMDDTHHMMSSZ with an "
            "optional -N suffix, e.g. 'plan-20261124T093000Z'",
            field="plan_id",
        )
    return plan_id


def serialize(plan: Plan) -> bytes:
    # pydantic's serializer runs in Rust; json.dumps with indent falls back to pure Python and
    # costs several times more on a large plan.
    return plan.model_dump_json(indent=2, by_alias=True).encode("utf-8") + b"\n"


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class PlanStore:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        # plan_id -> (content hash, parsed plan): reads skip parsing while the file is unchanged.
        # The SDK runs tools in worker threads, hence the lock.
        self._parsed: dict[str, tuple[str, Plan]] = {}
        self._parsed_lock = threading.Lock()

    # --- paths -------------------------------------------------------------------------------
    @property
    def plans_dir(self) -> Path:
        return self.ws.plans_dir

    def _check_no_symlinks(self) -> None:
        for folder in (self.ws.root / ".claude", self.plans_dir):
            if folder.is_symlink():
                raise ConfinementError(
                    f"{str(folder)!r} is a symlink; plans are only written to a real folder inside "
                    "the workspace. Replace the link with a folder"
                )
        if self.plans_dir.exists():
            try:
                self.plans_dir.resolve().relative_to(self.ws.root)
            except ValueError:
                raise ConfinementError(
                    f"{str(self.plans_dir)!r} resolves outside the workspace {str(self.ws.root)!r}"
                ) from None

    def plan_path(self, plan_id: str) -> Path:
        check_plan_id(plan_id)
        self._check_no_symlinks()
        path = self.plans_dir / f"{plan_id}.json"
        if path.is_symlink():
            raise ConfinementError(f"plan file {str(path)!r} is a symlink; refusing to follow it")
        return path

    def deliverables_dir(self, plan_id: str) -> Path:
        check_plan_id(plan_id)
        self._check_no_symlinks()
        return refuse_link(self.plans_dir / plan_id, "the deliverables folder")

    def deliverable_path(self, plan_id: str, name: str) -> Path:
        return refuse_link(self.deliverables_dir(plan_id) / name, "the deliverable")

    def ensure_dirs(self) -> list[Path]:
        """Create the plans folder; returns files created that must be committed (the .gitignore)."""
        self._check_no_symlinks()
        self.plans_dir.mkdir(parents=True, exist_ok=True)
        self._check_no_symlinks()
        self._state_dir().mkdir(exist_ok=True)
        gitignore = refuse_link(self.plans_dir / GITIGNORE, "the file")
        if not gitignore.exists():
            gitignore.write_text(GITIGNORE_TEXT, encoding="utf-8")
            return [gitignore]
        return []

    def list_ids(self) -> list[str]:
        if not self.plans_dir.is_dir():
            return []
        self._check_no_symlinks()
        ids = [
            p.stem
            for p in self.plans_dir.glob("plan-*.json")
            if PLAN_ID_RE.fullmatch(p.stem) and p.is_file() and not p.is_symlink()
        ]
        return sorted(ids, key=_id_sort_key)

    def new_id(self, now: datetime) -> str:
        base = f"plan-{now.strftime('%Y%m%dT%H%M%SZ')}"
        candidate, n = base, 1
        while (self.plans_dir / f"{candidate}.json").exists() or (
            self.plans_dir / f"{candidate}.json"
        ).is_symlink():
            n += 1
            candidate = f"{base}-{n}"
        return candidate

    # --- reading ---------------------------------------------------------------------------
    def read_bytes(self, plan_id: str) -> bytes:
        path = self.plan_path(plan_id)
        try:
            return read_bounded(path)
        except FileNotFoundError:
            known = ", ".join(self.list_ids()[-5:]) or "none yet"
            raise NotFoundError(f"unknown plan {plan_id!r}; known plans: {known}", field="plan_id") from None

    def load(self, plan_id: str, content: bytes | None = None) -> tuple[Plan, bytes]:
        """The plan and its bytes (`content`: the file's bytes, when the caller just read them).

        Plans are frozen, so one parsed plan is safely shared by every caller."""
        if content is None:
            content = self.read_bytes(plan_id)
        digest = content_hash(content)
        with self._parsed_lock:
            cached = self._parsed.get(plan_id)
        if cached is not None and cached[0] == digest:
            return cached[1], content
        trusted = digest == self.last_write_hash(plan_id)
        plan = parse_plan(content, str(self.plan_path(plan_id)), trusted=trusted)
        if plan.plan_id != plan_id:
            raise PlanFileError(
                f"{self.plan_path(plan_id)}: plan_id inside the file is {plan.plan_id!r}, "
                f"not {plan_id!r}; the file was renamed or edited by hand"
            )
        with self._parsed_lock:
            self._parsed[plan_id] = (digest, plan)
        return plan, content

    # --- write state: hash of the server's own last write, and whether it was committed ---------
    def _state_dir(self) -> Path:
        return refuse_link(self.plans_dir / ".state", "the write-state folder")

    def _state_path(self, plan_id: str) -> Path:
        return refuse_link(self._state_dir() / f"{plan_id}.sha256", "the write-state file")

    def _state(self, plan_id: str) -> tuple[str | None, str | None]:
        try:
            parts = self._state_path(plan_id).read_text(encoding="ascii").split()
        except FileNotFoundError:
            return None, None
        return (parts[0] if parts else None, parts[1] if len(parts) > 1 else None)

    def last_write_hash(self, plan_id: str) -> str | None:
        return self._state(plan_id)[0]

    def committed_as_written(self, plan_id: str, content: bytes) -> bool:
        """True when `content` is the server's own last write and that write was committed."""
        return self._state(plan_id) == (content_hash(content), "committed")

    def remember_write(self, plan_id: str, content: bytes, status: str = "pending") -> None:
        """Record the hash of the server's own write."""
        line = f"{content_hash(content)} {status}\n".encode("ascii")
        # No fsync: the state only has to survive a killed process (the page cache does). After a
        # power loss a missing state makes recovery treat the file as a hand edit: safe, never lossy.
        atomic_write(self._state_path(plan_id), line, durable=False)

    def forget_write(self, plan_id: str) -> None:
        """Drop the record of the server's last write, so recovery treats the file as not ours."""
        self._state_path(plan_id).unlink(missing_ok=True)

    def remember_parsed(self, plan_id: str, content: bytes, plan: Plan) -> None:
        """Cache the plan just written, so the next read or write skips parsing it."""
        with self._parsed_lock:
            self._parsed[plan_id] = (content_hash(content), plan)

    # --- writing -------------------------------------------------------------------------------
    def write(self, plan_id: str, content: bytes) -> Path:
        """Write the plan file atomically."""
        path = self.plan_path(plan_id)
        # The hash is recorded before the new text replaces the file: if we die before the replace,
        # the file still matches its last commit, and if we die after it, recovery can tell the
        # file is ours.
        atomic_write(path, content, before_replace=lambda: self.remember_write(plan_id, content))
        return path

    def restore(self, plan_id: str, previous: bytes | None) -> None:
        """Undo a write whose commit failed, so the write changes nothing."""
        path = self.plan_path(plan_id)
        if previous is None:
            path.unlink(missing_ok=True)
            self._state_path(plan_id).unlink(missing_ok=True)
        else:
            self.write(plan_id, previous)

    @contextlib.contextmanager
    def locked(self, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
        """Serialize writers in this process (threads) and across processes (flock)."""
        self.ensure_dirs()
        lock_path = refuse_link(self.plans_dir / ".write.lock", "the lock file")
        deadline = time.monotonic() + wait_s
        with _process_lock:
            # O_NOFOLLOW: a link made after the check above still creates nothing outside.
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            try:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() >= deadline:
                            raise RepositoryError(
                                f"plans busy: another writer has held {str(lock_path)!r} for "
                                f"{wait_s:g}s; retry shortly (nothing was written)"
                            ) from None
                        time.sleep(0.01)
                try:
                    yield
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


def _id_sort_key(plan_id: str) -> tuple[str, int]:
    base, _, suffix = plan_id.partition("Z-")
    return (base, int(suffix) if suffix else 1)


def atomic_write(
    path: Path, content: bytes, *, durable: bool = True, before_replace: Callable[[], None] | None = None
) -> None:
    """Write `content` to a temporary file, flush it, then rename it over `path`.

    `before_replace` runs once the temporary file is complete, just before the rename.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes 0600 files; a plan is an ordinary project file, so keep the existing mode
        # or use the usual 0644.
        os.fchmod(fd, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if before_replace is not None:
            before_replace()
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp).unlink()
        raise
    if not durable:
        return
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def parse_document(content: bytes, where: str) -> dict[str, Any]:
    if _CONFLICT_MARKERS.search(content):
        raise PlanFileError(
            f"{where}: contains git merge-conflict markers (<<<<<<<, =======, >>>>>>>); resolve "
            "the conflict by hand and commit before using this plan"
        )
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanFileError(
            f"{where}: not valid JSON ({exc}); the file may be truncated. Restore it with "
            "'git checkout -- <file>' or fix it by hand"
        ) from None
    if not isinstance(data, dict):
        raise PlanFileError(f"{where}: expected a JSON object at the top level")
    return data


def parse_plan(content: bytes, where: str, *, trusted: bool) -> Plan:
    """Validate through the model; content the server did not write is also checked by the schema.

    A plan of an older format version is upgraded in memory (model/migrate.py); its next write
    stores it in the current version.
    """
    if trusted and not _CONFLICT_MARKERS.search(content):
        try:
            return Plan.model_validate_json(content, strict=True)
        except ValidationError:
            pass  # an older version, or a file that is not what we wrote: the full path says which
    data = upgrade(parse_document(content, where))
    if not trusted:
        issues = schema_issues(data)
        if issues:
            listed = "; ".join(f"{i.pointer or '/'}: {i.message}" for i in issues[:5])
            raise PlanFileError(f"{where}: does not match the plan schema: {listed}")
    try:
        return Plan.model_validate_json(json.dumps(data), strict=True)
    except ValidationError as exc:
        listed = "; ".join(f"{i.pointer or '/'}: {i.message}" for i in pydantic_issues(exc, data)[:5])
        raise PlanFileError(f"{where}: is not a valid plan: {listed}") from None

"""The core operations on plans, shared by the MCP tools and the CLI.

Every write goes through `Engine.apply`: lock, recover, check the revision, change, validate,
write atomically, commit exactly the written path. A write either lands whole (file and commit) or
changes nothing.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pydantic import ValidationError

from . import copy_on_write, plan_json
from .background import checks_thread
from .checks.findings import Finding
from .commit_message import ledger_trailers, render_commit_message
from .deliverables import DeliverablesResult, commit_deliverables
from .errors import ConflictError, InputError, NotFoundError, PlanFileError
from .history import git_repo
from .history.diff import diff_plans, diff_revisions, rediff, summarize
from .model import ChangeItem, ChangeLogEntry, Plan
from .recovery import recover_plan
from .store import PlanStore, check_plan_id, content_hash, parse_document, parse_plan, serialize
from .validation import model_issues, pydantic_issues, schema_issues
from .workspace import Workspace

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
Mutation = Callable[[Plan], Plan]


def _checks():  # -> module personalization_engine.checks.run
    # The checks and rules layers cost ~100 ms to import; load them on the first write or check so
    # the server answers tools/list sooner.
    from .checks import run

    return run


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass
class WriteResult:
    plan_id: str
    revision: int
    commit: str | None
    path: str
    summary: str
    changes: list[ChangeItem]
    findings: list[Finding] = field(default_factory=list)
    new_findings: list[Finding] = field(default_factory=list)
    resolved_findings: list[Finding] = field(default_factory=list)
    written: bool = True


@dataclass
class HistoryEntry:
    revision: int | None
    time: str
    actor: str
    stage: str
    summary: str
    commit: str
    trailers: dict[str, str]


class Engine:
    def __init__(self, ws: Workspace, clock: Clock = utc_now) -> None:
        self.ws = ws
        self.store = PlanStore(ws)
        self.clock = clock
        self._findings: dict[str, list[Finding]] = {}
        self._opened: git_repo.Repository | None = None

    # --- repository --------------------------------------------------------------------------
    def _repo(self, *, create: bool) -> git_repo.Repository | None:
        # Opening the repository (and checking it is the workspace's own) costs about 0.4 ms; a
        # server writes through the same one until its .git folder goes away.
        if self._opened is not None and Path(self._opened.git_dir).is_dir():
            return self._opened
        self._opened = git_repo.open_repository(self.ws, create=create)
        return self._opened

    def default_actor(self) -> str:
        import getpass

        name = None
        try:
            name = git_repo.git_user_name(self._repo(create=False))
        except Exception:  # a broken repo must not stop us naming the actor
            name = None
        if not name:
            try:
                name = getpass.getuser()
            except (KeyError, OSError):
                name = "unknown"
        return f"cli:{name}"

    # --- reading -------------------------------------------------------------------------------
    def list_plans(self) -> list[Plan]:
        plans = []
        for plan_id in self.store.list_ids():
            try:
                plans.append(self.store.load(plan_id)[0])
            except PlanFileError as exc:
                log.warning("skipping unreadable plan: %s", exc)
        return plans

    def read_plan(self, plan_id: str, revision: int | None = None) -> Plan:
        plan, _ = self.store.load(plan_id)
        if revision is None or revision == plan.revision:
            return plan
        if revision < 1 or revision > plan.revision:
            raise NotFoundError(
                f"revision {revision} of {plan_id} does not exist; revisions run 1..{plan.revision}",
                field="revision",
            )
        repo = self._repo(create=False)
        entry = next(
            (c for c in self._commits(repo, plan_id) if c.trailers.get("Plan-Revision") == str(revision)),
            None,
        )
        if repo is None or entry is None:
            raise NotFoundError(
                f"revision {revision} of {plan_id} has no commit in git history", field="revision"
            )
        rel = self.store.plan_path(plan_id).relative_to(self.ws.root).as_posix()
        content = git_repo.file_at(repo, entry.sha, rel)
        return parse_plan(content, f"{rel}@{entry.sha[:12]}", trusted=False)

    def _commits(self, repo: git_repo.Repository | None, plan_id: str) -> list[git_repo.CommitInfo]:
        if repo is None:
            return []
        rel = self.store.plan_path(plan_id).relative_to(self.ws.root).as_posix()
        return [c for c in git_repo.log_for(repo, [rel]) if c.trailers.get("Plan-Id") == plan_id]

    def history(self, plan_id: str) -> list[HistoryEntry]:
        self.store.read_bytes(plan_id)  # unknown plan -> NotFoundError
        entries = []
        for commit in self._commits(self._repo(create=False), plan_id):
            revision = commit.trailers.get("Plan-Revision")
            subject = commit.subject
            stage = commit.trailers.get("Stage", "")
            if subject.startswith(f"{stage}: "):
                subject = subject[len(stage) + 2 :]
            subject = subject.removesuffix(f" (r{revision})")
            entries.append(
                HistoryEntry(
                    revision=int(revision) if revision and revision.isdigit() else None,
                    time=commit.time,
                    actor=commit.trailers.get("Actor", commit.author),
                    stage=stage,
                    summary=subject,
                    commit=commit.sha,
                    trailers=commit.trailers,
                )
            )
        return entries

    def diff(self, plan_id: str, from_revision: int, to_revision: int) -> list[ChangeItem]:
        return diff_plans(self.read_plan(plan_id, from_revision), self.read_plan(plan_id, to_revision))

    # --- writing -------------------------------------------------------------------------------
    def create_plan(
        self,
        *,
        initiative: str,
        channels: list[str],
        metrics: list[str] | None = None,
        constraints: list[str] | None = None,
        timeline: str | None = None,
        pattern: str | None = None,
        pattern_rationale: str | None = None,
        actor: str,
    ) -> WriteResult:
        now = self.clock()
        repo = self._repo(create=True)
        assert repo is not None
        with self.store.locked():
            git_repo.check_ready_to_commit(repo)
            self.store.ensure_dirs()
            gitignore = self.store.plans_dir / ".gitignore"
            created = [gitignore] if git_repo.head_content(repo, gitignore) is None else []
            plan_id = self.store.new_id(now)
            document = {
                "plan_id": plan_id,
                "revision": 1,
                "created_at": now.isoformat(),
                "updated_at": now.isoformat(),
                "initiative": initiative,
                "channels": channels,
                "metrics": metrics or [],
                "constraints": constraints or [],
                "timeline": timeline,
                "pattern": {"kind": pattern or "diamond", "rationale": pattern_rationale or ""},
            }
            try:
                plan = Plan.model_validate_json(json.dumps(document), strict=True)
            except ValidationError as exc:
                raise input_error(exc, document) from None
            plan = _checks().refresh_computed(_with_default_dependencies(plan), None, now)
            changes = diff_plans(None, plan)
            plan.change_log.append(
                ChangeLogEntry(
                    revision=1,
                    at=now,
                    actor=actor,
                    stage="create",
                    summary=f"created plan for {plan.initiative!r}",
                    changes=changes,
                )
            )
            return self._commit(repo, plan, None, "create", actor, changes, now, created)

    def apply(
        self,
        plan_id: str,
        stage: str,
        mutate: Mutation,
        *,
        expected_revision: int | None,
        actor: str,
        extra_trailers: dict[str, str] | None = None,
        summary: str | None = None,
        timed: bool = False,
    ) -> WriteResult:
        """Apply one change: `mutate` gets a private copy of the current plan and returns the new one.

        With timed=True it is called as mutate(plan, now) with this write's time, so ledger entries
        carry the same time as the change-log entry and the commit.
        """
        check_plan_id(plan_id)
        repo = self._repo(create=True)
        assert repo is not None
        with self.store.locked():
            git_repo.check_ready_to_commit(repo)
            on_disk = self.store.read_bytes(plan_id)  # read once for recovery and the write
            self._recover_one(repo, plan_id, on_disk=on_disk)
            current, previous_content = self.store.load(plan_id, on_disk)
            if expected_revision is not None and expected_revision != current.revision:
                raise ConflictError(plan_id, expected_revision, current.revision)
            now = self.clock()
            new_plan = self._mutated(current, mutate, now if timed else None)
            from .rules import check_rule_limits  # imported on first write: sqlglot is slow to load

            check_rule_limits(new_plan)  # trees too deep or too large are refused, naming the pointer
            refused = _checks().refused_on_write(new_plan)
            if refused:
                raise InputError("; ".join(f"{f.pointer}: {f.message}" for f in refused))
            content_changes = self._diff(current, new_plan)
            if not content_changes:
                return WriteResult(
                    plan_id=plan_id,
                    revision=current.revision,
                    commit=None,
                    path=str(self.store.plan_path(plan_id)),
                    summary="no content change",
                    changes=[],
                    findings=self.findings(current, previous_content),
                    written=False,
                )
            new_plan.revision = current.revision + 1
            new_plan.updated_at = now
            new_plan = _checks().refresh_computed(new_plan, current, now)
            changes = self._diff(current, new_plan, content_changes)
            new_plan.change_log.append(
                ChangeLogEntry(
                    revision=new_plan.revision,
                    at=now,
                    actor=actor,
                    stage=stage,
                    # The summary says what the actor changed; recomputed metrics stay in `changes`.
                    summary=summary or summarize(content_changes),
                    changes=changes,
                )
            )
            trailers = {**ledger_trailers(current, new_plan), **(extra_trailers or {})}
            before = self.findings(current, previous_content)
            return self._commit(
                repo, new_plan, previous_content, stage, actor, changes, now, [], trailers, before
            )

    def _mutated(self, current: Plan, mutate: Callable[..., Plan], now: datetime | None) -> Plan:
        """The mutation applied to a private copy of `current`, validated like a whole document.

        The copy shares the unchanged items of the large sections with `current` (copy_on_write),
        so only what the mutation touched is copied and validated again.
        """
        verify = copy_on_write.verify_writes()
        before_text = current.model_dump_json(by_alias=True) if verify else ""
        private = copy_on_write.working_copy(current)
        candidate = mutate(private) if now is None else mutate(private, now)
        new_plan = copy_on_write.revalidated(current, candidate)
        if new_plan is None or verify:
            full = _revalidate(candidate)  # raises with every problem named when invalid
            if new_plan is not None and serialize(new_plan) != serialize(full):
                raise AssertionError("incremental validation differs from validating the whole plan")
            new_plan = new_plan or full
        if verify and not copy_on_write.shared_items_untouched(before_text, current):
            raise AssertionError(
                "a mutation edited an item of the previous revision in place; replace items "
                "with model_copy(update=...) instead (see copy_on_write.py)"
            )
        return new_plan

    @staticmethod
    def _diff(before: Plan, after: Plan, before_refresh: list[ChangeItem] | None = None) -> list[ChangeItem]:
        """The semantic diff; given the diff from before refresh_computed ran, only the sections it
        may change are compared again."""
        if before_refresh is None:
            changes = diff_revisions(before, after)
        else:
            changes = rediff(before, after, before_refresh, _checks().REFRESHED_SECTIONS)
        if copy_on_write.verify_writes() and changes != diff_plans(before, after):
            raise AssertionError("the incremental diff differs from diff_plans")
        return changes

    def current_findings(self, plan_id: str) -> tuple[Plan, list[Finding]]:
        """The current plan and its findings (remembered per content hash, so repeated reads are cheap)."""
        plan, content = self.store.load(plan_id)
        return plan, self.findings(plan, content)

    def findings(self, plan: Plan, content: bytes) -> list[Finding]:
        """run_checks, remembered per content hash: a write needs the previous revision's findings."""
        digest = content_hash(content)
        if digest not in self._findings:
            if len(self._findings) > 64:
                self._findings.clear()
            self._findings[digest] = _checks().run_checks(plan)
        return self._findings[digest]

    def _commit(
        self,
        repo: git_repo.Repository,
        plan: Plan,
        previous_content: bytes | None,
        stage: str,
        actor: str,
        changes: list[ChangeItem],
        now: datetime,
        new_paths: list[Path],
        extra_trailers: dict[str, str] | None = None,
        before: list[Finding] | None = None,
    ) -> WriteResult:
        content = plan_json.dumps(plan)
        if copy_on_write.verify_writes() and content != serialize(plan):
            raise AssertionError("plan_json.dumps differs from store.serialize")
        # The write state needs the text's hash (0.5 ms for 800 KB); the checks thread computes it
        # while this one writes and flushes the file (hashlib and file writes release the GIL).
        hashing = checks_thread().submit(content_hash, content)
        path = self.store.write(plan.plan_id, content, digest=hashing.result)
        message = render_commit_message(
            plan.plan_id, plan.revision, stage, actor, changes, extra_trailers, plan.change_log[-1].summary
        )
        # The checks of the new revision run while git commits it: the commit is a child process,
        # so this thread waits without holding the interpreter and the checks use the time. They
        # start only once git runs: started earlier, every system call this thread makes on the
        # way (path checks, the spawn) would wait for the checks to hand the interpreter back.
        checking: list[Future[list[Finding]]] = []

        def start_checks() -> None:
            if not checking:  # once, even when the commit is retried
                checking.append(checks_thread().submit(self.findings, plan, content))

        try:
            start_checks()
            sha = git_repo.commit_paths(repo, [path, *new_paths], message, now)
        except BaseException:
            for pending in checking:
                pending.cancel()
            self.store.restore(plan.plan_id, previous_content)
            for extra in new_paths:
                extra.unlink(missing_ok=True)
            raise
        # Let the checks finish before touching the disk again: while they run, each system call
        # here waits for them to hand back the interpreter.
        wait_for(checking)
        self.store.remember_write(plan.plan_id, content, status="committed")
        self.store.remember_parsed(plan.plan_id, content, plan)
        findings = checking[0].result() if checking else self.findings(plan, content)
        before = before or []
        before_ids = {f.identity for f in before}
        after_ids = {f.identity for f in findings}
        return WriteResult(
            plan_id=plan.plan_id,
            revision=plan.revision,
            commit=sha,
            path=str(path),
            summary=plan.change_log[-1].summary,
            changes=changes,
            findings=findings,
            new_findings=[f for f in findings if f.identity not in before_ids],
            resolved_findings=[f for f in before if f.identity not in after_ids],
        )

    # --- deliverables ---------------------------------------------------------------------------
    def commit_deliverables(
        self, plan_id: str, files: dict[str, bytes], *, revision: int, actor: str
    ) -> DeliverablesResult:
        """Write rendered files under .claude/plans/<plan_id>/ and commit them on their own."""
        repo = self._repo(create=True)
        assert repo is not None
        return commit_deliverables(
            self.store, repo, plan_id, files, revision=revision, actor=actor, now=self.clock()
        )

    # --- crash recovery -----------------------------------------------------------------------
    def recover(self) -> list[str]:
        """On start: commit plan files whose newer revision was written but not committed.

        Returns messages about recovered plans and hand edits (which are never overwritten).
        """
        repo = self._repo(create=False)
        if repo is None or not self.store.plans_dir.is_dir():
            return []
        notes = []
        with self.store.locked():
            for plan_id in self.store.list_ids():
                try:
                    note = self._recover_one(repo, plan_id, raise_on_hand_edit=False)
                except (PlanFileError, git_repo.RepositoryError) as exc:
                    note = str(exc)
                if note:
                    notes.append(note)
        return notes

    def _recover_one(
        self,
        repo: git_repo.Repository,
        plan_id: str,
        *,
        raise_on_hand_edit: bool = True,
        on_disk: bytes | None = None,
    ) -> str | None:
        return recover_plan(
            self.store, repo, plan_id, self.clock, raise_on_hand_edit=raise_on_hand_edit, on_disk=on_disk
        )

    # --- validation ------------------------------------------------------------------------------
    def validate_document(self, content: bytes, where: str) -> tuple[Plan | None, list[Finding]]:
        """Every problem in a plan file: schema issues first, then the checks' findings."""
        data = parse_document(content, where)
        issues = schema_issues(data) or model_issues(data)
        if issues:
            return None, [
                Finding(
                    code=i.code,
                    severity="error",
                    pointer=i.pointer,
                    message=i.message,
                    stage="plan",
                )
                for i in issues
            ]
        plan = Plan.model_validate(data)
        return plan, _checks().run_checks(plan)


def _revalidate(plan: Plan) -> Plan:
    """Mutations assign fields directly; validate the whole result as a document once more."""
    text = plan.model_dump_json(by_alias=True)
    try:
        return Plan.model_validate_json(text, strict=True)
    except ValidationError as exc:
        raise input_error(exc, json.loads(text)) from None


def input_error(exc: ValidationError, data: object) -> InputError:
    """One InputError listing every field at fault with what is allowed."""
    issues = pydantic_issues(exc, data)
    return InputError("; ".join(f"{i.pointer or '/'}: {i.message}" for i in issues[:10]))


def _with_default_dependencies(plan: Plan) -> Plan:
    """The dependency graph the chosen pattern implies, with the teams that gate each stage."""
    from .model.plan import DependencyEdge, DependencyGraph, DependencyNode

    stages = ["intake", "attributes", "profiles", "activation", "governance"]
    teams = {"data-engineering": "Data engineering", "privacy": "Privacy", "legal": "Legal"}
    nodes = [DependencyNode(id=s, kind="stage") for s in stages] + [
        DependencyNode(id=t, kind="team", label=label) for t, label in teams.items()
    ]
    if plan.pattern.kind == "diamond":
        pairs = [
            ("intake", "profiles"),
            ("attributes", "profiles"),
            ("profiles", "activation"),
            ("activation", "governance"),
        ]
    else:
        pairs = list(itertools.pairwise(stages))
    pairs += [
        ("data-engineering", "attributes"),
        ("privacy", "activation"),
        ("privacy", "governance"),
        ("legal", "governance"),
    ]
    edges = [DependencyEdge.model_validate({"from": a, "to": b}) for a, b in pairs]
    plan.dependencies = DependencyGraph(nodes=nodes, edges=edges)
    return plan

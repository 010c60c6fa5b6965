"""The Engine: a small facade over the core operations, shared by the MCP tools and the CLI.

Writes go through the write pipeline (pipeline.py); reads come from the store and git history.
The engine holds what those need: the workspace, its plan store, its repository and the clock.
The clock sets evaluation time only (windows, freshness, scenarios); commits and change-log
entries carry the real time unless the engine runs on a frozen clock (the demo's documented
`--frozen-clock`, whose commits say `Clock: frozen`).
"""

from __future__ import annotations

import getpass
import itertools
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..checks.exports import cutoffs_at
from ..checks.run import refresh_computed, run_checks
from ..commit_message import one_line
from ..errors import ConfinementError, InputError, NotFoundError, PlanFileError
from ..history import git_repo
from ..model import ChangeItem, ChangeLogEntry, Plan
from ..model.diff import diff_plans
from ..model.findings import Finding
from ..model.issues import model_issues, pydantic_issues, schema_issues
from ..model.migrate import upgrade
from ..model.plan import DependencyEdge, DependencyGraph, DependencyNode
from ..paths import confined_path
from ..store.plans import PLAN_ID_RE, PlanStore, content_hash, parse_document, parse_plan, read_bounded
from ..store.workspace import Workspace
from . import pipeline
from .deliverables import DeliverablesResult, commit_deliverables
from .export_files import ExportFilesResult, commit_export
from .pipeline import WriteResult
from .recovery import recover_plan

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
__all__ = ["Engine", "HistoryEntry", "WriteResult", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


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
    def __init__(self, ws: Workspace, clock: Clock = utc_now, *, frozen_clock: bool = False) -> None:
        self.ws = ws
        self.store = PlanStore(ws)
        self.clock = clock
        self.frozen_clock = frozen_clock
        # run_checks per plan content hash: a write needs the previous revision's findings, and a
        # read after a write finds them again. Tools run in worker threads, hence the lock.
        self._findings: dict[str, list[Finding]] = {}
        self._findings_lock = threading.Lock()
        self._repository: git_repo.Repository | None = None

    def _repo(self, *, create: bool) -> git_repo.Repository | None:
        # The workspace's repository, found once and kept while its .git folder exists: finding it
        # is one git process, and issue 12 asks writes to start as few as they can. Every later git
        # call still runs in the workspace, so git's own ownership check runs each time.
        known = self._repository
        if known is not None and known.git_dir.is_dir():
            return known
        self._repository = git_repo.open_repository(self.ws, create=create)
        return self._repository

    def repository(self) -> git_repo.Repository:
        """The workspace's repository, initialised as a write would (finalize tags in it)."""
        repo = self._repo(create=True)
        assert repo is not None
        return repo

    def write_time(self) -> datetime:
        """When a write happens: the real time, or the frozen clock's in the documented demo mode."""
        return self.clock() if self.frozen_clock else utc_now()

    def _writer(self, person: git_repo.Person | None = None, sign: bool = False) -> pipeline.Writer:
        repo = self._repo(create=True)
        assert repo is not None
        trailers = {"Clock": "frozen"} if self.frozen_clock else {}
        return pipeline.Writer(self.store, repo, self.write_time(), self.findings, trailers, person, sign)

    def person(self) -> git_repo.Person:
        """The git identity of the person at the terminal; refuses when git has none (person.py)."""
        repo = self._repo(create=False)
        if repo is None:
            raise git_repo.RepositoryError(f"workspace {str(self.ws.root)!r} is not a git repository")
        return git_repo.person_identity(repo)

    def default_actor(self) -> str:

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
            except (PlanFileError, ConfinementError) as exc:
                # One bad file (huge, junk, or a state file that is a link) must not hide the rest.
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
        return diff_plans(
            self._revision_as(plan_id, from_revision, "from_revision"),
            self._revision_as(plan_id, to_revision, "to_revision"),
        )

    def _revision_as(self, plan_id: str, revision: int, field: str) -> Plan:
        """read_plan at a revision, an unknown one named by the argument that asked for it."""
        try:
            return self.read_plan(plan_id, revision)
        except NotFoundError as exc:
            if exc.field != "revision":
                raise
            raise NotFoundError(str(exc).removeprefix("revision: "), field=field) from None

    # --- writing -------------------------------------------------------------------------------
    def create_plan(self, *, actor: str, **header: Any) -> WriteResult:
        """A new plan at revision 1 from its header fields (initiative, channels, metrics, regimes,
        signals...)."""
        actor = one_line(actor)
        w = self._writer()
        with self.store.locked():
            git_repo.check_ready_to_commit(w.repo)
            self.store.ensure_dirs()
            gitignore = self.store.plans_dir / ".gitignore"
            created = (gitignore,) if git_repo.head_content(w.repo, gitignore) is None else ()
            plan = new_plan(self.store.new_id(w.now), w.now, header)
            changes = diff_plans(None, plan)
            entry = ChangeLogEntry(
                revision=1,
                at=w.now,
                actor=actor,
                stage="create",
                summary=f"created plan for {plan.initiative!r}",
                changes=tuple(changes),
            )
            plan = plan.model_copy(update={"change_log": (entry,)})
            return pipeline.commit_revision(w, plan, None, "create", actor, changes, w.trailers, [], created)

    def apply(
        self,
        plan_id: str,
        stage: str,
        operation: Callable[..., Plan],
        *,
        expected_revision: int | None,
        actor: str,
        extra_trailers: dict[str, str] | None = None,
        summary: str | None = None,
        timed: bool = False,
        person: git_repo.Person | None = None,
        sign: bool = False,
    ) -> WriteResult:
        """One write through the pipeline: `operation(plan)` (or `operation(plan, now)` when timed,
        so ledger entries carry the write's own time) returns the next revision's content.
        `person` authors the commit (and `sign` signs it): a person's own command only."""

        def run(plan: Plan, now: datetime) -> Plan:
            return operation(plan, now) if timed else operation(plan)

        return pipeline.write(
            self._writer(person, sign),
            plan_id,
            stage,
            run,
            expected_revision=expected_revision,
            actor=actor,
            summary=summary,
            extra_trailers=extra_trailers,
        )

    def current_findings(self, plan_id: str) -> tuple[Plan, list[Finding]]:
        plan, content = self.store.load(plan_id)
        return plan, self.findings(plan, content)

    def findings(self, plan: Plan, content: bytes) -> list[Finding]:
        """run_checks, remembered per content hash."""
        digest = content_hash(content)
        with self._findings_lock:
            known = self._findings.get(digest)
        if known is not None:
            return known
        found = run_checks(plan)
        with self._findings_lock:
            if len(self._findings) > 64:
                self._findings.clear()
            self._findings[digest] = found
        return found

    # --- deliverables ---------------------------------------------------------------------------
    def commit_deliverables(
        self, plan_id: str, files: dict[str, bytes], *, revision: int, actor: str
    ) -> DeliverablesResult:
        """Write rendered files under .claude/plans/<plan_id>/ and commit them on their own."""
        w = self._writer()
        return commit_deliverables(
            self.store,
            w.repo,
            plan_id,
            files,
            revision=revision,
            actor=actor,
            now=w.now,
            frozen_clock=self.frozen_clock,
        )

    def tracked_below(self, folder: Path) -> list[str]:
        """Paths git tracks under `folder` (none outside a repository)."""
        repo = self._repo(create=False)
        return [] if repo is None else git_repo.tracked_below(repo, folder)

    def commit_export(
        self,
        plan_id: str,
        target: str,
        files: dict[str, bytes],
        *,
        revision: int,
        draft: bool,
        actor: str,
        made_before: frozenset[str] = frozenset(),
    ) -> ExportFilesResult:
        """Write an export's files under .claude/plans/<plan_id>/exports/<target>/ and commit them alone."""
        w = self._writer()
        return commit_export(
            self.store,
            w.repo,
            plan_id,
            target,
            files,
            revision=revision,
            draft=draft,
            actor=actor,
            now=w.now,
            made_before=made_before,
            frozen_clock=self.frozen_clock,
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
                    note = recover_plan(self.store, repo, plan_id, self.write_time, raise_on_hand_edit=False)
                except (PlanFileError, git_repo.RepositoryError) as exc:
                    note = str(exc)
                if note:
                    notes.append(note)
        return notes

    def clear_stale_index_lock(self) -> bool:
        """Remove an index.lock no git process can hold (a crash left it); False when there is none."""
        repo = self._repo(create=False)
        return repo is not None and git_repo.clear_stale_index_lock(repo)

    # --- validation ------------------------------------------------------------------------------
    def validate_target(self, target: str, *, cwd: Path) -> tuple[str, list[Finding]]:
        """Every problem in a plan of this workspace (by id) or a plan file inside it; reads only."""
        if PLAN_ID_RE.fullmatch(target):
            content, where = self.store.read_bytes(target), str(self.store.plan_path(target))
        else:
            path = confined_path(self.ws.root, cwd / target, field="FILE")
            if path.is_dir():
                raise InputError(f"{target!r} is a folder, not a plan file", field="FILE")
            if not path.is_file():
                raise ConfinementError(f"file {target!r} does not exist", field="FILE")
            content, where = read_bounded(path), str(path)
        try:
            return where, self.validate_document(content, where)[1]
        except PlanFileError as exc:
            unreadable = Finding(
                code="file.unreadable", severity="error", pointer="", message=str(exc), stage="plan"
            )
            return where, [unreadable]

    def validate_document(self, content: bytes, where: str) -> tuple[Plan | None, list[Finding]]:
        """Every problem in a plan file: schema issues first, then the checks' findings."""
        data = upgrade(parse_document(content, where))
        issues = schema_issues(data) or model_issues(data)
        if issues:
            return None, [
                Finding(code=i.code, severity="error", pointer=i.pointer, message=i.message, stage="plan")
                for i in issues
            ]
        plan = Plan.model_validate_json(json.dumps(data), strict=True)
        # A frozen window ages whether or not the plan is written: measured at the evaluation time.
        return plan, cutoffs_at(plan, run_checks(plan), self.clock())


def new_plan(plan_id: str, now: datetime, header: dict[str, Any]) -> Plan:
    """Revision 1: the header as given, the dependency graph its pattern implies, metrics computed."""
    document = {
        "plan_id": plan_id,
        "revision": 1,
        "created_at": now.isoformat(),
        "updated_at": now.isoformat(),
        "initiative": header.get("initiative"),
        "channels": list(header.get("channels") or []),
        "metrics": list(header.get("metrics") or []),
        "constraints": list(header.get("constraints") or []),
        "timeline": header.get("timeline"),
        "consent_regimes": list(header.get("regimes") or []),
        "consent_signals": list(header.get("signals") or []),
        "pattern": {
            "kind": header.get("pattern") or "diamond",
            "rationale": header.get("pattern_rationale") or "",
        },
    }
    try:
        plan = Plan.model_validate_json(json.dumps(document), strict=True)
    except ValidationError as exc:
        raise input_error(exc, document) from None
    return refresh_computed(_with_default_dependencies(plan), None, now)


def input_error(exc: ValidationError, data: object) -> InputError:
    """One InputError listing every field at fault with what is allowed."""
    issues = pydantic_issues(exc, data)
    return InputError("; ".join(f"{i.pointer or '/'}: {i.message}" for i in issues[:10]))


def _with_default_dependencies(plan: Plan) -> Plan:
    """The dependency graph the chosen pattern implies, with the teams that gate each stage."""

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
    return plan.model_copy(update={"dependencies": DependencyGraph(nodes=tuple(nodes), edges=tuple(edges))})

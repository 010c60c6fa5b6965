"""The write pipeline: the one path by which a plan revision lands.

    lock -> recover -> check the revision -> apply -> validate -> refresh computed parts -> diff
    -> write -> commit -> (on failure) roll back

A write either lands whole (the plan file and one commit) or changes nothing, and the result says
which. Operations are pure functions (plan in, plan out) that build the new revision with
`model_copy(update=...)`; that skips validation, so every section an operation changed is
validated again here before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError

from ..checks.run import refresh_computed, refused_on_write
from ..commit_message import ledger_trailers, one_line, render_commit_message
from ..errors import ConflictError, InputError, RepositoryError
from ..history import git_repo
from ..model import ChangeItem, ChangeLogEntry, Plan
from ..model.diff import diff_plans, summarize
from ..model.findings import Finding
from ..model.issues import pydantic_issues
from ..store.plans import PlanStore, check_plan_id, serialize
from .recovery import recover_plan

Operation = Callable[[Plan, datetime], Plan]


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
class Writer:
    """What a write needs besides the change: where plans live, the repository, the time, checks."""

    store: PlanStore
    repo: git_repo.Repository
    now: datetime
    findings: Callable[[Plan, bytes], list[Finding]]
    trailers: dict[str, str] = field(default_factory=dict)
    # A person's own command (plans approve, confirm-consent): they author the commit, and sign it
    # with their own key when they ask (history/person.py).
    person: git_repo.Person | None = None
    sign: bool = False


def write(
    w: Writer,
    plan_id: str,
    stage: str,
    operation: Operation,
    *,
    expected_revision: int | None,
    actor: str,
    summary: str | None = None,
    extra_trailers: dict[str, str] | None = None,
) -> WriteResult:
    """Apply `operation` to the current revision of `plan_id` and commit the result as the next one."""
    check_plan_id(plan_id)
    actor = one_line(actor)  # an actor names who asked; no text may add a line to the log or a commit
    with w.store.locked():
        git_repo.check_ready_to_commit(w.repo)
        on_disk = w.store.read_bytes(plan_id)
        recover_plan(w.store, w.repo, plan_id, lambda: w.now, on_disk=on_disk)
        current, previous_content = w.store.load(plan_id, on_disk)
        if expected_revision is not None and expected_revision != current.revision:
            raise ConflictError(plan_id, expected_revision, current.revision)
        candidate = revalidated(current, operation(current, w.now))
        content_changes = diff_plans(current, candidate)
        before = w.findings(current, previous_content)
        if not content_changes:
            path = str(w.store.plan_path(plan_id))
            return WriteResult(
                plan_id, current.revision, None, path, "no content change", [], before, written=False
            )
        new_plan, changes = next_revision(
            current, candidate, w.now, stage, actor, summary or summarize(content_changes)
        )
        trailers = {**ledger_trailers(current, new_plan), **w.trailers, **(extra_trailers or {})}
        return commit_revision(w, new_plan, previous_content, stage, actor, changes, trailers, before)


def next_revision(
    current: Plan, candidate: Plan, now: datetime, stage: str, actor: str, summary: str
) -> tuple[Plan, list[ChangeItem]]:
    """The candidate as the next revision: numbered, dated, computed parts refreshed, logged."""
    from ..rules import check_rule_limits  # the rules layer loads sqlglot: keep it off start-up

    check_rule_limits(candidate)  # trees too deep or too large are refused, naming the pointer
    refused = refused_on_write(candidate)
    if refused:
        raise InputError("; ".join(f"{f.pointer}: {f.message}" for f in refused))
    numbered = candidate.model_copy(update={"revision": current.revision + 1, "updated_at": now})
    refreshed = refresh_computed(numbered, current, now)
    changes = diff_plans(current, refreshed)
    # The summary says what the actor changed; recomputed metrics stay in `changes`.
    entry = ChangeLogEntry(
        revision=refreshed.revision, at=now, actor=actor, stage=stage, summary=summary, changes=tuple(changes)
    )
    return refreshed.model_copy(update={"change_log": (*refreshed.change_log, entry)}), changes


def commit_revision(
    w: Writer,
    plan: Plan,
    previous_content: bytes | None,
    stage: str,
    actor: str,
    changes: list[ChangeItem],
    trailers: dict[str, str],
    before: list[Finding],
    new_paths: tuple[Path, ...] = (),
) -> WriteResult:
    """Write the plan file and commit it with `new_paths`; on any failure undo the file and raise."""
    content = serialize(plan)
    path = w.store.write(plan.plan_id, content)
    message = render_commit_message(
        plan.plan_id, plan.revision, stage, actor, changes, trailers, plan.change_log[-1].summary
    )
    try:
        sha = git_repo.commit_paths(w.repo, [path, *new_paths], message, w.now, person=w.person, sign=w.sign)
    except BaseException as failure:
        # The caller is told this write failed, so it must never land later: forget that the file
        # is ours first (an unlink needs no free space), so recovery can never commit it.
        w.store.forget_write(plan.plan_id)
        try:
            w.store.restore(plan.plan_id, previous_content)
        except OSError as undo:
            if not isinstance(failure, Exception):
                raise failure from None
            # Say both, without a traceback, and what is left on disk: the file now counts as a
            # hand edit, and only the user decides what becomes of it.
            rel = path.relative_to(w.store.ws.root).as_posix()
            raise RepositoryError(
                f"{failure}; putting the previous plan file back failed too ({undo.strerror or undo}). "
                f"Nothing was committed. {rel} still holds the uncommitted revision {plan.revision}, "
                f"which will not be recovered: discard it with 'git checkout -- {rel}'"
            ) from failure
        for extra in new_paths:
            extra.unlink(missing_ok=True)
        raise
    w.store.remember_write(plan.plan_id, content, status="committed")
    w.store.remember_parsed(plan.plan_id, content, plan)
    findings = w.findings(plan, content)
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


def revalidated(before: Plan, after: Plan) -> Plan:
    """`after` with every top-level section that differs from `before` validated again.

    Unchanged sections are the same (frozen) objects as in `before`, which was validated when it
    was read, so they are not checked twice.
    """
    changed = [name for name in Plan.model_fields if getattr(after, name) is not getattr(before, name)]
    if not changed:
        return after
    validated: dict[str, Any] = {}
    for name in changed:
        adapter = section_adapter(name)
        text = adapter.dump_json(getattr(after, name), by_alias=True)
        try:
            validated[name] = adapter.validate_json(text, strict=True)
        except ValidationError as exc:
            issues = pydantic_issues(exc, json.loads(text))
            raise InputError("; ".join(f"/{name}{i.pointer}: {i.message}" for i in issues[:10])) from None
    return after.model_copy(update=validated)


@cache
def section_adapter(name: str) -> TypeAdapter[Any]:
    """A validator for one top-level section, with the constraints its field declares."""
    info = Plan.model_fields[name]
    return TypeAdapter(Annotated[info.annotation, info])

"""Import a sizing result a warehouse computed (`plans size --import-result FILE`): one write.

The row names its plan and carries the hash of the rules and evaluation time it was computed with
(audience/rules_hash.py). It is stored only when that hash is the current rules' hash at the row's
evaluation time: a revision that changed only the ledger (a note, an escalation, another sizing)
keeps the hash, so such a result is still accepted. Otherwise the plan's earlier revisions are
searched for the one the row belongs to, and the refusal names it.
"""

from __future__ import annotations

from ..audience import Progress
from ..audience.import_result import ResultRow, imported_run, read_result
from ..audience.rules_hash import evaluation_text, rules_sha256
from ..checks.sizing import sizing_findings
from ..errors import ConflictError, EngineError, InputError
from ..model import Plan
from .engine import Engine
from .sizing import SizingOutcome, _no_progress, _store

FIELD = "import_result"


def import_sizing_result(
    engine: Engine,
    plan_id: str,
    path: str,
    *,
    expected_revision: int | None = None,
    actor: str,
    progress: Progress = _no_progress,
) -> SizingOutcome:
    """Store the result row in `path` (a file inside the workspace) as an imported sizing run."""
    plan = engine.read_plan(plan_id)
    if expected_revision is not None and expected_revision != plan.revision:
        raise ConflictError(plan_id, expected_revision, plan.revision)
    row = read_result(engine.ws.root, path)
    if row.plan_id != plan.plan_id:
        raise InputError(
            f"{row.location} is a result for plan {row.plan_id[:80]!r}, not {plan_id}; import it into "
            "that plan. Nothing was written",
            field=FIELD,
        )
    sized = _revision_of(engine, plan, row)
    run = imported_run(sized, row, run_id=f"size-{len(plan.sizing_runs) + 1}", actor=actor)
    write, stored = _store(engine, plan_id, sized, run, expected_revision, actor, progress)
    return SizingOutcome(write=write, run=stored, findings=sizing_findings(engine.read_plan(plan_id), stored))


def _older(engine: Engine, plan_id: str, revision: int) -> Plan | None:
    try:
        return engine.read_plan(plan_id, revision)
    except EngineError:  # a revision without a commit, or one that no longer loads, matches nothing
        return None


def _revision_of(engine: Engine, plan: Plan, row: ResultRow) -> Plan:
    """The revision whose rules the row was computed with, when they are still the current rules."""
    at = row.evaluated_at
    if rules_sha256(plan, at) == row.rules_sha256:
        # The row names the revision its SQL was written at; when the rules are unchanged since,
        # that revision is the one sized (the run says which rules it counted, as plans size does).
        if 1 <= row.revision < plan.revision:
            named = _older(engine, plan.plan_id, row.revision)
            if named is not None and rules_sha256(named, at) == row.rules_sha256:
                return named
        return plan
    # The revision the row names first (the SQL was written there), then the others, newest first.
    earlier = range(plan.revision - 1, 0, -1)
    named_first = [row.revision] if row.revision in earlier else []
    for revision in [*named_first, *(r for r in earlier if r != row.revision)]:
        older = _older(engine, plan.plan_id, revision)
        if older is not None and rules_sha256(older, at) == row.rules_sha256:
            raise InputError(
                f"{row.location}: this result belongs to revision {revision} of {plan.plan_id}; the plan is "
                f"at revision {plan.revision} and its rules have changed since, so these counts are not "
                f"the current rules' counts. Write the SQL again (plans size {plan.plan_id} --dialect ... "
                "--table ...), run it and import that result. Nothing was written",
                field=FIELD,
            )
    raise InputError(
        f"{row.location}: its pe_rules_sha256 matches no revision of {plan.plan_id} evaluated at "
        f"{evaluation_text(at)}, so it was not computed by a sizing query this plan wrote, or the file "
        "was edited (the hash covers the rules and pe_evaluated_at). Nothing was written",
        field=FIELD,
    )

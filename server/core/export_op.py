"""Exporting as a core operation: a revision's destination files, committed on their own, and the
export recorded in the ledger (its own write), or written into a person's `--out` folder.

Re-exporting is a no-op when the last export to the target has the same content, options and draft
state, and its frozen cutoffs (if any) are still within their allowed age: the files are rebuilt as of
that export, so the bytes match, and only files missing from disk are restored.

The files' commit comes first and the ledger write second. A crash between them leaves committed
files without a ledger entry; the next export finds the same bytes (no commit) and records it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, Field

from ..checks.exports import cutoff_expired
from ..commit_message import one_line
from ..errors import InputError
from ..export import build_export
from ..export.common import ExportBundle
from ..model import Plan
from ..model.common import MAX_SHORT_TEXT
from ..model.final import content_sha256, is_final
from ..model.ledger import ExportRun
from ..model.targets import EXPORT_TARGETS, SQL_DIALECTS
from .engine import Engine, WriteResult
from .export_files import exports_folder, write_out
from .ledger import _text

STAGE = "activation"


@dataclass
class ExportOutcome:
    plan_id: str
    target: str
    revision: int
    folder: str
    files: list[str]
    changed: list[str]
    commit: str | None
    draft: bool
    bundle: ExportBundle
    ledger: WriteResult | None = None


class ExportAnswer(BaseModel):
    """What export_activation and `plans export --json` return."""

    plan_id: str
    target: str
    revision: int = Field(description="The plan revision the files come from.")
    written: bool = Field(description="False when an unchanged revision was exported again.")
    commit: str | None = Field(description="The files' commit; null when nothing changed or with --out.")
    folder: str
    files: list[str]
    draft: bool
    profiles: list[str] = Field(description="The profiles the export carries.")
    refusals: list[dict] = Field(description="What the target could not carry, and why.")
    cutoffs: list[dict] = Field(description="Relative windows frozen at cutoff_at.")
    cutoff_at: str | None
    carriers: dict[str, str] = Field(description="'profile/channel' -> the file that carries it.")
    ledger_revision: int | None = Field(description="The revision recording the export; null if none.")


@dataclass(frozen=True)
class _Request:
    plan: Plan
    target: str
    dialect: str | None
    draft: bool
    actor: str
    at: datetime


def export_plan(
    engine: Engine,
    plan_id: str,
    target: str,
    *,
    dialect: str | None = None,
    allow_errors: bool = False,
    out: str | None = None,
    actor: str,
) -> ExportOutcome:
    """Export the plan's latest revision to `target` (see the module docstring)."""
    request = _checked(engine, plan_id, target, dialect, allow_errors, actor)
    if out is not None:
        return _write_out(engine, request, out)
    previous = _reusable(request)
    if previous is not None:
        # As of that export: the same revision label and cutoff instant give the same bytes.
        labelled = request.plan.model_copy(update={"revision": previous.revision})
        bundle = _build(labelled, request, previous.cutoff_at or request.at)
        return _commit(engine, request, bundle, previous.revision)
    bundle = _build(_labelled(request.plan), request, request.at)
    # Built (and so validated) before anything is written: the ledger write after the files'
    # commit must not fail on what the export made.
    run = _run(engine, request, bundle)
    outcome = _commit(engine, request, bundle, run.revision)
    summary = f"exported r{run.revision} to {target}" + (" (draft)" if request.draft else "")
    outcome.ledger = engine.apply(
        plan_id,
        STAGE,
        lambda p, now: _record(p, run, now),
        expected_revision=None,
        actor=request.actor,
        timed=True,
        summary=summary,
    )
    return outcome


def _checked(
    engine: Engine, plan_id: str, target: str, dialect: str | None, allow_errors: bool, actor: str
) -> _Request:
    """The export's inputs, every one checked before anything is written."""
    actor = _text(one_line(actor), "actor", limit=MAX_SHORT_TEXT)
    if target not in EXPORT_TARGETS:
        raise InputError(
            f"export target {target!r} is not one of {', '.join(EXPORT_TARGETS)}", field="target"
        )
    if dialect is not None and dialect not in SQL_DIALECTS:
        raise InputError(f"dialect {dialect!r} is not one of {', '.join(SQL_DIALECTS)}", field="dialect")
    plan, findings = engine.current_findings(plan_id)
    errors = [f for f in findings if f.severity == "error"]
    if errors and not allow_errors:
        codes = ", ".join(sorted({f.code for f in errors}))
        raise InputError(
            f"plan {plan_id} revision {plan.revision} has {len(errors)} error finding(s) ({codes}); fix "
            "them (validate_plan lists them), or export anyway with allow_errors (--allow-errors), "
            "which marks every file as a draft",
            field="plan_id",
        )
    draft = bool(errors) or not is_final(plan)
    return _Request(plan, target, dialect, draft, actor, engine.clock())


def _labelled(plan: Plan) -> Plan:
    """The plan as the revision its files name: a final plan's files come from the revision that was
    reviewed, however many ledger writes (exports among them) came after it."""
    if is_final(plan):
        assert plan.final is not None
        return plan.model_copy(update={"revision": plan.final.revision})
    return plan


def _build(plan: Plan, request: _Request, at: datetime) -> ExportBundle:
    return build_export(plan, request.target, exported_at=at, draft=request.draft, dialect=request.dialect)


def _write_out(engine: Engine, request: _Request, out: str) -> ExportOutcome:
    bundle = _build(_labelled(request.plan), request, request.at)
    folder = write_out(engine.ws.root, out, _encoded(bundle), tracked=engine.tracked_below)
    files = sorted(bundle.files)
    shown = _shown(engine, folder)
    plan = _labelled(request.plan)
    return ExportOutcome(
        plan.plan_id, request.target, plan.revision, shown, files, files, None, request.draft, bundle
    )


def _commit(engine: Engine, request: _Request, bundle: ExportBundle, revision: int) -> ExportOutcome:
    plan_id = request.plan.plan_id
    # Only files an earlier export to this target made are removed when this one no longer makes them.
    made_before = frozenset(
        name for run in request.plan.exports if run.target == request.target for name in run.files
    )
    files = engine.commit_export(
        plan_id,
        request.target,
        _encoded(bundle),
        revision=revision,
        draft=request.draft,
        actor=request.actor,
        made_before=made_before,
    )
    folder = _shown(engine, files.folder)
    return ExportOutcome(
        plan_id,
        request.target,
        revision,
        folder,
        files.files,
        files.changed,
        files.commit,
        request.draft,
        bundle,
    )


def _dialect(request: _Request) -> str | None:
    return (request.dialect or "duckdb") if request.target == "dbt" else None


def _reusable(request: _Request) -> ExportRun | None:
    """The last export to the target, when exporting again would make the same files."""
    plan = request.plan
    runs = [r for r in plan.exports if r.target == request.target]
    if not runs:
        return None
    last = runs[-1]
    same = (
        last.content_sha256 == content_sha256(plan)
        and last.draft == request.draft
        and last.dialect == _dialect(request)
    )
    if not same or (last.cutoff_at is not None and cutoff_expired(last, request.at)):
        return None
    return last


def _run(engine: Engine, request: _Request, bundle: ExportBundle) -> ExportRun:
    """The ledger entry; _record stamps it with its id and the write's time."""
    plan = request.plan
    return ExportRun(
        id=f"exp-{len(plan.exports) + 1}",
        target=request.target,  # type: ignore[arg-type]  (checked against EXPORT_TARGETS)
        revision=_labelled(plan).revision,
        content_sha256=content_sha256(plan),
        exported_at=request.at,
        cutoff_at=bundle.cutoff_at,
        draft=request.draft,
        dialect=_dialect(request),  # type: ignore[arg-type]  (checked against SQL_DIALECTS)
        folder=_shown(engine, exports_folder(engine.store, plan.plan_id, request.target)),
        files=tuple(sorted(bundle.files)),
        profiles=bundle.profiles,
        refusals=bundle.refusals,
        cutoffs=bundle.cutoffs,
        carriers=dict(sorted(bundle.carriers.items())),
        recorded_by=request.actor,
    )


def _record(plan: Plan, run: ExportRun, now: datetime) -> Plan:
    stamped = run.model_copy(update={"id": f"exp-{len(plan.exports) + 1}", "exported_at": now})
    return plan.model_copy(update={"exports": (*plan.exports, stamped)})


def _encoded(bundle: ExportBundle) -> dict[str, bytes]:
    return {name: text.encode("utf-8") for name, text in bundle.files.items()}


def _shown(engine: Engine, folder) -> str:
    try:
        return folder.resolve().relative_to(engine.ws.root.resolve()).as_posix()
    except ValueError:
        return str(folder)


def as_answer(outcome: ExportOutcome) -> ExportAnswer:
    bundle = outcome.bundle
    cutoff_at = None if bundle.cutoff_at is None else bundle.cutoff_at.isoformat().replace("+00:00", "Z")
    return ExportAnswer(
        plan_id=outcome.plan_id,
        target=outcome.target,
        revision=outcome.revision,
        written=bool(outcome.changed) or outcome.ledger is not None,
        commit=outcome.commit,
        folder=outcome.folder,
        files=outcome.files,
        draft=outcome.draft,
        profiles=list(bundle.profiles),
        refusals=[r.model_dump(mode="json", exclude_none=True) for r in bundle.refusals],
        cutoffs=[c.model_dump(mode="json") for c in bundle.cutoffs],
        cutoff_at=cutoff_at,
        carriers={key: f"{outcome.folder}/{path}" for key, path in sorted(bundle.carriers.items())},
        ledger_revision=None if outcome.ledger is None else outcome.ledger.revision,
    )

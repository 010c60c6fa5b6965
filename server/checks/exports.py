"""Findings about exports (docs/exports.md): activations that name no export target, consent gates a
destination cannot check, exports whose frozen cutoffs have aged past what their profile allows, and
exports of content that has changed since (or drafts of a plan that is now final).

Time-dependent like the rest of the checks: an export's age is measured at plan.updated_at. A plan
nobody writes to keeps that time, so validation (validate_plan, `plans validate`) measures the age
again at its own evaluation time (`cutoffs_at`): a frozen window ages whether or not the plan changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..model import Plan
from ..model.common import duration_seconds
from ..model.final import content_sha256, is_final
from ..model.findings import Finding, sort_findings
from ..model.ledger import ExportCutoff, ExportRun
from ..rules.gates import gate_entries
from ..rules.instants import as_utc

EXPORT_FINDING_CODES: dict[str, str] = {
    "export.target_missing": "An activation names no export target (dbt, flagd, launchdarkly, growthbook).",
    "export.gate_unmapped": "A consent-gate entry of an exported activation names no boolean attribute.",
    "export.cutoff_stale": "An export froze a relative window longer ago than its profile allows.",
    "export.outdated": "The content changed since the latest export to a target.",
}


def cutoff_age(run: ExportRun, at: datetime) -> timedelta | None:
    return None if run.cutoff_at is None else as_utc(at) - as_utc(run.cutoff_at)


def expired_cutoffs(run: ExportRun, at: datetime) -> list[ExportCutoff]:
    age = cutoff_age(run, at)
    if age is None:
        return []
    return [c for c in run.cutoffs if age > timedelta(seconds=duration_seconds(c.allowed_age))]


def cutoff_expired(run: ExportRun, at: datetime) -> bool:
    return bool(expired_cutoffs(run, at))


def export_findings(plan: Plan) -> list[Finding]:
    findings = []
    for i, activation in enumerate(plan.activations):
        key = f"{activation.profile_id}/{activation.channel}"
        if activation.export_target is None:
            findings.append(
                _finding(
                    "export.target_missing",
                    "info",
                    f"/activations/{i}",
                    f"activation {key} names no export_target; name dbt, flagd, launchdarkly or growthbook "
                    "so an export carries it to production",
                )
            )
            continue
        for entry in gate_entries(plan, activation, i):
            if entry.condition is None:
                findings.append(
                    _finding(
                        "export.gate_unmapped",
                        "warning",
                        entry.pointer,
                        f"consent gate {entry.text!r} of {key} names no boolean attribute, so the "
                        f"{activation.export_target} export cannot check it and leaves the activation out; "
                        "start the entry with the attribute that records the choice (e.g. 'email_opt_in')",
                    )
                )
    return findings + _latest_export_findings(plan)


def _latest(plan: Plan) -> list[tuple[int, ExportRun]]:
    latest: dict[str, tuple[int, ExportRun]] = {}
    for i, run in enumerate(plan.exports):
        latest[run.target] = (i, run)
    return sorted(latest.values(), key=lambda pair: pair[0])


def stale_cutoffs(plan: Plan, at: datetime) -> list[Finding]:
    """export.cutoff_stale for the latest export to each target, its age measured at `at`."""
    findings = []
    for i, run in _latest(plan):
        for cutoff in expired_cutoffs(run, at):
            findings.append(
                _finding(
                    "export.cutoff_stale",
                    "warning",
                    f"/exports/{i}/cutoffs/{run.cutoffs.index(cutoff)}",
                    f"the {run.target} export {run.id} froze '{cutoff.condition}' of {cutoff.profile_id} at "
                    f"{_when(cutoff.cutoff)}; it is {_age(cutoff_age(run, at))} old, more than the "
                    f"{cutoff.allowed_age} the profile allows; export to {run.target} again",
                )
            )
    return findings


def cutoffs_at(plan: Plan, findings: list[Finding], at: datetime) -> list[Finding]:
    """The findings with export.cutoff_stale measured at `at` (never earlier than the last write)."""
    when = max(as_utc(at), as_utc(plan.updated_at))
    kept = [f for f in findings if f.code != "export.cutoff_stale"]
    return sort_findings(kept + stale_cutoffs(plan, when))


def _latest_export_findings(plan: Plan) -> list[Finding]:
    findings = stale_cutoffs(plan, plan.updated_at)
    current = content_sha256(plan) if plan.exports else ""
    final = is_final(plan)
    for i, run in _latest(plan):
        if run.content_sha256 == current and run.draft and final:
            findings.append(
                _finding(
                    "export.outdated",
                    "warning",
                    f"/exports/{i}",
                    f"the latest {run.target} export ({run.id}) is a draft, and the plan is now final; "
                    f"export to {run.target} again so its files no longer say DRAFT",
                )
            )
        elif run.content_sha256 != current:
            findings.append(
                _finding(
                    "export.outdated",
                    "warning",
                    f"/exports/{i}",
                    f"the latest {run.target} export ({run.id}) is of revision {run.revision}, and the "
                    f"plan's content changed since; export again so production matches the plan",
                )
            )
    return findings


def _when(at: datetime) -> str:
    return as_utc(at).strftime("%Y-%m-%d %H:%M UTC")


def _age(age: timedelta | None) -> str:
    if age is None:
        return "unknown"
    hours = age.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"


def _finding(code: str, severity: str, pointer: str, message: str) -> Finding:
    return Finding(code=code, severity=severity, pointer=pointer, message=message, stage="activation")

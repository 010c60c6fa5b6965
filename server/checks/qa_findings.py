"""Consent-flow QA: every web and in-app activation has a flow to check, and a recent passing run.

Time-dependent like the rest of the checks: a run's age is measured at plan.updated_at, so the same
plan always gives the same findings, whatever today's date.
"""

from __future__ import annotations

from datetime import timedelta

from ..model import Plan, duration_seconds
from ..model.findings import Finding
from ..model.ledger import QaResult
from ..rules.instants import as_utc

QA_CHANNELS = ("web", "in-app")


def qa_findings(plan: Plan) -> list[Finding]:
    latest = _latest_runs(plan)
    cadence = plan.governance.qa_cadence
    max_age = timedelta(seconds=duration_seconds(cadence)) if cadence else None
    findings = []
    for i, activation in enumerate(plan.activations):
        if activation.channel not in QA_CHANNELS:
            continue
        key = f"{activation.profile_id}/{activation.channel}"
        if activation.qa_flow is None:
            findings.append(
                _finding(
                    "qa.flow_missing",
                    "warning",
                    f"/activations/{i}",
                    f"activation {key} has no qa_flow; record the consent flow to check (url, opt-in and "
                    "opt-out controls, what must not happen before opt-in) with map_activation",
                )
            )
            continue
        pointer = f"/activations/{i}/qa_flow"
        run = latest.get((activation.profile_id, activation.channel))
        if run is None:
            findings.append(
                _finding(
                    "qa.missing",
                    "warning",
                    pointer,
                    f"activation {key}'s consent flow has no QA result; run it and record the outcome "
                    "with record_qa_result",
                )
            )
        elif run.outcome == "failed":
            findings.append(
                _finding(
                    "qa.failed",
                    "error",
                    pointer,
                    f"activation {key}'s latest consent-flow QA ({run.id}, ran {_when(run)}) failed; fix "
                    "the flow, run it again and record a passing result",
                )
            )
        elif max_age is not None and as_utc(plan.updated_at) - as_utc(run.ran_at) > max_age:
            findings.append(
                _finding(
                    "qa.stale",
                    "warning",
                    pointer,
                    f"activation {key}'s latest consent-flow QA ({run.id}) ran {_when(run)}, longer ago "
                    f"than the governance qa_cadence of {cadence}; run it again and record the result",
                )
            )
    return findings


def _latest_runs(plan: Plan) -> dict[tuple[str, str], QaResult]:
    """Each activation's latest run by ran_at; of runs at the same time, the one recorded last."""
    latest: dict[tuple[str, str], QaResult] = {}
    for run in plan.qa_results:
        key = (run.profile_id, run.channel)
        # A hand-edited plan may hold a time without a zone: it is read as UTC, like everywhere else.
        if key not in latest or as_utc(run.ran_at) >= as_utc(latest[key].ran_at):
            latest[key] = run
    return latest


def _when(run: QaResult) -> str:
    return run.ran_at.isoformat().replace("+00:00", "Z")


def _finding(code: str, severity: str, pointer: str, message: str) -> Finding:
    stage = "activation" if code in ("qa.flow_missing", "qa.missing") else "governance"
    return Finding(code=code, severity=severity, pointer=pointer, message=message, stage=stage)

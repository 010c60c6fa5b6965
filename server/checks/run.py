"""Run every check over a plan; the single entry point used by writes and validate."""

from __future__ import annotations

from datetime import datetime

from ..model import Plan
from .findings import Finding, sort_findings
from .structure import duplicate_key_findings


def run_checks(plan: Plan) -> list[Finding]:
    return sort_findings(duplicate_key_findings(plan))


def refused_on_write(plan: Plan) -> list[Finding]:
    """Findings so structural that a write producing them is refused rather than stored."""
    return duplicate_key_findings(plan)


def refresh_computed(plan: Plan, previous: Plan | None, now: datetime) -> Plan:
    """Recompute every server-owned field (metric actuals, automatic escalations) before a write.

    Called by the engine on each accepted write with the plan as it will be stored; `previous` is
    the stored revision it replaces (None on creation).
    """
    return plan

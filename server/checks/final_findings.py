"""Whether the plan is still the one finalize declared final (model/final.py)."""

from __future__ import annotations

from ..model import Plan
from ..model.final import changed_since_final
from ..model.findings import Finding

FINAL_FINDING_CODES: dict[str, str] = {
    "plan.changed_since_final": "The content changed after the plan was finalized; it needs a new finalize.",
}


def final_findings(plan: Plan) -> list[Finding]:
    if not changed_since_final(plan):
        return []
    record = plan.final
    assert record is not None
    tagged = f" (tag {record.tag})" if record.tag else ""
    return [
        Finding(
            code="plan.changed_since_final",
            severity="warning",
            pointer="/final",
            message=f"revision {record.revision} was finalized{tagged}, but the content changed since, "
            f"so revision {plan.revision} is a draft; review it and run finalize_plan (or "
            f"'personalization-engine plans finalize {plan.plan_id}') again",
            stage="plan",
        )
    ]

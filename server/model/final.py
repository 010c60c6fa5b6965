"""Whether a plan is final: a finalize recorded the hash of its content, and the content still has it.

Ledger writes (sizing runs, QA results, approvals, exports, measurements) keep a plan final; a
content change makes it "changed since final" until the next finalize.
"""

from __future__ import annotations

import hashlib
import json
from typing import get_args

from .plan import ContentSection, Plan

CONTENT_SECTIONS: tuple[str, ...] = get_args(ContentSection)
_ACTUALS = (
    "attribute_spec_coverage_pct",
    "attribute_data_coverage_pct",
    "consent_integrity_pct",
    "activation_readiness_pct",
)


# Content fields added after format 1.2, left out of the hash while unset: upgrading a final plan
# must not make it "changed since final".
_LATER_FIELDS = {"activations": ("export_target",), "profiles": ("holdout_share",)}
_LATER_LIFT_FIELDS = ("holdout_salt", "id_column", "baseline_rate")


def content_document(plan: Plan) -> dict[str, object]:
    """The content sections as JSON, without the server-computed metric actuals."""
    document = plan.model_dump(mode="json", by_alias=True, include=set(CONTENT_SECTIONS))
    for section, names in _LATER_FIELDS.items():
        for item in document[section]:
            for name in names:
                if item.get(name) is None:
                    item.pop(name, None)
    metrics = document["success_metrics"]
    metrics.pop("activation_readiness_by_channel", None)
    for name in _ACTUALS:
        metrics[name].pop("actual", None)
    lift = metrics.get("activation_lift")
    if isinstance(lift, dict):
        lift.pop("actual", None)
        for name in _LATER_LIFT_FIELDS:
            if lift.get(name) is None:
                lift.pop(name, None)
    return document


def content_sha256(plan: Plan) -> str:
    text = json.dumps(content_document(plan), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_final(plan: Plan) -> bool:
    """True when a finalize recorded this plan's content; deliverables of any other plan are drafts."""
    return plan.final is not None and plan.final.content_sha256 == content_sha256(plan)


def changed_since_final(plan: Plan) -> bool:
    return plan.final is not None and plan.final.content_sha256 != content_sha256(plan)

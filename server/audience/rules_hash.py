"""The rules hash: what a sizing result was computed from, so a warehouse's answer can be checked.

sha256 over a canonical JSON document of everything the sizing query reads from the plan (the
attributes, profiles, activations and channels, which the sizing operation also compares before it
stores a run, plus the holdout settings: the plan-level share, the salt and the id column) and the
evaluation time in UTC. Defaults are left out of the document, so a field added to the model later
with a default does not change the hash of rules that do not set it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..errors import InputError
from ..model import Plan
from ..rules.holdout import plan_id_column, plan_salt

if TYPE_CHECKING:
    from pydantic import BaseModel


def evaluation_text(evaluated_at: datetime) -> str:
    """The evaluation time as the query selects it and the hash reads it: UTC, ISO 8601."""
    if evaluated_at.tzinfo is None:
        raise InputError("the evaluation time needs a time zone", field="now")
    return evaluated_at.astimezone(timezone.utc).isoformat()


def _dump(items: Sequence[BaseModel]) -> list:
    return [item.model_dump(mode="json", by_alias=True, exclude_defaults=True) for item in items]


def _holdout_settings(plan: Plan) -> dict:
    lift = plan.success_metrics.activation_lift
    # Who is held out depends on these three (the salt and id column as assignment uses them: null
    # and the plan id are one salt; a profile's own share is part of the profile); the target, KPI
    # and window change no count.
    return {
        "plan_share": lift.holdout_share if lift is not None else None,
        "salt": plan_salt(plan),
        "id_column": plan_id_column(plan),
    }


def rules_document(plan: Plan) -> dict:
    return {
        "attributes": _dump(plan.attributes),
        "profiles": _dump(plan.profiles),
        "activations": _dump(plan.activations),
        "channels": list(plan.channels),
        "holdout": _holdout_settings(plan),
    }


def rules_sha256(plan: Plan, evaluated_at: datetime) -> str:
    """The hex sha256 of the plan's sizing rules and the evaluation time (module docstring)."""
    document = {"rules": rules_document(plan), "evaluated_at": evaluation_text(evaluated_at)}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

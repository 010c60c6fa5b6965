"""The synced holdout attribute in flag contexts (docs/exports.md, Holdouts): records carry a
`pe_holdout` value, or none, and the flag exports must serve what export.common.treated decides."""

from __future__ import annotations

import random
from typing import Any

from personalization_engine.export.common import HOLDOUT_ATTRIBUTE, holdout_profiles, treated
from personalization_engine.model import Plan
from personalization_engine.rules.holdout import in_holdout, plan_salt, profile_shares

ABSENT = object()


def with_holdout(context: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """The context plus the record's pe_holdout, when it has one (a context leaves nulls out)."""
    value = record.get(HOLDOUT_ATTRIBUTE)
    return context if value is None else {**context, HOLDOUT_ATTRIBUTE: value}


def allows(plan: Plan, profile_id: str, record: dict[str, Any]) -> bool:
    """Python's decision: a member of a holdout profile gets it only when pe_holdout is synced (a
    string) and is not that profile; absent fails closed."""
    return profile_id not in holdout_profiles(plan) or treated(record.get(HOLDOUT_ATTRIBUTE), profile_id)


def synced(plan: Plan, profile_id: str | None, record_id: Any) -> str:
    """What the warehouse syncs: the winner when the record is held out of it (md5), else ""."""
    share = profile_shares(plan).get(profile_id) if profile_id else None
    held = (
        share is not None
        and profile_id is not None
        and in_holdout(plan_salt(plan), profile_id, record_id, share)
    )
    return profile_id if held and profile_id else ""


def random_holdout(rng: random.Random, profile_ids: list[str]) -> Any:
    """A hostile pe_holdout: absent, none held out, one of the profiles, unknown text, not a string."""
    choices: list[Any] = [ABSENT, "", "", *profile_ids, "ghost-profile", " ", 7, True]
    return rng.choice(choices)


def set_holdout(record: dict[str, Any], value: Any) -> dict[str, Any]:
    if value is not ABSENT:
        record[HOLDOUT_ATTRIBUTE] = value
    return record


def with_holdout_shares(bodies: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """Generated profiles, about half of them with a holdout share of their own."""
    return [
        dict(body, holdout_share=rng.choice([0.1, 0.5])) if rng.random() < 0.5 else body for body in bodies
    ]

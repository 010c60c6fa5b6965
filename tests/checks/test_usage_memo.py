"""build_index remembers each profile's attribute uses per profile object and position."""

from __future__ import annotations

from personalization_engine.checks.usage import build_index
from personalization_engine.model import Plan
from personalization_engine.model.rules import EqualityCondition

from .helpers import clean_plan


def fresh_index(plan: Plan):
    """The index of an equal plan made of new objects, so nothing remembered applies."""
    return build_index(Plan.model_validate(plan.model_dump(by_alias=True)))


def uses(index):
    return index.targeting, index.suppression


def test_a_revision_sharing_profiles_at_new_positions_gets_pointers_for_the_new_positions():
    plan = clean_plan()
    build_index(plan)  # remember both profiles at positions 0 and 1
    swapped = plan.model_copy(update={"profiles": list(reversed(plan.profiles))})
    index = build_index(swapped)
    assert uses(index) == uses(fresh_index(swapped))
    assert all(pointer.startswith("/profiles/0/") for _, pointer in index.targeting[0])


def test_a_replaced_profile_is_walked_again():
    plan = clean_plan()
    build_index(plan)
    first = plan.profiles[0]
    tier_is_pro = EqualityCondition.model_validate({"attr": "plan_tier", "op": "eq", "value": "pro"})
    replaced = first.model_copy(update={"eligibility": tier_is_pro})
    revision = plan.model_copy(update={"profiles": [replaced, *plan.profiles[1:]]})
    index = build_index(revision)
    assert index.targeting[0][0] == ("plan_tier", "/profiles/0/eligibility/attr")
    assert uses(index) == uses(fresh_index(revision))

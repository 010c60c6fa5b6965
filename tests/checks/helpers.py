"""Shared builders for the checks tests: the example plans in fixtures/ as Plan objects."""

from __future__ import annotations

import json
from pathlib import Path

from personalization_engine.model import Plan
from personalization_engine.model.stages import ConsentGrant

from .fixtures.make_plans import grants

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> Plan:
    return Plan.model_validate(json.loads((FIXTURES / name).read_text(encoding="utf-8")))


def clean_plan() -> Plan:
    return load_fixture("clean_plan.json")


def update_at(items: tuple, index: int, **update) -> tuple:
    """`items` with the one at `index` replaced by a copy carrying `update` (models are frozen)."""
    return tuple(item.model_copy(update=update) if i == index else item for i, item in enumerate(items))


def update_attribute(plan: Plan, name: str, **update) -> Plan:
    """The plan with attribute `name` replaced by a copy carrying `update`."""
    attributes = tuple(a.model_copy(update=update) if a.name == name else a for a in plan.attributes)
    return plan.model_copy(update={"attributes": attributes})


def grant(purpose: str, lawful_basis: str) -> ConsentGrant:
    """A grant as the fixtures hold it: with evidence that fits its basis and a confirming person."""
    return ConsentGrant.model_validate(grants((purpose, lawful_basis))[0])

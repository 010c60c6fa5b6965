"""Shared builders for the checks tests: the example plans in fixtures/ as Plan objects."""

from __future__ import annotations

import json
from pathlib import Path

from personalization_engine.model import Plan

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> Plan:
    return Plan.model_validate(json.loads((FIXTURES / name).read_text(encoding="utf-8")))


def clean_plan() -> Plan:
    return load_fixture("clean_plan.json")

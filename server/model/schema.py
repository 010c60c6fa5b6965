"""The plan's JSON Schema (2020-12), generated from the pydantic model.

docs/plan.schema.json is this output, checked in; a test fails when it is stale.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from .plan import Plan
from .rules import RULE_NODE_NAMES

SCHEMA_ID = "https://personalization-engine.dev/schemas/plan.schema.json"


@cache
def _schema_text() -> str:
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **Plan.model_json_schema(by_alias=True, mode="validation"),
    }
    # Rule nodes leave `additionalProperties: false` out of their schema to keep define_profiles
    # within the tool-list budget (model/rules.py); the plan file's schema is as strict as the model.
    for name, definition in schema.get("$defs", {}).items():
        if name in RULE_NODE_NAMES:
            definition["additionalProperties"] = False
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def plan_json_schema() -> dict[str, Any]:
    """A fresh copy of the schema, safe for callers to mutate."""
    return json.loads(_schema_text())


def plan_json_schema_text() -> str:
    return _schema_text()

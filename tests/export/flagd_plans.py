"""Small builders shared by the flagd export tests: the exported file, its schema check, tiny plans."""

from __future__ import annotations

import json
from typing import Any

from personalization_engine.export.flagd import export_flagd
from personalization_engine.model import Plan

from ..rules.helpers import NOW
from .conftest import EXAMPLE_AT
from .flagd_engines import flags_validator

BOOL = {"type": "boolean"}
FILE = "flags.flagd.json"


def exported(plan: Plan, *, draft: bool = False) -> str:
    return export_flagd(plan, exported_at=EXAMPLE_AT, draft=draft).files[FILE]


def valid(text: str) -> None:
    errors = [
        f"{list(e.absolute_path)}: {e.message[:200]}" for e in flags_validator().iter_errors(json.loads(text))
    ]
    assert not errors, errors[:5]


def tiny_plan(
    profiles: list[dict[str, Any]],
    attributes: list[dict[str, Any]],
    activations: list[dict[str, Any]] | None = None,
) -> Plan:
    return Plan.model_validate(
        {"plan_id": "plan-20261124T090000Z", "revision": 3, "created_at": NOW, "updated_at": NOW,
         "initiative": "flagd tests", "channels": ["web", "in-app"], "attributes": attributes,
         "profiles": profiles, "activations": activations or []}
    )  # fmt: skip

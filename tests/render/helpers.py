"""Shared builders for the render tests: the worked example, hostile plans, and a plan in a real repo."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from personalization_engine.core.engine import Engine
from personalization_engine.demo_content import ATTRIBUTES, DATA_SOURCES, PROFILES, SCENARIOS
from personalization_engine.model import Attribute, DataSource, Plan, Profile, Scenario
from personalization_engine.store.plans import parse_plan

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / ".claude" / "plans" / "plan-20261124T090000Z.json"
# The worked example's own rendered deliverables are the golden files: one copy, regenerated with
# the example by `python -m personalization_engine.docgen --example`.
GOLDEN = REPO / ".claude" / "plans" / "plan-20261124T090000Z"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(path: str | None, what: str) -> str:
    """The tool's path; outside CI a missing tool skips the test, in CI it fails it."""
    if path and Path(path).exists():
        return path
    message = f"{what} is not installed"
    if in_ci():
        pytest.fail(f"{message}; CI must install it (see .ci/run)")
    pytest.skip(f"{message}; install it to run this test")
    raise AssertionError("unreachable")


def chromium() -> str:
    return require_tool(shutil.which("chromium") or "/usr/bin/chromium", "Debian's chromium")


def example_plan() -> Plan:
    return parse_plan(EXAMPLE.read_bytes(), str(EXAMPLE), trusted=False)


def hostile(plan: Plan, text: str) -> Plan:
    """The plan with `text` in every free-text field a person or model can type (single-line fields
    get it on one line, since plan text refuses control characters there)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n")  # a pasted CRLF becomes newlines
    multi_line = "".join(c if c.isprintable() or c in "\n\t" else " " for c in lines)
    one_line = " ".join("".join(c if c.isprintable() else " " for c in text).split()) or "x"
    return _with_text(plan.model_dump(mode="json", by_alias=True), multi_line, one_line)


def _with_text(data: dict, text: str, line: str) -> Plan:
    data["initiative"] = line[:200]
    data["metrics"] = [line[:200]]
    data["constraints"] = [line[:200]]
    data["timeline"] = line[:200]
    data["pattern"]["rationale"] = text
    data["intake"]["goals"] = [{"id": "goal", "statement": line[:200], "kpi": line[:200]}]
    for attribute in data["attributes"]:
        attribute["description"] = text
        attribute["owner"] = line[:200]
    for source in data["data_sources"]:
        source["system"] = line[:200]
    for profile in data["profiles"]:
        profile["name"] = line[:200]
        profile["purpose"] = text
        profile["fallback"] = line[:200]
        profile["owner"] = line[:200]
    for scenario in data["scenarios"]:
        scenario["description"] = line[:200]
    for activation in data["activations"]:
        activation["destination"] = line[:200]
        activation["api_needs"] = [line[:200]]
        activation["fallback_state"] = line[:200]
    for owner in data["governance"]["owners"]:
        owner["owner"] = line[:200]
    for entry in data["change_log"]:
        entry["summary"] = text
    return Plan.model_validate(data)


def fill_plan(engine: Engine, plan_id: str, *, actor: str = "test") -> int:
    """Give the plan at revision 1 the demo's inventory, profiles and scenarios; returns the new revision."""

    def mutate(plan: Plan) -> Plan:
        return plan.model_copy(
            update={
                "data_sources": tuple(DataSource.model_validate(s) for s in DATA_SOURCES),
                "attributes": tuple(Attribute.model_validate(a) for a in ATTRIBUTES),
                "profiles": tuple(Profile.model_validate(p) for p in PROFILES),
                "scenarios": tuple(Scenario.model_validate(s) for s in SCENARIOS),
            }
        )

    return engine.apply(plan_id, "attributes", mutate, expected_revision=1, actor=actor).revision

"""docs/plan.schema.json is generated from the model, and both accept and reject the same documents."""

from __future__ import annotations

import contextlib
import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personalization_engine.core.engine import Engine
from personalization_engine.model import Attribute, Profile
from personalization_engine.model.issues import model_issues, schema_issues
from personalization_engine.model.schema import plan_json_schema_text

ROOT = Path(__file__).resolve().parents[1]


def test_the_checked_in_schema_is_the_generated_one():
    checked_in = (ROOT / "docs" / "plan.schema.json").read_text()
    assert checked_in == plan_json_schema_text(), (
        "docs/plan.schema.json is stale: regenerate it with python -m personalization_engine.docgen"
    )


@pytest.fixture
def sample_document(engine: Engine, plan_id) -> dict:
    def fill(plan):
        attributes = (
            Attribute(name="plan_tier", type="string", allowed_values=("free", "pro")),
            Attribute(name="signup_at", type="timestamp", freshness_sla="1d", refresh_cadence="hourly"),
        )
        profile = Profile.model_validate(
            {
                "id": "new-free",
                "name": "New free users",
                "eligibility": {
                    "all": [
                        {"op": "eq", "attr": "plan_tier", "value": "free"},
                        {"not": {"op": "not_within_last", "attr": "signup_at", "value": "14d"}},
                    ]
                },
                "suppression": {"any": [{"op": "is_null", "attr": "plan_tier"}]},
            }
        )
        return plan.model_copy(
            update={"attributes": (*plan.attributes, *attributes), "profiles": (*plan.profiles, profile)}
        )

    engine.apply(plan_id, "profiles", fill, expected_revision=1, actor="t")
    return json.loads((engine.store.plan_path(plan_id)).read_text())


# Mutations that make a document invalid, or keep it valid, in ways both validators must agree on.
MUTATIONS = {
    "drop_required": lambda d: d.pop("initiative"),
    "unknown_field": lambda d: d.__setitem__("surprise", 1),
    "string_for_int": lambda d: d.__setitem__("revision", "3"),
    "bool_for_int": lambda d: d.__setitem__("revision", True),
    "float_for_int": lambda d: d.__setitem__("revision", 2.5),
    "zero_revision": lambda d: d.__setitem__("revision", 0),
    "bad_channel": lambda d: d.__setitem__("channels", ["fax"]),
    "duplicate_channel": lambda d: d.__setitem__("channels", ["web", "web"]),
    "no_channels": lambda d: d.__setitem__("channels", []),
    "bad_plan_id": lambda d: d.__setitem__("plan_id", "../plan"),
    "bad_date_time": lambda d: d.__setitem__("created_at", "yesterday"),
    "bad_attr_type": lambda d: d["attributes"][0].__setitem__("type", "text"),
    "bad_attr_name": lambda d: d["attributes"][0].__setitem__("name", "Plan Tier"),
    "bad_duration": lambda d: d["attributes"][1].__setitem__("freshness_sla", "1 day"),
    "unknown_op": lambda d: d["profiles"][0]["eligibility"]["all"][0].__setitem__("op", "like"),
    "between_one_value": lambda d: d["profiles"][0]["eligibility"]["all"].__setitem__(
        0, {"op": "between", "attr": "x", "value": [1]}
    ),
    "null_with_value": lambda d: d["profiles"][0]["suppression"]["any"][0].__setitem__("value", 1),
    "two_combinators": lambda d: d["profiles"][0]["eligibility"].__setitem__("any", []),
    "empty_all": lambda d: d["profiles"][0].__setitem__("eligibility", {"all": []}),
    "long_initiative": lambda d: d.__setitem__("initiative", "x" * 201),
    "retry_too_high": lambda d: d["error_handling"].__setitem__("retry_limit", 11),
    "valid_timeline": lambda d: d.__setitem__("timeline", "Q1 2027"),
    "valid_condition": lambda d: d["profiles"][0]["eligibility"]["all"].append(
        {"op": "in", "attr": "plan_tier", "value": ["free", "pro"]}
    ),
    "valid_float_for_number": lambda d: d["success_metrics"]["consent_integrity_pct"].__setitem__(
        "target", 99
    ),
    "valid_instant": lambda d: d["profiles"][0]["eligibility"]["all"].append(
        {"op": "after", "attr": "signup_at", "value": "2026-01-01T00:00:00Z"}
    ),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_model_and_schema_agree_on_each_mutation(sample_document, name):
    doc = copy.deepcopy(sample_document)
    MUTATIONS[name](doc)
    by_model, by_schema = bool(model_issues(doc)), bool(schema_issues(doc))
    assert by_model == by_schema, (name, model_issues(doc), schema_issues(doc))
    assert by_model == (not name.startswith("valid_")), name


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=4, unique=True),
)
def test_model_and_schema_agree_on_combined_mutations(sample_document, names):
    doc = copy.deepcopy(sample_document)
    for name in names:
        # An earlier mutation may have removed what this one edits.
        with contextlib.suppress(KeyError, IndexError, TypeError, AttributeError):
            MUTATIONS[name](doc)
    assert bool(model_issues(doc)) == bool(schema_issues(doc)), names

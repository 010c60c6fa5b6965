"""The flagd export refuses what a flag context cannot carry, and survives hostile plans.

Bad input is a hard error naming the pointer, the attribute and what is allowed (nothing exported).
Hostile plans export valid files that both flagd engines read (see test_flagd.py for the clock).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from personalization_engine.errors import InputError
from personalization_engine.export.flagd import export_flagd
from personalization_engine.export.flagd_logic import (
    FLAGD_END_US,
    FLAGD_FIRST_US,
    flagd_context,
    in_flagd_range,
)
from personalization_engine.model import Plan

from .conftest import EXAMPLE_AT
from .flagd_engines import variants_by_both
from .flagd_plans import BOOL, FILE, exported, tiny_plan, valid


# --- bad input ------------------------------------------------------------------------------------
def _one_profile(condition: dict[str, Any], attributes: list[dict[str, Any]]) -> Plan:
    return tiny_plan([{"id": "p", "name": "P", "priority": 1, "eligibility": condition}], attributes)


def test_a_profile_using_direct_personal_data_is_refused_naming_the_attribute_and_what_is_allowed():
    plan = _one_profile(
        {"op": "eq", "attr": "email", "value": "a@example.com"},
        [{"name": "email", "type": "string", "pii_class": "direct"}],
    )
    with pytest.raises(InputError) as caught:
        export_flagd(plan, exported_at=EXAMPLE_AT, draft=False)
    assert caught.value.field == "/profiles/0/eligibility/attr"
    assert "'email' is direct personal data" in str(caught.value)
    assert "pii_class none or pseudonymous only" in str(caught.value)


@pytest.mark.parametrize("pii_class", ["sensitive", "special_category"])
def test_sensitive_attributes_in_a_consent_gate_are_refused_too(pii_class):
    plan = tiny_plan(
        [{"id": "p", "name": "P", "priority": 1, "eligibility": {"op": "is_not_null", "attr": "a"}}],
        [{"name": "a", "type": "string"}, {"name": "health_ok", "type": "boolean", "pii_class": pii_class}],
        [{"profile_id": "p", "channel": "web", "export_target": "flagd", "consent_gate": ["health_ok"]}],
    )
    with pytest.raises(InputError) as caught:
        export_flagd(plan, exported_at=EXAMPLE_AT, draft=False)
    assert caught.value.field.startswith("/activations/0/consent_gate")
    assert f"'health_ok' is {pii_class} personal data" in str(caught.value)


def test_an_inherited_javascript_name_is_refused():
    plan = _one_profile(
        {"op": "eq", "attr": "constructor", "value": "x"}, [{"name": "constructor", "type": "string"}]
    )
    with pytest.raises(InputError, match="every JavaScript object inherits") as caught:
        export_flagd(plan, exported_at=EXAMPLE_AT, draft=False)
    assert caught.value.field == "/profiles/0/eligibility/attr"


@pytest.mark.parametrize(
    ("condition", "kind", "message"),
    [
        ({"op": "gt", "attr": "n", "value": 2**53 + 1}, "integer", "beyond 2**53"),
        (
            {"op": "before", "attr": "n", "value": "1697-12-31T23:59:59Z"},
            "timestamp",
            "1698-01-01 to 2241-12-31",
        ),
        ({"op": "after", "attr": "n", "value": "2242-01-01"}, "date", "1698-01-01 to 2241-12-31"),
    ],
)
def test_constants_flagd_cannot_compare_exactly_are_refused(condition, kind, message):
    plan = _one_profile(condition, [{"name": "n", "type": kind}])
    with pytest.raises(InputError, match=message.replace("*", r"\*")) as caught:
        export_flagd(plan, exported_at=EXAMPLE_AT, draft=False)
    assert caught.value.field == "/profiles/0/eligibility/value"


def test_a_context_value_flagd_cannot_hold_exactly_is_refused_naming_it(demo_plan):
    with pytest.raises(InputError, match="outside the instants flagd compares exactly") as caught:
        flagd_context(demo_plan, {"signup_at": "2250-01-01T00:00:00Z"}, index=4)
    assert caught.value.field == "records/4/signup_at"


# --- hostile plans --------------------------------------------------------------------------------
def test_an_empty_plan_and_a_plan_without_flagd_activations_export_valid_files():
    empty = exported(tiny_plan([], []))
    valid(empty)
    assert json.loads(empty)["flags"] == {} and json.loads(empty)["$evaluators"] == {}
    plan = tiny_plan(
        [{"id": "p", "name": "P", "priority": 1, "eligibility": {"op": "eq", "attr": "b", "value": True}}],
        [{"name": "b", **BOOL}],
        [{"profile_id": "p", "channel": "web", "export_target": "launchdarkly"}],
    )
    text = exported(plan)
    valid(text)
    assert json.loads(text)["flags"] == {} and list(json.loads(text)["$evaluators"]) == ["member-p"]


def test_odd_strings_go_inline_and_both_engines_still_read_them():
    """Backslashes, quotes, non-ASCII and `$&` would be altered by flagd's textual `$ref` substitution,
    so such a membership is written inline; reserved words as names are plain context keys."""
    odd = ["back\\slash", 'quo"te', "ü", "$&x", "$$", "it's"]
    profiles = [
        {
            "id": "odd",
            "name": "Odd",
            "priority": 1,
            "eligibility": {"op": "in", "attr": "select", "value": odd},
        },
        {
            "id": "plain",
            "name": "Plain",
            "priority": 2,
            "eligibility": {"op": "eq", "attr": "order", "value": 1e308},
        },
    ]
    attributes = [{"name": "select", "type": "string"}, {"name": "order", "type": "number"}]
    activations = [{"profile_id": p["id"], "channel": "in-app", "export_target": "flagd"} for p in profiles]
    plan = tiny_plan(profiles, attributes, activations)
    text = exported(plan)
    valid(text)
    assert list(json.loads(text)["$evaluators"]) == ["member-plain"]
    records = [{"select": s} for s in odd] + [
        {"select": "x", "order": 1e308},
        {"select": "back\\\\slash"},
        {},
    ]
    contexts = [flagd_context(plan, r) for r in records]
    got = variants_by_both(text, contexts, "profile-in-app", int(EXAMPLE_AT.timestamp()))
    assert got == ["odd"] * len(odd) + ["plain", "none", "none"]


HALF_LIFE_SCORE = {
    "conditions": [{"when": {"op": "eq", "attr": "b", "value": True}, "weight": 1}],
    "threshold": 1,
    "decay": {"kind": "half_life", "attr": "t", "window": "7d"},
}


def test_a_half_life_decay_that_does_not_decide_membership_is_carried():
    scoring = HALF_LIFE_SCORE
    profiles = [
        {"id": "by-rule", "name": "R", "priority": 1, "eligibility": {"op": "eq", "attr": "b", "value": True},
         "scoring": scoring},
        {"id": "by-score", "name": "S", "priority": 2, "eligible_by": "score", "scoring": scoring},
    ]  # fmt: skip
    plan = tiny_plan(profiles, [{"name": "b", **BOOL}, {"name": "t", "type": "timestamp"}])
    bundle = export_flagd(plan, exported_at=EXAMPLE_AT, draft=False)
    assert bundle.profiles == ("by-rule",)
    assert [(r.profile_id, r.pointer) for r in bundle.refusals] == [("by-score", "/profiles/1/scoring/decay")]


def test_a_refused_profile_is_left_out_so_its_members_reach_the_next_profile():
    """Documented: flagd does not recognise a refused profile's members, so they are walked past."""
    scoring = HALF_LIFE_SCORE
    profiles = [
        {"id": "top", "name": "T", "priority": 1, "eligible_by": "score", "scoring": scoring},
        {"id": "next", "name": "N", "priority": 2, "eligibility": {"op": "eq", "attr": "b", "value": True}},
    ]
    activations = [{"profile_id": p["id"], "channel": "web", "export_target": "flagd"} for p in profiles]
    plan = tiny_plan(profiles, [{"name": "b", **BOOL}, {"name": "t", "type": "timestamp"}], activations)
    text = exported(plan)
    assert json.loads(text)["flags"]["profile-web"]["variants"] == {"next": "next", "none": "none"}
    context = flagd_context(plan, {"b": True, "t": "2026-11-24T08:00:00Z"})
    assert variants_by_both(text, [context], "profile-web", int(EXAMPLE_AT.timestamp())) == ["next"]


def test_a_profile_named_none_is_refused_rather_than_confused_with_the_none_variant():
    profiles = [
        {"id": "none", "name": "N", "priority": 1, "eligibility": {"op": "eq", "attr": "b", "value": True}}
    ]
    plan = tiny_plan(
        profiles,
        [{"name": "b", **BOOL}],
        [{"profile_id": "none", "channel": "web", "export_target": "flagd"}],
    )
    bundle = export_flagd(plan, exported_at=EXAMPLE_AT, draft=False)
    assert bundle.profiles == () and bundle.carriers == {}
    assert [(r.profile_id, r.pointer) for r in bundle.refusals] == [("none", "/profiles/0/id")]
    valid(bundle.files[FILE])


def test_the_exact_range_is_where_epoch_seconds_keep_every_microsecond_apart():
    """Contexts carry epoch seconds; a microsecond apart must stay apart (and in order) as doubles.
    That holds up to 2**33 seconds, so the range ends in 2241; the JSON Logic target's 2254 would not."""
    for micros in (
        FLAGD_FIRST_US,
        FLAGD_FIRST_US + 1,
        FLAGD_END_US - 2,
        -(2**33) * 10**6 + 1,
        2**33 * 10**6 - 2,
    ):
        assert micros / 10**6 < (micros + 1) / 10**6, micros
    beyond = 2**33 * 10**6 + 1  # 2242-03-16
    assert any(m / 10**6 == (m + 1) / 10**6 for m in range(beyond, beyond + 10))
    assert in_flagd_range(FLAGD_END_US - 1) and not in_flagd_range(FLAGD_END_US)
    assert FLAGD_END_US < 2**33 * 10**6 and FLAGD_FIRST_US > -(2**33) * 10**6

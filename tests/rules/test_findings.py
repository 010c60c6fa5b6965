"""rule_findings: type checks against the inventory, static analysis, overlaps and scenarios."""

from __future__ import annotations

import json
from datetime import timedelta

from personalization_engine.rules import RULE_FINDING_CODES, overlap_findings, rule_findings

from .helpers import ENGAGED, NEW_FREE, NOW, make_plan


def findings_of(profiles, **kwargs):
    return [
        (f.code, f.severity, f.pointer, f.message) for f in rule_findings(make_plan(profiles, **kwargs), NOW)
    ]


def codes(profiles, **kwargs):
    return sorted((code, pointer) for code, _, pointer, _ in findings_of(profiles, **kwargs))


def one(profiles, code, **kwargs):
    matches = [f for f in findings_of(profiles, **kwargs) if f[0] == code]
    assert len(matches) == 1, findings_of(profiles, **kwargs)
    return matches[0]


def test_a_clean_plan_has_no_rule_findings():
    assert findings_of([NEW_FREE, ENGAGED]) == []


def test_an_unknown_attribute_is_a_warning_that_suggests_the_close_name():
    _, severity, pointer, message = one(
        [{"id": "p", "name": "P", "eligibility": {"op": "eq", "attr": "plan_teir", "value": "free"}}],
        "rules.unknown_attribute",
    )
    assert (severity, pointer) == ("warning", "/profiles/0/eligibility/attr")
    assert "'plan_teir' is not in the attribute inventory (did you mean 'plan_tier'?)" in message


def test_gte_on_a_string_is_a_type_mismatch_naming_the_condition():
    _, severity, pointer, message = one(
        [{"id": "p", "name": "P", "eligibility": {"all": [{"op": "gte", "attr": "country", "value": "m"}]}}],
        "rules.type_mismatch",
    )
    assert (severity, pointer) == ("error", "/profiles/0/eligibility/all/0/op")
    assert message.startswith("country >= 'm': gte on the string attribute 'country' has no meaningful order")


def test_a_value_of_the_wrong_type_is_a_type_mismatch_at_the_value():
    _, _, pointer, message = one(
        [{"id": "p", "name": "P", "eligibility": {"op": "in", "attr": "sessions", "value": [1, "two"]}}],
        "rules.type_mismatch",
    )
    assert pointer == "/profiles/0/eligibility/value/1"
    assert "'two' is not a integer" in message


def test_a_time_predicate_on_a_non_timestamp_is_an_error():
    _, severity, pointer, message = one(
        [{"id": "p", "name": "P", "eligibility": {"op": "within_last", "attr": "sessions", "value": "14d"}}],
        "rules.time_predicate_on_non_timestamp",
    )
    assert (severity, pointer) == ("error", "/profiles/0/eligibility/op")
    assert "within_last is a time predicate but 'sessions' is a integer" in message


def test_decay_on_a_non_timestamp_and_score_mode_without_scoring_are_errors():
    decayed = {
        **ENGAGED,
        "scoring": {**ENGAGED["scoring"], "decay": {"kind": "lookback", "attr": "spend", "window": "7d"}},
    }
    assert ("rules.time_predicate_on_non_timestamp", "/profiles/0/scoring/decay/attr") in codes([decayed])
    assert codes([{"id": "p", "name": "P", "eligible_by": "score"}]) == [
        ("rules.score_mode_without_scoring", "/profiles/0/eligible_by")
    ]


def test_a_value_outside_allowed_values_is_flagged():
    _, _, pointer, message = one(
        [{"id": "p", "name": "P", "eligibility": {"op": "eq", "attr": "plan_tier", "value": "gold"}}],
        "rules.value_not_allowed",
    )
    assert pointer == "/profiles/0/eligibility/value"
    assert "'gold' is not one of the values 'plan_tier' takes ('free', 'pro', 'team')" in message


def test_a_contradictory_rule_never_matches():
    _, _, pointer, message = one(
        [
            {
                "id": "p",
                "name": "P",
                "eligibility": {
                    "all": [
                        {"op": "gt", "attr": "sessions", "value": 3},
                        {"op": "lt", "attr": "sessions", "value": 4},
                    ]
                },
            }
        ],
        "rules.never_matches",
    )
    assert pointer == "/profiles/0/eligibility"
    assert "(sessions > 3 AND sessions < 4) contradicts itself" in message


def test_an_enumerated_attribute_cannot_match_a_value_outside_its_list():
    assert ("rules.never_matches", "/profiles/0/eligibility") in codes(
        [
            {
                "id": "p",
                "name": "P",
                "eligibility": {
                    "all": [
                        {"op": "ne", "attr": "plan_tier", "value": "free"},
                        {"op": "not_in", "attr": "plan_tier", "value": ["pro", "team"]},
                    ]
                },
            }
        ]
    )


def test_a_tautology_always_matches():
    _, severity, _, message = one(
        [
            {
                "id": "p",
                "name": "P",
                "eligibility": {
                    "any": [
                        {"op": "eq", "attr": "email_bounced", "value": True},
                        {"op": "ne", "attr": "email_bounced", "value": True},
                    ]
                },
            }
        ],
        "rules.always_matches",
    )
    assert severity == "warning"
    assert "is true for every record with values" in message


def test_a_window_and_its_complement_cannot_both_hold():
    rule = {
        "all": [
            {"op": "within_last", "attr": "signup_at", "value": "14d"},
            {"op": "not_within_last", "attr": "signup_at", "value": "14d"},
        ]
    }
    assert ("rules.never_matches", "/profiles/0/eligibility") in codes(
        [{"id": "p", "name": "P", "eligibility": rule}]
    )


def test_suppression_that_removes_everyone_eligibility_admits_is_flagged():
    profile = {
        "id": "p",
        "name": "P",
        "eligibility": {"op": "gte", "attr": "sessions", "value": 5},
        "suppression": {"op": "gt", "attr": "sessions", "value": 2},
    }
    _, _, pointer, message = one([profile], "rules.suppression_removes_all")
    assert pointer == "/profiles/0/suppression"
    assert "(sessions > 2) removes every record its eligibility admits (sessions >= 5)" in message


def test_equal_priority_profiles_that_overlap_get_a_concrete_example_record():
    a = {
        "id": "a",
        "name": "A",
        "priority": 5,
        "eligibility": {"op": "eq", "attr": "plan_tier", "value": "free"},
    }
    b = {"id": "b", "name": "B", "priority": 5, "eligibility": {"op": "gte", "attr": "sessions", "value": 3}}
    _, _, pointer, message = one([a, b], "rules.overlap")
    assert pointer == "/profiles/1/priority"
    example = json.loads(message.split("e.g. ")[1].split("; give")[0])
    assert example == {"plan_tier": "free", "sessions": 3}
    assert "profiles 'a' and 'b' both have priority 5" in message


def test_exclusive_or_differently_ranked_profiles_do_not_overlap():
    a = {
        "id": "a",
        "name": "A",
        "priority": 5,
        "eligibility": {"op": "eq", "attr": "plan_tier", "value": "free"},
    }
    b = {
        "id": "b",
        "name": "B",
        "priority": 5,
        "eligibility": {"op": "eq", "attr": "plan_tier", "value": "pro"},
    }
    c = {
        "id": "c",
        "name": "C",
        "priority": 6,
        "eligibility": {"op": "eq", "attr": "plan_tier", "value": "free"},
    }
    assert codes([a, b, c]) == []


def test_an_overlap_hidden_by_suppression_is_not_reported():
    a = {
        "id": "a",
        "name": "A",
        "priority": 5,
        "eligibility": {"op": "eq", "attr": "plan_tier", "value": "free"},
    }
    b = {
        "id": "b",
        "name": "B",
        "priority": 5,
        "eligibility": {"op": "gte", "attr": "sessions", "value": 3},
        "suppression": {"op": "eq", "attr": "plan_tier", "value": "free"},
    }
    assert codes([a, b]) == []


def test_overlap_analysis_stops_at_its_budget_and_says_so():
    profiles = [
        {
            "id": f"p{i}",
            "name": "P",
            "priority": 1,
            "eligibility": {"op": "gte", "attr": "sessions", "value": i},
        }
        for i in range(6)
    ]
    plan = make_plan(profiles)
    assert len([f for f in overlap_findings(plan, NOW) if f.code == "rules.overlap"]) == 15
    truncated = overlap_findings(plan, NOW, budget=3)
    assert [f.code for f in truncated].count("rules.overlap") == 3
    assert truncated[-1].code == "rules.overlap_check_truncated"
    assert truncated[-1].message.startswith("12 pair(s) of equal-priority profiles were not compared")


def test_a_scenario_that_no_longer_holds_is_an_error_finding():
    scenario = {"id": "s", "record": {"plan_tier": "team"}, "expected_profile": "new-free"}
    _, severity, pointer, message = one([NEW_FREE, ENGAGED], "rules.scenario_failed", scenarios=[scenario])
    assert (severity, pointer) == ("error", "/scenarios/0/expected_profile")
    assert "scenario 's' expects 'new-free' but the record now lands in no profile" in message


def test_every_finding_code_is_listed_with_a_description():
    for code, description in RULE_FINDING_CODES.items():
        assert code.startswith("rules.") and description.endswith(".")


def test_every_finding_code_is_documented_in_the_rules_guide():
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text()
    missing = [code for code in RULE_FINDING_CODES if f"`{code}`" not in guide]
    assert not missing, f"docs/rules.md does not describe {missing}"


def test_findings_remembered_per_profile_follow_the_evaluation_time_and_the_inventory():
    # A window ending before a fixed instant: satisfiable until the window moves past the instant.
    rule = {
        "all": [
            {"op": "within_last", "attr": "signup_at", "value": "7d"},
            {"op": "before", "attr": "signup_at", "value": "2026-11-20"},
        ]
    }
    plan = make_plan([{"id": "p", "name": "P", "eligibility": rule}, NEW_FREE])
    never = ("rules.never_matches", "/profiles/0/eligibility")
    later = NOW + timedelta(days=30)
    assert never not in [(f.code, f.pointer) for f in rule_findings(plan, NOW)]
    assert never in [(f.code, f.pointer) for f in rule_findings(plan, later)]
    assert never not in [(f.code, f.pointer) for f in rule_findings(plan, NOW)]

    # The same profile objects, with plan_tier no longer allowing 'free': new-free can never match.
    tier = plan.attributes[0].model_copy(update={"allowed_values": ["pro", "team"]})
    narrowed = plan.model_copy(update={"attributes": [tier, *plan.attributes[1:]]})
    assert narrowed.profiles[1] is plan.profiles[1]
    assert ("rules.never_matches", "/profiles/1/eligibility") in [
        (f.code, f.pointer) for f in rule_findings(narrowed, NOW)
    ]

"""parse_rule and the tree limits: canonical trees and SQL in, malformed input refused with its pointer."""

from __future__ import annotations

import pytest

from personalization_engine.errors import InputError
from personalization_engine.model import Profile
from personalization_engine.rules import check_rule_limits, parse_rule

from ..conftest import git
from .helpers import make_plan


def dump(node) -> dict:
    return node.model_dump(mode="json", by_alias=True)


def test_a_canonical_tree_round_trips_unchanged():
    tree = {
        "all": [
            {"op": "eq", "attr": "plan_tier", "value": "free"},
            {
                "any": [
                    {"op": "in", "attr": "country", "value": ["us", "de"]},
                    {"not": {"op": "is_null", "attr": "spend"}},
                ]
            },
            {"op": "between", "attr": "sessions", "value": [1, 5]},
            {"op": "within_last", "attr": "signup_at", "value": "14d"},
            {"op": "before", "attr": "signup_at", "value": "2026-11-01"},
        ]
    }
    assert dump(parse_rule(tree, pointer="/profiles/0/eligibility")) == tree


def test_the_issue_sql_example_becomes_the_canonical_tree():
    node = parse_rule(
        "plan_tier = 'free' AND signup_at >= now() - interval 14 day AND NOT email_bounced",
        pointer="/profiles/0/eligibility",
    )
    assert dump(node) == {
        "all": [
            {"op": "eq", "attr": "plan_tier", "value": "free"},
            {"op": "within_last", "attr": "signup_at", "value": "14d"},
            {"not": {"op": "eq", "attr": "email_bounced", "value": True}},
        ]
    }


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "signup_at < now() - interval '2 weeks'",
            {"op": "not_within_last", "attr": "signup_at", "value": "2w"},
        ),
        ("now() - interval 90 minute <= seen_at", {"op": "within_last", "attr": "seen_at", "value": "90m"}),
        (
            "seen_at > TIMESTAMP '2026-11-01 09:00:00'",
            {"op": "after", "attr": "seen_at", "value": "2026-11-01T09:00:00"},
        ),
        ("seen_at < DATE '2026-11-01'", {"op": "before", "attr": "seen_at", "value": "2026-11-01"}),
        ("seen_at >= DATE '2026-11-01'", {"not": {"op": "before", "attr": "seen_at", "value": "2026-11-01"}}),
        ("country NOT IN ('us', 'de')", {"op": "not_in", "attr": "country", "value": ["us", "de"]}),
        ("spend IS NOT NULL", {"op": "is_not_null", "attr": "spend"}),
        ("name LIKE '%acme%'", {"op": "contains", "attr": "name", "value": "acme"}),
        ("sessions BETWEEN -1 AND 5.5", {"op": "between", "attr": "sessions", "value": [-1, 5.5]}),
        ("3 < sessions", {"op": "gt", "attr": "sessions", "value": 3}),
        (
            "a <> 'x' OR (b = 1 OR c = TRUE)",
            {
                "any": [
                    {"op": "ne", "attr": "a", "value": "x"},
                    {"op": "eq", "attr": "b", "value": 1},
                    {"op": "eq", "attr": "c", "value": True},
                ]
            },
        ),
    ],
)
def test_sql_forms_map_to_canonical_conditions(sql, expected):
    assert dump(parse_rule(sql, pointer="/r")) == expected


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("plan_tier = ", "does not parse"),
        (
            "lower(plan_tier) = 'free'",
            "'LOWER(plan_tier)' in SQL rule is not supported: functions are outside",
        ),
        ("plan_tier IN (SELECT tier FROM t)", "subqueries are outside the rule subset"),
        ("plan_tier = (SELECT 1)", "subqueries are outside the rule subset"),
        ("signup_at > now() - interval 14 day", "use >= (within_last, boundary included) or <"),
        ("signup_at >= now() - interval 3 month", "MINUTE, HOUR, DAY or WEEK"),
        ("plan_tier = NULL", "use IS NULL or IS NOT NULL"),
        ("sessions = spend", "one side of a comparison must be a column and the other a literal"),
        ("t.plan_tier = 'free'", "qualified column names are not supported"),
        ("name LIKE 'a%'", "LIKE is only supported as LIKE '%text%'"),
        ("plan_tier = 'free'; DROP TABLE x", "must be one boolean expression"),
        ("(" * 400 + "plan_tier = 'free'" + ")" * 400, "nests parentheses or NOTs too deeply"),
        ("NOT " * 400 + "email_bounced", "nests parentheses or NOTs too deeply"),
    ],
)
def test_sql_outside_the_subset_is_refused_naming_the_fragment(sql, message):
    with pytest.raises(InputError, match=r"^/profiles/2/eligibility: ") as caught:
        parse_rule(sql, pointer="/profiles/2/eligibility")
    assert message in str(caught.value)


def test_sql_naming_a_column_outside_the_inventory_is_refused_when_the_inventory_is_given():
    with pytest.raises(
        InputError, match="unknown column 'plan_teir'; the attribute inventory has: plan_tier"
    ):
        parse_rule("plan_teir = 'free'", pointer="/p", attributes=["plan_tier"])


@pytest.mark.parametrize(
    ("tree", "pointer", "message"),
    [
        ({"op": "equals", "attr": "a", "value": 1}, "/r/op", "unknown operator 'equals'; allowed: eq, ne"),
        ({"all": [{"op": "eq", "attr": "a", "value": 1}], "any": []}, "/r", "exactly one key"),
        ({"all": []}, "/r/all", "'all' takes a non-empty list of rule nodes"),
        ({"not": [{"op": "is_null", "attr": "a"}]}, "/r/not", "a rule node must be an object"),
        ({"attr": "a", "value": 1}, "/r", "neither a condition (it has no 'op') nor a combinator"),
        ({"op": "within_last", "attr": "a", "value": "14 days"}, "/r/value", "'14 days' is not a duration"),
        ({"op": "not_within_last", "attr": "a", "value": "0d"}, "/r/value", "is not a duration"),
        ({"op": "in", "attr": "a", "value": "free"}, "/r/value", "'in' takes a list of 1 to 1000"),
        ({"op": "gt", "attr": "a", "value": True}, "/r/value", "'gt' compares with one number"),
        ({"op": "eq", "attr": "a", "value": None}, "/r/value", "test for null with is_null"),
        ({"op": "between", "attr": "a", "value": [1]}, "/r/value", "'between' takes [low, high]"),
        ({"op": "before", "attr": "a", "value": "last tuesday"}, "/r/value", "ISO 8601 date or date-time"),
        ({"op": "is_null", "attr": "a", "value": 1}, "/r/value", "'value' is not a field of a 'is_null'"),
        ({"op": "eq", "attr": "Plan Tier", "value": 1}, "/r/attr", "'attr' must be an attribute name"),
        (
            {"any": [{"op": "eq", "attr": "a", "value": 1}, {"op": "in", "attr": "b", "value": [1, [2]]}]},
            "/r/any/1/value/1",
            "list items are strings",
        ),
    ],
)
def test_malformed_trees_are_refused_naming_the_pointer(tree, pointer, message):
    with pytest.raises(InputError) as caught:
        parse_rule(tree, pointer="/r")
    assert caught.value.field == pointer
    assert message in str(caught.value)


def nested(depth: int) -> dict:
    node: dict = {"op": "is_null", "attr": "a"}
    for _ in range(depth - 1):
        node = {"not": node}
    return node


def test_a_tree_deeper_than_32_levels_is_refused_and_32_is_accepted():
    parse_rule(nested(32), pointer="/r")
    with pytest.raises(InputError, match="nested more than 32 levels deep here; at most 32"):
        parse_rule(nested(33), pointer="/r")
    with pytest.raises(InputError, match="nested more than 32 levels deep") as caught:
        parse_rule(nested(5000), pointer="/r")
    assert caught.value.field == "/r" + "/not" * 32


def test_more_than_1000_conditions_are_refused_naming_the_first_one_past_the_limit():
    many = {"any": [{"op": "eq", "attr": "a", "value": i} for i in range(1001)]}
    with pytest.raises(InputError, match="has 1001 conditions") as caught:
        parse_rule(many, pointer="/r")
    assert caught.value.field == "/r/any/1000"
    parse_rule({"any": [{"op": "eq", "attr": "a", "value": i} for i in range(1000)]}, pointer="/r")


def test_check_rule_limits_refuses_a_plan_whose_stored_tree_is_too_deep():
    plan = make_plan([{"id": "p", "name": "P", "eligibility": nested(33)}])
    with pytest.raises(
        InputError, match=r"^/profiles/0/eligibility(/not){32}: rule tree is nested more than 32"
    ):
        check_rule_limits(plan)
    check_rule_limits(make_plan([{"id": "p", "name": "P", "eligibility": nested(32)}]))


@pytest.mark.parametrize(
    "bad",
    [
        {"op": "matches", "attr": "plan_tier", "value": "free"},
        {"op": "within_last", "attr": "signup_at", "value": "fortnight"},
        "plan_tier = ",
        "upper(plan_tier) = 'FREE'",
        "plan_tier IN (SELECT 1)",
        {"op": "gte", "attr": "sessions", "value": [1, 2]},
        nested(40),
    ],
)
def test_a_write_that_parses_a_bad_rule_is_refused_and_writes_nothing(engine, plan_id, repo_dir, bad):
    before_head = git(repo_dir, "rev-parse", "HEAD")
    before_file = (repo_dir / f".claude/plans/{plan_id}.json").read_bytes()

    def add_profile(plan):
        rule = parse_rule(bad, pointer="/profiles/0/eligibility")
        plan = plan.model_copy(
            update={"profiles": (*plan.profiles, Profile(id="p", name="P", eligibility=rule))}
        )
        check_rule_limits(plan)
        return plan

    with pytest.raises(InputError, match=r"^/profiles/0/eligibility"):
        engine.apply(plan_id, "profiles", add_profile, expected_revision=1, actor="test")
    assert git(repo_dir, "rev-parse", "HEAD") == before_head
    assert (repo_dir / f".claude/plans/{plan_id}.json").read_bytes() == before_file
    assert engine.read_plan(plan_id).revision == 1

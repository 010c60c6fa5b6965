"""Hostile inputs to the GrowthBook export, each proven by the SDK or refused naming the condition:
null semantics per operator and polarity, regular-expression characters, string order across UTF-16
surrogates, numbers at the double limits, instants and windows near the exact range, time zones,
odd attribute names, untyped attributes and an empty plan."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from personalization_engine.errors import InputError
from personalization_engine.export.growthbook import export_growthbook
from personalization_engine.model.rules import EqualityCondition

from ..rules.helpers import make_plan
from .conftest import EXAMPLE_AT
from .growthbook_engine import Engine, offline
from .test_growthbook import agree

AT = EXAMPLE_AT
ATTRS: list[dict[str, Any]] = [
    {"name": "tier", "type": "string"},
    {"name": "sessions", "type": "integer"},
    {"name": "spend", "type": "number"},
    {"name": "opted", "type": "boolean"},
    {"name": "seen_at", "type": "timestamp"},
    {"name": "born_on", "type": "date"},
    {"name": "constructor", "type": "string"},
    {"name": "length", "type": "integer"},
    {"name": "loose"},
]


def both_polarities(condition: dict[str, Any]):
    """A profile holding the condition and one holding its negation, so that a missing value must
    satisfy neither."""
    return make_plan(
        [
            {"id": "yes", "name": "Yes", "priority": 1, "eligibility": condition},
            {"id": "no", "name": "No", "priority": 2, "eligibility": {"not": condition}},
        ],
        attributes=ATTRS,
    )


CONDITIONS = [
    ({"op": "eq", "attr": "tier", "value": "pro"}, ["pro", "free", "", "PRO"]),
    ({"op": "ne", "attr": "tier", "value": "pro"}, ["pro", "free"]),
    ({"op": "in", "attr": "opted", "value": [True]}, [True, False]),
    ({"op": "not_in", "attr": "sessions", "value": [0, 1]}, [0, 1, 2, -1]),
    ({"op": "lt", "attr": "spend", "value": 0.0}, [-0.0, 0.0, -5e-324, 5e-324, 1e308]),
    ({"op": "gte", "attr": "sessions", "value": 2**53 - 1}, [2**53 - 2, 2**53 - 1, 2**53, 2**63 - 1]),
    ({"op": "between", "attr": "spend", "value": [-1.5, 1e6]}, [-1.5, -1.6, 1e6, 1e6 + 0.5, 0.1]),
    ({"op": "contains", "attr": "tier", "value": "a.b*(c)[d]{e}|^$\\?+"}, ["xa.b*(c)[d]{e}|^$\\?+y", "ab"]),
    ({"op": "contains", "attr": "tier", "value": "😀ü"}, ["x😀üy", "😀", "ü", "\ue000"]),
    ({"op": "in", "attr": "tier", "value": ["😀", "\ue000"]}, ["😀", "\ue000", "\ud7ff"]),
    ({"op": "is_null", "attr": "tier"}, ["x"]),
    ({"op": "is_not_null", "attr": "constructor"}, ["x", ""]),
    ({"op": "eq", "attr": "length", "value": 0}, [0, 3]),
    ({"op": "within_last", "attr": "seen_at", "value": "14d"}, []),
    ({"op": "not_within_last", "attr": "born_on", "value": "1d"}, []),
    ({"op": "before", "attr": "seen_at", "value": "2026-11-24T08:59:59.999999Z"}, []),
    ({"op": "after", "attr": "born_on", "value": "2026-11-23"}, []),
]
TIMES = [
    "2026-11-10T09:00:00Z",
    "2026-11-10T08:59:59.999999Z",
    "2026-11-10T09:00:00.000001Z",
    "2026-11-24T08:59:59.999999Z",
    "2026-11-24T09:00:00Z",
    "2026-11-24T14:29:59.999999+05:30",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
]
DATES = ["2026-11-22", "2026-11-23", "2026-11-24", "0001-01-01", "9999-12-31"]


@pytest.mark.parametrize(("condition", "values"), CONDITIONS, ids=[json.dumps(c[0]) for c in CONDITIONS])
def test_each_operator_and_its_negation_agree_and_a_missing_value_satisfies_neither(condition, values):
    attr = condition["attr"]
    pool = {"seen_at": TIMES, "born_on": DATES}.get(attr, values)
    records: list[dict[str, Any]] = [{}, {attr: None}] + [{attr: v} for v in pool]
    bundle = agree(both_polarities(condition), records)
    assert bundle.profiles == ("yes", "no"), bundle.refusals


def test_string_order_never_reaches_the_sdk_whose_order_is_utf16():
    # The SDK orders "\U0001f600" below "\ue000" (UTF-16 code units), Python above (code points); the
    # type check refuses ordering text, so an export never depends on either.
    plan = both_polarities({"op": "lt", "attr": "tier", "value": "\ue000"})
    with pytest.raises(InputError, match="no meaningful order") as raised:
        export_growthbook(plan, exported_at=AT, draft=False)
    assert raised.value.field == "/profiles/0/eligibility/op"


@pytest.mark.parametrize(
    ("condition", "reason"),
    [
        ({"op": "eq", "attr": "sessions", "value": 2**53}, "2**53"),
        ({"op": "in", "attr": "sessions", "value": [1, -(2**63)]}, "2**53"),
        ({"op": "before", "attr": "seen_at", "value": "1699-12-31T23:59:59Z"}, "1700-2199"),
        ({"op": "after", "attr": "born_on", "value": "2200-01-01"}, "1700-2199"),
        ({"op": "eq", "attr": "loose", "value": "x"}, "no type"),
    ],
)
def test_what_growthbook_cannot_hold_exactly_is_refused_naming_the_condition(condition, reason):
    bundle = export_growthbook(both_polarities(condition), exported_at=AT, draft=False)
    assert [(r.profile_id, r.pointer) for r in bundle.refusals] == [
        ("yes", "/profiles/0/eligibility"),
        ("no", "/profiles/1/eligibility/not"),
    ]
    assert all(reason in r.reason for r in bundle.refusals)
    assert bundle.refusals[1].condition.startswith("NOT ")


def test_the_edges_of_the_exact_range_are_exported():
    plan = make_plan(
        [
            {"id": "early", "name": "E", "priority": 1,
             "eligibility": {"op": "after", "attr": "seen_at", "value": "1700-01-01T00:00:00.000001Z"}},
            {"id": "late", "name": "L", "priority": 2,
             "eligibility": {"op": "before", "attr": "seen_at", "value": "2199-12-31T23:59:59.999999Z"}},
        ],
        attributes=ATTRS,
    )  # fmt: skip
    edges = ["1700-01-01T00:00:00Z", "1700-01-01T00:00:00.000001Z", "1700-01-01T00:00:00.000002Z"]
    edges += ["2199-12-31T23:59:59.999998Z", "2199-12-31T23:59:59.999999Z", "2200-01-01T00:00:00Z"]
    bundle = agree(plan, [{"seen_at": t} for t in edges + TIMES])
    assert bundle.profiles == ("early", "late")


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 11, 24, 9, 0, 0, 1, tzinfo=timezone.utc),
        datetime(2026, 11, 24, 18, 45, 0, 999999, tzinfo=timezone(timedelta(hours=13, minutes=45))),
        datetime(1800, 3, 1, 0, 0, 0, 500, tzinfo=timezone(timedelta(hours=-8))),
    ],
)
def test_windows_freeze_to_the_microsecond_in_any_zone(at):
    plan = both_polarities({"op": "within_last", "attr": "seen_at", "value": "14d"})
    start = at - timedelta(days=14)
    records = [{"seen_at": (start + timedelta(microseconds=d)).isoformat()} for d in (-1000, -1, 0, 1, 1000)]
    bundle = agree(plan, records, at=at)
    assert [c.cutoff for c in bundle.cutoffs] == [start, start]
    assert bundle.cutoff_at == at


def test_a_window_reaching_before_1700_at_the_export_time_is_refused():
    plan = both_polarities({"op": "within_last", "attr": "seen_at", "value": "5217w"})
    assert agree(plan, [{"seen_at": t} for t in TIMES]).profiles == ("yes", "no")
    early = export_growthbook(plan, exported_at=datetime(1750, 1, 1, tzinfo=timezone.utc), draft=False)
    assert early.profiles == () and early.cutoffs == () and early.cutoff_at is None
    assert all("window starts outside 1700-2199" in r.reason for r in early.refusals)


def test_an_empty_plan_exports_a_payload_the_sdk_loads():
    bundle = export_growthbook(make_plan([], attributes=ATTRS), exported_at=AT, draft=False)
    payload = json.loads(bundle.files["payload.json"])
    assert (payload["features"], payload["savedGroups"], bundle.profiles) == ({}, {}, ())
    with offline():
        engine = Engine(payload)
        assert engine.evaluate({"tier": "x"}) == ({}, {})
        engine.close()


def test_an_attribute_name_growthbook_reads_as_a_path_is_a_hard_error():
    # The inventory's name pattern forbids '.', so only a plan built without validation can hold one.
    plan = both_polarities({"op": "eq", "attr": "tier", "value": "x"})
    dotted = EqualityCondition.model_construct(op="eq", attr="a.b", value="x")
    profile = plan.profiles[0].model_copy(update={"eligibility": dotted})
    with pytest.raises(InputError, match=r"'a\.b'.*nested path") as raised:
        export_growthbook(plan.model_copy(update={"profiles": (profile,)}), exported_at=AT, draft=False)
    assert raised.value.field == "/profiles/0/eligibility"

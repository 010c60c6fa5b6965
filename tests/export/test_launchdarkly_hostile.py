"""Hostile inputs to the LaunchDarkly export: odd strings, extreme numbers, instants near the exact
range, windows near their limits, is_null, empty plans, and what it must refuse (naming the condition)."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from personalization_engine.export import build_export
from personalization_engine.export.launchdarkly import MAX_SEGMENT_RULES
from personalization_engine.model import Plan
from personalization_engine.rules import simulate

from ..rules.helpers import make_plan
from .launchdarkly_sdk import same_in_yaml, sdk_verdicts

AT = datetime(2026, 11, 24, 9, 0, 0, 250001, tzinfo=timezone.utc)  # not a whole millisecond
ATTRIBUTES = [
    {"name": "s", "type": "string"},
    {"name": "i", "type": "integer"},
    {"name": "n", "type": "number"},
    {"name": "b", "type": "boolean"},
    {"name": "t", "type": "timestamp"},
    {"name": "d", "type": "date"},
    {"name": "ok", "type": "boolean"},
]
ODD = ["it's", 'quote"', "back\\slash", "line\u2028sep", "nel\x85", "tab\t", "del\x7f", "ü", "😀", ""]


def plan_of(bodies: list[dict[str, Any]], activations: list[dict[str, Any]] | None = None) -> Plan:
    data = make_plan(bodies, attributes=ATTRIBUTES).model_dump(mode="json", by_alias=True, exclude_none=True)
    data["channels"] = ["web", "in-app"]
    data["activations"] = activations or []
    return Plan.model_validate(data)


def profile(pid: str, eligibility: dict[str, Any] | None, priority: int = 1, **extra: Any) -> dict[str, Any]:
    body = {"id": pid, "name": pid, "priority": priority, **extra}
    if eligibility is not None:
        body["eligibility"] = eligibility
    return body


def export(plan: Plan, at: datetime = AT):
    return build_export(plan, "launchdarkly", exported_at=at, draft=False)


def assert_agrees(tmp_path, plan: Plan, records: list[dict[str, Any]], at: datetime = AT) -> Any:
    """The SDK's segment membership equals our evaluator's for every carried profile and record."""
    bundle = export(plan, at)
    assert same_in_yaml(bundle.files["flags.json"])
    ours = simulate(plan, records, at, explain=False).records
    theirs = sdk_verdicts(tmp_path, plan, bundle, records)
    for record, verdict, (members, _) in zip(records, ours, theirs, strict=True):
        assert members == {p for p in verdict.members if p in bundle.profiles}, record
    return bundle


def test_odd_strings_survive_json_and_yaml_and_match_exactly(tmp_path):
    bodies = [profile(f"s{k}", {"op": "eq", "attr": "s", "value": v}) for k, v in enumerate(ODD)]
    bodies += [profile("inset", {"op": "in", "attr": "s", "value": ODD[:5]})]
    bodies += [profile("sub", {"op": "contains", "attr": "s", "value": "\u2028"})]
    bodies += [profile("notin", {"not": {"op": "not_in", "attr": "s", "value": ODD[5:]}})]
    plan = plan_of(bodies)
    records = [{"s": v} for v in [*ODD, "other", None, "x\u2028y"]]
    bundle = assert_agrees(tmp_path, plan, records)
    assert len(bundle.profiles) == len(bodies)


def test_extreme_numbers_compare_exactly(tmp_path):
    values = [1e308, -1e308, 5e-324, -0.0, 0.1, 1 / 3]
    bodies = [profile(f"n{k}", {"op": op, "attr": "n", "value": v}) for k, v in enumerate(values)
              for op in ("eq", "lt", "gte")]  # fmt: skip
    bodies = [{**b, "id": f"{b['id']}-{k}"} for k, b in enumerate(bodies)]
    bodies.append(profile("between", {"not": {"op": "between", "attr": "n", "value": [-0.0, 5e-324]}}))
    bodies.append(profile("big", {"op": "lt", "attr": "i", "value": 2**53 - 1}))
    bodies.append(profile("neg", {"op": "gt", "attr": "i", "value": -(2**53) + 1}))
    plan = plan_of(bodies)
    numbers = [v2 for v in values for v2 in (v, math.nextafter(v, math.inf), math.nextafter(v, -math.inf))]
    integers = [2**53 - 2, 2**53 - 1, 2**53, 2**53 + 1, 2**63 - 1, -(2**63), -(2**53), -(2**53) + 1]
    records = [{"n": v} for v in numbers] + [{"i": v} for v in integers] + [{}]
    bundle = assert_agrees(tmp_path, plan, records)
    assert not bundle.refusals


def test_integers_past_two_to_the_53_are_refused_naming_the_condition():
    plan = plan_of([profile("p", {"all": [{"op": "eq", "attr": "s", "value": "x"},
                                          {"op": "gte", "attr": "i", "value": 2**53}]})])  # fmt: skip
    bundle = export(plan)
    assert bundle.profiles == ()
    [refusal] = bundle.refusals
    assert (refusal.profile_id, refusal.channel) == ("p", None)
    assert refusal.pointer == "/profiles/0/eligibility/all/1"
    assert refusal.condition == "i >= 9007199254740992"
    assert "beyond 2**53" in refusal.reason


def test_instants_near_the_exact_range_and_microsecond_edges(tmp_path):
    inside = "2248-09-25T00:00:00.000001Z"
    bodies = [
        profile("late", {"op": "before", "attr": "t", "value": inside}),
        profile("early", {"op": "after", "attr": "t", "value": "1691-05-01T00:00:00.999999Z"}),
        profile("day", {"not": {"op": "before", "attr": "d", "value": "2026-11-24"}}),
        profile("recent", {"op": "within_last", "attr": "t", "value": "90m"}),
        profile("stale", {"op": "not_within_last", "attr": "d", "value": "1d"}),
        profile("outside", {"op": "before", "attr": "t", "value": "1600-01-01T00:00:00Z"}),
    ]
    plan = plan_of(bodies)
    start = "2026-11-24T07:30:00.250001Z"  # AT minus 90 minutes
    instants = [
        inside, "2248-09-25T00:00:00Z", "2248-09-25T00:00:00.000002Z", "1691-05-01T00:00:00.999999Z",
        "1691-05-01T00:00:01Z", start, "2026-11-24T07:30:00.250000Z", "2026-11-24T07:30:00.250002Z",
        "0001-01-02T00:00:00Z", "9999-12-30T00:00:00Z", "2026-11-24T12:30:00.250001+05:00",
    ]  # fmt: skip
    days = ["2026-11-23", "2026-11-24", "2026-11-25", "0001-01-01", "9999-12-31"]
    records = [{"t": v} for v in instants] + [{"d": v} for v in days]
    bundle = assert_agrees(tmp_path, plan, records)
    assert [r.profile_id for r in bundle.refusals] == ["outside"]
    assert "outside 1691-04-08 to 2248-09-26" in bundle.refusals[0].reason
    assert {c.profile_id: c.cutoff.isoformat() for c in bundle.cutoffs} == {
        "recent": "2026-11-24T07:30:00.250001+00:00",
        "stale": "2026-11-23T09:00:00.250001+00:00",
    }


def test_windows_whose_cutoff_leaves_the_exact_range_are_refused_not_crashed():
    plan = plan_of([profile("w", {"op": "within_last", "attr": "t", "value": "5217w"})])
    for at in (datetime(9999, 12, 30, tzinfo=timezone.utc), datetime(60, 1, 1, tzinfo=timezone.utc)):
        bundle = export(plan, at)
        assert bundle.profiles == () and bundle.cutoffs == () and bundle.cutoff_at is None
        assert "outside 1691-04-08" in bundle.refusals[0].reason


def test_is_null_uses_a_presence_segment_and_is_not_null_a_clause_every_value_passes(tmp_path):
    bodies = [profile(f"{k}-{op}", {op_node: {"op": op, "attr": k}} if op_node else {"op": op, "attr": k})
              for k in ("s", "i", "n", "b", "t", "d")
              for op in ("is_null", "is_not_null")
              for op_node in (None, "not")]  # fmt: skip
    bodies = [{**b, "id": f"p{index}"} for index, b in enumerate(bodies)]
    plan = plan_of(bodies)
    records = [
        {},
        {"s": "", "i": 0, "n": -0.0, "b": False, "t": "1970-01-01T00:00:00Z", "d": "1970-01-01"},
        {"s": "x", "i": -(2**63), "n": -1e308, "b": True, "t": "0001-01-02T00:00:00Z", "d": "9999-12-31"},
    ]
    bundle = assert_agrees(tmp_path, plan, records)
    assert not bundle.refusals
    helpers = {"has-s", "has-i", "has-n", "has-b", "has-t", "has-d"}
    assert helpers <= set(bundle.files["flags.json"].split('"'))


def test_an_empty_plan_exports_empty_flags_the_sdk_loads(tmp_path):
    plan = plan_of([])
    bundle = export(plan)
    assert (bundle.profiles, bundle.refusals, bundle.carriers, bundle.cutoff_at) == ((), (), {}, None)
    assert sdk_verdicts(tmp_path, plan, bundle, [{"s": "x"}], "personalization-in-app") == [(set(), "absent")]


def test_what_clauses_cannot_carry_is_refused_with_the_reason():
    many = {"all": [{"any": [{"op": "eq", "attr": "s", "value": f"{k}-{j}"} for j in range(3)]}
                    for k in range(5)]}  # fmt: skip
    bodies = [
        profile("wide", many),
        profile("none", {"op": "eq", "attr": "s", "value": "x"}),
        profile("untyped", {"op": "eq", "attr": "mystery", "value": "x"}),
    ]
    bundle = export(plan_of(bodies))
    reasons = {r.profile_id: (r.pointer, r.reason) for r in bundle.refusals}
    assert reasons["wide"][0] == "/profiles/0" and f"more than {MAX_SEGMENT_RULES}" in reasons["wide"][1]
    assert reasons["none"][0] == "/profiles/1/id" and "variation 'none'" in reasons["none"][1]
    assert reasons["untyped"] == (
        "/profiles/2/eligibility",
        "'mystery' has no type in the attribute inventory, so its form in a LaunchDarkly context is "
        "undefined; give it a type",
    )
    assert bundle.profiles == ()


def test_the_flag_walks_every_profile_in_priority_order_without_falling_through(tmp_path):
    """A member of a higher-priority profile that is not activated here through LaunchDarkly gets
    "none", even when it also belongs to a lower one that is; an unmapped gate refuses its activation."""
    bodies = [
        profile("top", {"op": "eq", "attr": "s", "value": "top"}, priority=1),
        profile("mid", {"op": "in", "attr": "s", "value": ["top", "mid"]}, priority=2),
        profile("low", {"op": "is_not_null", "attr": "s"}, priority=3),
        profile("gated", {"op": "eq", "attr": "s", "value": "g"}, priority=0),
    ]
    activations = [
        {"profile_id": "top", "channel": "in-app", "export_target": "growthbook"},
        {"profile_id": "mid", "channel": "in-app", "export_target": "launchdarkly", "consent_gate": ["ok"]},
        {"profile_id": "low", "channel": "in-app", "export_target": "launchdarkly"},
        {"profile_id": "gated", "channel": "in-app", "export_target": "launchdarkly",
         "consent_gate": ["Consent Mode ad_storage"]},
    ]  # fmt: skip
    plan = plan_of(bodies, activations)
    bundle = export(plan)
    assert bundle.carriers == {"mid/in-app": "flags.json", "low/in-app": "flags.json"}
    assert [(r.profile_id, r.channel, r.pointer) for r in bundle.refusals] == [
        ("gated", "in-app", "/activations/3/consent_gate/0")
    ]
    records = [{"s": "top", "ok": True}, {"s": "mid", "ok": True}, {"s": "mid", "ok": False}, {"s": "mid"},
               {"s": "zzz"}, {"s": "g", "ok": True}, {}]  # fmt: skip
    got = [flag for _, flag in sdk_verdicts(tmp_path, plan, bundle, records, "personalization-in-app")]
    assert got == ["none", "mid", "none", "none", "low", "none", "none"]


def test_odd_attribute_names_travel_as_context_attributes(tmp_path):
    """`name` (a string: LaunchDarkly's built-in name), names a JavaScript object inherits, SQL keywords
    and names shaped like our own generated columns are all ordinary context attributes."""
    names = ["name", "constructor", "select", "winner", "to_string", "pe_now"]
    bodies = [profile(f"p{k}", {"op": "eq", "attr": name, "value": "x"}) for k, name in enumerate(names)]
    data = make_plan(bodies, attributes=[{"name": n, "type": "string"} for n in names])
    bundle = export(data)
    assert len(bundle.profiles) == len(names)
    records = [dict.fromkeys(names, "x"), dict.fromkeys(names, "y"), {}]
    got = sdk_verdicts(tmp_path, data, bundle, records)
    assert [members for members, _ in got] == [set(bundle.profiles), set(), set()]

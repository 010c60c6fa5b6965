"""The flagd export: the demo plan, flagd's schemas, its engines, consent, bad input and hostile plans.

The engines are the OpenFeature Python SDK with the flagd provider's in-process resolver reading the
exported file offline (.venv-flagd, tests/export/flagd_runner.py) and @openfeature/flagd-core under
Node (tests/export/js/evaluate.js). flagd sets `$flagd.timestamp` from the system clock in whole
seconds and a context cannot override it, so the runners control the clock: the Python runner
replaces the `time` module name inside openfeature.contrib.tools.flagd.core.targeting.targeting
with a fixed clock, the Node runner replaces Date.now. Outside CI a missing engine skips; in CI it fails.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from personalization_engine.errors import InputError
from personalization_engine.export import build_export
from personalization_engine.export.flagd import export_flagd
from personalization_engine.export.flagd_logic import flagd_context
from personalization_engine.model import Plan
from personalization_engine.rules import simulate

from ..rules.helpers import NOW
from .conftest import EXAMPLE_AT
from .flagd_engines import flags_validator, variants_by_both

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


# --- the demo plan -------------------------------------------------------------------------------
def test_the_demo_plan_exports_validates_and_lists_team_expansion_as_refused(demo_plan):
    bundle = build_export(demo_plan, "flagd", exported_at=EXAMPLE_AT, draft=False)
    assert sorted(bundle.files) == ["README.md", FILE]
    valid(bundle.files[FILE])
    document = json.loads(bundle.files[FILE])
    assert [(r.profile_id, r.channel, r.pointer, r.condition) for r in bundle.refusals] == [
        ("team-expansion", None, "/profiles/2/scoring/decay", "last_active_at half-life 7d")
    ]
    assert "pow" in bundle.refusals[0].reason
    assert bundle.profiles == ("new-trial-activation", "stalled-trial", "power-user-upgrade", "dormant-free")
    assert bundle.carriers == {"new-trial-activation/web": FILE, "power-user-upgrade/web": FILE}
    assert bundle.cutoffs == () and bundle.cutoff_at is None  # flagd has a clock: nothing is frozen
    assert sorted(document["$evaluators"]) == [f"member-{p}" for p in sorted(bundle.profiles)]
    assert list(document["flags"]) == ["profile-web"]
    web = document["flags"]["profile-web"]
    activated = ["new-trial-activation", "power-user-upgrade"]
    assert web["variants"] == {**{p: p for p in activated}, "none": "none"}
    assert web["defaultVariant"] == "none"
    refs = [part for part in web["targeting"]["if"] if isinstance(part, dict) and "$ref" in part]
    assert [r["$ref"] for r in refs] == [f"member-{p}" for p in bundle.profiles]  # priority order, all walked
    for text in bundle.files.values():
        assert "plan-20261124T090000Z" in text and "21" in text and "DRAFT" not in text


def test_the_file_uses_no_custom_operation_and_reads_time_from_flagd_timestamp(demo_plan):
    text = exported(demo_plan)
    assert "half_life_decay" not in text and "$now" not in text
    # written as the JSON escape of "$flagd.timestamp", so the evaluators hold no "$" (docs/exports.md)
    assert '"\\u0024flagd.timestamp"' in text and "$flagd" not in text
    evaluators = json.dumps(json.loads(text)["$evaluators"])
    assert "$flagd.timestamp" in evaluators  # the same string once parsed
    operations = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            operations.update(k for k in node if k != "$ref")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    document = json.loads(text)
    walk(list(document["$evaluators"].values()))
    walk([flag["targeting"] for flag in document["flags"].values()])
    assert operations <= {
        "and",
        "or",
        "!",
        "if",
        "var",
        "===",
        "!==",
        "<",
        "<=",
        ">",
        ">=",
        "in",
        "+",
        "-",
        "*",
    }


def test_re_exporting_gives_identical_bytes_and_a_draft_says_so(demo_plan):
    first = export_flagd(demo_plan, exported_at=EXAMPLE_AT, draft=False).files
    later = export_flagd(demo_plan, exported_at=EXAMPLE_AT + timedelta(days=30), draft=False).files
    assert first == later
    draft = export_flagd(demo_plan, exported_at=EXAMPLE_AT, draft=True).files
    assert json.loads(draft[FILE])["metadata"]["draft"] is True
    assert "DRAFT" in json.loads(draft[FILE])["metadata"]["notice"] and "**DRAFT**" in draft["README.md"]
    valid(draft[FILE])


def test_the_readme_tells_how_to_load_the_file_and_which_context_it_expects(demo_plan):
    readme = export_flagd(demo_plan, exported_at=EXAMPLE_AT, draft=False).files["README.md"]
    assert "flagd start --uri file:./flags.flagd.json" in readme
    assert "offline_flag_source_path" in readme
    assert "| `signup_at` | number: Unix epoch seconds" in readme
    assert "team-expansion" in readme and "not recognised" in readme


def test_both_flagd_engines_give_each_demo_scenario_the_variant_our_evaluator_gives(demo_plan):
    now = int(EXAMPLE_AT.timestamp())
    records = [dict(s.record, personalization_consent=True) for s in demo_plan.scenarios]
    contexts = [flagd_context(demo_plan, r) for r in records]
    got = variants_by_both(exported(demo_plan), contexts, "profile-web", now)
    activated = {"new-trial-activation", "power-user-upgrade"}
    carried = ["new-trial-activation", "stalled-trial", "power-user-upgrade", "dormant-free"]
    wanted = []
    for verdict in simulate(demo_plan, records, EXAMPLE_AT).records:
        first = next((p for p in carried if p in verdict.members), None)
        wanted.append(first if first in activated else "none")
    assert got == wanted
    assert "new-trial-activation" in got and "power-user-upgrade" in got


def test_the_runners_control_flagds_clock(demo_plan):
    """A trial that signed up 13 days before the example time is new 13 days in and not 2 days later:
    only the clock the runners set changes, and both engines follow it."""
    record = {"user_id": "u1", "plan_tier": "trial", "signup_at": "2026-11-11T09:00:00Z",
              "onboarding_steps_completed": 1, "teammates_invited": 0,
              "personalization_consent": True}  # fmt: skip
    context = flagd_context(demo_plan, record)
    text = exported(demo_plan)
    now = int(EXAMPLE_AT.timestamp())
    assert variants_by_both(text, [context], "profile-web", now) == ["new-trial-activation"]
    assert variants_by_both(text, [context], "profile-web", now + 2 * 86400) == ["none"]
    # the window edge, to the second: signup_at + 14d is still inside, one second later is not
    edge = int(context["signup_at"]) + 14 * 86400
    assert variants_by_both(text, [context, context], "profile-web", edge) == ["new-trial-activation"] * 2
    assert variants_by_both(text, [context], "profile-web", edge + 1) == ["none"]


# --- consent --------------------------------------------------------------------------------------
def test_the_consent_gate_travels_with_the_flag(demo_plan):
    """new-trial-activation is activated on web through flagd behind personalization_consent: a member
    with the consent true gets the profile; false or missing gets none (not a lower profile)."""
    web = json.loads(exported(demo_plan))["flags"]["profile-web"]["targeting"]["if"]
    gate = web[1]["if"][0]
    assert {"===": [{"var": "personalization_consent"}, True]} in gate["and"]
    member = {"user_id": "u1", "plan_tier": "trial", "signup_at": "2026-11-22T09:00:00Z",
              "onboarding_steps_completed": 1, "teammates_invited": 0}  # fmt: skip
    records = [
        dict(member, personalization_consent=True),
        dict(member, personalization_consent=False),
        member,
    ]
    contexts = [flagd_context(demo_plan, r) for r in records]
    got = variants_by_both(exported(demo_plan), contexts, "profile-web", int(EXAMPLE_AT.timestamp()))
    assert got == ["new-trial-activation", "none", "none"]


# --- bad input ------------------------------------------------------------------------------------
BOOL = {"type": "boolean"}


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

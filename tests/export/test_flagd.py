"""The flagd export of the demo plan: flagd's schemas, both flagd engines, the clock and consent.

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

from personalization_engine.export import build_export
from personalization_engine.export.flagd import export_flagd
from personalization_engine.export.flagd_logic import flagd_context
from personalization_engine.rules import simulate

from .conftest import EXAMPLE_AT
from .flagd_engines import variants_by_both
from .flagd_plans import FILE, exported, valid
from .holdout_context import allows, with_holdout


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
        assert "plan-20261124T090000Z" in text and str(demo_plan.revision) in text and "DRAFT" not in text


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
        "cat",  # standard JSON Logic: the holdout rule's string test of pe_holdout
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
    """Every profile holds out 10%: each scenario with pe_holdout synced as not held out (""), held out
    of each profile, and absent (fail closed: "none", never a lower-priority profile)."""
    now = int(EXAMPLE_AT.timestamp())
    holdouts = [
        {"pe_holdout": ""},
        {"pe_holdout": "new-trial-activation"},
        {"pe_holdout": "power-user-upgrade"},
        {},
    ]
    records = [
        dict(s.record, personalization_consent=True, **h) for s in demo_plan.scenarios for h in holdouts
    ]
    contexts = [with_holdout(flagd_context(demo_plan, r), r) for r in records]
    got = variants_by_both(exported(demo_plan), contexts, "profile-web", now)
    activated = {"new-trial-activation", "power-user-upgrade"}
    carried = ["new-trial-activation", "stalled-trial", "power-user-upgrade", "dormant-free"]
    wanted = []
    for record, verdict in zip(records, simulate(demo_plan, records, EXAMPLE_AT).records, strict=True):
        first = next((p for p in carried if p in verdict.members), None)
        wanted.append(first if first in activated and allows(demo_plan, first, record) else "none")
    assert got == wanted
    assert "new-trial-activation" in got and "power-user-upgrade" in got


def test_the_runners_control_flagds_clock(demo_plan):
    """A trial that signed up 13 days before the example time is new 13 days in and not 2 days later:
    only the clock the runners set changes, and both engines follow it."""
    record = {"user_id": "u1", "plan_tier": "trial", "signup_at": "2026-11-11T09:00:00Z",
              "onboarding_steps_completed": 1, "teammates_invited": 0,
              "personalization_consent": True, "pe_holdout": ""}  # fmt: skip
    context = with_holdout(flagd_context(demo_plan, record), record)
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
    gate = web[1]["if"][1]["if"][0]  # inside the holdout test: pe_holdout, then the consent gate
    assert {"===": [{"var": "personalization_consent"}, True]} in gate["and"]
    member = {"user_id": "u1", "plan_tier": "trial", "signup_at": "2026-11-22T09:00:00Z",
              "onboarding_steps_completed": 1, "teammates_invited": 0, "pe_holdout": ""}  # fmt: skip
    records = [
        dict(member, personalization_consent=True),
        dict(member, personalization_consent=False),
        member,
    ]
    contexts = [with_holdout(flagd_context(demo_plan, r), r) for r in records]
    got = variants_by_both(exported(demo_plan), contexts, "profile-web", int(EXAMPLE_AT.timestamp()))
    assert got == ["new-trial-activation", "none", "none"]

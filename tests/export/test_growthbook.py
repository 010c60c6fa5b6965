"""The GrowthBook export of the worked example and of hostile plans, proven by GrowthBook's own Python
SDK (4.0.0) evaluating the payload offline: membership per saved group and each channel feature's
value equal our evaluator's at the export instant."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from personalization_engine.errors import InputError
from personalization_engine.export import build_export
from personalization_engine.export.growthbook import export_growthbook
from personalization_engine.model import Plan
from personalization_engine.rules.instants import DAY_US, epoch_us, from_epoch_us

from .conftest import EXAMPLE_AT
from .growthbook_check import expected, observed
from .growthbook_engine import Engine, check_sdk_version, offline
from .holdout_context import random_holdout, set_holdout

AT = EXAMPLE_AT


def payload_of(bundle) -> dict[str, Any]:
    return json.loads(bundle.files["payload.json"])


def agree(plan: Plan, records: list[dict[str, Any]], at: datetime = AT, seen: Counter | None = None):
    """Export, load in the SDK offline, and compare every record; returns the bundle. `seen` counts
    the memberships and values met."""
    bundle = export_growthbook(plan, exported_at=at, draft=False)
    seen = Counter() if seen is None else seen
    with offline():
        engine = Engine(payload_of(bundle))
        try:
            for mine in expected(plan, bundle, records, at):
                theirs = observed(engine, mine)
                assert (theirs.members, theirs.values) == (mine.members, mine.values), (
                    f"record {mine.index} {records[mine.index]}: context {mine.attributes}"
                )
                seen.update(group for group, member in mine.members.items() if member)
                seen.update(f"{key}={value}" for key, value in mine.values.items())
        finally:
            engine.close()
    return bundle


def test_the_sdk_is_the_pinned_version():
    check_sdk_version()


# --- the worked example ---------------------------------------------------------------------------
POWER_USER = {
    "plan_tier": "free",
    "feature_adoption_score": 80,
    "last_active_at": "2026-11-23T09:00:00Z",
    "company_size": "11-50",
}


def demo_records(plan: Plan, count: int, seed: int) -> list[dict[str, Any]]:
    """The scenarios' records, and seeded variations of them that move a few attributes onto the
    demo's boundaries (windows to the microsecond, thresholds, consent false or missing)."""
    rng = random.Random(seed)
    now = epoch_us(AT)
    times = [now - d * DAY_US + e for d in (0, 3, 7, 14, 30, 60) for e in (-1, 0, 1)] + [now + DAY_US]
    pools: dict[str, list[Any]] = {
        "string": ["trial", "free", "pro", "team", "1000+", "11-50", "admin", "US", "", "u1"],
        "integer": [0, 1, 2, 4, 5, 6, 10, 100],
        "number": [0.0, 69.99, 70.0, 70.01, 100.0],
        "boolean": [True, False],
    }
    dormant = {"plan_tier": "free", "last_active_at": "2026-09-01T00:00:00Z", "email_unsubscribed": False}
    bases = [dict(s.record) for s in plan.scenarios] + [POWER_USER, {**dormant, "email_opt_in": True}]
    records = [dict(base, pe_holdout="") for base in bases]
    profile_ids = [p.id for p in plan.profiles]
    for _ in range(count):
        record = dict(rng.choice(bases))
        record["personalization_consent"] = rng.random() < 0.7
        record["in_app_messaging_disabled"] = rng.random() < 0.3
        for attribute in rng.sample(list(plan.attributes), rng.randint(1, 4)):
            if rng.random() < 0.2:
                record.pop(attribute.name, None)
            elif attribute.type in ("timestamp", "date"):
                moment = from_epoch_us(rng.choice(times))
                assert moment is not None
                record[attribute.name] = moment.isoformat()
            else:
                record[attribute.name] = rng.choice(pools[attribute.type or "string"])
        # mostly synced as not held out, else held out of a profile, absent, or hostile
        records.append(set_holdout(record, "" if rng.random() < 0.6 else random_holdout(rng, profile_ids)))
    return records


def test_the_demo_plan_exports_and_the_sdk_agrees_with_our_evaluator(demo_plan):
    seen: Counter[str] = Counter()
    bundle = agree(demo_plan, demo_records(demo_plan, 600, seed=16), seen=seen)
    assert all(seen[f"pe-{p}"] >= 20 for p in bundle.profiles), seen
    assert seen["pe-in-app=power-user-upgrade"] >= 20 and seen["pe-in-app=none"] >= 20, seen
    assert bundle.target == "growthbook"
    assert [(r.profile_id, r.channel, r.pointer, r.condition) for r in bundle.refusals] == [
        ("team-expansion", None, "/profiles/2/scoring/decay", "last_active_at half-life 7d")
    ]
    assert bundle.profiles == ("new-trial-activation", "stalled-trial", "power-user-upgrade", "dormant-free")
    assert bundle.carriers == {"power-user-upgrade/in-app": "payload.json"}
    assert [(c.profile_id, c.pointer) for c in bundle.cutoffs] == [
        ("new-trial-activation", "/profiles/0/eligibility/all/1"),
        ("stalled-trial", "/profiles/1/eligibility/all/1"),
        ("power-user-upgrade", "/profiles/3/eligibility/all/2"),
        ("dormant-free", "/profiles/4/eligibility/all/1"),
    ]
    assert bundle.cutoffs[0].allowed_age == "1h" and bundle.cutoffs[1].allowed_age == "1d"
    assert bundle.cutoff_at == AT
    payload = payload_of(bundle)
    assert list(payload["features"]) == ["pe-in-app"]
    assert set(payload["savedGroups"]) == {f"pe-{p}" for p in bundle.profiles}
    assert "pe-team-expansion" not in json.dumps(payload["features"])


def test_every_file_names_plan_and_revision_and_a_draft_says_so(demo_plan):
    final = build_export(demo_plan, "growthbook", exported_at=AT, draft=False)
    draft = build_export(demo_plan, "growthbook", exported_at=AT, draft=True)
    for path, text in {**final.files, **draft.files}.items():
        assert path == "README.md" or re.fullmatch(r"[a-z0-9._/-]+", path)  # the brief names README.md
        assert demo_plan.plan_id in text and str(demo_plan.revision) in text
    assert set(final.files) == {"payload.json", "README.md"}
    assert all("DRAFT" not in text for text in final.files.values())
    assert all("DRAFT" in text for text in draft.files.values())
    assert payload_of(draft)["metadata"]["status"].startswith("DRAFT")


def test_the_files_depend_on_the_export_time_only_through_the_cutoffs(demo_plan):
    one = export_growthbook(demo_plan, exported_at=AT, draft=False)
    again = export_growthbook(
        demo_plan, exported_at=AT.astimezone(timezone(timedelta(hours=-8))), draft=False
    )
    assert one.files == again.files
    later = export_growthbook(demo_plan, exported_at=AT + timedelta(hours=1), draft=False)
    changed = [
        line for line in later.files["payload.json"].splitlines() if line not in one.files["payload.json"]
    ]
    assert changed and all("$gte" in c or "$lt" in c or "cutoff" in c for c in changed), changed
    assert "2026-11-24T09:00" not in one.files["payload.json"]  # the export time itself is not printed


# --- consent ----------------------------------------------------------------------------------------
def test_the_consent_gate_travels_with_the_export(demo_plan):
    member = POWER_USER
    cases = {
        "consent true": (
            {"personalization_consent": True, "in_app_messaging_disabled": False},
            "power-user-upgrade",
        ),
        "consent false": ({"personalization_consent": False, "in_app_messaging_disabled": False}, "none"),
        "consent missing": ({"in_app_messaging_disabled": False}, "none"),
        "messaging disabled": ({"personalization_consent": True, "in_app_messaging_disabled": True}, "none"),
        "disabled missing": ({"personalization_consent": True}, "none"),
    }
    records = [{**member, **extra, "pe_holdout": ""} for extra, _ in cases.values()]
    agree(demo_plan, records)
    bundle = export_growthbook(demo_plan, exported_at=AT, draft=False)
    with offline():
        engine = Engine(payload_of(bundle))
        for (name, (_, want)), mine in zip(
            cases.items(), expected(demo_plan, bundle, records, AT), strict=True
        ):
            theirs = observed(engine, mine)
            assert theirs.members["pe-power-user-upgrade"], name
            assert theirs.values["pe-in-app"] == want, name


def test_a_gate_entry_naming_no_boolean_attribute_refuses_that_activation(demo_plan):
    activations = [
        a.model_copy(update={"consent_gate": ("asked at the kiosk",)})
        if a.export_target == "growthbook"
        else a
        for a in demo_plan.activations
    ]
    plan = demo_plan.model_copy(update={"activations": tuple(activations)})
    bundle = agree(plan, demo_records(plan, 100, seed=3))
    refused = [r for r in bundle.refusals if r.channel is not None]
    assert [(r.profile_id, r.channel, r.pointer) for r in refused] == [
        ("power-user-upgrade", "in-app", "/activations/7/consent_gate/0")
    ]
    assert bundle.carriers == {}


# --- bad input ----------------------------------------------------------------------------------------
def with_pii(plan: Plan, name: str, pii: str) -> Plan:
    attributes = tuple(
        a.model_copy(update={"pii_class": pii}) if a.name == name else a for a in plan.attributes
    )
    return plan.model_copy(update={"attributes": attributes})


@pytest.mark.parametrize("pii", ["direct", "sensitive", "special_category"])
def test_a_profile_on_a_pii_attribute_is_refused_naming_the_condition(demo_plan, pii):
    plan = with_pii(demo_plan, "feature_adoption_score", pii)
    with pytest.raises(InputError) as raised:
        build_export(plan, "growthbook", exported_at=AT, draft=False)
    assert raised.value.field == "/profiles/3/eligibility/all/1"
    message = str(raised.value)
    assert "'power-user-upgrade'" in message and "'feature_adoption_score'" in message
    assert f"pii_class {pii}" in message and "none or pseudonymous" in message


def test_a_consent_gate_on_a_pii_attribute_is_refused(demo_plan):
    plan = with_pii(demo_plan, "personalization_consent", "sensitive")
    with pytest.raises(InputError, match="'personalization_consent' \\(pii_class sensitive\\)") as raised:
        export_growthbook(plan, exported_at=AT, draft=False)
    assert raised.value.field == "/activations/7/consent_gate/1"


def test_a_pseudonymous_attribute_is_allowed(demo_plan):
    plan = with_pii(demo_plan, "feature_adoption_score", "pseudonymous")
    assert "power-user-upgrade" in export_growthbook(plan, exported_at=AT, draft=False).profiles

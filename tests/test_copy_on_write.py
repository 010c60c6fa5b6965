"""Copy-on-write revisions: incremental validation, diff and serialization equal the whole-plan ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personalization_engine import copy_on_write, plan_json
from personalization_engine.engine import Engine, _revalidate
from personalization_engine.errors import InputError
from personalization_engine.history.diff import diff_plans, diff_revisions
from personalization_engine.model import Attribute, DataSource, Plan
from personalization_engine.store import serialize

from .conftest import git

EXAMPLE = sorted((Path(__file__).parent.parent / ".claude" / "plans").glob("plan-*.json"))[0]


@pytest.fixture
def example() -> Plan:
    return Plan.model_validate_json(EXAMPLE.read_bytes())


def edits(plan: Plan) -> dict[str, Plan]:
    """Revisions made the way the stage tools make them: items replaced, added or removed."""
    first = plan.attributes[0]
    crm = DataSource(id="crm", system="HubSpot", access_method="api")
    reprioritized = plan.profiles[0].model_copy(update={"priority": 7})
    results = {}
    for name, change in {
        "replace": lambda p: p.attributes.__setitem__(0, first.model_copy(update={"description": "new"})),
        "add": lambda p: p.attributes.append(Attribute(name="brand_new", type="string")),
        "remove": lambda p: p.attributes.pop(1),
        "small section": lambda p: setattr(p.intake, "notes", "kick-off moved"),
        "profile priority": lambda p: p.profiles.__setitem__(0, reprioritized),
        "duplicate key": lambda p: p.attributes.append(first.model_copy(update={"type": "integer"})),
        "source": lambda p: p.data_sources.append(crm),
    }.items():
        copy = copy_on_write.working_copy(plan)
        change(copy)
        results[name] = copy
    return results


def test_incremental_validation_diff_and_text_equal_the_whole_plan_ones(example):
    for name, candidate in edits(example).items():
        incremental = copy_on_write.revalidated(example, candidate)
        assert incremental is not None, name
        full = _revalidate(candidate)
        assert serialize(incremental) == serialize(full), name
        assert diff_revisions(example, incremental) == diff_plans(example, full), name
        assert plan_json.dumps(incremental) == serialize(full), name
        assert plan_json.dumps(incremental) == serialize(full), name  # from cached item text


def test_the_working_copy_shares_large_items_and_copies_small_sections(example):
    copy = copy_on_write.working_copy(example)
    assert copy.attributes is not example.attributes
    assert all(a is b for a, b in zip(copy.attributes, example.attributes, strict=True))
    assert copy.intake is not example.intake
    assert serialize(copy) == serialize(example)


def test_an_invalid_changed_item_is_left_to_whole_plan_validation_which_names_it(example):
    copy = copy_on_write.working_copy(example)
    copy.attributes[0] = example.attributes[0].model_copy(update={"type": "colour"})
    assert copy_on_write.revalidated(example, copy) is None
    with pytest.raises(InputError, match=r"/attributes/0/type"):
        _revalidate(copy)


def test_a_list_past_its_limit_is_left_to_whole_plan_validation(example):
    copy = copy_on_write.working_copy(example)
    limit = copy_on_write.SHARED_SECTIONS["data_sources"].max_items
    assert limit == 500
    copy.data_sources = [DataSource(id=f"s{i}", system="x", access_method="api") for i in range(limit + 1)]
    assert copy_on_write.revalidated(example, copy) is None


def test_plan_json_matches_for_unicode_and_empty_sections():
    plan = Plan.model_validate(
        {
            "plan_id": "plan-20261124T090000Z",
            "revision": 1,
            "created_at": "2026-11-24T09:00:00Z",
            "updated_at": "2026-11-24T09:00:00Z",
            "initiative": 'Café "ünïcode" \\ onboarding\nline',
            "channels": ["web"],
            "attributes": [{"name": "tier", "type": "string", "description": "Ž\t€ 😀"}],
        }
    )
    assert plan_json.dumps(plan) == serialize(plan)
    assert json.loads(plan_json.dumps(plan))["attributes"][0]["description"] == "Ž\t€ 😀"


def test_editing_a_shared_item_in_place_is_caught_when_writes_are_verified(engine: Engine, plan_id, repo_dir):
    engine.apply(
        plan_id,
        "attributes",
        lambda p: (p.attributes.append(Attribute(name="tier", type="string")), p)[1],
        expected_revision=1,
        actor="a",
    )
    commits = git(repo_dir, "rev-list", "--count", "HEAD")

    def in_place(plan: Plan) -> Plan:
        plan.attributes[0].description = "edited in place"  # the previous revision's object
        return plan

    with pytest.raises(AssertionError, match="edited an item of the previous revision in place"):
        engine.apply(plan_id, "attributes", in_place, expected_revision=2, actor="a")
    assert git(repo_dir, "rev-list", "--count", "HEAD") == commits


def test_the_compact_text_read_plan_sends_is_the_compact_dump(example):
    for candidate in [example, *edits(example).values()]:
        plan = copy_on_write.revalidated(example, candidate) if candidate is not example else example
        assert plan is not None
        for _ in range(2):  # the second time from remembered item text
            assert plan_json.dumps(plan, compact=True) == plan.model_dump_json(by_alias=True).encode()

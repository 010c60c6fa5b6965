"""simulate(), load_records() and run_scenarios()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personalization_engine.errors import InputError
from personalization_engine.rules import load_records, run_scenarios, simulate

from .helpers import ENGAGED, NEW_FREE, NOW, make_plan

RECENT = "2026-11-20T00:00:00Z"
PLAN = make_plan([NEW_FREE, ENGAGED])


def test_each_record_gets_every_profiles_verdict_and_the_winner_by_priority():
    records = [
        {
            "id": "u1",
            "plan_tier": "free",
            "signup_at": RECENT,
            "email_bounced": False,
            "sessions": 7,
            "last_seen_at": RECENT,
        },
        {
            "id": "u2",
            "plan_tier": "pro",
            "signup_at": RECENT,
            "email_bounced": False,
            "sessions": 1,
            "last_seen_at": "2026-11-24T09:00:00Z",
        },
    ]
    result = simulate(PLAN, records, NOW)
    assert result.profiles == ["new-free", "engaged"]
    first, second = result.records
    assert (first.record_id, first.winner, first.members) == ("u1", "new-free", ["new-free", "engaged"])
    assert second.winner == "engaged"
    assert second.scores == {"engaged": 1.5}
    assert result.winner_counts == {"new-free": 1, "engaged": 1}
    assert result.no_winner == 0


def test_explanations_name_the_conditions_that_decided_each_verdict():
    record = {"plan_tier": "pro", "signup_at": RECENT, "email_bounced": False}
    explanation = simulate(PLAN, [record], NOW).records[0].explanations[0]
    assert explanation.profile_id == "new-free"
    assert explanation.eligibility == "false"
    assert [(o.pointer, o.condition, o.value, o.result) for o in explanation.decided_by] == [
        ("/profiles/0/eligibility/all/0", "plan_tier = 'free'", "pro", "false"),
        ("/profiles/0/suppression", "email_bounced = TRUE", False, "false"),
    ]


def test_missing_data_leaves_a_profile_undecided_and_its_fallback_applies():
    record = {"plan_tier": "free", "signup_at": RECENT, "sessions": 9, "last_seen_at": RECENT}
    verdict = simulate(PLAN, [record], NOW).records[0]
    assert verdict.winner == "engaged"
    assert verdict.suppressed == ["new-free"]  # an undecidable suppression suppresses
    assert verdict.fallback.profile_id == "new-free"
    assert verdict.fallback.fallback == "generic onboarding"
    assert verdict.fallback.missing == ["email_bounced"]
    explanation = verdict.explanations[0]
    assert (explanation.eligible, explanation.suppression, explanation.member) == (True, "unknown", False)
    assert explanation.fallback == "generic onboarding"


def test_a_missing_decay_timestamp_scores_zero_and_a_future_one_counts_in_full():
    records = [{"sessions": 9}, {"sessions": 9, "last_seen_at": "2026-12-01T00:00:00Z"}]
    scores = [r.scores["engaged"] for r in simulate(PLAN, records, NOW).records]
    assert scores == [0.0, 2.0]


def test_half_life_decay_halves_the_score_once_per_window():
    week_ago = "2026-11-17T09:00:00Z"
    verdict = simulate(PLAN, [{"sessions": 9, "plan_tier": "pro", "last_seen_at": week_ago}], NOW).records[0]
    assert verdict.scores["engaged"] == pytest.approx(3.5 / 2)


def test_within_last_includes_the_window_boundary_and_not_within_last_excludes_it():
    boundary = "2026-11-10T09:00:00Z"  # exactly 14 days before NOW
    plan = make_plan(
        [
            {
                "id": "inside",
                "name": "In",
                "eligibility": {"op": "within_last", "attr": "signup_at", "value": "14d"},
            },
            {
                "id": "outside",
                "name": "Out",
                "eligibility": {"op": "not_within_last", "attr": "signup_at", "value": "14d"},
            },
            {
                "id": "before",
                "name": "B",
                "eligibility": {"op": "before", "attr": "signup_at", "value": boundary},
            },
        ]
    )
    on, just_before = simulate(
        plan, [{"signup_at": boundary}, {"signup_at": "2026-11-10T08:59:59Z"}], NOW
    ).records
    assert on.eligible == ["inside"]
    assert just_before.eligible == ["outside", "before"]


def test_more_than_1000_records_get_verdicts_without_explanations():
    records = [{"plan_tier": "free", "signup_at": RECENT, "email_bounced": False}] * 1001
    result = simulate(PLAN, records, NOW)
    assert not result.explained
    assert result.records[1000].explanations is None
    assert result.winner_counts["new-free"] == 1001
    assert simulate(PLAN, records[:5], NOW, explain=False).records[0].explanations is None


def test_a_value_of_the_wrong_type_names_the_record_and_attribute():
    with pytest.raises(InputError, match=r"record 1: sessions = 'many' is not a valid integer"):
        simulate(PLAN, [{"sessions": 1}, {"sessions": "many"}], NOW)


def test_records_must_be_a_list_of_objects():
    with pytest.raises(InputError, match="must be a list of JSON objects"):
        simulate(PLAN, [["not", "a", "record"]], NOW)


def test_csv_records_load_with_empty_cells_as_null_and_values_coerced(workspace):
    path = workspace.root / "samples.csv"
    path.write_text(
        "id,plan_tier,signup_at,email_bounced,sessions\nu1,free,2026-11-20,false,\nu2,pro,,true,7\n"
    )
    records = load_records("samples.csv", workspace.root)
    assert records[0] == {
        "id": "u1",
        "plan_tier": "free",
        "signup_at": "2026-11-20",
        "email_bounced": "false",
        "sessions": None,
    }
    result = simulate(PLAN, records, NOW)
    assert result.records[0].winner == "new-free"
    assert result.records[1].scores["engaged"] == 0.0


def test_json_records_load_from_the_workspace(workspace):
    (workspace.root / "data").mkdir()
    (workspace.root / "data" / "r.json").write_text(json.dumps([{"plan_tier": "free"}]))
    assert load_records(str(workspace.root / "data" / "r.json"), workspace.root) == [{"plan_tier": "free"}]


def test_record_files_outside_the_workspace_are_refused(workspace, tmp_path: Path):
    outside = tmp_path / "outside.json"
    outside.write_text("[]")
    with pytest.raises(InputError, match="is outside the workspace"):
        load_records(str(outside), workspace.root)
    with pytest.raises(InputError, match=r"'\.\./outside\.json' is outside the workspace"):
        load_records("../outside.json", workspace.root)


def test_a_symlink_that_leads_out_of_the_workspace_is_refused(workspace, tmp_path: Path):
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    (workspace.root / "link.csv").symlink_to(secret)
    with pytest.raises(InputError, match=r"'link\.csv' is outside the workspace .*symlinks that lead out"):
        load_records("link.csv", workspace.root)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.json", "{not json", "is not valid JSON"),
        ("list.json", "[1, 2]", "must be a list of JSON objects"),
        ("notes.txt", "x", "must be a .csv or .json file"),
        ("ragged.csv", "a,b\n1,2,3\n", "has more cells than the header"),
    ],
)
def test_unreadable_record_files_are_refused_with_the_reason(workspace, name, content, message):
    (workspace.root / name).write_text(content)
    with pytest.raises(InputError, match=message):
        load_records(name, workspace.root)


def test_a_missing_record_file_is_named():
    with pytest.raises(InputError, match=r"'nope\.csv' is not a file in the workspace"):
        load_records("nope.csv", Path.cwd())


def test_stored_scenarios_rerun_and_say_which_no_longer_hold():
    plan = make_plan(
        [NEW_FREE, ENGAGED],
        scenarios=[
            {
                "id": "fresh-free",
                "record": {"plan_tier": "free", "signup_at": RECENT, "email_bounced": False},
                "expected_profile": "new-free",
            },
            {
                "id": "old-free",
                "record": {"plan_tier": "free", "signup_at": "2026-01-01T00:00:00Z", "email_bounced": False},
                "expected_profile": "new-free",
            },
            {"id": "nobody", "record": {"plan_tier": "team"}, "expected_profile": None},
            {"id": "broken", "record": {"sessions": "lots"}, "expected_profile": None},
        ],
    )
    results = {r.scenario_id: r for r in run_scenarios(plan, NOW)}
    assert results["fresh-free"].passed and results["nobody"].passed
    failed = results["old-free"]
    assert (failed.passed, failed.actual_profile, failed.pointer) == (
        False,
        None,
        "/scenarios/1/expected_profile",
    )
    assert "expects 'new-free' but the record now lands in no profile" in failed.message
    assert "signup_at within the last 14d is false" in failed.message
    assert not results["broken"].passed
    assert "sessions = 'lots' is not a valid integer" in results["broken"].message

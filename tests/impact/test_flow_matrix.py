"""The impact of a change on a hand-checked dataset: flows, sizes and drivers (DuckDB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from personalization_engine.audience import measure
from personalization_engine.core.engine import Engine
from personalization_engine.core.impact_op import DataOptions, measure_change
from personalization_engine.model.impact import Impact

from .conftest import NOW


def impact_between(engine: Engine, plan_id: str, a: int, b: int, data: str = "data/users.csv") -> Impact:
    return measure_change(engine, plan_id, a, b, DataOptions(data=data, now=NOW))[1]


def flows(impact: Impact) -> dict[tuple[str | None, str | None], int]:
    return {(f.from_profile, f.to_profile): f.records for f in impact.flows}


def by_id(impact: Impact) -> dict:
    return {p.profile_id: p for p in impact.profiles}


def test_the_flow_matrix_of_a_changed_condition_matches_the_hand_count(
    engine: Engine, impact_plan: str, users_csv: Path
):
    impact = impact_between(engine, impact_plan, 2, 3)
    assert flows(impact) == {
        ("trial", "trial"): 1,  # id 1
        ("trial", None): 2,  # id 2 (6 seats), id 7 (seats unknown: seats < 5 is not true)
        ("trial", "big"): 1,  # id 3: no longer trial, and 12 >= 8
        (None, "big"): 1,  # id 4: 9 seats
        ("big", "big"): 1,  # id 5
        (None, None): 2,  # ids 6 and 8
    }
    assert impact.row_count == 8
    trial, big = by_id(impact)["trial"], by_id(impact)["big"]
    assert (trial.winners_before, trial.winners_after, trial.joined, trial.left) == (4, 1, 0, 3)
    assert (big.winners_before, big.winners_after, big.joined, big.left) == (1, 3, 2, 0)
    assert (big.net_before, big.net_after) == (2, 3)


def test_the_driver_is_the_condition_that_moved_most_records_with_the_smallest_id(
    engine: Engine, impact_plan: str, users_csv: Path
):
    impact = impact_between(engine, impact_plan, 2, 3)
    trial = by_id(impact)["trial"]
    driver = trial.drivers[0]
    # The added condition explains ids 2, 3 and 7: its value is not TRUE, the neutral value in `all`.
    assert (driver.cause, driver.revision, driver.pointer) == (
        "condition added",
        3,
        "/profiles/0/eligibility/all/1",
    )
    assert (driver.condition, driver.records, driver.example_id) == ("seats < 5", 3, "2")
    assert len(trial.drivers) == 1  # plan_tier = 'trial' moved into the `all` unchanged: not a cause
    big = by_id(impact)["big"]
    changed, precedence = big.drivers
    assert (changed.cause, changed.pointer, changed.records, changed.example_id) == (
        "condition changed",
        "/profiles/1/eligibility",
        1,
        "4",
    )
    assert changed.condition == "seats >= 10 -> seats >= 8"
    # id 3 was big all along; trial no longer claims it first.
    assert (precedence.cause, precedence.records, precedence.example_id) == ("priority order", 1, "3")


def test_winners_under_each_revision_equal_sizing_that_revision_on_its_own(
    engine: Engine, impact_plan: str, users_csv: Path, repo_dir: Path
):
    for a, b in ((2, 3), (2, 4), (2, 5), (5, 3)):
        impact = impact_between(engine, impact_plan, a, b)
        for revision, attribute in ((a, "winners_before"), (b, "winners_after")):
            run = measure(
                engine.read_plan(impact_plan, revision),
                workspace_root=repo_dir,
                data="data/users.csv",
                now=NOW,
                actor="test",
            )
            sized = {p.profile_id: p.winner for p in run.profiles}
            measured = {
                p.profile_id: getattr(p, attribute)
                for p in impact.profiles
                if getattr(p, attribute) is not None
            }
            assert measured == sized, (a, b, revision)
            assert (
                sum(
                    f.records
                    for f in impact.flows
                    if (f.from_profile if revision == a else f.to_profile) is None
                )
                == run.no_winner
            )


def test_a_priority_only_change_moves_records_by_precedence(
    engine: Engine, impact_plan: str, users_csv: Path
):
    impact = impact_between(engine, impact_plan, 2, 4)
    assert {k: v for k, v in flows(impact).items() if k[0] != k[1]} == {("trial", "big"): 1}
    big = by_id(impact)["big"]
    assert [(d.cause, d.pointer, d.condition, d.records, d.example_id) for d in big.drivers] == [
        ("priority order", "/profiles/1/priority", "priority 20 -> 5", 1, "3")
    ]


def test_an_added_profile_and_the_same_change_reverted_name_the_profile(
    engine: Engine, impact_plan: str, users_csv: Path
):
    added = by_id(impact_between(engine, impact_plan, 2, 5))["free"]
    assert (added.winners_before, added.winners_after, added.joined) == (None, 2, 2)
    assert [(d.cause, d.revision, d.pointer, d.example_id) for d in added.drivers] == [
        ("profile added", 5, "/profiles/2", "4")
    ]
    removed = by_id(impact_between(engine, impact_plan, 5, 2))["free"]
    assert (removed.winners_before, removed.winners_after, removed.left) == (2, None, 2)
    assert removed.drivers[0].cause == "profile removed" and removed.drivers[0].revision == 5


def test_revisions_with_the_same_rules_move_nothing(engine: Engine, impact_plan: str, users_csv: Path):
    impact = impact_between(engine, impact_plan, 1, 2)  # revision 1 has no profiles
    assert flows(impact) == {(None, "trial"): 4, (None, "big"): 1, (None, None): 3}
    same = impact_between(engine, impact_plan, 4, 2)
    assert all(p.joined + p.left == 0 or p.profile_id in ("trial", "big") for p in same.profiles)


@pytest.mark.parametrize("rows_ids", [["u-ü1", "u 2\n", "id,3"]])
def test_odd_string_ids_come_back_as_examples_readably(
    engine: Engine, impact_plan: str, repo_dir: Path, rows_ids
):
    path = repo_dir / "data" / "odd.parquet"
    path.parent.mkdir(exist_ok=True)
    import duckdb

    con = duckdb.connect()
    con.execute(
        "COPY (SELECT * FROM (VALUES (?, 'trial', 6), (?, 'trial', 12), (?, 'free', 9)) "
        f"AS t(id, plan_tier, seats)) TO '{path}' (FORMAT parquet)",
        rows_ids,
    )
    con.close()
    impact = impact_between(engine, impact_plan, 2, 3, data="data/odd.parquet")
    examples = {d.example_id for p in impact.profiles for d in p.drivers}
    assert examples <= {"u-ü1", "u 2\\n", "id,3"} and examples

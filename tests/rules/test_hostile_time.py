"""Issue 14, cases 2, 6, 7, 8 and 10: long windows, far dates, fractional now, session zones, types."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import duckdb
import pytest
import sqlglot
from json_logic import jsonLogic

from personalization_engine.errors import InputError
from personalization_engine.model import Profile
from personalization_engine.rules import (
    SQL_DIALECTS,
    compile_jsonlogic,
    compile_sql,
    jsonlogic_data,
    overlap_findings,
    parse_rule,
    rule_findings,
    simulate,
)
from personalization_engine.rules.instants import parse_time_option

from .engines import OPERATIONS, load_table, node_results, sql_verdicts
from .helpers import NOW, make_plan

FIRST = datetime(1, 1, 1, tzinfo=timezone.utc)
LAST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)


def duck(zone: str = "UTC") -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(f"SET TimeZone = '{zone}'")
    return connection


def one_profile(rule, kinds, **extra):
    body = {"id": "p0", "name": "P", "eligibility": rule, **extra}
    return make_plan([body], attributes=[{"name": n, "type": k} for n, k in kinds.items()])


def agree(pg_connection, plan, kinds, records, now, zone="UTC"):
    """Winners per record from Python, DuckDB and PostgreSQL (in the session zone given)."""
    python = [r.winner for r in simulate(plan, records, now, explain=False).records]
    pg_connection.execute(f"SET TIME ZONE '{zone}'")
    try:
        for dialect, connection in (("duckdb", duck(zone)), ("postgres", pg_connection)):
            load_table(connection, dialect, "profiles", kinds, records)
            winners = sql_verdicts(connection, dialect, plan, "profiles", now)[1]
            assert [winners.get(i) for i in range(len(records))] == python, (dialect, zone)
    finally:
        pg_connection.execute("SET TIME ZONE 'UTC'")
    return python


# --- case 2: very long windows ----------------------------------------------------------------------
def test_a_window_longer_than_100_years_is_refused_naming_the_field():
    with pytest.raises(
        InputError, match=r"^/p/value: '999999d' is longer than the longest window, 100 years"
    ):
        parse_rule({"op": "not_within_last", "attr": "d", "value": "999999d"}, pointer="/p")
    with pytest.raises(InputError, match=r"INTERVAL '36526' DAY.*a window is at most 100 years"):
        parse_rule("d >= now() - INTERVAL 36526 DAY", pointer="/p")
    with pytest.raises(ValueError, match=r"'5218w' is longer than the maximum duration, 100 years"):
        Profile.model_validate(
            {"id": "p", "name": "P", "eligibility": {"op": "within_last", "attr": "d", "value": "5218w"}}
        )


@pytest.mark.parametrize("now", [FIRST + timedelta(days=1), NOW, LAST], ids=["year-1", "today", "year-9999"])
def test_the_longest_window_works_on_every_target_at_any_evaluation_time(pg_connection, now):
    kinds = {"d": "timestamp", "e": "date"}
    rule = {
        "any": [
            {"op": "not_within_last", "attr": "d", "value": "5217w"},
            {"op": "within_last", "attr": "e", "value": "36525d"},
        ]
    }
    plan = one_profile(rule, kinds, scoring={
        "conditions": [{"when": {"op": "is_null", "attr": "d"}, "weight": 1.0}],
        "threshold": 9.0,
        "decay": {"kind": "half_life", "attr": "e", "window": "876600h"},
    })  # fmt: skip
    records = [{"d": FIRST.isoformat(), "e": "9999-12-31"}, {"d": LAST.isoformat(), "e": "0001-01-01"}, {}]
    agree(pg_connection, plan, kinds, records, now)
    # on the database clock too (its answers move with the clock, so only that it runs is checked)
    for dialect, connection in (("duckdb", duck()), ("postgres", pg_connection)):
        load_table(connection, dialect, "profiles", kinds, records)
        connection.execute(compile_sql(plan, dialect)).fetchall()
    for dialect in SQL_DIALECTS:
        sqlglot.parse_one(compile_sql(plan, dialect, now=now), read=dialect)
        sqlglot.parse_one(compile_sql(plan, dialect), read=dialect)
    assert not [f for f in rule_findings(plan, now) if f.code == "rules.analysis_failed"]
    overlap_findings(plan, now)


def test_the_overlap_check_shows_an_example_far_in_the_past_without_crashing():
    rule = {"op": "not_within_last", "attr": "signup_at", "value": "5217w"}
    plan = make_plan(
        [{"id": "a", "name": "A", "priority": 1, "eligibility": rule},
         {"id": "b", "name": "B", "priority": 1, "eligibility": rule}]
    )  # fmt: skip
    [overlap] = [f for f in rule_findings(plan, FIRST + timedelta(days=3)) if f.code == "rules.overlap"]
    assert "microseconds since 1970" in overlap.message or "0001-" in overlap.message


# --- case 6: timestamps far from 1970 ---------------------------------------------------------------
def test_microseconds_count_centuries_away_from_1970(pg_connection):
    kinds = {"t": "timestamp"}
    plan = one_profile({"op": "after", "attr": "t", "value": "1500-06-01T00:00:00.000003Z"}, kinds)
    records = [{"t": "1500-06-01T00:00:00.000004Z"}, {"t": "1500-06-01T00:00:00.000003Z"}]
    assert agree(pg_connection, plan, kinds, records, NOW) == ["p0", None]


def test_json_logic_refuses_instants_it_cannot_hold_exactly_naming_the_condition():
    kinds = {"t": "timestamp"}
    plan = one_profile({"op": "after", "attr": "t", "value": "1500-06-01T00:00:00.000003Z"}, kinds)
    with pytest.raises(
        InputError, match=r"^/profiles/0/eligibility/value: after 1500-06-01T00:00:00.000003Z is out"
    ):
        compile_jsonlogic(plan)
    inside = one_profile({"op": "after", "attr": "t", "value": "1700-01-01"}, kinds)
    compile_jsonlogic(inside)
    with pytest.raises(InputError, match=r"^records/0/t: t = '1600-01-01' cannot be evaluated exactly"):
        jsonlogic_data(inside, {"t": "1600-01-01"}, NOW)
    with pytest.raises(InputError, match=r"^now: evaluation time 2300-01-01T00:00:00Z is outside"):
        jsonlogic_data(inside, {"t": None}, datetime(2300, 1, 1, tzinfo=timezone.utc))


# --- case 7: a fractional now -----------------------------------------------------------------------
def test_a_record_exactly_at_the_window_start_of_a_fractional_now_is_inside_on_every_target(
    pg_connection, node_jsonlogic
):
    now = datetime(2004, 1, 12, 5, 25, 29, 721934, tzinfo=timezone.utc)
    kinds = {"t": "timestamp"}
    plan = one_profile({"op": "not_within_last", "attr": "t", "value": "2d"}, kinds)
    records = [
        {"t": (now - timedelta(days=2)).isoformat()},
        {"t": (now - timedelta(days=2, microseconds=1)).isoformat()},
    ]
    assert agree(pg_connection, plan, kinds, records, now, zone="Asia/Kolkata") == [None, "p0"]
    logic = compile_jsonlogic(plan)
    data = [jsonlogic_data(plan, record, now) for record in records]
    assert [jsonLogic(logic["winner"], d, OPERATIONS) for d in data] == [None, "p0"]
    assert [r["winner"] for r in node_results(node_jsonlogic, [{"logic": logic, "data": data}])[0]] == [
        None,
        "p0",
    ]


def test_an_evaluation_time_keeps_its_microseconds_and_refuses_finer_digits():
    assert parse_time_option("2004-01-12T05:25:29.721934Z", field="now").microsecond == 721934
    assert parse_time_option("2004-01-12T10:55:29.721934+05:30", field="--now") == datetime(
        2004, 1, 12, 5, 25, 29, 721934, tzinfo=timezone.utc
    )
    with pytest.raises(InputError, match=r"^--now: '2004-01-12T05:25:29.7219341Z' is not an ISO 8601"):
        parse_time_option("2004-01-12T05:25:29.7219341Z", field="--now")


# --- case 8: half-lives in minutes ------------------------------------------------------------------
def test_a_one_minute_half_life_scores_the_same_in_duckdb_as_in_python():
    kinds = {"t": "timestamp"}
    plan = one_profile(None, kinds, eligible_by="score", scoring={
        "conditions": [{"when": {"op": "is_not_null", "attr": "t"}, "weight": 1.0}],
        "threshold": 0.0,
        "decay": {"kind": "half_life", "attr": "t", "window": "1m"},
    })  # fmt: skip
    records = [
        {"t": (NOW - timedelta(seconds=s, microseconds=u)).isoformat()}
        for s, u in ((1, 1), (59, 7), (95, 333))
    ]
    python = [r.scores["p0"] for r in simulate(plan, records, NOW).records]
    connection = duck()
    load_table(connection, "duckdb", "profiles", kinds, records)
    verdicts = sql_verdicts(connection, "duckdb", plan, "profiles", NOW)[0]
    assert [verdicts[(i, "p0")][3] for i in range(3)] == python


# --- case 10: where the docs were silent --------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "pointer"),
    [
        ({"op": "eq", "attr": "email_bounced", "value": 1}, "/profiles/0/eligibility/value"),
        ({"op": "eq", "attr": "country", "value": 5}, "/profiles/0/eligibility/value"),
        ({"op": "within_last", "attr": "sessions", "value": "1d"}, "/profiles/0/eligibility/op"),
    ],
)
def test_a_rule_with_a_type_error_is_neither_compiled_nor_simulated(rule, pointer):
    plan = make_plan([{"id": "p0", "name": "P", "eligibility": rule}])
    for run in (
        lambda: compile_sql(plan, "duckdb"),
        lambda: compile_jsonlogic(plan),
        lambda: simulate(plan, [{}], NOW),
    ):
        with pytest.raises(InputError, match=rf"^{pointer}: .*the plan cannot be"):
            run()


@pytest.mark.parametrize("value", ["2026-11-24T09:00:00Z", "2026-11-24T00:00:00+09:00", "2026-11-24 00:00"])
def test_a_date_attribute_takes_only_a_date(value):
    plan = one_profile({"op": "within_last", "attr": "d", "value": "1d"}, {"d": "date"})
    with pytest.raises(
        InputError, match=r"^records/0/d: record 0: d = .* is not a valid date; a date is a date"
    ):
        simulate(plan, [{"d": value}], NOW)


@pytest.mark.parametrize("zone", ["Asia/Tokyo", "America/St_Johns", "Pacific/Chatham"])
def test_date_and_timestamp_rules_give_the_same_answer_in_any_session_time_zone(pg_connection, zone):
    kinds = {"d": "date", "t": "timestamp"}
    window = {"op": "within_last", "attr": "d", "value": "1d"}
    plan = one_profile({"any": [window, {"op": "after", "attr": "t", "value": "2026-11-24"}]}, kinds)
    records = [{"d": day} for day in ("2026-11-22", "2026-11-23", "2026-11-24", "2026-11-25")]
    records += [{"t": "2026-11-23T23:00:00-02:00"}, {"t": "2026-11-24T08:00:00+09:00"}]
    assert agree(pg_connection, plan, kinds, records, NOW, zone=zone) == [None, None, "p0", "p0", "p0", None]


def test_digits_below_a_microsecond_are_refused_in_records_and_rules():
    plan = one_profile({"op": "is_null", "attr": "t"}, {"t": "timestamp"})
    with pytest.raises(
        InputError, match=r"^records/0/t: record 0: t = '2026-11-24T09:00:00.1234567Z' is not"
    ):
        simulate(plan, [{"t": "2026-11-24T09:00:00.1234567Z"}], NOW)
    with pytest.raises(
        InputError, match=r"^/p/value: 'before' takes an ISO 8601 date .* at most 6 fractional"
    ):
        parse_rule({"op": "before", "attr": "t", "value": "2026-11-24T09:00:00.1234567Z"}, pointer="/p")


@pytest.mark.parametrize(("value", "expected"), [("TRUE", True), (" false ", False), ("1", True), (0, False)])
def test_booleans_are_true_false_1_or_0(value, expected):
    plan = one_profile({"op": "eq", "attr": "b", "value": True}, {"b": "boolean"})
    assert (simulate(plan, [{"b": value}], NOW).records[0].winner == "p0") is expected


@pytest.mark.parametrize("value", ["yes", "t", "y", "no", "on"])
def test_other_boolean_spellings_are_refused(value):
    plan = one_profile({"op": "eq", "attr": "b", "value": True}, {"b": "boolean"})
    with pytest.raises(
        InputError, match=r"^records/0/b: .* is not a valid boolean; a boolean is true, false, 1 or 0"
    ):
        simulate(plan, [{"b": value}], NOW)


@pytest.mark.parametrize("dialect", ["bigquery", "databricks", "snowflake"])
def test_date_rules_use_date_functions_in_warehouse_dialects(dialect):
    plan = one_profile({"op": "within_last", "attr": "d", "value": "1d"}, {"d": "date"}, scoring={
        "conditions": [{"when": {"op": "is_not_null", "attr": "d"}, "weight": 1.0}],
        "threshold": 1.0,
        "decay": {"kind": "half_life", "attr": "d", "window": "7d"},
    })  # fmt: skip
    day_us = {
        "snowflake": "DATEDIFF(DAY, CAST('1970-01-01' AS DATE), \"D\") * 86400000000",
        "bigquery": "UNIX_DATE(`d`) * 86400000000",
        "databricks": "UNIX_DATE(`d`) * 86400000000",
    }[dialect]
    for now in (NOW, None):
        sql = compile_sql(plan, dialect, now=now)
        sqlglot.parse_one(sql, read=dialect)
        assert day_us in sql
        assert "TIMESTAMP" not in sql.replace("CURRENT_TIMESTAMP", "")  # no DATE-versus-TIMESTAMP test


@pytest.mark.parametrize(
    ("value", "micros"), [(1.5, 1_500_000), (-1, -1_000_000), (1_700_000_000, 1_700_000_000_000_000)]
)
def test_epoch_seconds_become_exact_microseconds(value, micros):
    from personalization_engine.rules.records import coerce_value

    assert coerce_value(value, "timestamp", index=0, attr="t") == micros


@pytest.mark.parametrize("value", [10**30, 1e-7, float("inf")])
def test_epoch_seconds_outside_the_years_1_to_9999_or_below_a_microsecond_are_refused(value):
    plan = one_profile({"op": "is_null", "attr": "t"}, {"t": "timestamp"})
    with pytest.raises(
        InputError, match=r"^records/0/t: .* is not a valid timestamp; .* in the years 1 to 9999"
    ):
        simulate(plan, [{"t": value}], NOW)

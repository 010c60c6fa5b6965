"""compile_sql, profile_sql_expressions and compile_jsonlogic."""

from __future__ import annotations

import json

import duckdb
import pytest
import sqlglot
from json_logic import jsonLogic
from json_logic.builtins import BUILTINS

from personalization_engine.errors import InputError
from personalization_engine.rules import (
    HALF_LIFE_OP,
    NOW_VAR,
    SQL_DIALECTS,
    compile_jsonlogic,
    compile_sql,
    half_life_decay,
    jsonlogic_data,
    profile_sql_expressions,
    simulate,
)

from .helpers import ENGAGED, NEW_FREE, NOW, make_plan

PLAN = make_plan([NEW_FREE, ENGAGED])
RECORDS = [
    {
        "id": 1,
        "plan_tier": "free",
        "signup_at": "2026-11-20T00:00:00Z",
        "email_bounced": False,
        "sessions": 2,
    },
    {
        "id": 2,
        "plan_tier": "free",
        "signup_at": "2026-11-20T00:00:00Z",
        "email_bounced": None,
        "sessions": 8,
        "last_seen_at": "2026-11-23T09:00:00Z",
    },
    {
        "id": 3,
        "plan_tier": "pro",
        "signup_at": "2026-01-01T00:00:00Z",
        "email_bounced": True,
        "sessions": 0,
        "last_seen_at": "2026-11-24T09:00:00Z",
    },
    {"id": 4, "plan_tier": None, "signup_at": None, "email_bounced": None, "sessions": None},
]


def duckdb_with(records):
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute(
        "CREATE TABLE profiles (id INTEGER, plan_tier VARCHAR, signup_at TIMESTAMPTZ, email_bounced BOOLEAN, "
        "sessions INTEGER, last_seen_at TIMESTAMPTZ)"
    )
    connection.executemany(
        "INSERT INTO profiles VALUES (?, ?, CAST(? AS TIMESTAMPTZ), ?, ?, CAST(? AS TIMESTAMPTZ))",
        [
            [
                r["id"],
                r["plan_tier"],
                r["signup_at"],
                r["email_bounced"],
                r["sessions"],
                r.get("last_seen_at"),
            ]
            for r in records
        ],
    )
    return connection


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_every_dialect_gets_a_select_that_parses_back_in_that_dialect(dialect):
    sql = compile_sql(PLAN, dialect, now=NOW)
    assert sql.startswith("SELECT")
    parsed = sqlglot.parse_one(sql, read=dialect)
    selects = {name.lower() for name in parsed.named_selects}  # Snowflake folds to upper case
    assert {"winner", "member_new_free", "member_engaged", "score_engaged"} <= selects


def test_compiled_sql_on_duckdb_selects_the_members_the_python_evaluator_finds():
    rows = duckdb_with(RECORDS).execute(compile_sql(PLAN, "duckdb", now=NOW)).fetchall()
    simulated = simulate(PLAN, RECORDS, NOW)
    expected = {r.record_id: r.winner for r in simulated.records if r.winner}
    assert {row[0]: row[1] for row in rows} == expected == {1: "new-free", 2: "engaged", 3: "engaged"}


def test_profile_expressions_build_one_audience_sizing_query():
    parts = profile_sql_expressions(PLAN, "duckdb", now=NOW)
    sums = ", ".join(
        f"SUM(CASE WHEN {p.eligible} THEN 1 ELSE 0 END), SUM(CASE WHEN {p.suppressed} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {p.net} THEN 1 ELSE 0 END)"
        for p in parts.values()
    )
    counts = duckdb_with(RECORDS).execute(f"SELECT {sums} FROM profiles").fetchone()
    # new-free: eligible 1 and 2; suppressed where bounced or unknown (2, 3, 4); member 1.
    # engaged: scores 0, 2*0.5**(1/7), 0 (sessions 0, pro but seen now: 1.5), 0 -> eligible 2 and 3.
    assert counts == (2, 3, 1, 2, 0, 2)
    assert parts["engaged"].score.startswith('(CASE WHEN "sessions" >= 5')


def test_without_a_fixed_time_the_sql_reads_the_database_clock_in_epoch_microseconds():
    parts = profile_sql_expressions(PLAN, "postgres")
    sql = parts["new-free"].eligible + parts["engaged"].score
    clock = "CAST(EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000000 AS BIGINT)"
    assert f'CAST(EXTRACT(EPOCH FROM "signup_at") * 1000000 AS BIGINT) >= ({clock} - 1209600000000)' in sql
    assert f'CAST(({clock} - CAST(EXTRACT(EPOCH FROM "last_seen_at")' in sql


def test_attribute_names_that_are_sql_keywords_are_quoted():
    plan = make_plan(
        [{"id": "p", "name": "P", "eligibility": {"op": "eq", "attr": "order", "value": 1}}],
        attributes=[{"name": "order", "type": "integer"}],
    )
    assert '"order" = 1' in compile_sql(plan, "postgres")
    assert "`order` = 1" in compile_sql(plan, "bigquery")


def test_an_unknown_sql_target_or_table_name_is_refused():
    with pytest.raises(InputError, match="unknown SQL target 'oracle'; use one of duckdb, postgres"):
        compile_sql(PLAN, "oracle")
    with pytest.raises(
        InputError, match=r"^table: 'users; DROP TABLE x' is not a table name: use one to three"
    ):
        compile_sql(PLAN, "duckdb", table="users; DROP TABLE x")


def operations():
    return {**BUILTINS, HALF_LIFE_OP: lambda _data, *args: half_life_decay(*args)}


def test_json_logic_reads_the_evaluation_time_from_data_and_agrees_with_simulate():
    logic = compile_jsonlogic(PLAN)
    assert json.loads(json.dumps(logic)) == logic  # plain JSON
    assert logic["now_var"] == NOW_VAR
    assert {"var": NOW_VAR} in logic["profiles"]["new-free"]["eligibility"]["and"][1]["and"][1][">="][1]["-"]
    simulated = simulate(PLAN, RECORDS, NOW)
    for record, verdict in zip(RECORDS, simulated.records, strict=True):
        data = jsonlogic_data(PLAN, record, NOW)
        assert jsonLogic(logic["winner"], data, operations()) == verdict.winner


def test_half_life_decay_uses_the_documented_custom_operation():
    score = compile_jsonlogic(PLAN)["profiles"]["engaged"]["score"]
    assert score["*"][1] == {HALF_LIFE_OP: [{"var": "last_seen_at"}, {"var": NOW_VAR}, 604_800_000_000]}
    assert half_life_decay(None, 100.0, 10) == 0.0
    assert half_life_decay(110.0, 100.0, 10) == 1.0
    assert half_life_decay(80.0, 100.0, 10) == 0.25


def test_without_custom_operations_half_life_decay_is_refused_naming_the_construct():
    with pytest.raises(
        InputError, match=r"^/profiles/1/scoring/decay: profile 'engaged' uses exponential half-life"
    ):
        compile_jsonlogic(PLAN, custom_operations=False)


def test_lookback_decay_compiles_to_standard_json_logic():
    lookback = {
        **ENGAGED,
        "scoring": {
            **ENGAGED["scoring"],
            "decay": {"kind": "lookback", "attr": "last_seen_at", "window": "7d"},
        },
    }
    logic = compile_jsonlogic(make_plan([lookback]), custom_operations=False)
    assert HALF_LIFE_OP not in json.dumps(logic)
    data = jsonlogic_data(make_plan([lookback]), {"sessions": 9, "last_seen_at": "2026-11-20T00:00:00Z"}, NOW)
    assert jsonLogic(logic["profiles"]["engaged"]["score"], data, BUILTINS) == 2.0


def test_quotes_and_wildcards_in_values_are_escaped_for_each_dialect():
    tricky = {
        "any": [
            {"op": "eq", "attr": "plan_tier", "value": "o'neil"},
            {"op": "contains", "attr": "plan_tier", "value": "%_'"},
        ]
    }
    plan = make_plan([{"id": "q", "name": "Q", "eligibility": tricky}])
    records = [
        {"id": 1, "plan_tier": "o'neil"},
        {"id": 2, "plan_tier": "a%_'b"},
        {"id": 3, "plan_tier": "ab"},
    ]
    rows = duckdb_with(
        [{**r, "signup_at": None, "email_bounced": None, "sessions": None} for r in records]
    ).execute(compile_sql(plan, "duckdb"))
    assert [row[:2] for row in rows.fetchall()] == [(1, "q"), (2, "q")]
    assert [r.winner for r in simulate(plan, records, NOW).records] == ["q", "q", None]
    for dialect in SQL_DIALECTS:
        sqlglot.parse_one(compile_sql(plan, dialect), read=dialect)

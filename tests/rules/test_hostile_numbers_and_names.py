"""Issue 14, cases 1-5 and 9: hostile plans and records on which the targets used to disagree or fail."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from json_logic import jsonLogic

from personalization_engine.errors import InputError
from personalization_engine.rules import (
    SQL_DIALECTS,
    compile_jsonlogic,
    compile_sql,
    jsonlogic_data,
    parse_rule,
    rule_findings,
    simulate,
)

from .engines import OPERATIONS, load_table, node_results, sql_verdicts
from .helpers import NOW, make_plan


def duck() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def on_every_engine(pg_connection, plan, kinds, records, now=NOW):
    """Python's verdicts, and DuckDB's and PostgreSQL's on the compiled SQL."""
    python = simulate(plan, records, now, explain=False)
    results = {}
    for dialect, connection in (("duckdb", duck()), ("postgres", pg_connection)):
        load_table(connection, dialect, "profiles", kinds, records)
        results[dialect] = sql_verdicts(connection, dialect, plan, "profiles", now)
    return python, results


# --- case 1: PostgreSQL's POWER underflow ---------------------------------------------------------
def test_a_half_life_decades_old_decays_to_zero_in_postgres_instead_of_failing_the_query(pg_connection):
    kinds = {"d": "date", "n": "integer"}
    plan = make_plan(
        [
            {
                "id": "p0",
                "name": "P",
                "eligible_by": "score",
                "scoring": {
                    "conditions": [{"when": {"op": "is_not_null", "attr": "n"}, "weight": 1.0}],
                    "threshold": 0.5,
                    "decay": {"kind": "half_life", "attr": "d", "window": "1d"},
                },
            }
        ],
        attributes=[{"name": name, "type": kind} for name, kind in kinds.items()],
    )
    records = [{"d": "1970-01-01", "n": 1}, {"d": "2026-11-25", "n": 1}]  # decades old; the future
    python, sql = on_every_engine(pg_connection, plan, kinds, records)
    assert [r.scores["p0"] for r in python.records] == [0.0, 1.0]
    for dialect in ("duckdb", "postgres"):
        verdicts, _ = sql[dialect]
        assert [verdicts[(i, "p0")][3] for i in range(2)] == [0.0, 1.0], dialect


# --- case 3: attribute names that look like generated columns -------------------------------------
@pytest.mark.parametrize("mode", ["rule_or_score", "score"])
def test_an_attribute_named_like_a_generated_score_column_is_not_taken_for_the_score(pg_connection, mode):
    kinds = {"score_p0": "number", "member_p0": "boolean", "winner": "string"}
    plan = make_plan(
        [
            {
                "id": "p0",
                "name": "P",
                "eligible_by": mode,
                "eligibility": {"op": "eq", "attr": "member_p0", "value": True},
                "scoring": {
                    "conditions": [{"when": {"op": "gt", "attr": "score_p0", "value": 5}, "weight": 2.0}],
                    "threshold": 1.0,
                },
            }
        ],
        attributes=[{"name": name, "type": kind} for name, kind in kinds.items()],
    )
    records = [{"score_p0": 9.0, "member_p0": False, "winner": "x"}, {"score_p0": 1.0, "member_p0": False}]
    python, sql = on_every_engine(pg_connection, plan, kinds, records)
    assert [r.scores["p0"] for r in python.records] == [2.0, 0.0]
    assert [r.winner for r in python.records] == ["p0", None]
    for dialect in ("duckdb", "postgres"):
        verdicts, winners = sql[dialect]
        assert [verdicts[(i, "p0")][3] for i in range(2)] == [2.0, 0.0], dialect
        assert winners == {0: "p0"}, dialect


def test_an_id_column_named_like_an_output_column_is_refused():
    plan = make_plan([{"id": "p0", "name": "P", "eligibility": {"op": "is_null", "attr": "plan_tier"}}])
    with pytest.raises(InputError, match=r"^id_column: id column 'member_p0' has the name of an output"):
        compile_sql(plan, "duckdb", id_column="member_p0")


# --- case 4: identifiers left unquoted ------------------------------------------------------------
RESERVED = ["alter", "drop", "insert", "revoke", "regexp", "rlike", "sample", "values", "minus", "rollback"]


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_reserved_attribute_and_table_names_parse_back_as_columns_in_every_dialect(dialect):
    names = [*RESERVED, "current_schema", "user", "order"]
    plan = make_plan(
        [
            {
                "id": "p0",
                "name": "P",
                "eligibility": {"all": [{"op": "eq", "attr": name, "value": "x"} for name in names]},
            }
        ],
        attributes=[{"name": name, "type": "string"} for name in names],
    )
    sql = compile_sql(plan, dialect, table="order", now=NOW)
    parsed = sqlglot.parse_one(sql, read=dialect)
    read = {column.name.lower() for column in parsed.find_all(sqlglot.exp.Column)}
    assert set(names) <= read
    assert [t.name.lower() for t in parsed.find_all(sqlglot.exp.Table)] == ["order"]


def test_current_schema_is_read_as_a_column_in_postgres_not_called(pg_connection):
    kinds = {"current_schema": "string", "user": "string"}
    plan = make_plan(
        [{"id": "p0", "name": "P", "eligibility": {"op": "eq", "attr": "current_schema", "value": "public"}}],
        attributes=[{"name": name, "type": kind} for name, kind in kinds.items()],
    )
    python, sql = on_every_engine(pg_connection, plan, kinds, [{"current_schema": "other", "user": "u"}])
    assert python.records[0].winner is None
    assert sql["postgres"][1] == {} and sql["duckdb"][1] == {}


def test_snowflake_names_are_the_upper_case_an_unquoted_name_folds_to():
    plan = make_plan([{"id": "p0", "name": "P", "eligibility": {"op": "eq", "attr": "values", "value": 1}}])
    sql = compile_sql(plan, "snowflake", table="analytics.public.users", now=NOW)
    assert 'FROM "ANALYTICS"."PUBLIC"."USERS"' in sql
    assert '"VALUES" = 1' in sql


def test_bigquery_project_names_with_hyphens_are_accepted_and_quoted():
    plan = make_plan([{"id": "p0", "name": "P", "eligibility": {"op": "is_null", "attr": "country"}}])
    sql = compile_sql(plan, "bigquery", table="my-project.analytics.users", now=NOW)
    assert "FROM `my-project`.`analytics`.`users`" in sql
    with pytest.raises(InputError, match=r"^table: 'my-project\.users' is not a table name"):
        compile_sql(plan, "duckdb", table="my-project.users")


# --- case 5: numbers beyond 2**53 -----------------------------------------------------------------
def test_a_number_attribute_compares_as_a_double_in_python_sql_and_json_logic(pg_connection, node_jsonlogic):
    kinds = {"n": "number"}
    plan = make_plan(
        [{"id": "p0", "name": "P", "eligibility": {"op": "in", "attr": "n", "value": [9007199254740993]}}],
        attributes=[{"name": "n", "type": "number"}],
    )
    records = [{"n": 9007199254740992.0}]
    python, sql = on_every_engine(pg_connection, plan, kinds, records)
    assert python.records[0].winner == "p0"
    assert sql["duckdb"][1] == {0: "p0"} and sql["postgres"][1] == {0: "p0"}
    logic = compile_jsonlogic(plan)
    data = jsonlogic_data(plan, records[0], NOW)
    assert jsonLogic(logic["winner"], data, OPERATIONS) == "p0"
    assert node_results(node_jsonlogic, [{"logic": logic, "data": [data]}])[0][0]["winner"] == "p0"


@pytest.mark.parametrize(
    ("value", "shown"), [(1.5, "1.5"), (2**63, "9223372036854775808"), ("12.0", "'12.0'"), (True, "True")]
)
def test_an_integer_attribute_refuses_fractions_and_values_beyond_64_bits(value, shown):
    plan = make_plan([{"id": "p0", "name": "P", "eligibility": {"op": "gt", "attr": "sessions", "value": 1}}])
    with pytest.raises(
        InputError, match=rf"^records/0/sessions: record 0: sessions = {shown} is not a valid"
    ):
        simulate(plan, [{"sessions": value}], NOW)


def test_an_integer_constant_beyond_64_bits_is_a_type_error_and_the_plan_does_not_compile():
    plan = make_plan(
        [{"id": "p0", "name": "P", "eligibility": {"op": "gt", "attr": "sessions", "value": 2**64}}]
    )
    codes = [(f.code, f.pointer) for f in rule_findings(plan, NOW)]
    assert ("rules.type_mismatch", "/profiles/0/eligibility/value") in codes
    with pytest.raises(InputError, match=r"^/profiles/0/eligibility/value: sessions > 18446744073709551616"):
        compile_sql(plan, "duckdb")


def test_a_number_constant_beyond_the_double_range_is_a_type_error_not_a_crash():
    plan = make_plan(
        [{"id": "p0", "name": "P", "eligibility": {"op": "lt", "attr": "spend", "value": 10**400}}]
    )
    codes = [f.code for f in rule_findings(plan, NOW)]
    assert codes == ["rules.type_mismatch"]


# --- case 9: names every JavaScript object inherits -----------------------------------------------
def test_json_logic_refuses_an_attribute_every_javascript_object_inherits(node_jsonlogic):
    plan = make_plan(
        [{"id": "p0", "name": "P", "eligibility": {"not": {"op": "is_null", "attr": "constructor"}}}],
        attributes=[{"name": "constructor", "type": "string"}],
    )
    with pytest.raises(
        InputError, match=r"^/profiles/0/eligibility/not/attr: attribute 'constructor' is a prop"
    ):
        compile_jsonlogic(plan)
    # the reason: json-logic-js reads the inherited property of a record that lacks the attribute
    probe = {"profiles": {"p": {"eligibility": {"===": [{"var": "constructor"}, None]}, "suppression": False,
                                "member": True, "score": None}}, "winner": None}  # fmt: skip
    assert node_results(node_jsonlogic, [{"logic": probe, "data": [{}]}])[0][0]["profiles"]["p"][0] is False


def test_the_inherited_names_json_logic_refuses_cover_every_lowercase_object_prototype_name():
    import subprocess

    from personalization_engine.rules.compile_jsonlogic import PROTOTYPE_NAMES
    from personalization_engine.rules.parse import ATTRIBUTE_RE

    listed = subprocess.run(
        ["node", "-e", "console.log(JSON.stringify(Object.getOwnPropertyNames(Object.prototype)))"],
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0:
        pytest.skip("node is not available")
    import json

    inherited = set(json.loads(listed.stdout))
    assert inherited <= PROTOTYPE_NAMES
    assert {name for name in inherited if ATTRIBUTE_RE.match(name)} == {"constructor"}


def test_parse_rule_accepts_a_rule_on_an_inherited_name_for_the_sql_targets():
    rule = parse_rule({"op": "is_null", "attr": "constructor"}, pointer="/p")
    plan = make_plan([{"id": "p0", "name": "P", "eligibility": rule.model_dump(by_alias=True)}])
    assert '"constructor" IS NULL' in compile_sql(plan, "postgres")  # only JSON Logic refuses the name


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_string_constants_with_quotes_and_backslashes_parse_back_unchanged_in_every_dialect(dialect):
    values = ["back\\slash", "it's", "a\\'b", "50%_off", "ü"]
    plan = make_plan(
        [{"id": "p0", "name": "P", "eligibility": {"op": "in", "attr": "country", "value": values}}]
    )
    parsed = sqlglot.parse_one(compile_sql(plan, dialect, now=NOW), read=dialect)
    [membership] = list(parsed.find_all(sqlglot.exp.In))
    assert [literal.this for literal in membership.expressions] == values

"""Holdout assignment: Python and SQL put every record on the same side, the share is realised, bad
shares are refused (docs/audience.md, "Holdout assignment")."""

from __future__ import annotations

import hashlib
import math
import re
from decimal import Decimal
from fractions import Fraction

import duckdb
import pytest
import sqlglot

from personalization_engine.errors import InputError
from personalization_engine.model.targets import SQL_DIALECTS
from personalization_engine.rules.holdout import (
    bucket,
    bucket_sql,
    canonical_id,
    holdout_sql,
    in_holdout,
    threshold,
)

HOSTILE_STRINGS = [
    "", " ", "a", "O'Brien", 'say "hi"', "back\\slash", "\\'", "tab\there", "new\nline", "sep\x1fsep",
    "\x1f", "é", "e\u0301", "日本語", "🎉", "NULL", "null", "42", "-0", "true", "0x1f", "%_*",
    "'; DROP TABLE t; --",
]  # fmt: skip
EXTREME_INTEGERS = [0, 1, -1, 42, 2**31 - 1, -(2**31), 2**53, 2**53 + 1, 2**63 - 1, -(2**63)]
FLOATS = [0.0, -0.0, 1.0, 42.0, -42.0, 2.0**53 - 1, -(2.0**53 - 1), 2.0**53, 1e300, 0.5, -1.5, 1e-300]
NON_FINITE = [math.nan, math.inf, -math.inf]
IDS = {
    "string": [None, *HOSTILE_STRINGS, *(f"user-{i}" for i in range(200))],
    "integer": [None, *EXTREME_INTEGERS, *range(-100, 100)],
    "number": [None, *FLOATS, *NON_FINITE, *(i / 4 for i in range(-100, 100))],
    "boolean": [None, True, False],
}
SQL_TYPES = {
    "duckdb": {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN"},
    "postgres": {"string": "TEXT", "integer": "BIGINT", "number": "DOUBLE PRECISION", "boolean": "BOOLEAN"},
}
# Hostile salts too: quotes and backslashes must survive each dialect's literal quoting.
SALTS = ["launch-2026", 'it\'s \\ "q" é 🎉', ""]
SHARES = (0.5, 0.05)


def load_ids(connection, dialect: str, table: str, sql_type: str, ids: list) -> None:
    mark = "?" if dialect == "duckdb" else "%s"
    connection.execute(f"DROP TABLE IF EXISTS {table}")
    connection.execute(f"CREATE TABLE {table} (n INTEGER, id {sql_type})")
    rows = ", ".join(f"({mark}, CAST({mark} AS {sql_type}))" for _ in ids)
    connection.execute(f"INSERT INTO {table} VALUES {rows}", [v for n, i in enumerate(ids) for v in (n, i)])


def sql_assignment(run, dialect: str, table: str, salt: str, kind: str) -> list[tuple]:
    """Per row: the bucket and the verdict at each share, from `run(query) -> rows`."""
    columns = [bucket_sql(dialect, salt, "trial_users", "id", id_kind=kind)]
    columns += [holdout_sql(dialect, salt, "trial_users", "id", s, id_kind=kind) for s in SHARES]
    query = f"SELECT {', '.join(columns)} FROM {table} ORDER BY n"
    return [tuple(row) for row in run(query)]


def python_assignment(salt: str, ids: list) -> list[tuple]:
    return [
        (bucket(salt, "trial_users", i), *(in_holdout(salt, "trial_users", i, s) for s in SHARES))
        for i in ids
    ]


def assert_agreement(connection, dialect: str, kind: str, ids: list, sql_type: str | None = None) -> None:
    table = f"holdout_{kind}"
    load_ids(connection, dialect, table, sql_type or SQL_TYPES[dialect][kind], ids)

    def run(query: str) -> list:
        return connection.execute(query).fetchall()

    for salt in SALTS:
        assert sql_assignment(run, dialect, table, salt, kind) == python_assignment(salt, ids), salt


@pytest.mark.parametrize("kind", IDS)
def test_duckdb_assigns_every_id_type_as_python_does(kind):
    # DuckDB text may hold NUL; PostgreSQL text cannot, so only DuckDB gets that id.
    extra = ["nul\x00byte"] if kind == "string" else []
    assert_agreement(duckdb.connect(), "duckdb", kind, IDS[kind] + extra)


@pytest.mark.parametrize("kind", IDS)
def test_postgres_assigns_every_id_type_as_python_does(pg_connection, kind):
    assert_agreement(pg_connection, "postgres", kind, IDS[kind])


WIDE_INTEGERS = [None, 2**100, -(2**100), 10**30 + 7]


def test_duckdb_hugeint_ids_keep_their_decimal_form():
    assert_agreement(duckdb.connect(), "duckdb", "integer", WIDE_INTEGERS, "HUGEINT")


def test_postgres_numeric_ids_keep_their_decimal_form(pg_connection):
    assert_agreement(pg_connection, "postgres", "integer", WIDE_INTEGERS, "NUMERIC(40, 0)")


@pytest.mark.parametrize(
    ("value", "text"),
    [("abc", "abc"), ("", ""), (42, "42"), (-7, "-7"), (True, "true"), (False, "false"), (42.0, "42"),
     (-0.0, "0"), (2.0**53 - 1, "9007199254740991"), (2.0**53, None), (0.5, None), (math.nan, None),
     (math.inf, None), (None, None)],
)  # fmt: skip
def test_an_id_has_one_canonical_text_form(value, text):
    assert canonical_id(value) == text


def test_an_id_lands_on_the_same_side_whatever_its_column_type():
    assert len({bucket("s", "p", v) for v in ("42", 42, 42.0)}) == 1
    assert bucket("s", "p", True) == bucket("s", "p", "true")


def test_a_null_id_is_never_held_out():
    assert bucket("s", "p", None) is None
    assert not in_holdout("s", "p", None, 0.5)
    assert not in_holdout("s", "p", 0.25, 0.5)


def test_the_bucket_is_the_documented_md5_prefix():
    digest = hashlib.md5(b"launch\x1ftrial_users\x1fuser-1", usedforsecurity=False).hexdigest()
    assert bucket("launch", "trial_users", "user-1") == int(digest[:15], 16)


def test_held_out_exactly_when_the_bucket_over_16_to_the_15_is_below_the_share():
    for n in range(300):
        h = bucket("s", "p", n)
        u = Fraction(h, 16**15)
        if not 0 < u <= Fraction(1, 2):
            continue
        below, above = math.nextafter(float(u), 0), math.nextafter(float(u), 1)
        for share in (below, float(u), above):
            if share <= 0.5:
                assert in_holdout("s", "p", n, share) == (u < Fraction(share)), (n, share)


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
@pytest.mark.parametrize("kind", IDS)
def test_every_dialects_sql_parses(dialect, kind):
    sql = holdout_sql(dialect, SALTS[1], "trial_users", "id", 0.1, id_kind=kind)
    sqlglot.parse_one(f"SELECT {sql} FROM t", read=dialect)
    # The one spelling PostgreSQL 15 and ANSI Spark reject (see the module docstring).
    if dialect in ("postgres", "databricks"):
        assert "'0x'" not in sql


@pytest.mark.parametrize(("share", "ids"), [(0.01, "i"), (0.1, "i"), (0.5, "i"), (0.2, "'user-' || i")])
def test_the_realised_share_of_a_million_rows_is_within_three_standard_errors(share, ids):
    kind = "integer" if ids == "i" else "string"
    held = holdout_sql("duckdb", "launch-2026", "trial_users", ids, share, id_kind=kind)
    rows = 1_000_000
    count = duckdb.connect().execute(f"SELECT count_if({held}) FROM range({rows}) AS t(i)").fetchone()[0]
    assert abs(count / rows - share) <= 3 * math.sqrt(share * (1 - share) / rows)


@pytest.mark.parametrize(
    "share", [0, 0.0, -0.1, 0.5000001, 0.51, 1, 1.5, math.nan, math.inf, True, "0.1", None]
)
def test_a_share_outside_zero_to_one_half_is_refused_naming_it(share):
    with pytest.raises(
        InputError, match=r"holdout_share: " + re.escape(repr(share)) + r" is outside \(0, 0.5\]"
    ):
        in_holdout("s", "p", "id", share)
    with pytest.raises(InputError, match=re.escape(repr(share))):
        holdout_sql("duckdb", "s", "p", "id", share)


def test_the_largest_and_smallest_shares_are_accepted():
    assert threshold(0.5) == 2**59
    assert threshold(5e-324) == 1  # only bucket 0 is held out
    assert holdout_sql("postgres", "s", "p", "id", 5e-324).endswith("< 1, FALSE)")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: bucket("s", "p", Decimal("1")), "Decimal"),
        (lambda: bucket("s", "p", b"1"), "bytes"),
        (lambda: bucket("s", "p", "\ud800"), "lone surrogate"),
        (lambda: bucket("bad\x1fsalt", "p", 1), "holdout_salt"),
        (lambda: bucket("s", "p\n", 1), "profile_id"),
        (lambda: bucket_sql("mysql", "s", "p", "id"), "'mysql'"),
        (lambda: bucket_sql("duckdb", "s", "p", "id", id_kind="date"), "'date'"),
    ],
)
def test_bad_ids_salts_dialects_and_kinds_are_refused_naming_them(call, message):
    with pytest.raises(InputError, match=re.escape(message)):
        call()


@pytest.fixture(scope="module")
def spark(spark_master):
    """The test run's local Spark session (ANSI mode, UTC; tests/spark_helpers.py): Spark runs in CI,
    so there a missing pyspark or Java fails these tests instead of skipping them."""
    from personalization_engine.audience.spark_session import spark_session

    return spark_session(spark_master)


@pytest.mark.parametrize("kind", IDS)
def test_spark_assigns_every_id_type_as_python_does(spark, kind):
    from pyspark.sql import types as T

    spark_types = {"string": T.StringType(), "integer": T.LongType(), "number": T.DoubleType()}
    schema = T.StructType(
        [T.StructField("n", T.IntegerType()), T.StructField("id", spark_types.get(kind, T.BooleanType()))]
    )
    ids = IDS[kind] + (["nul\x00byte"] if kind == "string" else [])
    spark.createDataFrame(list(enumerate(ids)), schema).createOrReplaceTempView("holdout_ids")

    def run(query: str) -> list:
        return spark.sql(query).collect()

    for salt in SALTS:
        assert sql_assignment(run, "databricks", "holdout_ids", salt, kind) == python_assignment(salt, ids)

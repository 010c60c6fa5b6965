"""Every target gives the same answer on hostile generated plans and records.

Python (column evaluator and explainer), the compiled SQL on DuckDB, PostgreSQL and Spark (the
Databricks SQL, in ANSI mode), and the compiled JSON Logic in panzi-json-logic and json-logic-js
must agree on eligibility, suppression, membership and winner, and on scores within 1e-9 relative;
Python's simulation and the compiled SQL agree on every record's holdout (in_holdout) with hostile
ids and salts. See agreement_gen.py and agreement_holdout.py for the families.

Size and seed: AGREEMENT_CASES (record x profile cases, default 10,000) and AGREEMENT_SEED (default:
a fresh random seed, printed in every failure). Spark plans every query for a fraction of a second,
so it evaluates every AGREEMENT_SPARK_EVERY-th generated plan (default 4; 1 for all of them). The
on-demand run is `AGREEMENT_CASES=200000 pytest tests/rules/test_agreement.py -q -s`.
"""

from __future__ import annotations

import os
import random
import time

import duckdb
import pytest

from .agreement_gen import ALL_OPS, KINDS
from .agreement_run import AgreementRun
from .engines import SparkTarget

MIN_CASES = 10_000
SPARK_EVERY = 4
EXPECTED_HARD_CASES = {
    *(f"op:{op}" for op in ALL_OPS),
    *(f"kind:{kind}" for kind in KINDS),
    *(f"null:{where}" for where in ("eligibility", "suppression", "scoring", "decay", "not", "any", "all")),
    "boundary:window",
    "boundary:instant",
    "boundary:lookback",
    "boundary:half_life",
    "decay:half_life",
    "decay:lookback",
    "nested:not>any",
    "nested:not>all",
    "nested:any>all",
    "nested:all>any",
    *(f"mode:{m}" for m in ("rule", "score", "rule_and_score", "rule_or_score")),
    "priority:tie",
    "winner:none",
    "winner:some",
    # the families of issue 14
    "name:plain",
    "name:reserved",
    "name:generated",
    "name:prototype",
    "now:fractional",
    "now:non_utc",
    "now:far",
    "window:max",
    "session:non_utc",
    "value:integer_beyond_2**53",
    "value:time_outside_1685_2254",
    "jsonlogic:refused_plan",
    "jsonlogic:refused_record",
    "jsonlogic_js:records",
    # issue 17: holdout assignment (agreement_holdout.py)
    *(f"holdout_id:{kind}" for kind in ("string", "integer", "number", "boolean")),
    "holdout:held",
    "holdout:treatment",
    "holdout:winner_without_holdout",
    "holdout:id_without_canonical_text",
    "holdout:on_spark",
}


def wanted_cases() -> int:
    return int(os.environ.get("AGREEMENT_CASES", MIN_CASES))


def seed() -> int:
    given = os.environ.get("AGREEMENT_SEED")
    return int(given) if given else random.SystemRandom().randrange(2**32)


@pytest.mark.slow
def test_python_sql_and_json_logic_agree_on_hostile_generated_plans(
    pg_connection, node_jsonlogic, spark_master, capsys
):
    from personalization_engine.audience.spark_session import spark_session

    chosen = seed()
    duck = duckdb.connect()
    spark = SparkTarget(spark_session(spark_master))
    every = int(os.environ.get("AGREEMENT_SPARK_EVERY", SPARK_EVERY))
    started = time.perf_counter()
    try:
        run = AgreementRun(chosen, duck, pg_connection, node_jsonlogic, spark=spark, spark_every=every)
        counter = run.run(wanted_cases())
    finally:
        pg_connection.execute("SET TimeZone = 'UTC'")
        spark.spark.conf.set("spark.sql.session.timeZone", "UTC")
        duck.close()
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\nagreement: seed {chosen}, {counter['cases']} record x profile cases in "
            f"{counter['plans']} plans ({counter['spark:plans']} on Spark), {elapsed:.1f} s"
        )
    missing = sorted(EXPECTED_HARD_CASES - set(counter))
    assert not missing, f"AGREEMENT_SEED={chosen}: the generator never produced {missing}"
    assert counter["cases"] >= wanted_cases() >= 1, counter["cases"]
    assert counter["spark:plans"] >= counter["plans"] // every >= 1, counter["spark:plans"]

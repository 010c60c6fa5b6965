"""Agreement of the dbt export's models with our evaluator on generated hostile plans (see
dbt_agreement.py): every operator, NULLs, window edges, priorities, consent gates, Jinja in strings.

Size and seed: EXPORT_AGREEMENT_CASES (record x profile cases, default 10,000) and
EXPORT_AGREEMENT_SEED (default: a fresh random seed, printed in every failure). The same cases run on
DuckDB and on PostgreSQL (the audience tests' server: skipped without one outside CI).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from ..audience.conftest import pg_dsn  # noqa: F401 (the PostgreSQL server fixture)
from .dbt_agreement import DbtAgreement

MIN_CASES = 10_000
EXPECTED = {
    *(f"op:{op}" for op in ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "is_null",
                             "is_not_null", "between", "within_last", "not_within_last", "before", "after")),
    "boundary:window", "boundary:instant", "boundary:lookback", "boundary:half_life",
    "decay:half_life", "decay:lookback", "priority:tie", "winner:none", "winner:some",
    "null:eligibility", "null:suppression", "null:scoring", "null:decay",
    "name:reserved", "name:generated", "now:non_utc", "now:far", "window:max", "session:non_utc",
    "channel:some", "channel:none", "gate:blocked", "jinja:string",
}  # fmt: skip


def wanted_cases() -> int:
    return int(os.environ.get("EXPORT_AGREEMENT_CASES", MIN_CASES))


def seed() -> int:
    given = os.environ.get("EXPORT_AGREEMENT_SEED")
    return int(given) if given else random.SystemRandom().randrange(2**32)


@pytest.fixture(scope="module")
def pg_agreement(request: pytest.FixtureRequest) -> Iterator[Any]:
    """An autocommit connection to a database of its own on the test server; None outside CI when
    there is no PostgreSQL (then DuckDB alone runs the cases; in CI a missing server fails)."""
    try:
        pg_dsn = request.getfixturevalue("pg_dsn")
    except pytest.skip.Exception:
        yield None
        return
    import psycopg

    database = "pe_dbt_agreement"
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
        admin.execute(f'CREATE DATABASE "{database}"')
    with psycopg.connect(pg_dsn.rsplit("/", 1)[0] + "/" + database, autocommit=True) as connection:
        yield connection


@pytest.mark.slow
def test_dbt_models_agree_with_our_evaluator_on_hostile_generated_plans(pg_agreement, capsys) -> None:
    chosen = seed()
    started = time.perf_counter()
    with duckdb.connect() as duck:
        engines = {"duckdb": duck, **({"postgres": pg_agreement} if pg_agreement is not None else {})}
        counter = DbtAgreement(chosen, engines).run(wanted_cases())
    with capsys.disabled():
        print(
            f"\ndbt agreement: seed {chosen}, {counter['cases']} record x profile cases in "
            f"{counter['plans']} plans on DuckDB and {counter['cases:postgres']} on PostgreSQL, "
            f"{time.perf_counter() - started:.1f}s"
        )
    missing = sorted(EXPECTED - set(counter))
    assert not missing, f"EXPORT_AGREEMENT_SEED={chosen}: the generator never produced {missing}"
    assert counter["cases"] >= wanted_cases()
    if pg_agreement is not None:
        assert counter["cases:postgres"] == counter["cases"]

"""Agreement of the dbt export's models with our evaluator on generated hostile plans (see
dbt_agreement.py): every operator, NULLs, window edges, priorities, consent gates, Jinja in strings.

Size and seed: EXPORT_AGREEMENT_CASES (record x profile cases, default 10,000) and
EXPORT_AGREEMENT_SEED (default: a fresh random seed, printed in every failure).
"""

from __future__ import annotations

import os
import random
import time

import duckdb
import pytest

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


@pytest.mark.slow
def test_dbt_models_agree_with_our_evaluator_on_hostile_generated_plans(capsys) -> None:
    chosen = seed()
    started = time.perf_counter()
    with duckdb.connect() as duck:
        counter = DbtAgreement(chosen, duck).run(wanted_cases())
    with capsys.disabled():
        print(
            f"\ndbt agreement: seed {chosen}, {counter['cases']} record x profile cases in "
            f"{counter['plans']} plans, {time.perf_counter() - started:.1f}s"
        )
    missing = sorted(EXPECTED - set(counter))
    assert not missing, f"EXPORT_AGREEMENT_SEED={chosen}: the generator never produced {missing}"
    assert counter["cases"] >= wanted_cases()

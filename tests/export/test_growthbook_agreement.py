"""GrowthBook's Python SDK agrees with our evaluator on hostile generated plans, exported to GrowthBook.

For every record and every profile the export carries, the saved group's membership (through a probe
feature) equals ours, and every channel feature returns the profile our priority walk gives, at the
export instant. Refused profiles are counted, not compared. No network: a guard fails any
non-loopback connection or lookup.

Size and seed: EXPORT_AGREEMENT_CASES (record x profile cases, default 10,000) and
EXPORT_AGREEMENT_SEED (default: a fresh random seed, printed in every failure). On demand:
`EXPORT_AGREEMENT_CASES=200000 pytest tests/export/test_growthbook_agreement.py -q -s`.
"""

from __future__ import annotations

import os
import random
import time

from ..rules.agreement_gen import ALL_OPS, KINDS
from .growthbook_agreement import GrowthBookAgreement
from .growthbook_engine import check_sdk_version, offline

MIN_CASES = 10_000
EXPECTED = {
    *(f"op:{op}" for op in ALL_OPS),
    *(f"kind:{kind}" for kind in KINDS),
    *(f"null:{where}" for where in ("eligibility", "suppression", "scoring", "not", "any", "all")),
    *(f"mode:{m}" for m in ("rule", "score", "rule_and_score", "rule_or_score")),
    "boundary:window",
    "boundary:instant",
    "boundary:lookback",
    "decay:lookback",
    "priority:tie",
    "name:reserved",
    "name:prototype",
    "name:generated",
    "now:fractional",
    "now:non_utc",
    "value:integer_beyond_2**53",
    "value:time_outside_1685_2254",
    "cutoffs",
    "member",
    "not_member",
    "channel:profile",
    "channel:none",
    "member_but_none",
    # what GrowthBook cannot carry, refused rather than compared
    "refused:half_life",
    "refused:negative weight",
    "refused:time_range",
    "refused:integer_2**53",
    "refused:gate",
}


def wanted_cases() -> int:
    return int(os.environ.get("EXPORT_AGREEMENT_CASES", MIN_CASES))


def seed() -> int:
    given = os.environ.get("EXPORT_AGREEMENT_SEED")
    return int(given) if given else random.SystemRandom().randrange(2**32)


def test_growthbook_sdk_agrees_with_our_evaluator_on_hostile_generated_plans(capsys):
    check_sdk_version()
    chosen = seed()
    started = time.perf_counter()
    with offline():
        counter = GrowthBookAgreement(chosen).run(wanted_cases())
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\ngrowthbook agreement: seed {chosen}, {counter['cases']} record x profile cases in "
            f"{counter['plans']} plans, {elapsed:.1f} s"
        )
    missing = sorted(EXPECTED - set(counter))
    assert not missing, f"EXPORT_AGREEMENT_SEED={chosen}: the generator never produced {missing}"
    assert counter["cases"] >= wanted_cases() >= 1, counter["cases"]

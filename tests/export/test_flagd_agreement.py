"""flagd's own engines agree with our evaluator on hostile generated plans exported to flagd.

Every record x carried profile membership, and every channel flag's variant, is evaluated through the
OpenFeature Python SDK with the flagd provider's in-process resolver reading the exported file
offline (.venv-flagd) and through @openfeature/flagd-core under Node, at the case's evaluation time
floored to whole seconds, and compared with rules.simulate at that same instant.

The clock: flagd sets `$flagd.timestamp` itself and a context cannot override it. The Python runner
replaces the `time` name inside openfeature.contrib.tools.flagd.core.targeting.targeting with a
clock that returns the case's instant; the Node runner replaces Date.now (flagd-core reads
Math.floor(Date.now() / 1000)). See flagd_runner.py and js/evaluate.js.

Size and seed: EXPORT_AGREEMENT_CASES (record x profile cases, default 10,000) and
EXPORT_AGREEMENT_SEED (default: a fresh seed, printed in every failure and in the summary line).
"""

from __future__ import annotations

import os
import random
import time

import pytest

from ..rules.agreement_gen import ALL_OPS, KINDS
from .flagd_agreement import FlagdAgreement
from .flagd_engines import flagd_node, flagd_python, run_both

MIN_CASES = 10_000
EXPECTED = {
    *(f"op:{op}" for op in ALL_OPS),
    *(f"kind:{kind}" for kind in KINDS),
    *(f"null:{where}" for where in ("eligibility", "suppression", "scoring", "decay", "not", "any", "all")),
    *(f"mode:{m}" for m in ("rule", "score", "rule_and_score", "rule_or_score")),
    "boundary:window",
    "boundary:instant",
    "boundary:lookback",
    "decay:lookback",
    "decay:half_life",
    "priority:tie",
    "name:reserved",
    "name:prototype",
    "window:max",
    "now:non_utc",
    "flagd:refused_plan",
    "flagd:refused_profile",
    "flagd:refused_record",
    "flag:none",
    "flag:profile",
    "flagd:shared",
    "flagd:inline",
}


def _seed() -> int:
    given = os.environ.get("EXPORT_AGREEMENT_SEED")
    return int(given) if given else random.SystemRandom().randrange(2**32)


@pytest.mark.slow
def test_flagd_provider_and_flagd_core_agree_with_our_evaluator_on_generated_plans(capsys):
    python, node = flagd_python(), flagd_node()
    seed = _seed()
    wanted = int(os.environ.get("EXPORT_AGREEMENT_CASES", MIN_CASES))
    started = time.perf_counter()
    run = FlagdAgreement(seed)
    run.build(wanted)
    built = time.perf_counter()
    from_python, from_node = run_both(python, node, run.jobs)
    evaluated = time.perf_counter()
    run.check("flagd provider (Python)", from_python)
    run.check("flagd-core (Node)", from_node)
    done = time.perf_counter()
    with capsys.disabled():
        print(
            f"\nflagd agreement: seed {seed}, {run.counter['cases']} record x profile cases and "
            f"{run.counter['flag:none'] + run.counter['flag:profile']} flag variants in "
            f"{run.counter['plans']} plans; generate+export {built - started:.1f} s, both engines side by "
            f"side {evaluated - built:.1f} s, compare {done - evaluated:.1f} s"
        )
    missing = sorted(EXPECTED - set(run.counter))
    assert not missing, f"EXPORT_AGREEMENT_SEED={seed}: the generator never produced {missing}"
    assert run.counter["cases"] >= wanted >= 1, run.counter["cases"]
    # members of holdout profiles held out, or with pe_holdout absent or not a string, got "none"
    assert run.counter["flag:held_out_or_unsynced"] > 0, run.counter

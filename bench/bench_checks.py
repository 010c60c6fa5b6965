"""Checks guard (issue 12): run_checks on 10,000 attributes and 1,000 profiles, and linear in size.

The full plan also has 2,000 activations (two channels a profile) and about 1% defects
(bench/plan_documents.py). It is measured at 1/4, 1/2 and full size; if the cost is linear, the time
per item (attribute or profile) stays the same at every size. Each round checks a plan validated
afresh from its JSON document (untimed), so nothing the checks remember about a plan object is reused.

Goal: under 250 ms at full size. Run: python bench/bench_checks.py   (BENCH_ROUNDS=7 by default)
"""

from __future__ import annotations

import gc
import os
import statistics
import time

from plan_documents import plan_document

from personalization_engine.checks.run import run_checks
from personalization_engine.model import Plan

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
FULL_ATTRIBUTES, FULL_PROFILES = 10_000, 1_000
SCALES = (0.25, 0.5, 1.0)
BUDGET_MS = 250.0


def check_times(document: dict) -> tuple[list[float], list[float], int]:
    """Wall and CPU seconds per run_checks call over ROUNDS fresh plans, and the number of findings.

    CPU time is there to tell the checks' cost from a busy machine's: on an idle one they agree."""
    wall, cpu, findings = [], [], 0
    for _ in range(ROUNDS):
        plan = Plan.model_validate(document)
        gc.collect()  # the collection that building the plan owes is not the checks' cost
        start, start_cpu = time.perf_counter(), time.process_time()
        findings = len(run_checks(plan))
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu, findings


def main() -> None:
    print(
        f"run_checks, median and fastest of {ROUNDS} rounds, each on a freshly validated plan; "
        f"load average {os.getloadavg()[0]:.1f}\n"
    )
    print("| attributes | profiles | activations | findings | median ms | fastest ms | CPU ms | µs an item |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    full_ms = 0.0
    for scale in SCALES:
        attributes, profiles = int(FULL_ATTRIBUTES * scale), int(FULL_PROFILES * scale)
        document = plan_document(attributes, profiles)
        samples, cpu, findings = check_times(document)
        median_ms = statistics.median(samples) * 1000
        per_item_us = median_ms * 1000 / (attributes + profiles)
        print(
            f"| {attributes:,} | {profiles:,} | {len(document['activations']):,} | {findings:,} "
            f"| {median_ms:.1f} | {min(samples) * 1000:.1f} | {statistics.median(cpu) * 1000:.1f} "
            f"| {per_item_us:.2f} |"
        )
        full_ms = median_ms
    verdict = "met" if full_ms < BUDGET_MS else f"MISSED by {full_ms - BUDGET_MS:.0f} ms"
    print(f"\nfull size: {full_ms:.1f} ms median; goal under {BUDGET_MS:g} ms: {verdict}")


if __name__ == "__main__":
    main()

"""Render benchmark (issue 6): every deliverable for a plan with 1,000 attributes and 100 profiles.

Goal: all deliverables under 1 s. The plan also has a data source, two activations per profile and a
scenario per profile, so the checklist, the consent matrix and the scenario run do real work. Prints
the median of several rounds for the whole render and for each part.

Run: python bench/bench_render.py   (figures go in docs/performance.md, section "Render")
     BENCH_ROUNDS (default 5), BENCH_ATTRIBUTES (1000) and BENCH_PROFILES (100) shrink a trial run.
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from plans import fill

from personalization_engine.model import Activation, Plan, Scenario
from personalization_engine.render import (
    DELIVERABLES,
    PlanView,
    build_view,
    render_activation_checklist_md,
    render_data_contract,
    render_deliverables,
    render_plan_md,
    render_profile_schema_csv,
    render_profile_schema_md,
    render_profiles_md,
    render_report_html,
)

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
# The plan's size: BENCH_ATTRIBUTES attributes and BENCH_PROFILES profiles (the 1,000 and 100).
ATTRIBUTES = int(os.environ.get("BENCH_ATTRIBUTES", "1000"))
PROFILES = int(os.environ.get("BENCH_PROFILES", "100"))
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
BUDGET_S = 1.0
# Each deliverable by file name, through the render layer's public functions (render_deliverables
# renders these same files from one shared view).
RENDERERS: dict[str, Callable[[PlanView], str]] = {
    "profile-schema.md": render_profile_schema_md,
    "profile-schema.csv": render_profile_schema_csv,
    "profiles.md": render_profiles_md,
    "activation-checklist.md": render_activation_checklist_md,
    "plan.md": render_plan_md,
    "data-contract.odcs.yaml": render_data_contract,
    "report.html": render_report_html,
}
assert tuple(RENDERERS) == DELIVERABLES, "a deliverable was added or renamed: list its render function"


def bench_plan(attributes: int = ATTRIBUTES, profiles: int = PROFILES) -> Plan:
    plan = fill(
        Plan(
            plan_id="plan-20261124T090000Z",
            revision=1,
            created_at=NOW,
            updated_at=NOW,
            initiative="Render benchmark",
            channels=("web", "email"),
        ),
        attributes,
        profiles,
    )
    activations = tuple(
        Activation.model_validate(
            {
                "profile_id": p.id,
                "channel": channel,
                "destination": "Braze" if channel == "email" else "Optimizely",
                "sync_mode": "batch_hourly",
                "match_keys": ["attr_00000"],
                "payload_attributes": [f"attr_{(i * 7) % attributes:05d}"],
                "consent_gate": ["email_opt_in", "not unsubscribed", "personalization_storage"],
                "fallback_state": "default",
                "owner": "Growth",
            }
        )
        for i, p in enumerate(plan.profiles)
        for channel in ("web", "email")
    )
    # as_of as a stored plan has it (the server fills in the write time when it is left out).
    scenarios = tuple(
        Scenario(
            id=f"s-{i:04d}",
            record={f"attr_{(i * 5 + 1) % attributes:05d}": i + 1},
            expected_profile=None,
            as_of=NOW,
        )
        for i in range(profiles)
    )
    plan = plan.model_copy(update={"activations": activations, "scenarios": scenarios})
    return Plan.model_validate(plan.model_dump(by_alias=True))


def median_seconds(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(ROUNDS):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(plan: Plan, title: str) -> float:
    render_deliverables(plan)  # warm up: template compilation and imports happen once per process
    total = median_seconds(lambda: render_deliverables(plan))
    view = build_view(plan)
    sizes = {name: len(text.encode()) for name, text in render_deliverables(plan).items()}
    print(
        f"\n{title}: {len(plan.attributes)} attributes, {len(plan.profiles)} profiles, "
        f"{len(plan.activations)} activations, {len(plan.scenarios)} scenarios; median of {ROUNDS} rounds\n"
    )
    print("| part | median ms | output KiB |")
    print("|---|---:|---:|")
    view_ms = median_seconds(lambda: build_view(plan)) * 1000
    print(f"| build_view (checks, scenarios, SQL, matrix, diagrams) | {view_ms:.0f} | |")
    for name, renderer in RENDERERS.items():
        print(
            f"| {name} | {median_seconds(lambda r=renderer: r(view)) * 1000:.0f} | {sizes[name] / 1024:.0f} |"
        )
    print(f"| **all deliverables** | **{total * 1000:.0f}** | {sum(sizes.values()) / 1024:.0f} |")
    print(f"\ngoal: under {BUDGET_S:.0f} s -> {'met' if total < BUDGET_S else 'MISSED'}")
    return total


def main() -> None:
    plan = bench_plan()
    report(plan.model_copy(update={"scenarios": []}), "The issue's plan")
    # Scenarios cost the checks an explained simulation of every profile for every record.
    report(plan, "With a scenario per profile")


if __name__ == "__main__":
    main()

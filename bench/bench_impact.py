"""Impact benchmark (issue 17): the impact between two revisions against one sizing run, same Parquet.

DuckDB, N rows of sample data (default 10,000,000) as Parquet, the 10-profile benchmark plan
(bench/audience_plan.py) at revision 2 and the same plan with one rule changed at revision 3 (the
demo's change: power users from a feature adoption score of 60, not 70). Measured in process,
interleaved (sizing, impact, sizing, impact, ...), each the median of --repeat runs:
  - one sizing run: the sizing query for revision 3 through the open data session (measure_request);
  - the impact: both revisions' rules in one query over the same session kind (measure_impact).
Goal: impact <= 1.3x one sizing run. Prints figures; asserts only that the impact's winners under
revision 3 equal the sizing run's (so both counted the same thing).

Run: python bench/bench_impact.py [--rows 10000000] [--repeat 5] [--folder /tmp/pe-bench-impact]
The Parquet file is written once per row count and reused.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_audience import NOW, new_plan, workspace

from personalization_engine.audience import data_request, write_sample_data
from personalization_engine.audience.backends import measure_request
from personalization_engine.audience.impact import measure_impact
from personalization_engine.model import Plan, Profile

CHANGED_PROFILE = "power-user-upgrade"


def with_one_rule_changed(plan: Plan) -> Plan:
    def changed(profile: Profile) -> Profile:
        if profile.id != CHANGED_PROFILE:
            return profile
        data = profile.model_dump(mode="json", by_alias=True)
        for condition in data["eligibility"]["all"]:
            if condition.get("attr") == "feature_adoption_score":
                condition["value"] = 60
        return Profile.model_validate(data)

    return plan.model_copy(update={"profiles": tuple(changed(p) for p in plan.profiles)})


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--folder", default="/tmp/pe-bench-impact")
    args = parser.parse_args()

    engine = workspace(Path(args.folder))
    data = Path(args.folder) / "data" / f"users-{args.rows}.parquet"
    if not data.exists():
        data.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        write_sample_data(data, args.rows, reference=NOW)
        print(f"wrote {args.rows:,} rows to {data} in {time.perf_counter() - started:.1f} s")
    plan_id = new_plan(engine)
    engine.apply(plan_id, "profiles", with_one_rule_changed, expected_revision=2, actor="bench")
    before, after = engine.read_plan(plan_id, 2), engine.read_plan(plan_id, 3)
    request = data_request(engine.ws.root, data=str(data), dsn=None, table=None)

    sizing_times: list[float] = []
    impact_times: list[float] = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        sized = measure_request(request, after, NOW)
        sizing_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        impact = measure_impact(request, before, after, NOW)
        impact_times.append(time.perf_counter() - started)

    winners = {p.profile_id: p.winners_after for p in impact.profiles}
    expected = {pid: sized.values[f"winner_{i}"] for i, pid in enumerate(sized.query.profile_ids)}
    assert winners == expected, (winners, expected)
    moved = sum(f.records for f in impact.flows if f.from_profile != f.to_profile)
    sizing, measured = statistics.median(sizing_times), statistics.median(impact_times)
    print(
        f"DuckDB, {args.rows:,} rows x 10 profiles of Parquet, one rule changed ({moved:,} records move), "
        f"interleaved medians of {args.repeat}, {date.today().isoformat()}, {platform.machine()} "
        f"{platform.processor() or ''}".rstrip()
    )
    print(f"  one sizing run (revision 3):        {sizing:.3f} s")
    print(f"  impact, revisions 2 and 3 (1 scan): {measured:.3f} s")
    print(f"  ratio impact / sizing:              {measured / sizing:.2f}x (goal <= 1.3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

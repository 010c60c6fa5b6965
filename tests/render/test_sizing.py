"""The latest audience sizing run shows in plan.md and report.html, with an overlap heatmap."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from personalization_engine.model import Plan
from personalization_engine.model.plan import SizingRun
from personalization_engine.render import render_deliverables
from personalization_engine.render.sizing import latest_sizing

from .helpers import example_plan

AT = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def sized(plan: Plan) -> Plan:
    ids = [p.id for p in plan.profiles]
    run = SizingRun.model_validate(
        {
            "id": "size-1",
            "at": AT,
            "actor": "test",
            "evaluated_at": AT,
            "plan_revision": plan.revision,
            "source": {"kind": "parquet", "location": "data/users.parquet"},
            "row_count": 120_000,
            "profiles": [
                {
                    "profile_id": pid,
                    "priority": p.priority,
                    "eligible": 1000 * (i + 1),
                    "suppressed": 10 * i,
                    "removed_by_suppression": 5 * i,
                    "net": 900 * (i + 1),
                    "winner": 800 * (i + 1),
                }
                for i, (pid, p) in enumerate(zip(ids, plan.profiles, strict=True))
            ],
            "overlaps": [{"profile_a": ids[0], "profile_b": ids[1], "both": 4321}],
            "channels": [{"channel": "email", "reachable": 5000, "net_activatable": 4100}],
            "coverage": [
                {
                    "name": plan.attributes[0].name,
                    "required": True,
                    "column_present": True,
                    "column_type": "VARCHAR",
                    "non_null": 119_000,
                    "coverage_pct": 99.17,
                }
            ],
            "data_coverage_pct": 97.5,
        }
    )
    return plan.model_copy(update={"sizing_runs": (run,)})


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return render_deliverables(sized(example_plan()))


def test_plan_md_shows_the_latest_sizing_per_profile_and_channel(files):
    plan_md = files["plan.md"]
    assert "### Latest audience sizing" in plan_md
    assert "- **Rows:** 120,000" in plan_md
    assert "| `new-trial-activation` | 10 | 1,000 | 0 | 0 | 900 | 800 |" in plan_md
    assert "| email | 5,000 | 4,100 |" in plan_md


def test_report_html_draws_the_overlap_heatmap_and_the_measured_coverage(files):
    page = files["report.html"]
    assert 'id="sizing"' in page and "Overlap heatmap" in page
    assert 'class="diagram heatmap"' in page
    assert "4321" in page  # the shared members, inside a heatmap cell's title
    assert "<th>Measured coverage</th>" in page and "99.17%" in page


def test_plans_without_sizing_leave_the_section_out():
    plan = example_plan().model_copy(update={"sizing_runs": ()})
    assert latest_sizing(plan) is None
    assert 'id="sizing"' not in render_deliverables(plan)["report.html"]

"""Consent-flow QA findings on the clean plan, evaluated at its updated_at (2026-11-24T09:12Z).

The clean plan's in-app (/activations/1) and web (/activations/2) flows each passed on 2026-11-23;
its qa_cadence is weekly. Every time here is fixed, so nothing depends on today's date.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from personalization_engine.checks.qa_findings import qa_findings
from personalization_engine.checks.run import run_checks
from personalization_engine.model.ledger import QaResult

from .helpers import clean_plan, update_at

EVALUATED = datetime(2026, 11, 24, 9, 12, tzinfo=timezone.utc)
WEEK = timedelta(days=7)


def run(n: int, outcome: str, ran_at: datetime, activation: str = "active_pro/web") -> QaResult:
    profile_id, channel = activation.split("/")
    return QaResult.model_validate(
        {
            "id": f"qa-{n}",
            "profile_id": profile_id,
            "channel": channel,
            "url": "https://www.example.com/",
            "outcome": outcome,
            "ran_at": ran_at,
            "artefact_sha256": "0" * 64,
            "recorded_by": "test",
            "recorded_at": EVALUATED,
        }
    )


def with_runs(*runs: QaResult, cadence: str | None = "weekly"):
    plan = clean_plan()
    governance = plan.governance.model_copy(update={"qa_cadence": cadence})
    # Keep the clean plan's in-app run; replace the web one with these.
    kept = tuple(r for r in plan.qa_results if r.channel != "web")
    return plan.model_copy(update={"qa_results": (*kept, *runs), "governance": governance})


def codes(plan) -> list[tuple[str, str, str]]:
    return [(f.code, f.severity, f.pointer) for f in qa_findings(plan)]


def test_the_clean_plans_flows_passed_within_the_cadence_so_nothing_is_reported():
    assert codes(clean_plan()) == []
    assert run_checks(clean_plan()) == []


def test_a_web_or_in_app_activation_without_a_flow_is_reported_and_email_is_not():
    plan = clean_plan()
    activations = update_at(plan.activations, 1, qa_flow=None)
    activations = update_at(activations, 0, qa_flow=plan.activations[2].qa_flow)  # email: ignored
    assert codes(plan.model_copy(update={"activations": activations})) == [
        ("qa.flow_missing", "warning", "/activations/1")
    ]


def test_a_flow_with_no_result_is_missing():
    assert codes(with_runs()) == [("qa.missing", "warning", "/activations/2/qa_flow")]


def test_the_latest_run_by_time_decides_even_when_it_was_recorded_before_an_older_one():
    failed_then_passed = with_runs(
        run(3, "failed", EVALUATED - timedelta(hours=2)), run(4, "passed", EVALUATED)
    )
    assert codes(failed_then_passed) == []
    late_record_of_an_old_pass = with_runs(
        run(3, "failed", EVALUATED - timedelta(hours=1)), run(4, "passed", EVALUATED - timedelta(hours=2))
    )
    assert codes(late_record_of_an_old_pass) == [("qa.failed", "error", "/activations/2/qa_flow")]
    message = qa_findings(late_record_of_an_old_pass)[0].message
    assert "active_pro/web's latest consent-flow QA (qa-3, ran 2026-11-24T08:12:00Z) failed" in message


@pytest.mark.parametrize(
    ("age", "cadence", "stale"),
    [
        (WEEK, "weekly", False),  # exactly one cadence old: still current
        (WEEK + timedelta(seconds=1), "weekly", True),
        (timedelta(days=2), "daily", True),
        (timedelta(days=29), "monthly", False),
        (timedelta(days=31), "monthly", True),
        (timedelta(days=15), "14d", True),
        (timedelta(days=400), None, False),  # no cadence, no staleness
    ],
)
def test_a_passed_run_older_than_the_qa_cadence_at_evaluation_time_is_stale(age, cadence, stale):
    plan = with_runs(run(3, "passed", EVALUATED - age), cadence=cadence)
    expected = [("qa.stale", "warning", "/activations/2/qa_flow")] if stale else []
    assert codes(plan) == expected


def test_staleness_is_measured_at_updated_at_not_today():
    plan = with_runs(run(3, "passed", EVALUATED - timedelta(days=3)))
    assert codes(plan) == []
    later = plan.model_copy(update={"updated_at": EVALUATED + WEEK})
    # Both flows have aged past a week by then: the in-app run of 2026-11-23 and this web run.
    assert codes(later) == [
        ("qa.stale", "warning", "/activations/1/qa_flow"),
        ("qa.stale", "warning", "/activations/2/qa_flow"),
    ]
    assert "ran 2026-11-21T09:12:00Z, longer ago than the governance qa_cadence of weekly" in (
        qa_findings(later)[1].message
    )


def test_a_run_time_without_a_zone_in_a_hand_edited_plan_reads_as_utc():
    naive = run(3, "passed", datetime(2026, 11, 16, 9, 11))  # 8 days before evaluation
    assert naive.ran_at.tzinfo is None
    assert codes(with_runs(naive)) == [("qa.stale", "warning", "/activations/2/qa_flow")]


def test_a_failed_run_is_reported_as_failed_not_stale_however_old():
    plan = with_runs(run(3, "failed", EVALUATED - timedelta(days=60)))
    assert codes(plan) == [("qa.failed", "error", "/activations/2/qa_flow")]

"""The ledger tools' operations through a real Engine on a real git repository."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from personalization_engine.core.ledger import (
    record_approval,
    record_blocker,
    record_failed_attempt,
    resolve_blocker,
)
from personalization_engine.errors import InputError
from personalization_engine.model import Attribute, Plan
from personalization_engine.model.plan import FallbackOwner, LadderRung
from personalization_engine.model.stages import OwnerAssignment

from ..conftest import git

NOW = datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc)


def apply(engine, plan_id, mutate):
    return engine.apply(plan_id, "governance", mutate, expected_revision=None, actor="privacy-lead")


def blocker(engine, plan_id, subject="EU email consent sync", kind="consent"):
    return apply(
        engine,
        plan_id,
        lambda p: record_blocker(
            p, kind=kind, subject=subject, detail="opt-ins missing", actor="claude", now=NOW
        ),
    )


def last_message(repo_dir) -> str:
    return git(repo_dir, "log", "-1", "--format=%B")


def test_a_first_blocker_is_recorded_without_escalating(engine, plan_id, repo_dir):
    blocker(engine, plan_id)
    plan = engine.read_plan(plan_id)
    assert [(b.id, b.kind, b.subject, b.status, b.recorded_by) for b in plan.blockers] == [
        ("blk-1", "consent", "EU email consent sync", "open", "claude")
    ]
    assert plan.escalations == ()
    assert "Escalation:" not in last_message(repo_dir)


def test_a_blocker_recorded_twice_escalates_to_rung_2_with_an_escalation_trailer(engine, plan_id, repo_dir):
    blocker(engine, plan_id)
    result = blocker(engine, plan_id)
    (escalation,) = engine.read_plan(plan_id).escalations
    assert escalation.rung == 2
    assert escalation.role == "Data Privacy Lead"
    assert escalation.status == "open"
    assert escalation.blocker_ids == ("blk-1", "blk-2")
    assert escalation.trigger == "consent blocker 'EU email consent sync' open 2 times"
    assert "Escalation: esc-1 open (rung 2, Data Privacy Lead)" in last_message(repo_dir)
    assert ("ledger.escalation_open", "/escalations/0") in [(f.code, f.pointer) for f in result.new_findings]


def test_a_different_subject_is_a_different_blocker(engine, plan_id):
    blocker(engine, plan_id, subject="EU email consent sync")
    blocker(engine, plan_id, subject="US email consent sync")
    blocker(engine, plan_id, subject="EU email consent sync", kind="compliance")
    assert engine.read_plan(plan_id).escalations == ()


def test_each_further_repeat_climbs_a_rung_up_to_the_top_and_supersedes_the_last(engine, plan_id, repo_dir):
    for _ in range(4):
        blocker(engine, plan_id)
    plan = engine.read_plan(plan_id)
    assert [(e.id, e.rung, e.status) for e in plan.escalations] == [
        ("esc-1", 2, "superseded"),
        ("esc-2", 3, "superseded"),
        ("esc-3", 3, "open"),
    ]
    assert plan.escalations[-1].blocker_ids == ("blk-1", "blk-2", "blk-3", "blk-4")
    assert "esc-2 superseded (rung 3, Exec sponsor); esc-3 open (rung 3, Exec sponsor)" in last_message(
        repo_dir
    )


def test_resolving_a_blocker_records_its_remediation_and_resolves_its_escalation(engine, plan_id, repo_dir):
    blocker(engine, plan_id)
    blocker(engine, plan_id)
    result = apply(
        engine,
        plan_id,
        lambda p: resolve_blocker(
            p, blocker_id="blk-2", remediation="backfilled opt-ins from the ESP", actor="priya", now=NOW
        ),
    )
    plan = engine.read_plan(plan_id)
    resolved = plan.blockers[1]
    assert (resolved.status, resolved.remediation, resolved.resolved_by) == (
        "resolved",
        "backfilled opt-ins from the ESP",
        "priya",
    )
    (escalation,) = plan.escalations
    assert (escalation.status, escalation.remediation) == ("resolved", "backfilled opt-ins from the ESP")
    assert "Escalation: esc-1 resolved (rung 2, Data Privacy Lead)" in last_message(repo_dir)
    assert ("ledger.escalation_open", "/escalations/0") in [
        (f.code, f.pointer) for f in result.resolved_findings
    ]
    # blk-1 is the same problem (same kind and subject), so it is resolved with blk-2.
    assert [b.status for b in plan.blockers] == ["resolved", "resolved"]
    # The problem coming back starts over: a first report is handled at rung 1, a repeat escalates.
    blocker(engine, plan_id)
    assert [(e.rung, e.status) for e in engine.read_plan(plan_id).escalations] == [(2, "resolved")]
    blocker(engine, plan_id)
    assert [(e.rung, e.status) for e in engine.read_plan(plan_id).escalations] == [
        (2, "resolved"),
        (2, "open"),
    ]


def staff_ladder(plan: Plan) -> Plan:
    ladder = (
        LadderRung(role="Personalization Architect", owner="Ana Ruiz"),
        LadderRung(role="Data Privacy Lead", owner="Priya Shah"),
        LadderRung(role="Exec sponsor", owner="Sam Lee"),
    )
    owners = (
        OwnerAssignment(area="privacy", owner="Priya Shah", backup="Lee Chen", availability="absent",
                        absent_until=date(2026, 12, 1)),
    )  # fmt: skip
    return plan.model_copy(
        update={
            "error_handling": plan.error_handling.model_copy(update={"escalation_ladder": ladder}),
            "governance": plan.governance.model_copy(update={"owners": owners}),
        }
    )


def test_an_escalation_to_an_absent_owner_goes_to_the_named_fallback_owner(engine, plan_id):
    def with_fallback(plan: Plan) -> Plan:
        plan = staff_ladder(plan)
        fallbacks = (FallbackOwner(role="Data Privacy Lead", fallback="Jordan Kim"),)
        return plan.model_copy(
            update={"error_handling": plan.error_handling.model_copy(update={"fallback_owners": fallbacks})}
        )

    apply(engine, plan_id, with_fallback)
    blocker(engine, plan_id)
    blocker(engine, plan_id)
    (escalation,) = engine.read_plan(plan_id).escalations
    assert (escalation.role, escalation.owner_reached, escalation.absent_owner) == (
        "Data Privacy Lead",
        "Jordan Kim",
        "Priya Shah",
    )


def test_without_a_fallback_entry_the_absent_owners_backup_is_reached(engine, plan_id):
    apply(engine, plan_id, staff_ladder)
    blocker(engine, plan_id)
    blocker(engine, plan_id)
    (escalation,) = engine.read_plan(plan_id).escalations
    assert (escalation.owner_reached, escalation.absent_owner) == ("Lee Chen", "Priya Shah")


def test_an_owner_back_from_absence_is_reached_directly(engine, plan_id):
    apply(engine, plan_id, staff_ladder)
    later = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    for _ in range(2):
        apply(
            engine,
            plan_id,
            lambda p: record_blocker(p, kind="consent", subject="s", detail="", actor="claude", now=later),
        )
    (escalation,) = engine.read_plan(plan_id).escalations
    assert (escalation.owner_reached, escalation.absent_owner) == ("Priya Shah", None)


def approve(engine, plan_id, role="Data Privacy Lead", decision="approved"):
    return apply(
        engine,
        plan_id,
        lambda p: record_approval(
            p, approver="Priya Shah", role=role, decision=decision, note="ok", actor="test", now=NOW
        ),
    )


def test_an_approval_is_recorded_against_the_revision_with_an_approval_trailer(engine, plan_id, repo_dir):
    result = approve(engine, plan_id)
    (approval,) = engine.read_plan(plan_id).approvals
    assert (approval.id, approval.revision, approval.decision) == ("apr-1", 1, "approved")
    assert result.revision == 2
    assert "Approval: apr-1 approved by Priya Shah (Data Privacy Lead) at r1" in last_message(repo_dir)


def test_an_approval_goes_stale_after_a_content_change_but_not_after_ledger_writes(engine, plan_id):
    approve(engine, plan_id)
    blocker(engine, plan_id)
    assert "approval.stale" not in [f.code for f in engine_findings(engine, plan_id)]

    def add_attribute(plan: Plan) -> Plan:
        return plan.model_copy(
            update={"attributes": (*plan.attributes, Attribute(name="plan_tier", type="string"))}
        )

    result = engine.apply(plan_id, "attributes", add_attribute, expected_revision=None, actor="a")
    (stale,) = [f for f in result.new_findings if f.code == "approval.stale"]
    assert stale.pointer == "/approvals/0"
    assert "given on revision 1, but revision 4 changed the content" in stale.message


def engine_findings(engine, plan_id):
    from personalization_engine.checks.run import run_checks

    return run_checks(engine.read_plan(plan_id))


def test_validate_reports_missing_approvals_and_a_rejection(engine, plan_id):
    approve(engine, plan_id, decision="rejected")
    findings = [
        (f.code, f.pointer) for f in engine_findings(engine, plan_id) if f.code.startswith("approval.")
    ]
    assert findings == [
        ("approval.not_approved", "/approvals/0"),
        ("approval.missing", "/error_handling/escalation_ladder/0"),
        ("approval.missing", "/error_handling/escalation_ladder/2"),
    ]


def failed(engine, plan_id, attempts, kind="data_pull"):
    return apply(
        engine,
        plan_id,
        lambda p: record_failed_attempt(
            p,
            kind=kind,
            subject="warehouse pull",
            attempts=attempts,
            detail="timeout",
            actor="audience",
            now=NOW,
        ),
    )


def test_failures_within_retry_limit_are_recorded_without_escalating(engine, plan_id):
    failed(engine, plan_id, 2)
    plan = engine.read_plan(plan_id)
    assert [(b.kind, b.attempts) for b in plan.blockers] == [("data_pull", 2)]
    assert plan.escalations == ()


def test_data_pull_failures_beyond_retry_limit_escalate(engine, plan_id, repo_dir):
    failed(engine, plan_id, 3)
    (escalation,) = engine.read_plan(plan_id).escalations
    assert (escalation.kind, escalation.rung, escalation.blocker_ids) == ("data_pull", 2, ("blk-1",))
    assert escalation.trigger == "data_pull blocker 'warehouse pull' failed 3 times, more than retry_limit 2"
    assert "Escalation: esc-1 open (rung 2, Data Privacy Lead)" in last_message(repo_dir)
    failed(engine, plan_id, 3)
    assert [(e.rung, e.status) for e in engine.read_plan(plan_id).escalations] == [
        (2, "superseded"),
        (3, "open"),
    ]


def test_consent_check_failures_follow_the_plans_retry_limit(engine, plan_id):
    def no_retries(plan: Plan) -> Plan:
        return plan.model_copy(
            update={"error_handling": plan.error_handling.model_copy(update={"retry_limit": 0})}
        )

    apply(engine, plan_id, no_retries)
    failed(engine, plan_id, 1, kind="consent")
    assert [e.kind for e in engine.read_plan(plan_id).escalations] == ["consent"]


# --- bad input: an error naming the field and what is allowed, and nothing written -----------
def head_and_file(repo_dir, plan_id):
    return git(repo_dir, "rev-parse", "HEAD"), (repo_dir / f".claude/plans/{plan_id}.json").read_bytes()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda p: resolve_blocker(p, blocker_id="blk-9", remediation="x", actor="a", now=NOW),
            "blocker_id: no blocker 'blk-9' in plan plan-20261124T090000Z; open blockers: blk-1",
        ),
        (
            lambda p: record_blocker(p, kind="legal", subject="s", detail="", actor="a", now=NOW),
            "kind: 'legal' is not allowed; use one of consent, compliance, coverage, data_pull",
        ),
        (
            lambda p: record_blocker(p, kind="consent", subject="  ", detail="", actor="a", now=NOW),
            "subject: must not be empty",
        ),
        (
            lambda p: record_blocker(p, kind="consent", subject="s" * 201, detail="", actor="a", now=NOW),
            "subject: is 201 characters long; the limit is 200",
        ),
        (
            lambda p: resolve_blocker(p, blocker_id="blk-1", remediation="", actor="a", now=NOW),
            "remediation: must not be empty",
        ),
        (
            lambda p: record_approval(
                p, approver="x", role="CFO", decision="approved", note="", actor="test", now=NOW
            ),
            "role: 'CFO' is not allowed; use one of Personalization Architect, Data Privacy Lead, "
            "Exec sponsor",
        ),
        (
            lambda p: record_approval(
                p, approver="x", role="Exec sponsor", decision="maybe", note="", actor="a", now=NOW
            ),
            "decision: 'maybe' is not allowed; use one of approved, rejected, changes_requested",
        ),
        (
            lambda p: record_failed_attempt(
                p, kind="coverage", subject="s", attempts=3, detail="", actor="a", now=NOW
            ),
            "kind: 'coverage' is not allowed; use one of data_pull, consent",
        ),
        (
            lambda p: record_failed_attempt(
                p, kind="data_pull", subject="s", attempts=0, detail="", actor="a", now=NOW
            ),
            "attempts: 0 is not a count of failed attempts; use a whole number >= 1",
        ),
    ],
)
def test_bad_ledger_input_is_refused_naming_the_field_and_nothing_is_written(
    engine, plan_id, repo_dir, mutate, message
):
    blocker(engine, plan_id)
    before = head_and_file(repo_dir, plan_id)
    with pytest.raises(InputError) as error:
        apply(engine, plan_id, mutate)
    assert str(error.value) == message
    assert head_and_file(repo_dir, plan_id) == before


def test_resolving_an_already_resolved_blocker_is_refused(engine, plan_id, repo_dir):
    blocker(engine, plan_id)
    apply(
        engine, plan_id, lambda p: resolve_blocker(p, blocker_id="blk-1", remediation="x", actor="a", now=NOW)
    )
    before = head_and_file(repo_dir, plan_id)
    with pytest.raises(InputError, match="blocker 'blk-1' is already resolved; open blockers: none"):
        apply(
            engine,
            plan_id,
            lambda p: resolve_blocker(p, blocker_id="blk-1", remediation="y", actor="a", now=NOW),
        )
    assert head_and_file(repo_dir, plan_id) == before

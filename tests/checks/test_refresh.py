"""Server-owned fields: metric actuals and the automatic coverage escalation, recomputed on writes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from personalization_engine.checks.metrics import compute_metrics
from personalization_engine.checks.run import refresh_computed, run_checks
from personalization_engine.model import Attribute, DataSource, Plan, Profile
from personalization_engine.model.rules import NullCondition
from personalization_engine.model.stages import OwnerAssignment

from ..conftest import git
from .helpers import clean_plan, update_at


def with_actual(plan: Plan, metric: str, actual: float) -> Plan:
    """The plan with a metric's actual typed in (which a refresh must overwrite or keep)."""
    metrics = plan.success_metrics
    target = getattr(metrics, metric).model_copy(update={"actual": actual})
    return plan.model_copy(update={"success_metrics": metrics.model_copy(update={metric: target})})


NOW = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def test_metrics_of_the_clean_plan_are_all_100():
    metrics = compute_metrics(clean_plan())
    assert metrics.attribute_spec_coverage_pct == 100.0
    assert metrics.consent_integrity_pct == 100.0
    assert metrics.activation_readiness_pct == 100.0
    assert metrics.activation_readiness_by_channel == {"web": 100.0, "in-app": 100.0, "email": 100.0}


def test_spec_coverage_counts_referenced_attributes_only_and_unknown_names_as_unspecified():
    plan = clean_plan()
    attributes = (*plan.attributes, Attribute(name="never_used"))  # not referenced: does not count
    eligibility = plan.profiles[1].eligibility
    eligibility = eligibility.model_copy(
        update={"all": (*eligibility.all, NullCondition(op="is_not_null", attr="not_inventoried"))}
    )
    profiles = update_at(plan.profiles, 1, eligibility=eligibility)
    plan = plan.model_copy(update={"attributes": attributes, "profiles": profiles})
    # 7 referenced and specified, plus one unknown name: 7 of 8.
    assert compute_metrics(plan).attribute_spec_coverage_pct == 87.5


def test_readiness_is_per_channel_and_a_channel_without_activations_has_none():
    plan = clean_plan()
    plan = plan.model_copy(
        update={
            "activations": update_at(plan.activations, 1, match_keys=()),
            "channels": (*plan.channels, "sales"),
        }
    )
    metrics = compute_metrics(plan)
    assert metrics.activation_readiness_by_channel == {"web": 100.0, "in-app": 0.0, "email": 100.0}
    assert metrics.activation_readiness_pct == 66.67


def test_refresh_overwrites_typed_in_actuals_and_is_idempotent():
    plan = clean_plan()
    plan = with_actual(plan, "consent_integrity_pct", 12.0)
    plan = plan.model_copy(update={"activations": update_at(plan.activations, 2, consent_gate=())})
    once = refresh_computed(plan.model_copy(deep=True), clean_plan(), NOW)
    twice = refresh_computed(once.model_copy(deep=True), clean_plan(), NOW)
    assert once.success_metrics.consent_integrity_pct.actual == 66.67
    assert once == twice


def test_refresh_keeps_measured_data_coverage_and_escalates_on_it_once_measured():
    plan = clean_plan()
    plan = with_actual(plan, "attribute_data_coverage_pct", 80.0)
    refreshed = refresh_computed(plan, clean_plan(), NOW)
    assert refreshed.success_metrics.attribute_data_coverage_pct.actual == 80.0
    (escalation,) = refreshed.escalations
    assert escalation.trigger == "attribute_data_coverage_pct 80% is below its target 90%"
    assert (escalation.kind, escalation.rung, escalation.role) == ("coverage", 2, "Data Privacy Lead")
    assert escalation.owner_reached == "Priya Shah"


def test_coverage_below_target_does_not_escalate_before_governance_is_recorded():
    plan = clean_plan()
    governance = plan.governance.model_copy(
        update={"owners": (), "change_checkpoints": (), "qa_cadence": None}
    )
    attributes = update_at(plan.attributes, 2, consent=())
    plan = plan.model_copy(update={"governance": governance, "attributes": attributes})
    assert refresh_computed(plan, None, NOW).escalations == ()


def add_incomplete_attribute(plan: Plan) -> Plan:
    profile = Profile.model_validate(
        {
            "id": "trials",
            "name": "Trials",
            "eligibility": {"op": "eq", "attr": "plan_tier", "value": "trial"},
        }
    )
    return plan.model_copy(
        update={
            "attributes": (*plan.attributes, Attribute(name="plan_tier", type="string")),
            "profiles": (*plan.profiles, profile),
        }
    )


def record_governance(plan: Plan) -> Plan:
    owners = (OwnerAssignment(area="program", owner="Ana Ruiz", backup="Jordan Kim"),)
    return plan.model_copy(update={"governance": plan.governance.model_copy(update={"owners": owners})})


def test_coverage_escalates_when_governance_is_recorded_and_climbs_on_later_content_writes(
    engine, plan_id, repo_dir
):
    engine.apply(plan_id, "profiles", add_incomplete_attribute, expected_revision=None, actor="a")
    assert engine.read_plan(plan_id).escalations == ()

    engine.apply(plan_id, "governance", record_governance, expected_revision=None, actor="a")
    (opened,) = engine.read_plan(plan_id).escalations
    assert (opened.rung, opened.status, opened.trigger) == (
        2,
        "open",
        "attribute_spec_coverage_pct 0% is below its target 95%",
    )
    assert "Escalation: esc-1 open (rung 2, Data Privacy Lead)" in git(repo_dir, "log", "-1", "--format=%B")

    def tweak(plan: Plan) -> Plan:
        # Models are frozen: build the next revision's content, never edit in place.
        return plan.model_copy(
            update={"attributes": update_at(plan.attributes, 0, description="the subscription plan")}
        )

    engine.apply(plan_id, "attributes", tweak, expected_revision=None, actor="a")
    first, second = engine.read_plan(plan_id).escalations
    assert (first.status, second.status, second.rung, second.role) == (
        "superseded",
        "open",
        3,
        "Exec sponsor",
    )
    message = git(repo_dir, "log", "-1", "--format=%B")
    assert (
        "Escalation: esc-1 superseded (rung 2, Data Privacy Lead); esc-2 open (rung 3, Exec sponsor)"
        in message
    )

    def complete(plan: Plan) -> Plan:
        sources = (DataSource(id="warehouse", system="Snowflake", access_method="warehouse_sql"),)
        attribute = Attribute.model_validate(
            {
                "name": "plan_tier",
                "type": "string",
                "source_id": "warehouse",
                "refresh_cadence": "daily",
                "freshness_sla": "1d",
                "consent": [{"purpose": "email_marketing", "lawful_basis": "consent"}],
            }
        )
        return plan.model_copy(
            update={"data_sources": sources, "attributes": (attribute, *plan.attributes[1:])}
        )

    engine.apply(plan_id, "attributes", complete, expected_revision=None, actor="a")
    last = engine.read_plan(plan_id).escalations[-1]
    assert (last.id, last.status) == ("esc-2", "resolved")
    assert last.remediation == "attribute_spec_coverage_pct is 100%, meeting its target of 95%"
    assert "Escalation: esc-2 resolved (rung 3, Exec sponsor)" in git(repo_dir, "log", "-1", "--format=%B")


def test_a_ledger_only_write_does_not_climb_the_coverage_escalation(engine, plan_id):
    from personalization_engine.core.ledger import record_approval

    engine.apply(plan_id, "profiles", add_incomplete_attribute, expected_revision=None, actor="a")
    engine.apply(plan_id, "governance", record_governance, expected_revision=None, actor="a")
    engine.apply(
        plan_id,
        "governance",
        lambda p: record_approval(
            p,
            approver="Ana Ruiz",
            role="Personalization Architect",
            decision="approved",
            note="",
            actor="a",
            now=NOW,
        ),
        expected_revision=None,
        actor="a",
    )
    assert [(e.rung, e.status) for e in engine.read_plan(plan_id).escalations] == [(2, "open")]


def test_run_checks_is_deterministic_and_uses_the_plan_time_for_absences():
    plan = clean_plan()
    owners = update_at(
        plan.governance.owners,
        0,
        availability="absent",
        absent_until=(plan.updated_at + timedelta(days=3)).date(),
        backup=None,
    )
    plan = plan.model_copy(
        update={
            "governance": plan.governance.model_copy(update={"owners": owners}),
            "error_handling": plan.error_handling.model_copy(update={"fallback_owners": ()}),
        }
    )
    assert [f.code for f in run_checks(plan) if f.severity == "error"] == [
        "complete.absent_owner_no_fallback"
    ]
    assert run_checks(plan) == run_checks(plan.model_copy(deep=True))
    # Back on the day absent_until names.
    plan = plan.model_copy(update={"updated_at": plan.updated_at + timedelta(days=3)})
    assert "complete.absent_owner_no_fallback" not in [f.code for f in run_checks(plan)]

"""Reported and confirmed approvals, staleness by the sections a rung covers, and consent
confirmations that only the server sets (issue 15, "Approvals that mean something")."""

from __future__ import annotations

import json

import pytest
from mcp import Client

from personalization_engine.cli.main import main
from personalization_engine.core.confirmations import confirm_approval, confirm_consent
from personalization_engine.core.ledger import record_approval
from personalization_engine.core.sections import apply_sections, parse_sections
from personalization_engine.history.git_repo import Person
from personalization_engine.server import build_server

from ..conftest import git
from ..test_mcp_tools import snapshot, text

PRIYA = Person(name="Priya Shah", email="priya@example.com")
GRANT = {
    "purpose": "email_marketing",
    "lawful_basis": "consent",
    "evidence": {"kind": "cmp_purpose", "ref": "onetrust:C0004"},
}


def attribute(*grants: dict) -> dict:
    return {"name": "email_opt_in", "type": "boolean", "consent": list(grants)}


def write(engine, plan_id: str, sections: dict, actor: str = "test"):
    parsed = parse_sections(sections)
    return engine.apply(
        plan_id, "plan", lambda p: apply_sections(p, parsed), expected_revision=None, actor=actor
    )


def reported(engine, plan_id: str, role: str, approver: str = "Someone"):
    return engine.apply(
        plan_id,
        "governance",
        lambda p, now: record_approval(
            p, approver=approver, role=role, decision="approved", note="", actor="mcp:claude", now=now
        ),
        expected_revision=None,
        actor="mcp:claude",
        timed=True,
    )


def approval_codes(engine, plan_id: str) -> dict[str, str]:
    plan, findings = engine.current_findings(plan_id)
    by_pointer = {f.pointer: f.code for f in findings if f.code.startswith("approval.")}
    return {a.role: by_pointer.get(f"/approvals/{i}", "fresh") for i, a in enumerate(plan.approvals)}


def test_a_change_outside_a_rungs_covered_sections_keeps_its_approval_fresh(engine, plan_id):
    # Default ladder: the architect's rung covers the stages, not constraints; the privacy lead's does.
    reported(engine, plan_id, "Personalization Architect")
    reported(engine, plan_id, "Data Privacy Lead")
    write(engine, plan_id, {"constraints": ["GDPR and ePrivacy for EU users"]})
    assert approval_codes(engine, plan_id) == {
        "Personalization Architect": "approval.reported",
        "Data Privacy Lead": "approval.stale",
    }
    _, findings = engine.current_findings(plan_id)
    (stale,) = [f for f in findings if f.code == "approval.stale"]
    assert "revision 4 changed the content its rung covers (constraints)" in stale.message


def test_a_change_inside_a_rungs_covered_sections_stales_its_approval(engine, plan_id):
    reported(engine, plan_id, "Personalization Architect")
    write(engine, plan_id, {"intake": {"goals": [{"id": "activate", "statement": "Reach value in 7 days"}]}})
    assert approval_codes(engine, plan_id) == {"Personalization Architect": "approval.stale"}


def test_a_change_undone_since_leaves_the_approval_standing_and_a_different_one_stales_it(engine, plan_id):
    reported(engine, plan_id, "Exec sponsor")  # covers everything
    before = engine.read_plan(plan_id).timeline
    write(engine, plan_id, {"timeline": "Q2 2027"})
    assert approval_codes(engine, plan_id) == {"Exec sponsor": "approval.stale"}
    write(engine, plan_id, {"timeline": before})  # back to the approved content
    assert approval_codes(engine, plan_id) == {"Exec sponsor": "approval.reported"}
    write(engine, plan_id, {"timeline": "Q3 2027"})
    write(engine, plan_id, {"timeline": "Q4 2027"})
    _, findings = engine.current_findings(plan_id)
    (stale,) = [f for f in findings if f.code == "approval.stale"]
    revision = engine.read_plan(plan_id).revision
    assert f"but revision {revision - 1} changed the content since" in stale.message


def test_an_item_added_and_removed_again_still_stales_the_approval(engine, plan_id):
    # The change log keeps a removed item's fields only as changes, so an add-then-remove is not
    # proven undone: the approval is staled rather than trusted.
    reported(engine, plan_id, "Exec sponsor")
    write(engine, plan_id, {"intake": {"goals": [{"id": "activate", "statement": "Reach value in 7 days"}]}})
    write(engine, plan_id, {"intake": {"goals": []}})
    assert approval_codes(engine, plan_id) == {"Exec sponsor": "approval.stale"}


def test_an_empty_covers_and_a_checkpoint_approver_are_staled_by_any_content_change(engine, plan_id):
    write(
        engine,
        plan_id,
        {
            "governance": {
                "change_checkpoints": [{"id": "c1", "trigger": "new source", "approver_role": "Legal"}]
            }
        },
    )
    reported(engine, plan_id, "Exec sponsor")  # the top rung covers everything
    reported(engine, plan_id, "Legal")
    write(engine, plan_id, {"timeline": "Q2 2027"})
    assert approval_codes(engine, plan_id) == {"Exec sponsor": "approval.stale", "Legal": "approval.stale"}


def test_ledger_writes_never_stale_an_approval_whatever_it_covers(engine, plan_id):
    reported(engine, plan_id, "Exec sponsor")
    reported(engine, plan_id, "Data Privacy Lead")
    assert approval_codes(engine, plan_id) == {
        "Exec sponsor": "approval.reported",
        "Data Privacy Lead": "approval.reported",
    }


def test_the_latest_approval_of_a_role_counts_so_a_confirmation_supersedes_a_report(engine, plan_id):
    write(
        engine,
        plan_id,
        {
            "error_handling": {
                "escalation_ladder": [{"role": "Data Privacy Lead", "email": "priya@example.com"}]
            }
        },
    )
    reported(engine, plan_id, "Data Privacy Lead", approver="Priya Shah")
    _, findings = engine.current_findings(plan_id)
    (finding,) = [f for f in findings if f.code == "approval.reported"]
    assert finding.message == (
        "approval apr-1 by Priya Shah (Data Privacy Lead) was reported by mcp:claude, not confirmed; "
        f"Priya Shah must run 'personalization-engine plans approve {plan_id} --role \"Data Privacy Lead\"' "
        "at their terminal"
    )
    engine.apply(
        plan_id,
        "governance",
        lambda p, now: confirm_approval(
            p, person=PRIYA, role="Data Privacy Lead", decision="approved", note="", signed=False, now=now
        ),
        expected_revision=None,
        actor=PRIYA.ident,
        timed=True,
        person=PRIYA,
    )
    assert approval_codes(engine, plan_id) == {"Data Privacy Lead": "fresh"}


def test_approval_missing_points_at_plans_approve(engine, plan_id):
    _, findings = engine.current_findings(plan_id)
    missing = [f.message for f in findings if f.code == "approval.missing"]
    assert missing[0] == (
        "no approval from 'Personalization Architect' is recorded; ask them to review revision 1 and run "
        f"'personalization-engine plans approve {plan_id} --role \"Personalization Architect\"' at their "
        "terminal (first set error_handling.escalation_ladder[0].email to theirs)"
    )


# --- reported approvals over MCP and the CLI -----------------------------------------------------
@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_record_approval_over_mcp_is_reported_by_the_actor(engine, plan_id, anyio_backend):
    async with Client(build_server(engine)) as c:
        result = await c.call_tool(
            "record_approval",
            {"plan_id": plan_id, "approver": "Dana", "role": "Exec sponsor", "decision": "approved"},
        )
        assert not result.is_error, text(result)
    (approval,) = engine.read_plan(plan_id).approvals
    assert (approval.status, approval.confirmed_by) == ("reported", None)
    assert approval.reported_by


def test_plans_record_approval_is_reported_by_the_cli_actor(repo_dir, engine, plan_id, capsys):
    code = main(
        [
            "plans",
            "record-approval",
            plan_id,
            "--workspace",
            str(repo_dir),
            "--approver",
            "Dana",
            "--role",
            "Exec sponsor",
            "--decision",
            "approved",
            "--actor",
            "cli:grace",
        ]
    )
    assert code == 0, capsys.readouterr().err
    (approval,) = engine.read_plan(plan_id).approvals
    assert (approval.status, approval.reported_by) == ("reported", "cli:grace")


# --- confirmed_by is server-owned ----------------------------------------------------------------
def confirmed_plan(engine, plan_id: str) -> None:
    write(
        engine,
        plan_id,
        {
            "error_handling": {
                "escalation_ladder": [{"role": "Data Privacy Lead", "email": "priya@example.com"}]
            },
            "attributes": [attribute(GRANT)],
        },
    )
    engine.apply(
        plan_id,
        "attributes",
        lambda p, now: confirm_consent(
            p, person=PRIYA, attribute="email_opt_in", purpose="email_marketing", now=now
        ),
        expected_revision=None,
        actor=PRIYA.ident,
        timed=True,
        person=PRIYA,
    )


def confirmation(engine, plan_id: str):
    return engine.read_plan(plan_id).attributes[0].consent[0].confirmed_by


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize(
    ("tool", "args", "pointer"),
    [
        (
            "inventory_attributes",
            {"attributes": [attribute({**GRANT, "confirmed_by": {"name": "x"}})]},
            "/attributes/0/consent/0/confirmed_by",
        ),
        (
            "write_plan",
            {"sections": {"attributes": [attribute({**GRANT, "confirmed_by": None})]}},
            "/sections/attributes/0/consent/0/confirmed_by",
        ),
    ],
)
async def test_a_client_sent_confirmed_by_is_refused_naming_the_pointer(
    engine, plan_id, repo_dir, tool, args, pointer, anyio_backend
):
    before = snapshot(repo_dir)
    async with Client(build_server(engine)) as c:
        result = await c.call_tool(tool, {"plan_id": plan_id, "expected_revision": 1, **args})
    assert result.is_error
    assert f"{pointer}: is server-owned (set by `plans confirm-consent`" in text(result)
    assert snapshot(repo_dir) == before


def test_plans_attributes_refuses_a_confirmed_by_and_writes_nothing(
    repo_dir, engine, plan_id, tmp_path, capsys
):
    path = tmp_path / "attrs.json"
    path.write_text(json.dumps({"attributes": [attribute({**GRANT, "confirmed_by": {}})]}))
    before = snapshot(repo_dir)
    argv = ["plans", "attributes", plan_id, "--workspace", str(repo_dir), "--file", str(path)]
    code = main([*argv, "--expected-revision", "1"])
    assert code == 2
    assert "/attributes/0/consent/0/confirmed_by: is server-owned" in capsys.readouterr().err
    assert snapshot(repo_dir) == before


def test_the_confirmation_is_authored_by_the_person_and_kept_when_the_grant_is_resent_unchanged(
    engine, plan_id, repo_dir
):
    confirmed_plan(engine, plan_id)
    assert git(repo_dir, "log", "-1", "--format=%an <%ae>") == "Priya Shah <priya@example.com>"
    stored = confirmation(engine, plan_id)
    assert (stored.name, stored.revision) == ("Priya Shah", 2)
    from personalization_engine.core.stage_ops import AttributesEdit, inventory_attributes, parse_edit

    resend = parse_edit(AttributesEdit, {"attributes": [attribute(GRANT)]})
    result = engine.apply(
        plan_id, "attributes", lambda p: inventory_attributes(p, resend), expected_revision=None, actor="a"
    )
    assert result.written is False  # nothing changed: the stored confirmation stays
    result = write(engine, plan_id, {"attributes": [{**attribute(GRANT), "description": "the ESP flag"}]})
    assert result.written
    assert confirmation(engine, plan_id) == stored


@pytest.mark.parametrize(
    "changed",
    [
        {**GRANT, "lawful_basis": "legitimate_interest", "evidence": {"kind": "lia", "ref": "LIA-7"}},
        {**GRANT, "evidence": {"kind": "cmp_purpose", "ref": "onetrust:C0009"}},
        {key: value for key, value in GRANT.items() if key != "evidence"},
    ],
)
def test_a_changed_grant_loses_its_confirmation(engine, plan_id, changed):
    confirmed_plan(engine, plan_id)
    write(engine, plan_id, {"attributes": [attribute(changed)]})
    assert confirmation(engine, plan_id) is None


def test_the_fixture_plans_stay_valid():
    # Sanity: the examples the golden test checks load as plans with confirmed approvals.
    from .helpers import load_fixture

    plan = load_fixture("clean_plan.json")
    assert {a.status for a in plan.approvals} == {"confirmed"}

"""Launch readiness at the top of report.html, and "draft" or "final" on every deliverable."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timezone

from personalization_engine.model import Plan
from personalization_engine.model.final import content_sha256
from personalization_engine.model.findings import Finding
from personalization_engine.model.ledger import FinalRecord
from personalization_engine.render import CSV_COLUMNS, PURPOSES, render_deliverables, render_report_html
from personalization_engine.render.readiness import readiness

from .helpers import example_plan
from .test_sizing import sized

AT = datetime(2026, 11, 25, 14, 30, 12, 345678, tzinfo=timezone.utc)
MARKDOWN = ("profile-schema.md", "profiles.md", "activation-checklist.md", "plan.md")


def draft_example() -> Plan:
    """The worked example as it stood before its people confirmed anything and it was finalized:
    approvals only reported, grants without evidence or a confirming person."""
    document = example_plan().model_dump(mode="json", by_alias=True)
    document["final"] = None
    for approval in document["approvals"]:
        approval.update(status="reported", confirmed_by=None)
    for attribute in document["attributes"]:
        for grant in attribute["consent"]:
            grant.update(evidence=None, confirmed_by=None)
    return Plan.model_validate(document)


def finalized(plan: Plan) -> Plan:
    record = FinalRecord(
        revision=plan.revision, at=AT, by="Dana Whitfield", content_sha256=content_sha256(plan)
    )
    return plan.model_copy(update={"final": record})


def confirmed(plan: Plan) -> Plan:
    """Every approval confirmed by its approver, and every grant with evidence and a confirmer."""
    document = plan.model_dump(mode="json", by_alias=True)
    who = {"name": "Pat", "email": "pat@example.com", "at": AT.isoformat(), "revision": plan.revision}
    for approval in document["approvals"]:
        approval.update(status="confirmed", confirmed_by={**who, "name": approval["approver"]})
    for attribute in document["attributes"]:
        for grant in attribute["consent"]:
            kind = "lia" if grant["lawful_basis"] == "legitimate_interest" else "cmp_purpose"
            grant.update(evidence={"kind": kind, "ref": "onetrust:C0004"}, confirmed_by=who)
    document["qa_results"] = [
        {
            "id": f"qa-{k}",
            "profile_id": activation["profile_id"],
            "channel": activation["channel"],
            "url": activation["qa_flow"]["url"],
            "outcome": "passed",
            "ran_at": document["updated_at"],
            "artefact_sha256": "0" * 64,
            "recorded_by": "Pat",
            "recorded_at": document["updated_at"],
        }
        for k, activation in enumerate(document["activations"], start=1)
        if activation.get("qa_flow")
    ]
    return Plan.model_validate(document)


def summary(page: str) -> str:
    return page.split('<section id="readiness"', 1)[1].split("</section>", 1)[0]


def test_a_revision_that_was_never_finalized_says_draft_in_every_deliverable():
    files = render_deliverables(draft_example())
    for name in MARKDOWN:
        assert "**DRAFT: not finalized; not reviewed for launch**" in files[name].splitlines()[2], name
    assert "<title>DRAFT: " in files["report.html"]
    assert '<span class="badge draft">DRAFT</span>' in files["report.html"]
    assert '<p class="status draft"><strong>DRAFT</strong>' in files["report.html"]
    assert re.search(r'^status: "draft"$', files["data-contract.odcs.yaml"], re.M)
    assert "# Plan status: draft" in files["data-contract.odcs.yaml"]
    rows = list(csv.DictReader(io.StringIO(files["profile-schema.csv"])))
    assert rows and {row["plan_status"] for row in rows} == {"draft"}


def test_a_final_revision_says_final_with_the_finalized_revision_in_every_deliverable():
    plan = finalized(draft_example())
    files = render_deliverables(plan)
    line = f"**FINAL: revision {plan.revision} was finalized 25 Nov 2026, 14:30 UTC by Dana Whitfield**"
    for name in MARKDOWN:
        assert files[name].splitlines()[2] == line, name
        assert "DRAFT" not in files[name]
    assert '<span class="badge final">FINAL</span>' in files["report.html"]
    assert re.search(r'^status: "active"$', files["data-contract.odcs.yaml"], re.M)
    rows = list(csv.DictReader(io.StringIO(files["profile-schema.csv"])))
    assert {row["plan_status"] for row in rows} == {f"final r{plan.revision}"}


def test_a_content_change_after_finalize_makes_every_deliverable_a_draft_again():
    plan = finalized(draft_example())
    changed = plan.model_copy(update={"timeline": "Pilot in 8 weeks"})
    files = render_deliverables(changed)
    for name in MARKDOWN:
        assert f"**DRAFT: changed since revision {plan.revision} was finalized" in files[name], name
    assert re.search(r'^status: "draft"$', files["data-contract.odcs.yaml"], re.M)
    assert "the content changed since the final revision" in summary(files["report.html"])


def test_the_summary_lists_reported_approvals_and_grants_without_evidence_as_what_blocks_launch():
    page = summary(render_report_html(draft_example()))
    assert "What blocks launch" in page
    assert '<a href="#approvals">Exec sponsor (Dana Whitfield): reported, not confirmed</a>' in page
    assert "68 grant(s) on 18 attribute(s) carry no evidence: user_id, email, plan_tier and 15 more" in page
    assert '<a href="#attribute-user_id">' in page
    # By rung: role, approver, decision, reported or confirmed, and the revision it was given on.
    assert re.search(
        r"<td>3</td><td>Exec sponsor<div class=\"sub\">Dana Whitfield "
        r"&lt;dana.whitfield@example.com&gt;</div></td>\s*"
        r"<td class=\"pending\">approved, reported<div class=\"sub\">on revision 19</div>",
        page,
    )


def test_confirmed_approvals_and_grants_with_evidence_leave_nothing_blocking_launch():
    page = summary(render_report_html(confirmed(draft_example())))
    assert "Nothing blocks launch." in page
    assert "approved, confirmed" in page and "reported" not in page


def test_a_missing_approval_and_a_rung_email_show_by_rung():
    plan = draft_example()
    ladder = [
        rung.model_copy(update={"email": "dana@example.com"}) if rung.role == "Exec sponsor" else rung
        for rung in plan.error_handling.escalation_ladder
    ]
    plan = plan.model_copy(
        update={
            "approvals": plan.approvals[:2],
            "error_handling": plan.error_handling.model_copy(update={"escalation_ladder": tuple(ladder)}),
        }
    )
    page = summary(render_report_html(plan))
    assert "Exec sponsor (Dana Whitfield): no approval" in page
    assert "Dana Whitfield &lt;dana@example.com&gt;" in page
    assert '<td class="blocked">missing</td>' in page


def test_a_rejection_blocks_launch_whether_it_was_confirmed_or_only_reported():
    plan = confirmed(draft_example())
    rejected = plan.approvals[-1].model_copy(update={"decision": "changes_requested"})
    page = summary(
        render_report_html(plan.model_copy(update={"approvals": (*plan.approvals[:-1], rejected)}))
    )
    assert "Exec sponsor (Dana Whitfield): changes requested</a>" in page
    assert '<td class="blocked">changes requested, confirmed' in page
    reported = rejected.model_copy(update={"status": "reported", "confirmed_by": None})
    page = summary(
        render_report_html(plan.model_copy(update={"approvals": (*plan.approvals[:-1], reported)}))
    )
    assert "Exec sponsor (Dana Whitfield): changes requested (reported, not confirmed)</a>" in page


def test_a_failing_scenario_is_an_error_in_the_summary_linking_to_its_profile():
    plan = draft_example()
    first = plan.scenarios[0]
    other = next(p.id for p in plan.profiles if p.id != first.expected_profile)
    plan = plan.model_copy(
        update={"scenarios": (first.model_copy(update={"expected_profile": other}), *plan.scenarios[1:])}
    )
    page = summary(render_report_html(plan))
    assert '<h3 class="error">Failing scenarios <span class="count">1</span></h3>' in page
    assert f'<li class="error"><a href="#profile-{other}">scenario &#39;{first.id}&#39;' in page
    assert page.count('<li class="error">') == 1


def finding(code: str, severity: str, pointer: str = "/plan") -> Finding:
    return Finding(
        code=code, severity=severity, pointer=pointer, message=f"{code} happened", stage="governance"
    )


def test_codes_added_by_other_parts_land_in_their_group_and_errors_stay_errors():
    plan = confirmed(draft_example())
    found = [
        finding("qa.missing", "warning", "/activations/0"),
        finding("qa.failed", "error", "/activations/1"),
        finding("consent.regime_not_applied", "error", "/constraints/0"),
        finding("consent.unconfirmed", "warning", "/attributes/0/consent/0"),
        finding("audience.required_sparse", "warning", "/attributes/1"),
    ]
    result = readiness(plan, found, [])
    assert [(i.text, i.href, i.severity) for i in result.errors.items] == [
        ("consent.regime_not_applied happened", "#findings", "error"),
    ]
    groups = {g.key: [(i.text, i.href, i.severity) for i in g.items] for g in result.groups}
    assert groups == {  # consent grants are counted from the model; a sparse column blocks nothing
        "qa": [
            ("qa.failed happened", "#activation", "error"),
            ("qa.missing happened", "#activation", "warning"),
        ]
    }
    assert result.errors.title == "Other errors"


def test_the_summary_shows_audience_sizes_of_the_latest_run_or_says_there_is_none():
    plan = draft_example()
    page = summary(render_report_html(sized(plan)))
    run = sized(plan).sizing_runs[-1]
    for row in run.profiles:
        assert f"<tr><td>{row.profile_id}</td><td>{row.net:,}</td><td>{row.winner:,}</td></tr>" in page
    for row in run.channels:
        assert f"<td>{row.channel}</td><td>{row.reachable:,}</td><td>{row.net_activatable:,}</td>" in page
    bare = summary(render_report_html(plan.model_copy(update={"sizing_runs": ()})))
    assert "No audience sizing yet." in bare


def test_engineering_detail_sits_behind_disclosure_below_the_summary():
    page = render_report_html(draft_example())
    body = page.split("<body>", 1)[1]
    assert body.index('id="readiness"') < body.index('id="overview"') < body.index('id="findings"')
    findings = page.split('<section id="findings">', 1)[1]
    assert findings.lstrip().startswith("<h2>All findings</h2>\n<details><summary>")
    assert "<code>/attributes/16</code>" in findings  # JSON Pointers are there, folded away
    assert "/attributes/" not in summary(page)


def test_the_csv_has_one_filterable_column_per_consent_purpose_holding_the_lawful_basis():
    plan = draft_example()
    text = render_deliverables(plan)["profile-schema.csv"]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [c for c in CSV_COLUMNS if c.startswith("consent_")] == [f"consent_{p}" for p in PURPOSES]
    assert len(PURPOSES) == 8
    for attribute, row in zip(plan.attributes, rows, strict=True):
        granted = {g.purpose: g.lawful_basis for g in attribute.consent}
        assert {p: row[f"consent_{p}"] for p in PURPOSES} == {p: granted.get(p, "") for p in PURPOSES}
    assert render_deliverables(plan)["profile-schema.csv"] == text

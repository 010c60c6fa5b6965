"""Consent presets and evidence where people and models touch them: create_plan, `plans new`, and
stage writes carrying evidence. Bad input is refused with what is allowed, and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client
from mcp.types import Implementation

from personalization_engine.cli.main import main
from personalization_engine.core.engine import Engine
from personalization_engine.server import build_server

from .conftest import git

pytestmark = pytest.mark.anyio

REGIMES_ALLOWED = "'gdpr-eprivacy', 'uk-gdpr' or 'cpra'"
SIGNALS_ALLOWED = "'tcf-v2.2' or 'google-consent-mode-v2'"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def server(engine: Engine):
    return build_server(engine)


def client(server) -> Client:
    return Client(server, client_info=Implementation(name="test-client", version="1.0"))


def text(result) -> str:
    return " ".join(getattr(part, "text", "") for part in result.content)


def snapshot(repo: Path) -> tuple[str, dict[str, bytes]]:
    """HEAD (empty before the first commit) and every plan file's bytes."""
    head = git(repo, "rev-parse", "HEAD") if git(repo, "rev-list", "--all") else ""
    plans = repo / ".claude" / "plans"
    return head, {p.name: p.read_bytes() for p in plans.glob("*.json")} if plans.exists() else {}


def stored(repo: Path, plan_id: str) -> dict:
    return json.loads((repo / ".claude" / "plans" / f"{plan_id}.json").read_text(encoding="utf-8"))


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_create_plan_records_the_regimes_and_signals_and_their_policy_applies(server, repo_dir):
    async with client(server) as c:
        r = await c.call_tool(
            "create_plan",
            {
                "initiative": "EU onboarding",
                "channels": ["web", "email"],
                "constraints": ["GDPR and ePrivacy for EU users", "TCF v2.2 CMP on web"],
                "regimes": ["gdpr-eprivacy"],
                "signals": ["tcf-v2.2"],
            },
        )
        assert not r.is_error, text(r)
        plan = stored(repo_dir, r.structured_content["plan_id"])
        assert plan["consent_regimes"] == ["gdpr-eprivacy"]
        assert plan["consent_signals"] == ["tcf-v2.2"]
        codes = {f["code"] for f in r.structured_content["new_findings"]}
        assert "consent.regime_not_applied" not in codes


async def test_create_plan_without_the_named_regime_reports_it_against_the_constraint(server):
    async with client(server) as c:
        r = await c.call_tool(
            "create_plan",
            {"initiative": "EU", "channels": ["email"], "constraints": ["GDPR and ePrivacy for EU users"]},
        )
        found = [f for f in r.structured_content["new_findings"] if f["code"] == "consent.regime_not_applied"]
        assert [(f["severity"], f["pointer"]) for f in found] == [("error", "/constraints/0")]
        assert "add 'gdpr-eprivacy' to consent_regimes" in found[0]["message"]


@pytest.mark.parametrize(
    ("argument", "value", "allowed"),
    [("regimes", "hipaa", REGIMES_ALLOWED), ("signals", "tcf-v2.0", SIGNALS_ALLOWED)],
)
async def test_create_plan_with_an_unknown_preset_lists_the_allowed_values_and_writes_nothing(
    server, repo_dir, argument, value, allowed
):
    before = snapshot(repo_dir)
    async with client(server) as c:
        r = await c.call_tool("create_plan", {"initiative": "X", "channels": ["web"], argument: [value]})
    assert r.is_error
    assert argument in text(r) and allowed in text(r) and value in text(r)
    assert snapshot(repo_dir) == before


def test_plans_new_takes_regimes_and_signals_as_comma_lists(repo_dir, capsys):
    code, out, err = cli(
        capsys,
        "plans",
        "new",
        "--workspace",
        str(repo_dir),
        "--initiative",
        "US and EU",
        "--channels",
        "web,ads",
        "--regimes",
        "gdpr-eprivacy, cpra",
        "--signals",
        "google-consent-mode-v2",
        "--json",
    )
    assert code == 0, err
    plan = stored(repo_dir, json.loads(out)["plan_id"])
    assert plan["consent_regimes"] == ["gdpr-eprivacy", "cpra"]
    assert plan["consent_signals"] == ["google-consent-mode-v2"]


@pytest.mark.parametrize(
    ("option", "value", "pointer", "allowed"),
    [
        ("--regimes", "gdpr-eprivacy,lgpd", "/consent_regimes/1", REGIMES_ALLOWED),
        ("--signals", "consent-mode", "/consent_signals/0", SIGNALS_ALLOWED),
    ],
)
def test_plans_new_with_an_unknown_preset_lists_the_allowed_values_and_writes_nothing(
    repo_dir, capsys, option, value, pointer, allowed
):
    before = snapshot(repo_dir)
    code, _, err = cli(
        capsys, "plans", "new", "--workspace", str(repo_dir), "--initiative", "X", "--channels", "web",
        option, value,
    )  # fmt: skip
    assert code == 2
    assert pointer in err and allowed in err
    assert snapshot(repo_dir) == before


def attribute_with(evidence: dict, purpose: str = "ads_targeting", basis: str = "consent") -> dict:
    grant = {"purpose": purpose, "lawful_basis": basis, "evidence": evidence}
    return {"name": "plan_tier", "type": "string", "consent": [grant]}


@pytest.mark.parametrize(
    ("attribute", "pointer", "says"),
    [
        (
            attribute_with({"kind": "lia", "ref": "LIA-7"}),
            "/attributes/0/consent/0/evidence",
            "lia evidence cannot show a grant on consent; use 'cmp_purpose', 'tcf_purpose' or 'consent_mode'",
        ),
        (
            attribute_with({"kind": "tcf_purpose", "ref": "7"}),
            "/attributes/0/consent/0/evidence",
            "TCF purpose '7' does not cover ads_targeting; use '3' or '4'",
        ),
        (
            attribute_with({"kind": "tcf_purpose", "ref": "12"}),
            "/attributes/0/consent/0/evidence/ref",
            "a TCF v2.2 purpose number from '1' to '11', not '12'",
        ),
        (
            attribute_with({"kind": "consent_mode", "ref": "ad_user_data"}, "email_marketing"),
            "/attributes/0/consent/0/evidence",
            "consent_mode evidence cannot show email_marketing: the framework has no such purpose; use "
            "'cmp_purpose' evidence",
        ),
        (
            attribute_with({"kind": "cmp_purpose", "ref": "c12"}, "sales_outreach", "legitimate_interest"),
            "/attributes/0/consent/0/evidence",
            "cmp_purpose evidence cannot show a grant on legitimate_interest; use 'lia' or 'dpia'",
        ),
    ],
)
async def test_evidence_of_the_wrong_kind_is_refused_naming_the_pointer_and_nothing_is_written(
    server, repo_dir, attribute, pointer, says
):
    async with client(server) as c:
        r = await c.call_tool("create_plan", {"initiative": "X", "channels": ["ads"]})
        plan_id = r.structured_content["plan_id"]
        before = snapshot(repo_dir)
        r = await c.call_tool(
            "inventory_attributes", {"plan_id": plan_id, "expected_revision": 1, "attributes": [attribute]}
        )
    assert r.is_error
    assert pointer in text(r) and says in text(r)
    assert snapshot(repo_dir) == before


def test_plans_attributes_refuses_evidence_of_the_wrong_kind_and_writes_nothing(repo_dir, tmp_path, capsys):
    code, out, _ = cli(capsys, "plans", "new", "--workspace", str(repo_dir), "--initiative", "X",
                       "--channels", "web", "--json")  # fmt: skip
    plan_id = json.loads(out)["plan_id"]
    arguments = tmp_path / "attributes.json"
    wrong = attribute_with({"kind": "consent_mode", "ref": "ad_storage"}, "onsite_personalization")
    arguments.write_text(json.dumps({"attributes": [wrong]}), encoding="utf-8")
    before = snapshot(repo_dir)
    code, _, err = cli(capsys, "plans", "attributes", plan_id, "--file", str(arguments),
                       "--expected-revision", "1", "--workspace", str(repo_dir))  # fmt: skip
    assert code == 2
    assert "/attributes/0/consent/0/evidence" in err
    assert (
        "Consent Mode type 'ad_storage' does not cover onsite_personalization; use 'personalization_storage'"
        in err
    )
    assert snapshot(repo_dir) == before


async def test_evidence_that_fits_is_stored_and_its_grant_reports_only_that_no_one_confirmed_it(
    server, repo_dir
):
    grant = {
        "purpose": "onsite_personalization",
        "lawful_basis": "consent",
        "evidence": {"kind": "tcf_purpose", "ref": "6"},
    }
    async with client(server) as c:
        r = await c.call_tool("create_plan", {"initiative": "X", "channels": ["web"]})
        plan_id = r.structured_content["plan_id"]
        r = await c.call_tool(
            "inventory_attributes",
            {
                "plan_id": plan_id,
                "expected_revision": 1,
                "attributes": [{"name": "plan_tier", "type": "string", "consent": [grant]}],
            },
        )
        assert not r.is_error, text(r)
        r = await c.call_tool(
            "define_profiles",
            {
                "plan_id": plan_id,
                "expected_revision": 2,
                "profiles": [
                    {
                        "id": "pros",
                        "name": "Pros",
                        "eligibility": {"op": "eq", "attr": "plan_tier", "value": "pro"},
                    }
                ],
            },
        )
        r = await c.call_tool(
            "map_activation",
            {
                "plan_id": plan_id,
                "expected_revision": 3,
                "activations": [
                    {"profile_id": "pros", "channel": "web", "consent_gate": ["personalization_storage"]}
                ],
            },
        )
        assert not r.is_error, text(r)
    assert stored(repo_dir, plan_id)["attributes"][0]["consent"][0]["evidence"] == grant["evidence"]
    records = [
        (f["code"], f["pointer"])
        for f in r.structured_content["new_findings"]
        if f["code"] in ("consent.evidence_missing", "consent.unconfirmed")
    ]
    assert records == [("consent.unconfirmed", "/attributes/0/consent/0")]


async def test_write_plan_with_an_unknown_regime_lists_the_allowed_values_and_writes_nothing(
    server, repo_dir
):
    async with client(server) as c:
        r = await c.call_tool("create_plan", {"initiative": "X", "channels": ["web"]})
        plan_id = r.structured_content["plan_id"]
        before = snapshot(repo_dir)
        r = await c.call_tool(
            "write_plan",
            {"plan_id": plan_id, "expected_revision": 1, "sections": {"consent_regimes": ["gdpr", "cpra"]}},
        )
    assert r.is_error
    assert "/consent_regimes/0" in text(r) and REGIMES_ALLOWED in text(r)
    assert snapshot(repo_dir) == before

"""Consent-flow QA: record_qa_result over MCP and `plans qa-result` from a terminal.

Each run is one reported ledger entry in one revision and one commit; every bad input names the
field and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from mcp import Client

from personalization_engine.cli.main import main
from personalization_engine.server import build_server

from .conftest import git, json_text
from .qa_helpers import EXAMPLE_SHA256, SIGNUP, add_qa_flows
from .render.helpers import fill_plan
from .test_fuzz import example_of
from .test_mcp_tools import snapshot, text

pytestmark = pytest.mark.anyio

RUN = {
    "profile_id": "new-trial-activation",
    "channel": "web",
    "url": SIGNUP,
    "outcome": "passed",
    "ran_at": "2026-11-24T08:30:00Z",
    "artefact_sha256": EXAMPLE_SHA256,
}


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def qa_plan(engine, plan_id) -> str:
    fill_plan(engine, plan_id)
    add_qa_flows(engine, plan_id)
    return plan_id


def qa_codes(report: dict) -> list[tuple[str, str]]:
    return [(f["code"], f["pointer"]) for f in report["findings"] if f["code"].startswith("qa.")]


async def test_a_qa_run_is_one_reported_ledger_entry_in_one_commit(engine, qa_plan, repo_dir, clock):
    async with Client(build_server(engine)) as c:
        before = json_text(await c.call_tool("validate_plan", {"plan_id": qa_plan}))
        assert ("qa.missing", "/activations/0/qa_flow") in qa_codes(before)
        # The in-app activation has no flow; the email one needs none.
        assert ("qa.flow_missing", "/activations/1") in qa_codes(before)
        assert not any(p == "/activations/2" for _, p in qa_codes(before))
        write_time = clock.now
        result = await c.call_tool(
            "record_qa_result", {"plan_id": qa_plan, **RUN, "note": "banner shown", "actor": "Tom Becker"}
        )
        assert not result.is_error, text(result)
        answer = result.structured_content
        assert answer["revision"] == 4
        assert answer["changes"] == ["added QA result qa-1"]
        assert [f["code"] for f in answer["resolved_findings"]] == ["qa.missing"]
        plan = json_text(await c.call_tool("read_plan", {"plan_id": qa_plan}))
    assert plan["qa_results"] == [
        {
            **RUN,
            "id": "qa-1",
            "artefact": None,
            "note": "banner shown",
            "status": "reported",
            "recorded_by": "Tom Becker",
            "recorded_at": write_time.isoformat().replace("+00:00", "Z"),
        }
    ]
    message = git(repo_dir, "log", "-1", "--format=%B")
    assert message.startswith("governance: added QA result qa-1 (r4)")
    assert "Actor: Tom Becker" in message
    assert git(repo_dir, "rev-list", "--count", "HEAD") == "4"


async def test_the_tool_descriptions_example_records_a_run(engine, qa_plan):
    async with Client(build_server(engine)) as c:
        tool = next(t for t in (await c.list_tools()).tools if t.name == "record_qa_result")
        example = {**example_of(tool.description or ""), "plan_id": qa_plan}
        result = await c.call_tool("record_qa_result", example)
        assert not result.is_error, text(result)
        assert tool.annotations.read_only_hint is False
        assert tool.annotations.destructive_hint is False


async def test_a_qa_result_is_a_ledger_entry_that_leaves_an_approval_current(engine, qa_plan):
    async with Client(build_server(engine)) as c:
        approval = {"approver": "Maya Chen", "role": "Personalization Architect", "decision": "approved"}
        assert not (await c.call_tool("record_approval", {"plan_id": qa_plan, **approval})).is_error
        assert not (await c.call_tool("record_qa_result", {"plan_id": qa_plan, **RUN})).is_error
        report = json_text(await c.call_tool("validate_plan", {"plan_id": qa_plan}))
    assert not [f for f in report["findings"] if f["code"] == "approval.stale"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"profile_id": "ghost"}, "profile_id: no activation of profile 'ghost' on web; activations with a "
         "qa_flow: new-trial-activation/web"),
        ({"channel": "email"}, "channel"),
        ({"channel": "in-app"}, "profile_id: activation new-trial-activation/in-app has no qa_flow; record "
         "its qa_flow with map_activation first"),
        ({"outcome": "maybe"}, "outcome"),
        ({"ran_at": "2026-11-24T08:30:00"}, "ran_at: '2026-11-24T08:30:00' has no time zone"),
        ({"ran_at": "2026-11-24"}, "ran_at: '2026-11-24' is not an ISO 8601 date-time"),
        ({"ran_at": "yesterday"}, "ran_at: 'yesterday' is not an ISO 8601 date-time"),
        ({"ran_at": "2026-11-24T12:00:00+02:00"}, "ran_at: '2026-11-24T12:00:00+02:00' is later than the "
         "time of this write"),
        ({"artefact_sha256": EXAMPLE_SHA256.upper()}, "artefact_sha256: '9F86D0"),
        ({"artefact_sha256": "abc"}, "artefact_sha256: 'abc' is not a SHA-256: use 64 lower-case hex digits"),
        ({"url": "ftp://app.example.com/signup"}, "url: 'ftp://app.example.com/signup' is not an http or "
         "https URL with a host"),
        ({"url": "https:///signup"}, "is not an http or https URL with a host"),
        ({"url": "https://evil.example.com/signup"}, "url: 'https://evil.example.com/signup' is not on the "
         "qa_flow's origin; use a URL on the same scheme, host and port as 'https://app.example.com/signup'"),
        ({"url": "http://app.example.com/signup"}, "is not on the qa_flow's origin"),
        ({"url": "https://app.example.com:8443/signup"}, "is not on the qa_flow's origin"),
        ({"note": "a\x00b"}, "note: contains control characters"),
        ({"expected_revision": 1}, "not expected_revision 1"),
    ],
)  # fmt: skip
async def test_a_bad_qa_result_names_the_field_and_writes_nothing(
    engine, qa_plan, repo_dir, change, expected
):
    async with Client(build_server(engine)) as c:
        before = snapshot(repo_dir)
        result = await c.call_tool("record_qa_result", {"plan_id": qa_plan, **RUN, **change})
        assert result.is_error
        assert expected in text(result)
    assert snapshot(repo_dir) == before


async def test_an_activation_on_a_channel_without_a_flow_is_refused_listing_web_and_in_app(
    engine, qa_plan, repo_dir
):
    async with Client(build_server(engine)) as c:
        before = snapshot(repo_dir)
        result = await c.call_tool("record_qa_result", {"plan_id": qa_plan, **RUN, "channel": "email"})
    assert result.is_error
    assert "channel" in text(result) and "'web'" in text(result) and "'in-app'" in text(result)
    assert snapshot(repo_dir) == before


async def test_the_same_origin_accepts_another_path_and_a_spelled_out_default_port(engine, qa_plan):
    async with Client(build_server(engine)) as c:
        for url in ("https://APP.example.com:443/settings/privacy?step=2", "https://app.example.com"):
            result = await c.call_tool("record_qa_result", {"plan_id": qa_plan, **RUN, "url": url})
            assert not result.is_error, text(result)


# --- the CLI twin -------------------------------------------------------------------------------


def cli(capsys, repo: Path, *argv: str) -> tuple[int, str, str]:
    code = main(
        ["plans", "qa-result", *argv, "--workspace", str(repo), "--frozen-clock", "2026-11-24T10:00:00Z"]
    )
    out, err = capsys.readouterr()
    return code, out, err


def qa_args(plan_id: str, *extra: str) -> list[str]:
    base = ["--profile", "new-trial-activation", "--channel", "web", "--outcome", "failed"]
    return [plan_id, *base, "--ran-at", "2026-11-24T09:30:00+01:00", *extra]


def test_the_cli_hashes_the_artefact_file_and_uses_the_flows_url(
    engine, qa_plan, repo_dir, capsys, monkeypatch
):
    trace = repo_dir / "qa" / "trace.zip"
    trace.parent.mkdir()
    trace.write_bytes(b"PK\x03\x04 a playwright trace")
    monkeypatch.chdir(repo_dir / "qa")
    code, out, err = cli(capsys, repo_dir, *qa_args(qa_plan, "--artefact", "trace.zip", "--json"))
    assert code == 0, err
    assert json.loads(out)["changes"] == ["added QA result qa-1"]
    run = engine.read_plan(qa_plan).qa_results[0]
    assert run.artefact == "qa/trace.zip"
    assert run.artefact_sha256 == hashlib.sha256(trace.read_bytes()).hexdigest()
    assert run.url == SIGNUP
    assert run.outcome == "failed"
    assert run.ran_at.isoformat() == "2026-11-24T09:30:00+01:00"
    assert run.recorded_at.isoformat() == "2026-11-24T10:00:00+00:00"
    assert run.recorded_by == "cli:Test User"
    # A failed run is an error the finalize gate refuses on.
    findings = engine.current_findings(qa_plan)[1]
    assert [(f.code, f.severity) for f in findings if f.code.startswith("qa.")] == [
        ("qa.failed", "error"),
        ("qa.flow_missing", "warning"),
    ]


def test_the_cli_takes_a_hash_made_elsewhere_and_a_url_and_note(engine, qa_plan, repo_dir, capsys):
    extra = (*HASHED, "--url", f"{SIGNUP}?variant=b", "--note", "opt-out broken")
    code, out, err = cli(capsys, repo_dir, *qa_args(qa_plan, *extra))
    assert code == 0, err
    assert "added QA result qa-1" in out
    run = engine.read_plan(qa_plan).qa_results[0]
    assert (run.artefact, run.artefact_sha256, run.url, run.note) == (
        None,
        EXAMPLE_SHA256,
        f"{SIGNUP}?variant=b",
        "opt-out broken",
    )


HASHED = ("--artefact-sha256", EXAMPLE_SHA256)


def _outside_link(repo: Path, tmp_path: Path) -> str:
    secret = tmp_path / "outside.zip"
    secret.write_bytes(b"not yours")
    (repo / "link.zip").symlink_to(secret)
    return str(repo / "link.zip")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (("--artefact", "missing.zip"), "error: --artefact: file 'missing.zip' does not exist"),
        (("--artefact", "."), "error: --artefact: '.' is not a file"),
        (("--artefact", "/etc/hostname"), "error: --artefact: '/etc/hostname' is outside the workspace"),
        (("--artefact", "LINK"), "is outside the workspace"),
        (("--artefact-sha256", "XYZ"), "error: artefact_sha256: 'XYZ' is not a SHA-256"),
        ((*HASHED, "--url", "https://other.example/"), "error: url: "),
        ((*HASHED, "--channel", "email"), "error: channel: 'email' is not allowed; "
         "use one of web, in-app"),
        ((*HASHED, "--channel", "in-app"), "record its qa_flow with map_activation"),
        ((*HASHED, "--ran-at", "2026-11-24T09:30:00"), "error: ran_at: "
         "'2026-11-24T09:30:00' has no time zone"),
        ((*HASHED, "--ran-at", "2026-11-24T10:00:01Z"), "is later than the time "
         "of this write (2026-11-24T10:00:00+00:00)"),
    ],
)  # fmt: skip
def test_a_bad_cli_qa_result_says_why_and_writes_nothing(
    engine, qa_plan, repo_dir, tmp_path, capsys, monkeypatch, extra, expected
):
    monkeypatch.chdir(repo_dir)
    extra = tuple(_outside_link(repo_dir, tmp_path) if e == "LINK" else e for e in extra)
    before = snapshot(repo_dir)
    code, _, err = cli(capsys, repo_dir, *qa_args(qa_plan), *extra)
    assert code == 2
    assert expected in err
    assert "Traceback" not in err
    assert snapshot(repo_dir) == before

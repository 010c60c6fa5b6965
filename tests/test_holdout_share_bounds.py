"""A holdout share outside (0, 0.5] is refused at every surface that writes one, naming the field and
what is allowed, and nothing is written (plan file bytes and git log unchanged); a stored plan-level
share above 0.5 loads and is reported as lift.holdout_share_too_large."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personalization_engine.demo_content import PROFILES
from personalization_engine.server import build_server

from .test_cli_edits import cli, write_file
from .test_cli_edits import new_plan as cli_new_plan
from .test_mcp_tools import call, client, new_plan, snapshot, text

LIFT = {"target_pct": 10, "kpi": "day-7 activation", "window_days": 7}
BAD_SHARES = [0, 0.5000001, 0.6, 1, -0.1]


def names_the_bound(message: str) -> bool:
    """The field, and the bound it broke: at most 0.5, or greater than 0."""
    return "holdout_share" in message and ("0.5" in message or "greater than 0" in message)


def _profile(share: float) -> dict:
    return {**PROFILES[0], "holdout_share": share}


def _sections(share: float, where: str) -> dict:
    if where == "plan":
        return {"success_metrics": {"activation_lift": {**LIFT, "holdout_share": share}}}
    return {"profiles": [_profile(share)]}


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
@pytest.mark.parametrize("share", BAD_SHARES)
@pytest.mark.parametrize("where", ["plan", "profile"])
async def test_write_plan_refuses_a_share_outside_0_to_half_and_writes_nothing(
    engine, repo_dir, share, where
):
    async with client(build_server(engine)) as c:
        pid = (await new_plan(c))["plan_id"]
        before = snapshot(repo_dir)
        result = await call(
            c, "write_plan", plan_id=pid, expected_revision=1, sections=_sections(share, where)
        )
        assert result.is_error
        assert names_the_bound(text(result)), text(result)
    assert snapshot(repo_dir) == before


@pytest.mark.anyio
@pytest.mark.parametrize("share", BAD_SHARES)
async def test_define_profiles_refuses_a_profile_share_outside_0_to_half_and_writes_nothing(
    engine, repo_dir, share
):
    async with client(build_server(engine)) as c:
        pid = (await new_plan(c))["plan_id"]
        before = snapshot(repo_dir)
        result = await call(
            c, "define_profiles", plan_id=pid, expected_revision=1, profiles=[_profile(share)]
        )
        assert result.is_error
        assert names_the_bound(text(result)), text(result)
    assert snapshot(repo_dir) == before


@pytest.mark.anyio
async def test_a_share_of_exactly_half_is_accepted_on_both_levels(engine, repo_dir):
    async with client(build_server(engine)) as c:
        pid = (await new_plan(c))["plan_id"]
        sections = {**_sections(0.5, "plan"), **_sections(0.5, "profile")}
        result = await call(c, "write_plan", plan_id=pid, expected_revision=1, sections=sections)
        assert not result.is_error, text(result)


@pytest.mark.parametrize("share", [0, 0.6, 1])
@pytest.mark.parametrize("command", ["write", "profiles"])
def test_plans_write_and_plans_profiles_refuse_a_bad_share_and_write_nothing(
    repo_dir, tmp_path, capsys, command, share
):
    plan_id = cli_new_plan(capsys, repo_dir)
    before = snapshot(repo_dir)
    body = {"sections": _sections(share, "plan")} if command == "write" else {"profiles": [_profile(share)]}
    args = write_file(tmp_path / "args.json", body)
    code, _, err = cli(
        capsys,
        "plans",
        command,
        plan_id,
        "--file",
        args,
        "--expected-revision",
        "1",
        "--workspace",
        str(repo_dir),
    )
    assert code != 0
    assert names_the_bound(err) and "Traceback" not in err, err
    assert snapshot(repo_dir) == before


def test_a_stored_plan_level_share_above_half_loads_and_validates_to_an_error_finding(repo_dir, capsys):
    plan_id = cli_new_plan(capsys, repo_dir)
    path: Path = repo_dir / ".claude" / "plans" / f"{plan_id}.json"
    document = json.loads(path.read_text())
    document["success_metrics"]["activation_lift"] = {**LIFT, "holdout_share": 0.7}
    path.write_text(json.dumps(document))  # as format 1.3 allowed it (the migration keeps it)
    code, out, err = cli(capsys, "plans", "validate", plan_id, "--workspace", str(repo_dir), "--json")
    found = json.loads(out)["findings"]
    assert any(
        f["code"] == "lift.holdout_share_too_large"
        and f["pointer"] == "/success_metrics/activation_lift/holdout_share"
        and f["severity"] == "error"
        for f in found
    ), (code, out, err)

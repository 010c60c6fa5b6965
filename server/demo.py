"""`personalization-engine demo`: the PLG Onboarding example, end to end, through a real MCP client.

The demo starts `personalization-engine serve` as a subprocess and talks to it over stdio, exactly
as Claude Code would, in a fresh git folder. With --now the clock and the plan id are fixed, so the
output (including commit SHAs) is reproducible.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

import anyio

try:
    from builtins import BaseExceptionGroup
except ImportError:  # Python 3.10: anyio depends on the backport
    from exceptiongroup import BaseExceptionGroup
from mcp import Client, StdioServerParameters

from . import demo_content as content
from .audience.sample_data import write_sample_data
from .demo_cli import CliClient
from .demo_people import Person, run_as
from .errors import EngineError, InputError

DEMO_ACTOR = "demo:claude-code"


class DemoError(EngineError):
    """A step of the demo failed; the message names the tool and the server's answer."""


def prepare_folder(target: str | None) -> Path:
    if target is None:
        folder = Path(tempfile.mkdtemp(prefix="personalization-engine-demo-"))
    else:
        folder = Path(target).expanduser().resolve()
        if folder.exists() and any(folder.iterdir()):
            raise InputError(f"folder {str(folder)!r} is not empty; name a new or empty folder", field="DIR")
        folder.mkdir(parents=True, exist_ok=True)
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.name", "Demo User"],
        ["config", "user.email", "demo@example.com"],
    ):
        subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return folder


def server_parameters(folder: Path, now: str | None) -> StdioServerParameters:
    env = dict(os.environ)
    env.pop("CLAUDE_PROJECT_DIR", None)
    env["PERSONALIZATION_ENGINE_WORKSPACE"] = str(folder)
    frozen = ["--frozen-clock", now] if now else []
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "personalization_engine.cli.main", "serve", "--workspace", str(folder), *frozen],
        env=env,
        cwd=str(folder),
    )


class Session:
    """Calls tools, keeps the latest revision, and narrates each step."""

    def __init__(
        self, client: Client, out: TextIO, folder: Path, reference_time: datetime, frozen_clock: str | None
    ) -> None:
        self.client = client
        self.out = out
        self.folder = folder
        self.reference_time = reference_time
        self.frozen_clock = frozen_clock
        self.plan_id = ""
        self.revision = 0
        self.people_announced = False

    def say(self, text: str) -> None:
        print(text, file=self.out)

    async def person(self, person: Person, argv: list[str]) -> None:
        """A command only a person may run (`plans approve`, `plans confirm-consent`), run as them."""
        if not self.people_announced:
            self.say(
                "  (the demo stands in for the people below: each command runs in a pseudo-terminal "
                "with that person's git identity, and the demo answers its question 'y')"
            )
            self.people_announced = True
        frozen = ["--frozen-clock", self.frozen_clock] if self.frozen_clock else []
        full = ["plans", *argv, "--workspace", str(self.folder), *frozen]
        code, output = await anyio.to_thread.run_sync(lambda: run_as(person, self.folder, full))
        if code != 0:
            raise DemoError(f"{person.name}: plans {' '.join(argv[:1])} failed ({code}): {output.strip()}")
        await self.call("read_plan", {"plan_id": self.plan_id})  # the revision the person wrote
        shown = shlex.join(argv[:1] + argv[2:])
        if len(shown) > 120:
            shown = f"{argv[0]} ({argv.count('--attribute')} attributes)"
        self.say(f"  r{self.revision} {person.name} <{person.email}>: plans {shown}")

    async def call(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        result = await self.client.call_tool(tool, args)
        if result.is_error:
            text = " ".join(getattr(c, "text", "") for c in result.content)
            raise DemoError(f"{tool} failed: {text}")
        if result.structured_content is not None:
            data = result.structured_content
        else:  # read_plan and validate_plan answer with JSON text only
            data = json.loads(result.content[0].text) if result.content else {}
        if "revision" in data and "plan_id" in data:
            self.plan_id = data["plan_id"]
            self.revision = data["revision"]
        return data

    async def write(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        data = await self.call(
            tool, {"plan_id": self.plan_id, "expected_revision": self.revision, "actor": DEMO_ACTOR, **args}
        )
        counts = data["findings"]
        self.say(
            f"  r{data['revision']} {tool}: {data['summary']} "
            f"[findings: {counts['error']} errors, {counts['warning']} warnings, {counts['info']} info]"
        )
        return data


Step = Callable[[Session], Any]


async def stage_steps(s: Session) -> None:
    created = await s.call("create_plan", {**content.CREATE, "actor": DEMO_ACTOR})
    s.say(
        f"  r1 create_plan: {created['plan_id']} ({content.CREATE['pattern']}: "
        f"{content.CREATE['pattern_rationale']})"
    )
    await s.write("record_intake", content.INTAKE)
    await s.write(
        "inventory_attributes", {"data_sources": content.DATA_SOURCES, "attributes": content.ATTRIBUTES}
    )
    scenarios = content.scenarios_at(s.reference_time)
    await s.write("define_profiles", {"profiles": content.PROFILES, "scenarios": scenarios})
    await s.write("map_activation", {"activations": content.ACTIVATIONS})
    await s.write("write_plan", {"sections": content.LADDER_AND_FALLBACKS})
    await s.write("plan_governance", content.GOVERNANCE)


async def review(s: Session, title: str) -> dict[str, Any]:
    report = await s.call("validate_plan", {"plan_id": s.plan_id})
    counts = report["counts"]
    s.say(f"{title}: {counts['error']} errors, {counts['warning']} warnings, {counts['info']} info")
    for finding in report["findings"]:
        s.say(f"  {finding['severity']:7} {finding['code']}  {finding['pointer']}  {finding['message']}")
    return report


async def escalation_steps(s: Session) -> None:
    """The review finds the deliberate consent gap; it is recorded, recurs, escalates, is fixed."""
    await review(s, "review (validate_plan)")
    s.say("fix or escalate:")
    await s.write("record_blocker", content.BLOCKER)
    await s.write("record_blocker", content.BLOCKER_REPEAT)
    plan = await s.call("read_plan", {"plan_id": s.plan_id})
    for escalation in plan["escalations"]:
        s.say(
            f"    escalation {escalation['id']}: rung {escalation['rung']} {escalation['role']}, "
            f"reached {escalation['owner_reached']} ({escalation['trigger']})"
        )
    await s.write("inventory_attributes", {"attributes": [content.CONSENT_FIX]})
    attribute, purpose = content.CONSENT_CONFIRMED
    await s.person(
        content.PRIVACY_LEAD, ["confirm-consent", s.plan_id, "--attribute", attribute, "--purpose", purpose]
    )
    blocker_id = plan["blockers"][-1]["id"]
    await s.write("resolve_blocker", {"blocker_id": blocker_id, "remediation": content.REMEDIATION})


async def approval_steps(s: Session) -> None:
    """The model reports what each approver said; each person then confirms at their own terminal,
    and the reviewed revision is finalized."""
    every_attribute = [arg for a in content.ATTRIBUTES for arg in ("--attribute", a["name"])]
    await s.person(content.PRIVACY_LEAD, ["confirm-consent", s.plan_id, *every_attribute])
    for approval in content.APPROVALS:
        await s.write("record_approval", approval)
    for approval in content.APPROVALS:
        person = content.PEOPLE[approval["approver"]]
        argv = ["approve", s.plan_id, "--role", approval["role"], "--comment", approval["note"]]
        await s.person(person, argv)
    done = await s.write("finalize_plan", {})
    s.say(f"    final: r{done['final_revision']} tagged {done['tag'] or done['tag_error']}")
    s.say(
        "  consent-flow QA: not run here, since it needs the real site; with Playwright the command "
        "runs each qa_flow and records it with record_qa_result (docs/qa.md)"
    )


async def rules_steps(s: Session) -> None:
    """Simulate the stored scenarios' records and show what the SQL a data engineer runs looks like."""
    scenarios = content.scenarios_at(s.reference_time)
    records = [scenario["record"] for scenario in scenarios]
    result = await s.call("simulate_profiles", {"plan_id": s.plan_id, "records": records})
    s.say("simulate_profiles on the scenario records:")
    for scenario, verdict in zip(scenarios, result["records"], strict=True):
        expected = scenario["expected_profile"] or "no profile"
        s.say(f"  {scenario['id']}: winner {verdict['winner'] or 'none'} (expected {expected})")
    for target in ("duckdb", "jsonlogic"):
        compiled = await s.call("compile_rules", {"plan_id": s.plan_id, "target": target})
        size = (
            len(compiled["sql"].splitlines()) if compiled["sql"] else len(compiled["jsonlogic"]["profiles"])
        )
        unit = "lines of SQL" if compiled["sql"] else "profiles as JSON Logic"
        s.say(f"compile_rules {target}: {size} {unit}")


SAMPLE_ROWS = 20_000
SAMPLE_FILE = "data/profiles.parquet"


async def sizing_steps(s: Session) -> None:
    """Size every profile and channel on deterministic synthetic data shaped like the inventory."""

    (s.folder / SAMPLE_FILE).parent.mkdir(parents=True, exist_ok=True)
    write_sample_data(s.folder / SAMPLE_FILE, SAMPLE_ROWS, reference=s.reference_time)
    s.say(f"sample data: {SAMPLE_ROWS:,} synthetic people in {SAMPLE_FILE}")
    result = await s.call("size_audiences", {"plan_id": s.plan_id, "data": SAMPLE_FILE, "actor": DEMO_ACTOR})
    s.revision = result["write"]["revision"]
    run = result["run"]
    s.say(
        f"  r{s.revision} size_audiences: {run['row_count']:,} rows, data coverage "
        f"{run['data_coverage_pct']:.1f}%"
    )
    for profile in run["profiles"]:
        s.say(
            f"    {profile['profile_id']:22} eligible {profile['eligible']:>6,}  net {profile['net']:>6,}  "
            f"wins {profile['winner']:>6,}"
        )
    for channel in run["channels"]:
        s.say(
            f"    channel {channel['channel']:7} reachable {channel['reachable']:>6,}  "
            f"activatable after consent {channel['net_activatable'] or 0:>6,}"
        )


async def export_steps(s: Session) -> None:
    """Carry the final revision into production: dbt models, and each flag system's file."""
    for target in ("dbt", "flagd", "launchdarkly", "growthbook"):
        result = await s.call(
            "export_activation", {"plan_id": s.plan_id, "target": target, "actor": DEMO_ACTOR}
        )
        s.revision = result["ledger_revision"] or s.revision
        state = "draft " if result["draft"] else ""
        s.say(
            f"  r{s.revision} export_activation {target}: {state}{len(result['files'])} files in "
            f"{result['folder']}/, carrying {len(result['profiles'])} profiles"
        )
        for refusal in result["refusals"]:
            where = refusal["profile_id"] + (f"/{refusal['channel']}" if refusal.get("channel") else "")
            s.say(f"    refused {where}: {refusal['condition']} ({refusal['reason']})")
        for cutoff in result["cutoffs"]:
            s.say(
                f"    frozen {cutoff['profile_id']}: '{cutoff['condition']}', window start {cutoff['cutoff']}"
            )


# The lift each profile's experience adds to the KPI in the demo's synthetic outcomes: the readout
# should find it again, within its interval.
PLANTED_LIFTS = {
    "new-trial-activation": 0.25,
    "stalled-trial": 0.15,
    "team-expansion": 0.2,
    "power-user-upgrade": 0.1,
    "dormant-free": 0.3,
}
OUTCOMES_FILE = "data/outcomes.parquet"


async def lift_steps(s: Session) -> None:
    """After launch: outcomes come in, and the readout compares each profile's treatment with its
    holdout. The outcomes are synthetic with a planted lift, so the demo can show the interval
    finds it."""
    from .audience.sample_outcomes import write_sample_outcomes
    from .store.plans import parse_plan

    path = s.folder / ".claude" / "plans" / f"{s.plan_id}.json"
    plan = parse_plan(path.read_bytes(), str(path), trusted=False)
    written = write_sample_outcomes(
        plan, s.folder / SAMPLE_FILE, s.folder / OUTCOMES_FILE, as_of=s.reference_time, lifts=PLANTED_LIFTS
    )
    s.say(f"after launch: {written.rows:,} outcome rows in {OUTCOMES_FILE}, with a planted lift per profile")
    as_of = s.reference_time.isoformat().replace("+00:00", "Z")
    arguments = {"as_of": as_of, "data": SAMPLE_FILE, "outcomes": OUTCOMES_FILE, "value_column": "revenue"}
    result = await s.call("measure_lift", {"plan_id": s.plan_id, "actor": DEMO_ACTOR, **arguments})
    s.revision = result["write"]["revision"]
    readout = result["readout"]
    s.say(f"  r{s.revision} measure_lift {readout['id']}: {readout['kpi']}, {readout['interval_method']}")
    for profile in readout["profiles"]:
        planted = 100 * PLANTED_LIFTS.get(profile["profile_id"], 0.0)
        low, high = profile["relative_ci_pct"] or (float("nan"), float("nan"))
        found = "contains" if low <= planted <= high else "MISSES"
        s.say(
            f"    {profile['profile_id']:22} {profile['treatment']:>5,} vs {profile['holdout']:>4,} held out: "  # noqa: E501
            f"lift {profile['relative_lift_pct']:+6.1f}% [{low:+.1f}%, {high:+.1f}%] {found} the planted "
            f"{planted:+.0f}%; p {profile['p_value']:.3g}, SRM p {profile['srm_p_value']:.2f}"
        )
    overall = readout["overall"]
    s.say(f"    overall lift {overall['relative_lift_pct']:+.1f}% = success_metrics.activation_lift.actual")


async def render_steps(s: Session) -> None:
    result = await s.call("render_deliverables", {"plan_id": s.plan_id, "actor": DEMO_ACTOR})
    s.say(
        f"render_deliverables: {len(result['changed'])} files for r{result['revision']} in "
        f".claude/plans/{s.plan_id}/ ({', '.join(result['files'])})"
    )


# After launch a team weighs one rule change: power users from a feature adoption score of 60, not
# 70. The proposal is written as a draft revision, its impact on the same sample data is recorded in
# the ledger, and the team keeps the launched rule: writing it back returns the plan to the content
# it was finalized with, so it is final again (the hash decides) and the exports stay current.
PROPOSED_PROFILE = "power-user-upgrade"
PROPOSED_SCORE = 60


async def impact_steps(s: Session) -> None:
    """Propose one rule change after launch and record which people it moves, and why."""
    launched = s.revision
    profile = next(p for p in content.PROFILES if p["id"] == PROPOSED_PROFILE)
    conditions = [
        {**c, "value": PROPOSED_SCORE} if c.get("attr") == "feature_adoption_score" else c
        for c in profile["eligibility"]["all"]
    ]
    proposal = {**profile, "eligibility": {"all": conditions}}
    await s.write("define_profiles", {"profiles": [proposal]})
    arguments = {"from_revision": launched, "to_revision": s.revision, "data": SAMPLE_FILE}
    result = await s.call("record_impact", {"plan_id": s.plan_id, **arguments, "actor": DEMO_ACTOR})
    s.revision = result["write"]["revision"]
    run = result["run"]
    moved = [f for f in run["flows"] if f["from_profile"] != f["to_profile"]]
    s.say(
        f"  r{s.revision} record_impact r{launched} -> r{arguments['to_revision']}: "
        f"{sum(f['records'] for f in moved):,} of {run['row_count']:,} people move"
    )
    for flow in moved:
        source, target = flow["from_profile"] or "(none)", flow["to_profile"] or "(none)"
        s.say(f"    {source:22} -> {target:22} {flow['records']:>6,}")
    for profile_impact in run["profiles"]:
        if profile_impact["drivers"]:
            driver = profile_impact["drivers"][0]
            s.say(
                f"    {profile_impact['profile_id']}: {driver['cause']} {driver['pointer']} "
                f"({driver['condition']}), {driver['records']:,} people, e.g. id {driver['example_id']}"
            )
    await s.write("define_profiles", {"profiles": [profile]})
    s.say(f"    the team keeps the launched rule (r{s.revision}): the plan is final again")


EXTRA_STEPS: list[Step] = [
    rules_steps,
    sizing_steps,
    escalation_steps,
    approval_steps,
    export_steps,
    lift_steps,
    impact_steps,
    render_steps,
]


async def run(folder: Path, now: str | None, out: TextIO, via: str = "mcp") -> dict[str, Any]:
    reference = (
        datetime.fromisoformat(now.replace("Z", "+00:00"))
        if now
        else datetime.now(timezone.utc).replace(microsecond=0)
    )
    if via == "cli":
        client_context: Any = CliClient(folder, now)
    else:
        client_context = Client(server_parameters(folder, now))
    async with client_context as client:
        s = Session(client, out, folder, reference, now)
        s.say(f"workspace: {folder}")
        s.say("stages (each line is one revision and one git commit):")
        await stage_steps(s)
        for step in EXTRA_STEPS:
            await step(s)
        final = await review(s, "final review (validate_plan)")
        history = await s.call("plan_history", {"plan_id": s.plan_id})
    plan_path = folder / ".claude" / "plans" / f"{s.plan_id}.json"
    print(f"plan: {plan_path} (revision {s.revision}, {len(history['revisions'])} revisions)", file=out)
    log = subprocess.run(
        ["git", "log", "--oneline"],
        cwd=folder,
        check=True,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    ).stdout
    print("git log --oneline:", file=out)
    print(log.rstrip(), file=out)
    if final["counts"]["error"]:
        # The example must come out clean on any day; an error finding means it did not.
        raise DemoError(f"the final review has {final['counts']['error']} error finding(s); see above")
    return {
        "workspace": str(folder),
        "plan_id": s.plan_id,
        "plan_path": str(plan_path),
        "revision": s.revision,
        "revisions": len(history["revisions"]),
        "final_review": final["counts"],
        "via": via,
    }


def run_demo(target: str | None, now: str | None, out: TextIO | None = None, *, via: str = "mcp") -> Path:
    return run_demo_summary(target, now, out, via=via)[0]


def run_demo_summary(
    target: str | None, now: str | None, out: TextIO | None = None, *, via: str = "mcp"
) -> tuple[Path, dict[str, Any]]:
    """Run the example; the folder and a summary (plan id and path, revisions, final review)."""
    folder = prepare_folder(target)
    try:
        summary = anyio.run(run, folder, now, out or sys.stdout, via)
    except BaseExceptionGroup as group:  # the MCP client's task group wraps a failed step
        raise _first_engine_error(group) or group from None
    return folder, summary


def _first_engine_error(error: BaseException) -> EngineError | None:
    if isinstance(error, EngineError):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = _first_engine_error(inner)
            if found is not None:
                return found
    return None


def dump(data: Any) -> str:
    return json.dumps(data, indent=2)

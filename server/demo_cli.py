"""`demo --via cli`: the same example driven through `personalization-engine` commands.

Each tool call of the demo becomes the CLI command a person would type, run as a subprocess with
`--json`; stage arguments go in a JSON file, exactly the object the MCP tool takes. This shows that
a person with an editor and a terminal can build the whole plan without an MCP client.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

STAGE_COMMAND = {
    "record_intake": "intake",
    "inventory_attributes": "attributes",
    "define_profiles": "profiles",
    "map_activation": "activation",
    "plan_governance": "governance",
}


class CliClient:
    """Answers `call_tool(name, args)` like the MCP client, by running the matching CLI command."""

    def __init__(self, folder: Path, frozen_clock: str | None) -> None:
        self.folder = folder
        self.frozen = ["--frozen-clock", frozen_clock] if frozen_clock else []
        self._files = tempfile.TemporaryDirectory(prefix="pe-demo-cli-")

    async def __aenter__(self) -> CliClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._files.cleanup()

    async def call_tool(self, name: str, args: dict[str, Any]) -> SimpleNamespace:
        argv = [*self.command(name, dict(args)), "--workspace", str(self.folder), *self.frozen]
        done = subprocess.run(
            [sys.executable, "-m", "personalization_engine.cli.main", *argv],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            check=False,
            cwd=self.folder,
        )
        if done.returncode not in (0, 1) or not done.stdout.strip():
            text = SimpleNamespace(text=done.stderr.strip() or done.stdout.strip())
            return SimpleNamespace(is_error=True, content=[text], structured_content=None)
        data = json.loads(done.stdout)
        if name == "compile_rules":  # the CLI prints the SQL or the JSON Logic at the top level
            data = {"sql": data.get("sql"), "jsonlogic": None if "sql" in data else data}
        return SimpleNamespace(is_error=False, content=[], structured_content=data)

    def command(self, name: str, args: dict[str, Any]) -> list[str]:
        plan_id = args.pop("plan_id", None)
        revision = args.pop("expected_revision", None)
        actor = args.pop("actor", None)
        common = [*(["--actor", actor] if actor else []), "--json"]
        revision_flag = ["--expected-revision", str(revision)] if revision else []
        if name in STAGE_COMMAND or name == "write_plan":
            command = STAGE_COMMAND.get(name, "write")
            return ["plans", command, plan_id, "--file", self.file(name, args), *revision_flag, *common]
        builders = {
            "create_plan": self._create,
            "record_blocker": self._blocker,
            "resolve_blocker": self._resolve,
            "record_approval": self._approval,
            "finalize_plan": lambda plan_id, _: ["plans", "finalize", plan_id or ""],
            "measure_lift": self._lift,
        }
        if name in builders:
            return [*builders[name](plan_id, args), *revision_flag, *common]
        if name == "export_activation":
            return ["plans", "export", plan_id or "", "--to", args["target"], *common]
        if name == "record_impact":
            revisions = ["--from", str(args["from_revision"]), "--to", str(args["to_revision"])]
            return ["plans", "impact", plan_id or "", *revisions, "--data", args["data"], "--record", *common]
        return self._read(name, plan_id, args)

    def file(self, name: str, args: dict[str, Any]) -> str:
        path = Path(self._files.name) / f"{name}.json"
        path.write_text(json.dumps(args), encoding="utf-8")
        return str(path)

    def _create(self, _: str | None, args: dict[str, Any]) -> list[str]:
        argv = ["plans", "new", "--initiative", args["initiative"], "--channels", ",".join(args["channels"])]
        lists = (("--metrics", "metrics"), ("--constraints", "constraints"))
        for flag, key in (*lists, ("--regimes", "regimes"), ("--signals", "signals")):
            if args.get(key):
                argv += [flag, ",".join(args[key])]
        for flag, key in (("--timeline", "timeline"), ("--pattern", "pattern")):
            if args.get(key):
                argv += [flag, args[key]]
        if args.get("pattern_rationale"):
            argv += ["--pattern-rationale", args["pattern_rationale"]]
        return argv

    def _blocker(self, plan_id: str | None, args: dict[str, Any]) -> list[str]:
        detail = ["--detail", args["detail"]] if args.get("detail") else []
        return [
            "plans",
            "blocker",
            plan_id or "",
            "--kind",
            args["kind"],
            "--subject",
            args["subject"],
            *detail,
        ]

    def _resolve(self, plan_id: str | None, args: dict[str, Any]) -> list[str]:
        return [
            "plans",
            "resolve",
            plan_id or "",
            "--blocker",
            args["blocker_id"],
            "--remediation",
            args["remediation"],
        ]

    def _approval(self, plan_id: str | None, args: dict[str, Any]) -> list[str]:
        note = ["--note", args["note"]] if args.get("note") else []
        return [
            "plans",
            "record-approval",
            plan_id or "",
            "--approver",
            args["approver"],
            "--role",
            args["role"],
            "--decision",
            args["decision"],
            *note,
        ]

    def _lift(self, plan_id: str | None, args: dict[str, Any]) -> list[str]:
        value = ["--value-column", args["value_column"]] if args.get("value_column") else []
        files = ["--data", args["data"], "--outcomes", args["outcomes"], *value]
        return ["plans", "lift", plan_id or "", "--as-of", args["as_of"], *files]

    def _read(self, name: str, plan_id: str | None, args: dict[str, Any]) -> list[str]:
        if name == "validate_plan":
            return ["plans", "validate", plan_id or "", "--json"]
        if name == "read_plan":
            return ["plans", "show", plan_id or "", "--json"]
        if name == "plan_history":
            return ["plans", "log", plan_id or "", "--json"]
        if name == "simulate_profiles":
            records = self.folder / "data" / "scenario-records.json"
            records.parent.mkdir(exist_ok=True)
            records.write_text(json.dumps(args["records"]), encoding="utf-8")
            return ["plans", "simulate", plan_id or "", "--records", "data/scenario-records.json", "--json"]
        if name == "compile_rules":
            return ["plans", "compile", plan_id or "", "--target", args["target"], "--json"]
        if name == "size_audiences":
            return ["plans", "size", plan_id or "", "--data", args["data"], "--json"]
        if name == "render_deliverables":
            return ["plans", "render", plan_id or "", "--json"]
        if name == "export_activation":
            return ["plans", "export", plan_id or "", "--to", args["target"], "--json"]
        raise ValueError(f"the CLI demo has no command for tool {name!r}")

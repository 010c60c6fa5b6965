"""The engines that prove a flagd export: flagd's published schemas (jsonschema), the OpenFeature
Python SDK with the flagd provider's in-process resolver in file mode (in .venv-flagd, through
flagd_runner.py), and @openfeature/flagd-core under Node (js/evaluate.js).

Both evaluators take the same jobs: {"files": {name: text}, "now": epoch seconds, "evaluations":
[[file name, flag key, context], ...]}, and control the clock flagd reads for `$flagd.timestamp`
(see the runners' docstrings). Outside CI a missing engine skips the test; in CI it fails it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

from personalization_engine.export.flagd_logic import escape_time_var

from ..render.helpers import REPO, require_tool

HERE = Path(__file__).resolve().parent
SCHEMAS = HERE / "flagd_schemas"
RUNNER = HERE / "flagd_runner.py"
NODE_DIR = HERE / "js"
PYTHON_VERSIONS = {
    "openfeature-sdk": "0.10.0",
    "openfeature-provider-flagd": "0.6.1",
    "openfeature-flagd-core": "2.0.0",
    "panzi-json-logic": "1.0.1",
    "protobuf": "7.36.2",
}
NODE_VERSIONS = {"@openfeature/flagd-core": "4.0.1", "json-logic-engine": "5.0.7"}
PROBE_PREFIX = "member?"


def flags_validator() -> jsonschema.Draft7Validator:
    """flagd's flags.json with its relative reference to targeting.json resolved offline (under
    draft-07 the root `$ref` hides flags.json's `$id`, so the relative name is registered too)."""
    flags = json.loads((SCHEMAS / "flags.json").read_text())
    targeting = json.loads((SCHEMAS / "targeting.json").read_text())
    resource = Resource.from_contents(targeting)
    registry: Registry = Registry().with_resources(
        [
            (flags["$id"], Resource.from_contents(flags)),
            (targeting["$id"], resource),
            ("./targeting.json", resource),
        ]
    )
    return jsonschema.Draft7Validator(flags, registry=registry)


def flagd_python() -> str:
    given = os.environ.get("PERSONALIZATION_ENGINE_TEST_FLAGD_PYTHON")
    return require_tool(
        given or str(REPO / ".venv-flagd" / "bin" / "python"), "the flagd test venv (.venv-flagd)"
    )


def flagd_node() -> str:
    node = require_tool(shutil.which("node"), "node")
    require_tool(
        str(NODE_DIR / "node_modules" / "@openfeature" / "flagd-core"), "@openfeature/flagd-core (npm ci)"
    )
    return node


def _run(command: list[str], jobs: list[dict[str, Any]], versions: dict[str, str]) -> list[list[Any]]:
    completed = subprocess.run(
        command, input=json.dumps({"jobs": jobs}), capture_output=True, text=True, timeout=900, check=False
    )
    if completed.returncode != 0:
        raise AssertionError(f"{command[-1]} failed: {completed.stderr[-3000:]}")
    answer = json.loads(completed.stdout)
    assert answer["versions"] == versions, answer["versions"]
    return answer["results"]


def run_python(python: str, jobs: list[dict[str, Any]]) -> list[list[Any]]:
    """[[value, reason, error], ...] per job from the OpenFeature SDK + flagd provider (file mode)."""
    return _run([python, str(RUNNER)], jobs, PYTHON_VERSIONS)


def run_node(node: str, jobs: list[dict[str, Any]]) -> list[list[Any]]:
    """The same answers from @openfeature/flagd-core (strict schema validation on load)."""
    return _run([node, str(NODE_DIR / "evaluate.js")], jobs, NODE_VERSIONS)


def run_both(python: str, node: str, jobs: list[dict[str, Any]]) -> tuple[list[list[Any]], list[list[Any]]]:
    """Both engines' answers, the two subprocesses running side by side."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        from_python = pool.submit(run_python, python, jobs)
        from_node = pool.submit(run_node, node, jobs)
        return from_python.result(), from_node.result()


def probe_file(exported: str, memberships: dict[str, Any]) -> str:
    """The exported file plus one string flag per profile ("in"/"out") whose targeting is that
    profile's membership: its `$ref` when the export shares it under `$evaluators`, else the logic
    the export writes inline. The channel flags stay as exported."""
    document = json.loads(exported)
    for profile_id, logic in memberships.items():
        name = f"member-{profile_id}"
        rule = {"$ref": name} if name in document["$evaluators"] else logic
        document["flags"][PROBE_PREFIX + profile_id] = {
            "state": "ENABLED",
            "variants": {"in": "in", "out": "out"},
            "defaultVariant": "out",
            "targeting": {"if": [rule, "in", "out"]},
        }
    return escape_time_var(json.dumps(document, indent=1))


def variants_by_both(exported: str, contexts: list[dict[str, Any]], flag: str, now: int) -> list[str]:
    """The flag's variant per context from both engines at `now` (epoch seconds); they must agree."""
    job = {"files": {"flags": exported}, "now": now, "evaluations": [["flags", flag, c] for c in contexts]}
    python = run_python(flagd_python(), [job])[0]
    node = run_node(flagd_node(), [job])[0]
    for answer in (*python, *node):
        assert answer[2] is None, answer
    assert [a[0] for a in python] == [a[0] for a in node], (python, node)
    return [a[0] for a in python]

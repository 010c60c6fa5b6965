"""Mutated calls of every tool never hang, never show a traceback, always name a field when they
fail, write nothing when they fail (nor when they only read), and leave a plan that still validates.

Each call starts from the example in the tool's own description (what a model copies), aimed at
a real plan in a real git repository, then gets one to three mutations: control characters, lone
surrogates, wrong types, huge values, empty values, unknown or missing keys. The seed is printed;
`FUZZ_SEED=... FUZZ_CALLS=10000 pytest tests/test_fuzz.py -s` replays or extends a run.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from personalization_engine.audience import write_sample_data
from personalization_engine.audience.sample_outcomes import write_sample_outcomes
from personalization_engine.core.engine import Engine
from personalization_engine.server import build_server
from personalization_engine.store.plans import parse_plan
from personalization_engine.tools._common import tool_errors

from .conftest import START
from .lift.helpers import with_holdouts
from .qa_helpers import add_qa_flows

pytestmark = pytest.mark.anyio

SEED = int(os.environ.get("FUZZ_SEED") or random.SystemRandom().randrange(2**32))
CALLS = int(os.environ.get("FUZZ_CALLS") or 1000)
# Generous: a call that is slow on a loaded machine is fine, one that never answers is not.
CALL_LIMIT_SECONDS = 60
DATA_FILE = "data/users.parquet"

STRANGE_TEXT = [
    "a\x00b",
    "\x00",
    "bell\x07",
    "esc\x1b[31m",
    "line\nbreak",
    "tab\tx",
    "cr\r",
    "sep\u2028x",
    "lone \ud800 surrogate",
    "\udfff",
    "",
    " ",
    "x" * 100_000,
    "../../../etc/passwd",
    "-rf",
    "--upload-pack=touch /tmp/x",
    "${CLAUDE_PROJECT_DIR}",
    "plan-20261124T093000Z",
    "' OR 1=1 --",
    "{{ 7*7 }}",
    "\u202eevil",
    "é" * 300,
]
STRANGE_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5,
    10**30,
    -(10**30),
    2**63,
    [],
    {},
    [None],
    {"": None},
    ["x"] * 5000,
    {"k\x00": 1},
]
# A lone surrogate in a key never leaves the client (it cannot encode it), so keys leave it out.
UNKNOWN_KEYS = ["zzz_unknown", "", "\x00", "__proto__", "plan_id " * 3]


@pytest.fixture
def anyio_backend():
    return "asyncio"


def example_of(description: str) -> dict[str, Any]:
    """The JSON object after 'Example:' in a tool description."""
    start = description.index("Example:") + len("Example:")
    # Descriptions wrap lines, sometimes inside a JSON string: a wrap reads as a space.
    text = description[start:].replace("\n", " ").lstrip()
    value, _ = json.JSONDecoder().raw_decode(text)
    return value


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"and": [value]}
    return value


def strange(rng: random.Random, current: Any) -> Any:
    """A replacement for one value, never shared with another call (later mutations edit it)."""
    return copy.deepcopy(_strange(rng, current))


def _strange(rng: random.Random, current: Any) -> Any:
    roll = rng.random()
    if isinstance(current, str) and roll < 0.5:
        return rng.choice(STRANGE_TEXT) if rng.random() < 0.6 else current + rng.choice(STRANGE_TEXT)
    if roll < 0.75:
        return rng.choice(STRANGE_VALUES)
    if roll < 0.8:
        # Up to 90 levels: the client itself refuses to serialize much deeper JSON.
        return nested(rng.choice([3, 25, 45]))
    if roll < 0.9:
        return rng.choice(STRANGE_TEXT)
    return [current] * rng.choice([2, 3])


def places(value: Any, path: tuple = ()) -> list[tuple]:
    """Every path into a JSON value, the value itself first."""
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += places(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += places(child, (*path, index))
    return found


def get(value: Any, path: tuple) -> Any:
    for step in path:
        value = value[step]
    return value


def mutate(rng: random.Random, arguments: dict[str, Any], schema: dict[str, Any]) -> tuple[dict, str]:
    """One mutation of the arguments, in place; returns them and a note of what changed."""
    path = rng.choice(places(arguments))
    target = get(arguments, path)
    roll = rng.random()
    if isinstance(target, dict) and roll < 0.3:
        key = rng.choice(UNKNOWN_KEYS) if rng.random() < 0.5 or not target else rng.choice(list(target))
        if key in target and rng.random() < 0.6:
            del target[key]
            return arguments, f"delete {(*path, key)}"
        target[key] = strange(rng, None)
        return arguments, f"set {(*path, key)}"
    if not path:
        # The whole argument object: add an argument the tool has but the example does not use.
        optional = [name for name in schema.get("properties", {}) if name not in arguments]
        if optional:
            name = rng.choice(optional)
            arguments[name] = strange(rng, None)
            return arguments, f"add {name}"
        return arguments, "none"
    parent = get(arguments, path[:-1])
    parent[path[-1]] = strange(rng, target)
    return arguments, f"replace {path}"


def base_arguments(rng: random.Random, example: dict[str, Any], plan_id: str, revision: int) -> dict:
    arguments = json.loads(json.dumps(example))
    if "plan_id" in arguments:
        arguments["plan_id"] = plan_id
    if "expected_revision" in arguments and rng.random() < 0.85:
        arguments["expected_revision"] = revision
    for name in ("revision", "from_revision", "to_revision"):
        if name in arguments:
            # The examples name revisions of a longer history than a young plan has.
            arguments[name] = min(arguments[name], revision)
    return arguments


def snapshot(repo: Path) -> tuple:
    """HEAD and every file under .claude/plans (the lock file aside: it is empty and ours)."""
    head = (
        (repo / ".git" / "refs" / "heads" / "main").read_text()
        if (repo / ".git/refs/heads/main").exists()
        else ""
    )
    plans = repo / ".claude" / "plans"
    files = sorted(
        (str(p.relative_to(plans)), p.read_bytes())
        for p in plans.rglob("*")
        if p.is_file() and p.name != ".write.lock"
    )
    return head, files


def error_text(result) -> str:
    return " ".join(getattr(part, "text", "") for part in result.content)


def names_a_field(text: str, fields: list[str]) -> bool:
    """The message names an argument of the tool, or a JSON Pointer into one."""
    if re.search(r"(^|[\s'\"`(])/[A-Za-z_]", text):
        return True
    return any(re.search(rf"(^|[^A-Za-z_]){re.escape(name)}([^A-Za-z_]|$)", text) for name in fields)


def plans_validate(repo: Path) -> None:
    for path in (repo / ".claude" / "plans").glob("plan-*.json"):
        parse_plan(path.read_bytes(), str(path), trusted=False)


def prepare(engine: Engine, plan_id: str, repo: Path) -> None:
    with_holdouts(engine, plan_id)  # the demo's profiles, with the holdouts measure_lift reads out
    add_qa_flows(engine, plan_id)  # record_qa_result's example names the web activation's flow
    write_sample_data(repo / DATA_FILE, 200, reference=START)
    # measure_lift's example reads these outcomes
    write_sample_outcomes(
        engine.read_plan(plan_id), repo / DATA_FILE, repo / "data/o.csv", as_of=START, lifts={}
    )


async def test_mutated_calls_of_every_tool_answer_in_time_name_a_field_and_write_nothing_on_error(
    engine: Engine, repo_dir: Path, plan_id: str
):
    prepare(engine, plan_id, repo_dir)
    rng = random.Random(SEED)
    print(f"\nfuzz: FUZZ_SEED={SEED} FUZZ_CALLS={CALLS}")
    failures: list[str] = []
    errors = writes = 0
    started = time.monotonic()
    async with Client(build_server(engine)) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        examples = {name: example_of(tool.description or "") for name, tool in tools.items()}
        for number in range(CALLS):
            name = rng.choice(sorted(tools))
            schema = tools[name].input_schema
            revision = engine.read_plan(plan_id).revision
            arguments = base_arguments(rng, examples[name], plan_id, revision)
            notes = [mutate(rng, arguments, schema)[1] for _ in range(rng.choice([0, 1, 1, 1, 2, 3]))]
            before = snapshot(repo_dir)
            with anyio.fail_after(CALL_LIMIT_SECONDS):
                result = await client.call_tool(name, arguments)
            after = snapshot(repo_dir)
            if number % 1000 == 999:  # long runs show they are alive, and how far they got
                print(f"fuzz: {number + 1} calls, {len(failures)} failures so far")
            text = error_text(result)
            where = f"call {number} {name} {notes}: {text[:300]!r}"
            if "Traceback" in text or 'File "' in text:
                failures.append(f"traceback: {where}")
            if result.is_error:
                errors += 1
                if not names_a_field(text, list(schema.get("properties", {}))):
                    failures.append(f"no field: {where}")
                if after != before:
                    failures.append(f"wrote after an error: {where}")
            elif tools[name].annotations.read_only_hint and after != before:
                failures.append(f"a read wrote: {where}")
            elif after[0] != before[0]:
                writes += 1
                plans_validate(repo_dir)
    plans_validate(repo_dir)
    seconds = time.monotonic() - started
    print(f"fuzz: {CALLS} calls, {errors} errors, {writes} writes, {seconds:.1f} s, seed {SEED}")
    assert not failures, f"seed {SEED}: {len(failures)} failures:\n" + "\n".join(failures[:40])


@pytest.mark.parametrize("field", ["from_revision", "to_revision"])
async def test_a_diff_to_a_revision_that_does_not_exist_names_the_argument(
    engine: Engine, plan_id: str, field
):
    arguments = {"plan_id": plan_id, "from_revision": 1, "to_revision": 1, field: 10**30}
    async with Client(build_server(engine)) as client:
        result = await client.call_tool("plan_diff", arguments)
    assert result.is_error
    assert f"{field}: revision {10**30} of {plan_id} does not exist; revisions run 1..1" in error_text(result)


@pytest.mark.parametrize("tool", ["plan_diff", "record_impact"])
async def test_an_impact_between_revisions_that_do_not_exist_names_the_argument_and_writes_nothing(
    engine: Engine, plan_id: str, repo_dir: Path, tool
):
    write_sample_data(repo_dir / DATA_FILE, 20, reference=START)
    arguments = {"plan_id": plan_id, "from_revision": 1, "to_revision": 7, "data": DATA_FILE}
    before = snapshot(repo_dir)
    async with Client(build_server(engine)) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error
    assert f"to_revision: revision 7 of {plan_id} does not exist; revisions run 1..1" in error_text(result)
    assert snapshot(repo_dir) == before


def test_a_model_that_refuses_a_value_inside_an_operation_names_the_field_not_just_the_tool():
    class Goal(BaseModel):
        statement: str = Field(max_length=5)

    with pytest.raises(ToolError) as caught, tool_errors():
        Goal.model_validate({"statement": "far too long"})
    assert str(caught.value).startswith("/statement: ")
    assert "at most 5 characters" in str(caught.value)


async def fails_without(client: Client, tool: str, arguments: dict, field: str, base: dict) -> bool:
    """Whether the call also fails with the example's own value for `field` (the fault is elsewhere)."""
    arguments = {**arguments, field: base[field]} if field in base else dict(arguments)
    if field not in base:
        del arguments[field]
    with anyio.fail_after(CALL_LIMIT_SECONDS):
        return (await client.call_tool(tool, arguments)).is_error


SWEEP_VALUES: list[Any] = ["a\x00b", "esc\x1b[31m", "lone \ud800", "", "x" * 100_000]
SWEEP_VALUES += [10**30, -1, [], {}, True]


async def sweep_field(client: Client, tool, field: str, base: dict, repo: Path) -> list[str]:
    """Each bad value in one argument: an error names that argument (or the fault is elsewhere)."""
    failures = []
    for value in SWEEP_VALUES:
        arguments = {**base, field: value}
        before = snapshot(repo)
        with anyio.fail_after(CALL_LIMIT_SECONDS):
            result = await client.call_tool(tool.name, arguments)
        if not result.is_error:
            continue  # an accepted value: the fuzz test checks what it wrote
        text = error_text(result)
        where = f"{tool.name}.{field} = {str(value)[:20]!r}: {text[:200]!r}"
        if snapshot(repo) != before:
            failures.append(f"wrote after an error: {where}")
        named = names_a_field(text, [field])
        if "Traceback" in text or (
            not named and not await fails_without(client, tool.name, arguments, field, base)
        ):
            failures.append(where)
    return failures


async def test_every_argument_of_every_tool_refuses_bad_values_naming_that_argument(
    engine: Engine, repo_dir: Path, plan_id: str
):
    prepare(engine, plan_id, repo_dir)
    failures = []
    async with Client(build_server(engine)) as client:
        for tool in (await client.list_tools()).tools:
            example = example_of(tool.description or "")
            for field in tool.input_schema.get("properties", {}):
                revision = engine.read_plan(plan_id).revision
                base = base_arguments(random.Random(0), example, plan_id, revision)
                failures += await sweep_field(client, tool, field, base, repo_dir)
    assert not failures, "\n".join(failures)

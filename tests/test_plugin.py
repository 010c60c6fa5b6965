"""The Claude Code plugin: manifests agree, the command names our tools, and the server starts as
.mcp.json says from a copy of the plugin folder."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from personalization_engine import __version__
from personalization_engine.docgen import _tool_docs
from personalization_engine.server import SERVER_KEY, full_tool_name

from .conftest import git, init_repo

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI") == "true"


def test_one_manifest_serves_claude_code_and_versions_agree():
    manifest = json.loads((ROOT / "plugin.json").read_text())
    assert (ROOT / ".claude-plugin" / "plugin.json").read_text() == (ROOT / "plugin.json").read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'name = "{manifest["name"]}"' in pyproject
    assert f'version = "{manifest["version"]}"' in pyproject
    assert manifest["version"] == __version__
    market = json.loads((ROOT / ".claude-plugin" / "marketplace.json").read_text())
    assert market["plugins"][0] == {**market["plugins"][0], "name": manifest["name"], "source": "./"}


def test_mcp_json_starts_the_engine_server_from_the_plugin_root_with_the_project_dir():
    servers = json.loads((ROOT / ".mcp.json").read_text())["mcpServers"]
    assert list(servers) == [SERVER_KEY] == ["engine"]
    engine = servers["engine"]
    assert "${CLAUDE_PLUGIN_ROOT}" in " ".join([engine["command"], *engine["args"]])
    assert engine["env"] == {"CLAUDE_PROJECT_DIR": "${CLAUDE_PROJECT_DIR}"}


def test_the_command_allows_exactly_our_tools_and_mentions_each_stage_tool():
    text = (ROOT / "commands" / "define-profiles.md").read_text()
    front = text.split("---")[1]
    allowed = re.search(r"^allowed-tools: (.*)$", front, re.MULTILINE).group(1).split(", ")
    ours = {full_tool_name(t["name"]) for t in _tool_docs()}
    assert {a for a in allowed if a.startswith("mcp__")} == ours
    assert all(len(name) <= 64 for name in ours)
    body = text.split("---", 2)[2]
    for tool in (
        "create_plan",
        "record_intake",
        "inventory_attributes",
        "define_profiles",
        "map_activation",
        "plan_governance",
        "validate_plan",
        "plan_diff",
        "plan_history",
    ):
        assert f"`{tool}`" in body, tool
    # That every name the command uses exists is checked in test_command_markdown.py.
    mentioned = set(re.findall(r"`([a-z]+_[a-z_]+)`", body))
    registered = {t["name"] for t in _tool_docs()}
    assert registered <= mentioned | {"list_plans", "read_plan", "write_plan"} | {"plan_diff"}, (
        registered - mentioned
    )
    for flag in ("--initiative", "--channels", "--metrics", "--constraints", "--timeline", "$ARGUMENTS"):
        assert flag in text


def test_the_command_walks_the_checklist_in_order_and_states_the_safeguards():
    body = (ROOT / "commands" / "define-profiles.md").read_text().split("---", 2)[2]
    headings = re.findall(r"^## (\d+)\. (.+)$", body, re.MULTILINE)
    # The step titles and their order are test_command_markdown.py's; here, the numbers the
    # slices below rely on.
    assert [int(number) for number, _ in headings] == list(range(len(headings)))
    intake = body.split("## 4.")[1].split("## 5.")[0].lower()
    assert "goals" in intake and "personas" in intake and "lifecycle" in intake and "ask" in intake
    safeguards = body.split("## 9.")[1].split("## 10.")[0]
    for phrase in (
        "at most 2 times (the plan's retry limit)",
        "escalation ladder",
        "fallback",
        "whenever an attribute, source or cadence changes later, update the plan",
        "`plan_diff`",
    ):
        assert phrase in safeguards, phrase
    assert "fallback owners" in body and "`git log" in body.split("## 11.")[1]
    # Companion servers are optional conditional steps: checked in test_command_markdown.py.


def test_agents_and_skill_exist_with_frontmatter_and_the_command_uses_them():
    command = (ROOT / "commands" / "define-profiles.md").read_text()
    for path, name in (
        (ROOT / "agents" / "personalization-architect.md", "personalization-architect"),
        (ROOT / "agents" / "customer-data-engineer.md", "customer-data-engineer"),
        (ROOT / "skills" / "decision-trees" / "SKILL.md", "decision-trees"),
    ):
        text = path.read_text()
        assert text.startswith("---\n") and f"name: {name}" in text and "description:" in text, path
        assert name in command
    ours = {full_tool_name(t["name"]) for t in _tool_docs()}
    for agent in (ROOT / "agents").glob("*.md"):
        listed = re.search(r"^tools: (.*)$", agent.read_text(), re.MULTILINE).group(1).split(", ")
        assert set(listed) <= ours, (agent.name, set(listed) - ours)
    skill = (ROOT / "skills" / "decision-trees" / "SKILL.md").read_text().lower()
    for topic in ("consent", "fallback", "shallow", "simulate"):
        assert topic in skill


def _copy_plugin(target: Path) -> Path:
    ignore = shutil.ignore_patterns(
        ".git",
        ".venv*",
        "__pycache__",
        "*.egg-info",
        ".pytest_cache",
        ".ruff_cache",
        ".hypothesis",
        "build",
        "dist",
        "bench",
    )
    shutil.copytree(ROOT, target, ignore=ignore, symlinks=True)
    return target


def _expand(value: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\{([A-Z_]+)\}", lambda m: env[m.group(1)], value)


def _uv_bin_dir() -> Path:
    found = shutil.which("uv") or (Path(sys.executable).parent / "uv")
    if not Path(found).exists():
        if IN_CI:
            pytest.fail("uv (a dev dependency) is required in CI to test the launcher's uv path")
        pytest.skip("uv is not installed; pip install uv to test the launcher's uv path")
    return Path(found).parent


FAKE_UV = """#!/bin/sh
echo "$*" >> "$(dirname "$0")/calls"
echo "error: Request failed after 3 retries: invalid peer certificate: UnknownIssuer" >&2
exit 1
"""


def _launcher_env(plugin: Path, project: Path, cache: Path, uv_dir: Path | None) -> dict[str, str]:
    """The environment Claude Code gives the server: the plugin and project folders, our cache,
    and a PATH with `uv_dir` first (without it, the launcher is told to skip uv)."""
    env = {
        **os.environ,
        "CLAUDE_PLUGIN_ROOT": str(plugin),
        "CLAUDE_PROJECT_DIR": str(project),
        "PERSONALIZATION_ENGINE_CACHE": str(cache),
        "UV_CACHE_DIR": str(cache.parent / "uv-cache"),
    }
    env.pop("PERSONALIZATION_ENGINE_WORKSPACE", None)
    env.pop("PERSONALIZATION_ENGINE_NO_UV", None)
    if uv_dir is None:
        env["PERSONALIZATION_ENGINE_NO_UV"] = "1"
    else:
        env["PATH"] = f"{uv_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def _launch(plugin: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["python3", str(plugin / "server" / "launch.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture(scope="module")
def built_with_pip(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A plugin copy whose first start met a `uv` that fails the way uv does behind a TLS proxy."""
    base = tmp_path_factory.mktemp("launcher")
    plugin = _copy_plugin(base / "plugin-cache" / "personalization-engine" / __version__)
    fake = base / "fake-uv"
    fake.mkdir()
    (fake / "uv").write_text(FAKE_UV)
    (fake / "uv").chmod(0o755)
    env = _launcher_env(plugin, init_repo(base / "project"), base / "cache", fake)
    first = _launch(plugin, env, "--version")
    assert first.returncode == 0, first.stderr[-3000:]
    (current,) = (base / "cache").glob("venv-*")
    return {"plugin": plugin, "env": env, "first": first, "current": current, "fake": fake}


@pytest.mark.slow
def test_when_uv_fails_the_first_start_builds_with_pip_and_stdout_carries_only_the_command(built_with_pip):
    first = built_with_pip["first"]
    assert first.stdout == f"personalization-engine {__version__}\n"
    assert "venv" in (built_with_pip["fake"] / "calls").read_text()  # uv was tried first
    for progress in (
        "first start: creating a Python environment",
        "invalid peer certificate: UnknownIssuer",  # uv's own reason, passed through
        "'uv venv' failed (exit status 1); building the environment with pip instead",
        "with pip",
        "environment ready in",
    ):
        assert progress in first.stderr, progress
    assert (built_with_pip["current"] / ".complete").read_text().strip() == str(built_with_pip["plugin"])
    assert built_with_pip["current"].name.startswith(f"venv-{__version__}-")


def _stale_env(cache: Path, name: str, owner: Path | None) -> Path:
    env_dir = cache / name
    (env_dir / "bin").mkdir(parents=True)
    if owner is not None:
        (env_dir / ".complete").write_text(f"{owner}\n")
    return env_dir


def _held_by_another_process(lock_file: Path) -> bool:
    import fcntl

    with lock_file.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        return False


@pytest.mark.slow
def test_each_start_removes_environments_of_older_or_removed_installs_and_keeps_those_in_use(
    built_with_pip, tmp_path
):
    import fcntl

    plugin, env, current = built_with_pip["plugin"], built_with_pip["env"], built_with_pip["current"]
    cache = current.parent
    other_install = tmp_path / "other-install"
    other_install.mkdir()
    removed = [
        _stale_env(cache, "venv-0.0.9-" + "a" * 16, plugin.parent / "0.0.9"),
        _stale_env(cache, "venv-" + "b" * 16, plugin),  # named by the launcher before versions
        _stale_env(cache, f"venv-{__version__}-" + "c" * 16, tmp_path / "deleted-install"),
        _stale_env(cache, f"venv-{__version__}-" + "d" * 16, plugin),  # this install, older deps
        _stale_env(cache, "venv-0.0.7-" + "f" * 16, None),  # a build that died half-way
    ]
    newer = _stale_env(cache, "venv-9.0.0-" + "e" * 16, other_install)
    in_use = _stale_env(cache, "venv-0.0.8-" + "0" * 16, plugin.parent / "0.0.8")
    (cache / "locks").mkdir(exist_ok=True)
    with (cache / "locks" / f"{in_use.name}.in-use").open("a+") as running_server:
        fcntl.flock(running_server, fcntl.LOCK_SH)  # as a server still running from 0.0.8 does
        again = _launch(plugin, env, "--version")
        assert again.returncode == 0, again.stderr
        assert again.stdout == f"personalization-engine {__version__}\n"
        assert "first start" not in again.stderr
        assert [env_dir for env_dir in removed if env_dir.exists()] == []
        for env_dir in removed:
            assert f"removed {env_dir.name}" in again.stderr
        assert current.is_dir() and newer.is_dir() and in_use.is_dir()
    # Once that server has exited, the next start removes its environment too.
    after = _launch(plugin, env, "--version")
    assert after.returncode == 0, after.stderr
    assert not in_use.exists() and current.is_dir() and newer.is_dir()


@pytest.mark.slow
def test_a_running_server_holds_its_environment_in_use_until_it_exits(built_with_pip):
    plugin, env, current = built_with_pip["plugin"], built_with_pip["env"], built_with_pip["current"]
    lock_file = current.parent / "locks" / f"{current.name}.in-use"
    params = StdioServerParameters(
        command="python3", args=[str(plugin / "server" / "launch.py"), "serve"], env=env, cwd=str(plugin)
    )

    async def drive() -> bool:
        with anyio.fail_after(120):
            async with Client(stdio_client(params)) as c:
                await c.list_tools()  # the launcher has exec'd the server by now
                return _held_by_another_process(lock_file)

    assert anyio.run(drive) is True
    assert _held_by_another_process(lock_file) is False


@pytest.mark.slow
@pytest.mark.parametrize("builder", ["pip", "uv"])
def test_the_server_starts_exactly_as_mcp_json_says_from_a_copy_of_the_plugin(
    tmp_path, builder, built_with_pip
):
    if builder == "pip":
        # The environment the failing-uv first start built with pip (that start is tested above).
        plugin = built_with_pip["plugin"]
        env = {**built_with_pip["env"], "CLAUDE_PROJECT_DIR": str(init_repo(tmp_path / "project"))}
    else:
        plugin = _copy_plugin(tmp_path / "plugin-cache" / "personalization-engine" / __version__)
        env = _launcher_env(plugin, init_repo(tmp_path / "project"), tmp_path / "cache", _uv_bin_dir())
    project = Path(env["CLAUDE_PROJECT_DIR"])
    spec = json.loads((plugin / ".mcp.json").read_text())["mcpServers"]["engine"]
    params = StdioServerParameters(
        command=_expand(spec["command"], env),
        args=[_expand(a, env) for a in spec["args"]],
        env={**env, **{k: _expand(v, env) for k, v in spec["env"].items()}},
        cwd=str(plugin),  # user-scope installs have started servers in the plugin cache
    )

    log = tmp_path / "server-stderr.log"

    async def drive() -> dict:
        with anyio.fail_after(600), log.open("w") as errlog:
            async with Client(stdio_client(params, errlog=errlog)) as c:
                result = await c.call_tool(
                    "create_plan", {"initiative": "PLG Onboarding", "channels": ["web"]}
                )
                assert not result.is_error, " ".join(getattr(p, "text", "") for p in result.content)
                return result.structured_content

    created = anyio.run(drive)
    assert (project / ".claude" / "plans" / f"{created['plan_id']}.json").is_file()
    # The plugin folder (which carries the worked example in .claude/plans) gets nothing new.
    assert not list(plugin.glob(f".claude/plans/{created['plan_id']}*"))
    assert git(project, "rev-list", "--count", "HEAD") == "1"
    if builder == "uv":
        # uv built the environment in our cache, from its own download cache, and said so on stderr.
        progress = log.read_text()
        assert "first start: creating a Python environment" in progress and "with uv" in progress
        assert "with pip" not in progress and "environment ready in" in progress
        assert list((tmp_path / "cache").glob(f"venv-{__version__}-*/.complete"))
        assert (tmp_path / "uv-cache").is_dir()


def _npx() -> str | None:
    found = shutil.which("npx")
    if found is None and IN_CI:
        pytest.fail("npx is required in CI to validate the plugin")
    if found is None:
        pytest.skip("npx not found; install Node.js to validate the plugin with Claude Code's validator")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("target", ["marketplace", "plugin-folder"])
def test_claude_code_plugin_validate_strict_passes(tmp_path, target):
    npx = _npx()
    if target == "marketplace":
        folder = ROOT
    else:
        # Without a marketplace file the validator checks the plugin itself: manifest and commands.
        folder = _copy_plugin(tmp_path / "plugin")
        (folder / ".claude-plugin" / "marketplace.json").unlink()
    proc = subprocess.run(
        [npx, "-y", "@anthropic-ai/claude-code", "plugin", "validate", "--strict", str(folder)],
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Validation passed" in proc.stdout

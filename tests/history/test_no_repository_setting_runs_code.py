"""No repository setting runs code: each setting points at a canary program that only creates a file.

Every case first proves that plain git runs the canary for that setting (where git can be made to
without a terminal or a network), so a case cannot pass because its setting is inert.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from personalization_engine.history import git_repo
from personalization_engine.store.workspace import Workspace

from ..conftest import git
from .conftest import MESSAGE, WHEN, canary_ran, open_repo, write_plan

HOOKS = (
    "pre-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "pre-auto-gc",
    "post-rewrite",
    "reference-transaction",
    "post-index-change",
    "post-checkout",
    "fsmonitor-watchman",
)


def sign_head(root: Path, *config: str) -> None:
    """Replace HEAD by the same commit carrying a (fake) signature, which `log` would verify."""
    body = git(root, *config, "cat-file", "commit", "HEAD")
    header, _, message = body.partition("\n\n")
    signature = "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAd\n -----END PGP SIGNATURE-----"
    signed = f"{header}\n{signature}\n\n{message}\n"
    sha = subprocess.run(
        ["git", *config, "hash-object", "-t", "commit", "-w", "--stdin"],
        cwd=root,
        input=signed,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    git(root, *config, "update-ref", "HEAD", sha)


def config_file(path: Path, section: str, key: str, value: str) -> Path:
    path.write_text(f"[{section}]\n\t{key} = {value}\n")
    return path


@dataclass(frozen=True)
class Setting:
    name: str
    setup: Callable[[Path, Path, Path], None]  # (repository, home, canary)
    proof: tuple[str, ...] | None  # a plain git command that runs the canary; None: needs a tty/network


def _hooks(root: Path, _home: Path, canary: Path) -> None:
    for name in HOOKS:
        (root / ".git" / "hooks" / name).symlink_to(canary)


def _hooks_path(*scope: str) -> Callable[[Path, Path, Path], None]:
    def setup(root: Path, _home: Path, canary: Path) -> None:
        folder = root.parent / "my-hooks"
        folder.mkdir()
        for name in HOOKS:
            (folder / name).symlink_to(canary)
        git(root, "config", *scope, "core.hooksPath", str(folder))

    return setup


def _attribute(line: str, key: str, *scope: str) -> Callable[[Path, Path, Path], None]:
    def setup(root: Path, _home: Path, canary: Path) -> None:
        (root / ".gitattributes").write_text(line + "\n")
        git(root, "config", *scope, key, str(canary))

    return setup


def _process_filter(root: Path, _home: Path, canary: Path) -> None:
    (root / ".gitattributes").write_text("*.json filter=canary\n*.md filter=canary\n")
    git(root, "config", "filter.canary.process", str(canary))
    git(root, "config", "filter.canary.required", "true")


def _config(key: str, value: str = "{canary}", extra: dict[str, str] | None = None, *scope: str):
    def setup(root: Path, _home: Path, canary: Path) -> None:
        for name, setting in {key: value, **(extra or {})}.items():
            git(root, "config", *scope, name, setting.format(canary=canary))

    return setup


def _include(kind: str):
    def setup(root: Path, home: Path, canary: Path) -> None:
        included = config_file(root.parent / "included.cfg", "core", "fsmonitor", str(canary))
        key = "include.path" if kind == "path" else f"includeIf.gitdir:{root.resolve()}/.path"
        git(root, "config", key, str(included))

    return setup


def _global_fsmonitor(_root: Path, home: Path, canary: Path) -> None:
    config_file(home / ".gitconfig", "core", "fsmonitor", str(canary))


def _signed_history(root: Path, _home: Path, canary: Path) -> None:
    sign_head(root)
    git(root, "config", "log.showSignature", "true")
    git(root, "config", "gpg.program", str(canary))


_JSON_CLEAN = _attribute("*.json filter=canary", "filter.canary.clean")
_MD_CLEAN = _attribute("*.md filter=canary", "filter.canary.clean")
_JSON_TEXTCONV = _attribute("*.json diff=canary", "diff.canary.textconv")

SETTINGS = [
    Setting("core.fsmonitor", _config("core.fsmonitor"), ("status",)),
    Setting("core.fsmonitor through include.path", _include("path"), ("status",)),
    Setting("core.fsmonitor through includeIf", _include("if"), ("status",)),
    Setting("core.fsmonitor in the global config", _global_fsmonitor, ("status",)),
    Setting("hooks in .git/hooks", _hooks, ("commit", "--allow-empty", "-m", "x")),
    Setting("core.hooksPath", _hooks_path(), ("commit", "--allow-empty", "-m", "x")),
    Setting("a clean filter on *.json", _JSON_CLEAN, ("add", "proof.json")),
    Setting("a clean filter on *.md", _MD_CLEAN, ("add", "proof.md")),
    Setting("a process filter on *.json and *.md", _process_filter, ("add", "proof.json")),
    Setting("textconv on *.json", _JSON_TEXTCONV, ("log", "-p", "-1", "--", "*.json")),
    Setting("diff.external", _config("diff.external"), ("diff", "HEAD~0", "--", "notes.txt")),
    Setting("core.pager and pager.log", _config("core.pager", extra={"pager.log": "{canary}"}), None),
    Setting("core.editor", _config("core.editor"), ("commit", "--allow-empty")),
    Setting(
        "gpg.program with commit.gpgSign",
        _config("gpg.program", extra={"commit.gpgSign": "true", "user.signingKey": "ABCD"}),
        ("commit", "--allow-empty", "-m", "x"),
    ),
    Setting(
        "gpg.ssh.program with gpg.format=ssh",
        _config(
            "gpg.ssh.program",
            extra={"gpg.format": "ssh", "commit.gpgSign": "true", "user.signingKey": "key::ssh-ed25519 AAAA"},
        ),
        ("commit", "--allow-empty", "-m", "x"),
    ),
    Setting("gpg.program with log.showSignature on a signed commit", _signed_history, ("log",)),
    Setting("core.sshCommand", _config("core.sshCommand"), ("ls-remote", "ssh://example.invalid/x")),
    Setting(
        "core.askPass and credential.helper",
        _config("core.askPass", extra={"credential.helper": "!{canary}"}),
        None,
    ),
]


GLOBAL = "--global"
SETTINGS += [
    Setting(
        "a clean filter driver in the global config",
        _attribute("*.json filter=canary", "filter.canary.clean", GLOBAL),
        ("add", "proof.json"),
    ),
    Setting(
        "textconv in the global config",
        _attribute("*.json diff=canary", "diff.canary.textconv", GLOBAL),
        ("log", "-p", "-1", "--", "*.json"),
    ),
    Setting(
        "core.hooksPath in the global config", _hooks_path(GLOBAL), ("commit", "--allow-empty", "-m", "x")
    ),
    Setting(
        "diff.external in the global config",
        _config("diff.external", "{canary}", None, GLOBAL),
        ("diff", "HEAD~0", "--", "notes.txt"),
    ),
    Setting(
        "core.editor in the global config",
        _config("core.editor", "{canary}", None, GLOBAL),
        ("commit", "--allow-empty"),
    ),
    Setting(
        "gpg.program with commit.gpgSign in the global config",
        _config("gpg.program", "{canary}", {"commit.gpgSign": "true", "user.signingKey": "ABCD"}, GLOBAL),
        ("commit", "--allow-empty", "-m", "x"),
    ),
    Setting(
        "core.sshCommand in the global config",
        _config("core.sshCommand", "{canary}", None, GLOBAL),
        ("ls-remote", "ssh://example.invalid/x"),
    ),
]


def plain_git(root: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_EDITOR", "GIT_PAGER", "EDITOR", "PAGER")}
    subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, stdin=subprocess.DEVNULL)


def every_plan_operation(root: Path) -> None:
    """The history layer's write path and every read path, as the core uses them."""
    repo = git_repo.open_repository(Workspace(root=root.resolve(), source="option"), create=True)
    assert repo is not None
    git_repo.check_ready_to_commit(repo)
    assert git_repo.git_user_name(repo) == "Test User"
    plan = write_plan(root)
    report = root / ".claude" / "plans" / "plan-1" / "profiles.md"
    report.write_text("# Profiles, r2\n")
    sha = git_repo.commit_paths(repo, [plan, report], MESSAGE, WHEN)
    history = git_repo.log_for(repo, [".claude/plans/plan-1.json"])
    assert history[0].sha == sha
    assert git_repo.file_at(repo, history[-1].sha, ".claude/plans/plan-1.json") == b'{"revision": 1}\n'
    assert git_repo.head_content(repo, plan) == b'{"revision": 2}\n'
    assert git_repo.head_content(repo, report) == b"# Profiles, r2\n"


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.name for s in SETTINGS])
def test_no_plan_operation_runs_a_program_the_repository_configures(
    setting: Setting, project: Path, home: Path, canary: Path
):
    (project / "notes.txt").write_text("the user's own notes\n")
    git(project, "add", "notes.txt")
    (project / "notes.txt").write_text("the user's own notes, edited\n")
    setting.setup(project, home, canary)

    every_plan_operation(project)

    assert not canary_ran(canary)
    assert git(project, "diff", "--cached", "--name-only") == "notes.txt"  # still staged, uncommitted
    if setting.proof is not None:
        for name in ("proof.json", "proof.md"):
            (project / name).write_text("{}\n")
        plain_git(project, *setting.proof)
        assert canary_ran(canary), f"plain `git {' '.join(setting.proof)}` should run the canary"


def test_settings_given_through_the_environment_of_a_git_hook_do_not_reach_our_commands(
    project: Path, canary: Path, monkeypatch: pytest.MonkeyPatch
):
    # A server started from a git hook or alias inherits `-c` values and a pinned GIT_DIR.
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", f"'core.fsmonitor'='{canary}'")
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "core.hooksPath")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", str(canary.parent))
    monkeypatch.setenv("GIT_EXTERNAL_DIFF", str(canary))
    monkeypatch.setenv("GIT_DIR", str(project.parent / "elsewhere.git"))
    every_plan_operation(project)
    assert not canary_ran(canary)


def test_the_cli_runs_no_repository_program_end_to_end(tmp_path: Path, home: Path, canary: Path):
    root = tmp_path / "hostile"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for setting in SETTINGS:
        if setting.setup is not _signed_history and "core.hooksPath" not in setting.name:
            setting.setup(root, home, canary)
    (root / ".gitattributes").write_text("*.json filter=canary diff=canary\n*.md filter=canary\n")
    git(root, "config", "log.showSignature", "true")
    cli = [str(Path(sys.executable).parent / "personalization-engine")]
    created = subprocess.run(
        [*cli, "plans", "new", "--workspace", str(root), "--initiative", "X", "--channels", "web", "--json"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    plan_id = json.loads(created.stdout)["plan_id"]
    sign_head(root, "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false")
    for command in (["log", plan_id], ["show", plan_id], ["list"]):
        done = subprocess.run(
            [*cli, "plans", *command, "--workspace", str(root)],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    assert not canary_ran(canary)
    assert (
        git(root, "log", "--format=%an <%ae>") == "personalization-engine <personalization-engine@localhost>"
    )
    open_repo(root)  # still a repository we accept
    plain_git(root, "log")
    assert canary_ran(canary), "plain `git log` verifies the signed commit with the canary"


def test_the_mcp_server_runs_no_repository_program_for_any_write_render_or_read(
    tmp_path: Path, home: Path, canary: Path
):
    import anyio
    from mcp import Client, StdioServerParameters

    root = tmp_path / "hostile-mcp"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for setting in SETTINGS:
        if setting.setup is not _signed_history and "core.hooksPath" not in setting.name:
            setting.setup(root, home, canary)
    (root / ".gitattributes").write_text("*.json filter=canary diff=canary\n*.md filter=canary\n")
    git(root, "config", "log.showSignature", "true")
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "personalization_engine.cli.main", "serve", "--workspace", str(root)],
        env={**os.environ},
    )

    async def session() -> None:
        with anyio.fail_after(240):
            async with Client(server) as client:
                created = await client.call_tool("create_plan", {"initiative": "X", "channels": ["web"]})
                assert not created.is_error, created.content
                plan_id = created.structured_content["plan_id"]
                attributes = {
                    "plan_id": plan_id,
                    "expected_revision": 1,
                    "attributes": [{"name": "plan_tier", "type": "string"}],
                }
                written = await client.call_tool("inventory_attributes", attributes)
                assert not written.is_error, written.content
                sign_head(root, "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false")
                calls = [
                    ("record_blocker", {"plan_id": plan_id, "kind": "consent", "subject": "x"}),
                    ("render_deliverables", {"plan_id": plan_id}),
                    ("plan_history", {"plan_id": plan_id}),
                    ("plan_diff", {"plan_id": plan_id, "from_revision": 1, "to_revision": 2}),
                    ("read_plan", {"plan_id": plan_id, "revision": 1}),
                    ("list_plans", {}),
                ]
                for name, arguments in calls:
                    result = await client.call_tool(name, arguments)
                    assert not result.is_error, (name, result.content)

    anyio.run(session)
    assert not canary_ran(canary)

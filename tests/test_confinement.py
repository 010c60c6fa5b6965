"""Plan ids, paths and workspaces that would leave the workspace or its repository are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from personalization_engine.core.engine import Engine
from personalization_engine.errors import ConfinementError, WorkspaceError
from personalization_engine.history import git_repo
from personalization_engine.store.workspace import Workspace, resolve_workspace

from .conftest import git, init_repo


@pytest.mark.parametrize(
    "bad_id",
    ["../x", "/etc/passwd", "-rf", "plan-20261124T090000Z\0", "plan-20261124T090000Z ", "plan-x", ""],
)
def test_a_plan_id_that_is_not_exactly_a_plan_id_is_refused_by_name(
    engine: Engine, plan_id, bad_id, repo_dir: Path
):
    def snapshot() -> tuple[str, list[str]]:
        files = sorted(str(p.relative_to(repo_dir)) for p in repo_dir.rglob("*") if ".git" not in p.parts)
        return git(repo_dir, "rev-parse", "HEAD"), files

    before = snapshot()
    with pytest.raises(ConfinementError, match=r"plan_id .* is not a plan id"):
        engine.read_plan(bad_id)
    with pytest.raises(ConfinementError, match=r"is not a plan id"):
        engine.apply(bad_id, "plan", lambda p: p, expected_revision=1, actor="x")
    assert snapshot() == before  # no file and no commit anywhere


def test_a_symlinked_plans_folder_is_refused_and_nothing_is_written(tmp_path: Path):
    project = init_repo(tmp_path / "project")
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / ".claude").mkdir()
    (project / ".claude" / "plans").symlink_to(outside)
    engine = Engine(Workspace(root=project.resolve(), source="option"))
    with pytest.raises(ConfinementError, match=r"plans' is a symlink"):
        engine.create_plan(initiative="X", channels=["web"], actor="a")
    assert list(outside.iterdir()) == []


def test_git_refs_and_paths_starting_with_a_dash_are_refused(repo_dir):
    repo = git_repo.open_repository(Workspace(root=repo_dir.resolve(), source="option"), create=False)
    assert repo is not None
    with pytest.raises(ConfinementError, match="must not be empty, start with '-'"):
        git_repo.file_at(repo, "--output=/tmp/x", "a.json")
    with pytest.raises(ConfinementError, match="start with '-'"):
        git_repo.log_for(repo, ["-p"])


def test_workspace_comes_from_option_then_env_then_claude_project_dir_then_cwd(tmp_path: Path):
    a, b, c, d = (tmp_path / n for n in "abcd")
    for folder in (a, b, c, d):
        folder.mkdir()
    env = {"PERSONALIZATION_ENGINE_WORKSPACE": str(b), "CLAUDE_PROJECT_DIR": str(c)}
    assert resolve_workspace(str(a), environ=env, cwd=d).root == a.resolve()
    assert resolve_workspace(None, environ=env, cwd=d).root == b.resolve()
    assert resolve_workspace(None, environ={"CLAUDE_PROJECT_DIR": str(c)}, cwd=d).root == c.resolve()
    chosen = resolve_workspace(None, environ={}, cwd=d)
    assert (chosen.root, chosen.source) == (d.resolve(), "cwd")


def test_unexpanded_tokens_are_ignored(tmp_path: Path):
    env = {"PERSONALIZATION_ENGINE_WORKSPACE": "${CLAUDE_PROJECT_DIR}", "CLAUDE_PROJECT_DIR": str(tmp_path)}
    assert resolve_workspace("${WORKSPACE}", environ=env, cwd=tmp_path).root == tmp_path.resolve()


def test_the_plugin_folder_is_never_a_workspace_and_the_error_says_how_to_set_one(tmp_path, monkeypatch):
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    monkeypatch.setenv("CLAUDE_PLUGIN_ROOT", str(plugin))
    with pytest.raises(WorkspaceError, match=r"plugin's own install folder.*--workspace DIR"):
        resolve_workspace(None, environ={"CLAUDE_PROJECT_DIR": str(plugin)}, cwd=tmp_path)
    cache = tmp_path / "home" / ".claude" / "plugins" / "cache" / "pe"
    cache.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CLAUDE_PLUGIN_ROOT")
    with pytest.raises(WorkspaceError, match="plugin's own install folder"):
        resolve_workspace(None, environ={}, cwd=cache)


def test_a_workspace_inside_another_repository_is_refused_unless_allowed(tmp_path: Path):
    outer = init_repo(tmp_path / "home")
    inner = outer / "projects" / "acme"
    inner.mkdir(parents=True)
    engine = Engine(resolve_workspace(str(inner), environ={}))
    with pytest.raises(WorkspaceError, match=r"inside the git repository .*home.*--allow-enclosing-repo"):
        engine.create_plan(initiative="X", channels=["web"], actor="a")
    assert not (inner / ".claude").exists()
    assert git(outer, "rev-list", "--all") == ""

    allowed = Engine(
        resolve_workspace(str(inner), environ={"PERSONALIZATION_ENGINE_ALLOW_ENCLOSING_REPO": "1"})
    )
    allowed.create_plan(initiative="X", channels=["web"], actor="a")
    assert git(outer, "rev-list", "--count", "HEAD") == "1"


def test_a_named_workspace_that_is_not_a_repository_is_initialised(tmp_path: Path):
    folder = tmp_path / "fresh"
    folder.mkdir()
    engine = Engine(resolve_workspace(str(folder), environ={}))
    engine.create_plan(initiative="X", channels=["web"], actor="a")
    assert (folder / ".git").is_dir()
    assert git(folder, "rev-list", "--count", "HEAD") == "1"


def test_the_current_folder_fallback_is_never_git_initialised(tmp_path: Path):
    folder = tmp_path / "cwd"
    folder.mkdir()
    engine = Engine(resolve_workspace(None, environ={}, cwd=folder))
    with pytest.raises(WorkspaceError, match="not a git repository and was not named"):
        engine.create_plan(initiative="X", channels=["web"], actor="a")
    assert not (folder / ".git").exists()
    assert list(folder.iterdir()) == []

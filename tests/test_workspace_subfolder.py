"""From a project's subfolder, the CLI finds the project's plans; it never climbs into a repository
that has none (a dotfiles repository in $HOME stays refused with the same message as before)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from personalization_engine.store.workspace import resolve_workspace

from .conftest import init_repo

NAMING_VARIABLES = (
    "PERSONALIZATION_ENGINE_WORKSPACE",
    "CLAUDE_PROJECT_DIR",
    "PERSONALIZATION_ENGINE_ALLOW_ENCLOSING_REPO",
)


def cli(cwd: Path, home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a person runs it in a terminal: no workspace named, only the current folder."""
    env = {k: v for k, v in os.environ.items() if k not in NAMING_VARIABLES}
    env["HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "personalization_engine.cli.main", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_plans_list_and_show_from_a_subfolder_use_the_project_top_level(
    engine, plan_id, repo_dir, tmp_path: Path
):
    deep = repo_dir / "src" / "app"
    deep.mkdir(parents=True)
    listed = cli(deep, tmp_path, "plans", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [row["plan_id"] for row in json.loads(listed.stdout)] == [plan_id]
    shown = cli(deep, tmp_path, "plans", "show", plan_id, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["initiative"] == "PLG Onboarding"
    assert not (deep / ".claude").exists()


def test_a_folder_inside_a_home_dotfiles_repository_is_still_refused(tmp_path: Path):
    home = init_repo(tmp_path / "home")
    project = home / "work" / "project"
    project.mkdir(parents=True)
    created = cli(project, home, "plans", "new", "--initiative", "X", "--channels", "web")
    assert created.returncode == 2
    assert created.stderr.startswith(
        f"error: workspace {str(project.resolve())!r} is inside the git repository "
        f"{str(home.resolve())!r} but is not its top level"
    ), created.stderr
    assert "--allow-enclosing-repo" in created.stderr and "Traceback" not in created.stderr
    listed = cli(project, home, "plans", "list")
    assert listed.returncode == 0 and listed.stdout.startswith("no plans yet"), listed.stderr
    assert not (home / ".claude").exists() and not (project / ".claude").exists()


def test_only_the_current_folder_guess_climbs_a_named_workspace_is_kept(repo_dir: Path):
    (repo_dir / ".claude" / "plans").mkdir(parents=True)
    deep = repo_dir / "src"
    deep.mkdir()
    assert resolve_workspace(None, environ={}, cwd=deep).root == repo_dir.resolve()
    assert resolve_workspace(str(deep), environ={}, cwd=deep).root == deep.resolve()
    named = {"CLAUDE_PROJECT_DIR": str(deep)}
    assert resolve_workspace(None, environ=named, cwd=deep).root == deep.resolve()


def test_a_nested_repository_is_the_top_level_even_when_an_outer_one_has_plans(repo_dir: Path):
    (repo_dir / ".claude" / "plans").mkdir(parents=True)
    inner = init_repo(repo_dir / "vendor" / "lib")
    deep = inner / "src"
    deep.mkdir()
    assert resolve_workspace(None, environ={}, cwd=deep).root == deep.resolve()

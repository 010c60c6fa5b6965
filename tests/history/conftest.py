"""Repositories for the history layer's tests: an isolated global config and a canary program."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from personalization_engine.history import git_repo
from personalization_engine.store.workspace import Workspace

from ..conftest import git, init_repo

WHEN = datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc)
MESSAGE = "attributes: add a (r2)\n\n- added a\n\nPlan-Id: plan-1\nPlan-Revision: 2\nActor: tester\n"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home, so the machine's global git config plays no part unless a test writes one."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository with a committed plan file and deliverable, and one staged file of the user's."""
    root = init_repo(tmp_path / "project")
    plans = root / ".claude" / "plans"
    (plans / "plan-1").mkdir(parents=True)
    (plans / "plan-1.json").write_text('{"revision": 1}\n')
    (plans / "plan-1" / "profiles.md").write_text("# Profiles\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "plan r1\n\nPlan-Id: plan-1\nPlan-Revision: 1")
    return root


def open_repo(root: Path) -> git_repo.Repository:
    repo = git_repo.open_repository(Workspace(root=root.resolve(), source="option"), create=False)
    assert repo is not None
    return repo


@pytest.fixture
def repo(project: Path) -> git_repo.Repository:
    return open_repo(project)


def write_plan(root: Path, text: str = '{"revision": 2}\n') -> Path:
    path = root / ".claude" / "plans" / "plan-1.json"
    path.write_text(text)
    return path


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    """A program that only creates a file; `canary.parent / 'ran'` exists once anything ran it."""
    script = tmp_path / "bin" / "canary"
    script.parent.mkdir()
    script.write_text(f"#!/bin/sh\ntouch {tmp_path / 'bin' / 'ran'}\nexit 1\n")
    script.chmod(0o755)
    return script


def canary_ran(canary: Path) -> bool:
    return (canary.parent / "ran").exists()


@pytest.fixture
def git_calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., list]:
    """Log every git command started from here on (through a `git` first on PATH).

    The returned function gives each call's arguments after the `-c` settings, or with
    with_settings=True, (settings, arguments) pairs.
    """
    shim = tmp_path / "shim"
    shim.mkdir()
    log = tmp_path / "git-calls"
    real_git = next(
        Path(folder) / "git"
        for folder in os.environ["PATH"].split(os.pathsep)
        if (Path(folder) / "git").is_file() and os.access(Path(folder) / "git", os.X_OK)
    )
    (shim / "git").write_text(
        f'#!/bin/sh\nprintf "%s\\0" "$@" >> {log}\necho >> {log}\nexec {real_git} "$@"\n'
    )
    (shim / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim}{os.pathsep}{os.environ['PATH']}")

    def calls(*, with_settings: bool = False) -> list:
        result = []
        for line in log.read_text().splitlines():
            args = line.split("\0")[:-1]
            split = 0
            while split < len(args) and args[split] == "-c":
                split += 2
            result.append((args[:split], args[split:]) if with_settings else args[split:])
        return result

    return calls

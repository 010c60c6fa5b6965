from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from personalization_engine.core.engine import Engine
from personalization_engine.store.workspace import Workspace

START = datetime(2026, 11, 24, 9, 0, 0, tzinfo=timezone.utc)


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True, stdin=subprocess.DEVNULL
    ).stdout.strip()


def init_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Test User")
    git(path, "config", "user.email", "test@example.com")
    return path


def json_text(result) -> dict:
    """The JSON document a text-only tool (read_plan, validate_plan) answers with."""
    assert not result.is_error, [getattr(part, "text", "") for part in result.content]
    assert result.structured_content is None
    return json.loads(result.content[0].text)


class TickingClock:
    """A fixed clock that advances one second per call, so plan ids and times are predictable."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        value = self.now
        self.now += timedelta(seconds=1)
        return value


@pytest.fixture
def repo_dir(tmp_path: Path) -> Path:
    return init_repo(tmp_path / "project")


@pytest.fixture
def workspace(repo_dir: Path) -> Workspace:
    return Workspace(root=repo_dir.resolve(), source="option")


@pytest.fixture
def clock() -> TickingClock:
    return TickingClock()


@pytest.fixture
def engine(workspace: Workspace, clock: TickingClock) -> Engine:
    # Tests carry their own time: writes happen on the ticking clock (and say `Clock: frozen`).
    return Engine(workspace, clock=clock, frozen_clock=True)


@pytest.fixture
def plan_id(engine: Engine) -> str:
    return engine.create_plan(
        initiative="PLG Onboarding", channels=["web", "in-app", "email"], actor="test"
    ).plan_id

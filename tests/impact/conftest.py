"""A small plan whose revisions change one thing each, and a hand-checked dataset for them.

Revisions (the `impact_plan` fixture):
  2: trial (plan_tier = 'trial', priority 10), big (seats >= 10, priority 20)
  3: trial gains a condition (AND seats < 5); big's threshold changes (seats >= 8)
  4: as 2, but big's priority is 5 (a priority-only change)
  5: as 2, plus a profile free (plan_tier = 'free', priority 30)
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from personalization_engine.core.engine import Engine
from personalization_engine.model import Attribute, Plan, Profile

NOW = datetime(2026, 11, 24, 9, 0, 0, tzinfo=timezone.utc)
ATTRIBUTES = (
    Attribute(name="plan_tier", type="string"),
    Attribute(name="seats", type="integer"),
)
ROWS = [  # id, plan_tier, seats
    (1, "trial", 1),
    (2, "trial", 6),
    (3, "trial", 12),
    (4, "free", 9),
    (5, "free", 10),
    (6, "free", None),
    (7, "trial", None),
    (8, None, 3),
]


def cond(op: str, attr: str, value: object) -> dict:
    return {"op": op, "attr": attr, "value": value}


def profile(pid: str, eligibility: dict, priority: int) -> Profile:
    return Profile.model_validate({"id": pid, "name": pid, "eligibility": eligibility, "priority": priority})


TRIAL = profile("trial", cond("eq", "plan_tier", "trial"), 10)
BIG = profile("big", cond("gte", "seats", 10), 20)
REVISIONS: list[tuple[Profile, ...]] = [
    (TRIAL, BIG),
    (
        profile("trial", {"all": [cond("eq", "plan_tier", "trial"), cond("lt", "seats", 5)]}, 10),
        profile("big", cond("gte", "seats", 8), 20),
    ),
    (TRIAL, profile("big", cond("gte", "seats", 10), 5)),
    (TRIAL, BIG, profile("free", cond("eq", "plan_tier", "free"), 30)),
]


def write_rows(path: Path, rows: list[tuple] = ROWS) -> Path:
    lines = ["id,plan_tier,seats"] + [",".join("" if v is None else str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def impact_plan(engine: Engine, plan_id: str) -> str:
    for revision, profiles in enumerate(REVISIONS, start=1):

        def update(plan: Plan, profiles: tuple[Profile, ...] = profiles) -> Plan:
            return plan.model_copy(update={"attributes": ATTRIBUTES, "profiles": profiles})

        engine.apply(plan_id, "profiles", update, expected_revision=revision, actor="test")
    return plan_id


@pytest.fixture
def users_csv(repo_dir: Path) -> Path:
    (repo_dir / "data").mkdir(exist_ok=True)
    return write_rows(repo_dir / "data" / "users.csv")


from ..audience.conftest import pg_dsn  # noqa: E402,F401  (the session's PostgreSQL server)

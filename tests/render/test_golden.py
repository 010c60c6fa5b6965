"""Golden files: every deliverable of the worked example, byte for byte.

The golden files are the worked example's own deliverables in .claude/plans/plan-20261124T090000Z/,
which the demo renders with its fixed clock. When a template changes on purpose, regenerate them with
`python -m personalization_engine.docgen --example` (or `UPDATE_GOLDEN=1 pytest tests/render`).
"""

from __future__ import annotations

import os

import pytest

from personalization_engine.render import DELIVERABLES, render_deliverables

from .helpers import GOLDEN, example_plan

UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    files = render_deliverables(example_plan())
    if UPDATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (GOLDEN / name).write_bytes(text.encode("utf-8"))
    return files


@pytest.mark.parametrize("name", DELIVERABLES)
def test_each_deliverable_of_the_worked_example_matches_its_golden_file(rendered, name):
    expected = (GOLDEN / name).read_bytes().decode("utf-8")
    assert rendered[name] == expected, (
        f"{name} differs from {GOLDEN.relative_to(GOLDEN.parents[2])}/{name}; if the change is intended, "
        "regenerate with python -m personalization_engine.docgen --example"
    )


def test_the_worked_example_renders_every_listed_deliverable_and_nothing_else(rendered):
    assert sorted(rendered) == sorted(DELIVERABLES)
    # Beside the deliverables, the demo's exports (docs/exports.md), one folder per target.
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted([*DELIVERABLES, "exports"])
    assert sorted(p.name for p in (GOLDEN / "exports").iterdir()) == [
        "dbt",
        "flagd",
        "growthbook",
        "launchdarkly",
    ]

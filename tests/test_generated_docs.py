"""Generated reference docs are checked in and current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personalization_engine.docgen import generated_docs

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("relative", sorted(generated_docs()))
def test_generated_doc_is_current(relative):
    assert (ROOT / relative).read_text() == generated_docs()[relative], (
        f"{relative} is stale: run python -m personalization_engine.docgen"
    )


@pytest.mark.slow
def test_the_worked_example_is_what_the_demo_produces(tmp_path):
    import io

    from personalization_engine.demo import run_demo
    from personalization_engine.docgen import EXAMPLE_NOW

    folder = run_demo(str(tmp_path / "demo"), EXAMPLE_NOW, out=io.StringIO())
    produced = folder / ".claude" / "plans"
    checked_in = ROOT / ".claude" / "plans"
    names = sorted(
        p.relative_to(produced).as_posix()
        for p in produced.rglob("*")
        if p.is_file() and ".state" not in p.parts and p.name != ".write.lock"
    )
    assert names == sorted(p.relative_to(checked_in).as_posix() for p in checked_in.rglob("*") if p.is_file())
    for name in names:
        assert (checked_in / name).read_bytes() == (produced / name).read_bytes(), (
            f"{name} differs from a fresh demo run: python -m personalization_engine.docgen --example"
        )


@pytest.mark.slow
def test_the_demo_with_a_fixed_clock_prints_the_same_output_and_commits_twice(tmp_path):
    import io

    from personalization_engine.demo import run_demo
    from personalization_engine.docgen import EXAMPLE_NOW

    outputs = []
    for name in ("one", "two"):
        out = io.StringIO()
        folder = run_demo(str(tmp_path / name), EXAMPLE_NOW, out=out)
        outputs.append(out.getvalue().replace(str(folder), "<workspace>"))
    assert outputs[0] == outputs[1]
    assert "git log --oneline:" in outputs[0] and "final review (validate_plan): 0 errors" in outputs[0]
    # The floor for realistic content: 15 attributes, 4 profiles across web, in-app, email.
    plans = list((folder / ".claude" / "plans").glob("plan-*.json"))
    assert len(plans) == 1 and str(plans[0].relative_to(folder)) in outputs[0]
    plan = json.loads(plans[0].read_text())
    assert len(plan["attributes"]) >= 15 and len(plan["profiles"]) >= 4
    assert {"web", "in-app", "email"} <= {activation["channel"] for activation in plan["activations"]}
    assert f"r{plan['revision']}" in outputs[0]

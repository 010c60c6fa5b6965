"""Generated reference docs are checked in and current."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from personalization_engine.docgen import generated_docs

from .conftest import git

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


def _demo(folder: Path, frozen_clock: str) -> tuple[int, str]:
    """`personalization-engine demo DIR --frozen-clock T`, as documented; its exit code and output."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "personalization_engine.cli.main",
            "demo",
            str(folder),
            "--frozen-clock",
            frozen_clock,
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    return proc.returncode, (proc.stdout + proc.stderr).replace(str(folder.resolve()), "<workspace>")


@pytest.mark.slow
def test_the_demo_with_a_frozen_clock_prints_the_same_output_and_commits_twice(tmp_path):
    from personalization_engine.docgen import EXAMPLE_NOW

    outputs = []
    for name in ("one", "two"):
        folder = tmp_path / name
        code, out = _demo(folder, EXAMPLE_NOW)
        assert code == 0, out
        outputs.append(out)
    assert outputs[0] == outputs[1]
    assert "git log --oneline:" in outputs[0] and "final review (validate_plan): 0 errors" in outputs[0]
    # Every plan revision of a frozen-clock run says so in its commit.
    log = git(folder, "log", "--format=%s|%(trailers:key=Clock,valueonly,separator=)").splitlines()
    revisions = [line for line in log if line and not line.startswith(("render:", "export:"))]
    # 29: the stages, sizing, ledger, finalize, the exports' records, the lift readout, and the
    # proposed rule change with its impact run and the launched rule written back.
    assert len(revisions) == 29 and all(line.endswith("|frozen") for line in revisions), log
    # It ends by exporting the final revision to every target: each export's files, then its record.
    exports = [line for line in log if line.startswith("export:")]
    assert len(exports) == 4, exports
    assert all(" r20 " in line and line.endswith("|frozen") for line in exports), exports
    # It ends finalized and tagged, each approval confirmed in a commit its person authored.
    assert "finalize_plan: finalized revision 20" in outputs[0] and "stands in for the people" in outputs[0]
    assert git(folder, "tag", "--list", "personalization/*").split() == [
        "personalization/plan-20261124T090000Z/final-r20"
    ]
    authors = set(git(folder, "log", "--format=%an <%ae>").splitlines())
    people = {"Maya Chen <maya.chen@example.com>", "Grace Kim <grace.kim@example.com>"}
    assert people | {"Dana Whitfield <dana.whitfield@example.com>"} <= authors
    # The floor for realistic content: 15 attributes, 4 profiles across web, in-app, email.
    plans = list((folder / ".claude" / "plans").glob("plan-*.json"))
    assert len(plans) == 1 and str(plans[0].relative_to(folder)) in outputs[0]
    plan = json.loads(plans[0].read_text())
    assert len(plan["attributes"]) >= 15 and len(plan["profiles"]) >= 4
    assert {"web", "in-app", "email"} <= {activation["channel"] for activation in plan["activations"]}
    assert f"r{plan['revision']}" in outputs[0]


@pytest.mark.slow
def test_the_demo_a_year_later_ends_with_no_error_finding(tmp_path):
    # The demo's scenarios and sample data are relative to its clock, so it comes out clean on any
    # day; it exits non-zero when the final review has an error finding.
    code, out = _demo(tmp_path / "later", "2027-12-01T09:00:00Z")
    assert code == 0, out
    final = out[out.index("final review (validate_plan):") :].splitlines()
    assert final[0].startswith("final review (validate_plan): 0 errors,"), final[0]
    findings = [line for line in final[1:] if line.startswith("  ") and not line.startswith("  r")]
    assert not [line for line in findings if line.split()[0] == "error"], findings


def test_demo_json_prints_only_a_summary_on_stdout_through_the_cli_alone(tmp_path):
    # `demo --via cli --json`: the plan built with CLI commands only, the narrative on stderr.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "personalization_engine.cli.main",
            "demo",
            str(tmp_path / "cli"),
            "--via",
            "cli",
            "--json",
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    assert summary["via"] == "cli" and summary["final_review"]["error"] == 0
    assert summary["revision"] == summary["revisions"] >= 15
    assert Path(summary["plan_path"]).is_file()
    assert "final review (validate_plan)" in proc.stderr

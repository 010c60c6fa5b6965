"""Relative windows a flag system cannot evaluate are frozen at export time: the export lists them,
stays a no-op while they are fresh, and once older than the profile allows, the checks warn and the
next export freezes them again."""

from __future__ import annotations

from datetime import datetime, timedelta

from personalization_engine.core.engine import Engine
from personalization_engine.core.export_op import export_plan
from personalization_engine.core.ledger import record_blocker
from personalization_engine.store.workspace import Workspace

from ..conftest import START, git
from .helpers import EXAMPLE_ID, install_example


class SettableClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _engine(repo_dir, clock: SettableClock) -> Engine:
    # A frozen clock dates the writes too, so the checks measure the export's age at a known time.
    return Engine(Workspace(root=repo_dir.resolve(), source="option"), clock, frozen_clock=True)


def _later_ledger_write(engine: Engine) -> None:
    def blocker(plan, now):
        return record_blocker(plan, kind="data_pull", subject="nightly load", detail="", actor="t", now=now)

    engine.apply(EXAMPLE_ID, "governance", blocker, expected_revision=None, actor="t", timed=True)


def test_frozen_windows_are_listed_and_a_stale_export_is_flagged_until_exported_again(repo_dir):
    install_example(repo_dir)
    clock = SettableClock(START)
    engine = _engine(repo_dir, clock)
    first = export_plan(engine, EXAMPLE_ID, "launchdarkly", actor="t")
    assert first.bundle.cutoff_at == START
    frozen = {(c.profile_id, c.condition) for c in first.bundle.cutoffs}
    assert ("new-trial-activation", "signup_at within the last 14d") in frozen
    cutoff = next(c for c in first.bundle.cutoffs if c.condition == "signup_at within the last 14d")
    assert cutoff.cutoff == START - timedelta(days=14) and cutoff.allowed_age == "1h"

    # Half an hour later: still fresh, so exporting again writes nothing.
    clock.now = START + timedelta(minutes=30)
    head = git(repo_dir, "rev-parse", "HEAD")
    assert export_plan(engine, EXAMPLE_ID, "launchdarkly", actor="t").ledger is None
    assert git(repo_dir, "rev-parse", "HEAD") == head

    # Two hours later the new-trial profile's 1h latency SLA is exceeded.
    clock.now = START + timedelta(hours=2)
    _later_ledger_write(engine)
    stale = [f for f in engine.current_findings(EXAMPLE_ID)[1] if f.code == "export.cutoff_stale"]
    assert stale and all(f.severity == "warning" for f in stale)
    assert any("signup_at within the last 14d" in f.message and "1h" in f.message for f in stale)
    assert stale[0].pointer.startswith("/exports/0/cutoffs/")

    again = export_plan(engine, EXAMPLE_ID, "launchdarkly", actor="t")
    assert again.ledger is not None and again.bundle.cutoff_at == START + timedelta(hours=2)
    assert not [f for f in engine.current_findings(EXAMPLE_ID)[1] if f.code == "export.cutoff_stale"]


def test_validation_flags_a_stale_cutoff_of_a_plan_nobody_writes_to(repo_dir, capsys):
    from personalization_engine.cli.main import main

    install_example(repo_dir)
    clock = SettableClock(START)
    engine = _engine(repo_dir, clock)
    export_plan(engine, EXAMPLE_ID, "launchdarkly", actor="t")
    # No write since the export: the checks' own time (updated_at) is the export's.
    assert not [f for f in engine.current_findings(EXAMPLE_ID)[1] if f.code == "export.cutoff_stale"]
    # Validation measures the age at its evaluation time (--now), a day later.
    argv = ["plans", "validate", EXAMPLE_ID, "--workspace", str(repo_dir), "--json"]
    later = (START + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    main([*argv, "--now", later])
    report = capsys.readouterr().out
    assert "export.cutoff_stale" in report and "signup_at within the last 14d" in report
    main([*argv, "--now", START.isoformat().replace("+00:00", "Z")])
    assert "export.cutoff_stale" not in capsys.readouterr().out


def test_a_draft_export_of_a_plan_finalized_since_is_reported(repo_dir):
    from personalization_engine.core.finalize import finalize_plan

    install_example(repo_dir)
    engine = _engine(repo_dir, SettableClock(START))

    def unfinal(plan):
        return plan.model_copy(update={"final": None})

    engine.apply(EXAMPLE_ID, "governance", unfinal, expected_revision=None, actor="t")
    draft = export_plan(engine, EXAMPLE_ID, "flagd", actor="t")
    assert draft.draft
    assert not [f for f in engine.current_findings(EXAMPLE_ID)[1] if f.code == "export.outdated"]
    finalize_plan(engine, EXAMPLE_ID, expected_revision=None, actor="t")
    outdated = [f for f in engine.current_findings(EXAMPLE_ID)[1] if f.code == "export.outdated"]
    assert outdated and "is a draft, and the plan is now final" in outdated[0].message

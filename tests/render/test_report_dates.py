"""Deliverables show times as people read them, in UTC; report.html keeps the exact instant in the markup."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from personalization_engine.render import render_deliverables, render_report_html

from .helpers import example_plan

EXACT = datetime(2026, 11, 24, 9, 0, 17, 123456, tzinfo=timezone.utc)
TAG = re.compile(r"<[^>]+>")


def visible_text(page: str) -> str:
    return TAG.sub("", page.split("<body>", 1)[1])


def test_report_times_read_as_day_month_year_and_utc_minutes_without_seconds_or_microseconds():
    plan = example_plan()
    entries = tuple(entry.model_copy(update={"at": EXACT}) for entry in plan.change_log)
    page = render_report_html(plan.model_copy(update={"updated_at": EXACT, "change_log": entries}))
    text = visible_text(page)
    assert "updated 24 Nov 2026, 09:00 UTC" in text
    assert not re.search(r"\d{2}:\d{2}:\d{2}", text), "a time with seconds is visible"
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", text), "an ISO timestamp is visible"
    assert '<time datetime="2026-11-24T09:00:17.123456Z">24 Nov 2026, 09:00 UTC</time>' in page


def test_a_time_in_another_zone_is_shown_in_utc():
    plan = example_plan()
    berlin = EXACT.astimezone(timezone(timedelta(hours=1)))
    page = render_report_html(plan.model_copy(update={"updated_at": berlin}))
    assert 'updated <time datetime="2026-11-24T09:00:17.123456Z">24 Nov 2026, 09:00 UTC</time>' in page


def test_markdown_deliverables_show_readable_utc_times_without_seconds():
    plan = example_plan()
    entries = tuple(entry.model_copy(update={"at": EXACT}) for entry in plan.change_log)
    files = render_deliverables(plan.model_copy(update={"updated_at": EXACT, "change_log": entries}))
    for name in ("plan.md", "profiles.md", "profile-schema.md", "activation-checklist.md"):
        text = files[name]
        assert "updated 24 Nov 2026, 09:00 UTC" in text, name
        assert not re.search(r"\d{2}:\d{2}:\d{2}", text), f"{name} shows a time with seconds"
        assert not re.search(r"\d{4}-\d{2}-\d{2}T\d", text), f"{name} shows an ISO timestamp"
    assert "| 15 | 24 Nov 2026, 09:00 UTC |" in files["plan.md"]  # the change log


def test_the_data_contract_keeps_an_iso_timestamp_for_the_tools_that_read_it():
    files = render_deliverables(example_plan())
    created = r'^contractCreatedTs: "\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"$'
    assert re.search(created, files["data-contract.odcs.yaml"], re.M)

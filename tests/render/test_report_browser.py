"""report.html in headless Chromium (Debian's package): it shows the plan's profiles and logs nothing.

The page has no scripts and a policy that forbids fetches, so any console message at all (a blocked
fetch, a script error) is a defect. A control page with deliberate errors proves the detector works.
Outside CI the test skips when chromium is absent; in CI (CI=true) it fails instead.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from personalization_engine.render import render_report_html

from .helpers import chromium, example_plan, hostile

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=1",
]
CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\]? (.*)")


def load(page: Path, profile_dir: Path) -> tuple[str, list[str]]:
    """The DOM after load, and every console message the page produced."""
    done = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile_dir}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, [m.group(1) for m in CONSOLE.finditer(done.stderr)]


def test_the_console_detector_catches_script_errors_and_blocked_fetches(tmp_path):
    page = tmp_path / "control.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="img-src \'none\'">'
        "</head><body><h1>control</h1><script>console.error('boom'); missingFunction();</script>"
        '<img src="http://127.0.0.1:9/x.png"></body></html>',
        encoding="utf-8",
    )
    dom, messages = load(page, tmp_path / "profile")
    assert "control" in dom
    text = " ".join(messages)
    assert "boom" in text and "missingFunction" in text and "x.png" in text


def test_the_report_shows_every_profile_and_logs_no_console_message(tmp_path):
    plan = example_plan()
    page = tmp_path / "report.html"
    page.write_text(render_report_html(plan), encoding="utf-8")
    dom, messages = load(page, tmp_path / "profile")
    assert messages == []
    for profile in plan.profiles:
        assert profile.name in dom and profile.id in dom
    assert "<svg" in dom and 'class="matrix"' in dom


def test_a_report_of_hostile_values_runs_nothing_and_logs_nothing(tmp_path):
    page = tmp_path / "report.html"
    evil = "<script>console.error('pwned')</script><img src=x onerror=\"console.error('img')\">"
    page.write_text(render_report_html(hostile(example_plan(), evil)), encoding="utf-8")
    dom, messages = load(page, tmp_path / "profile")
    assert messages == []
    assert "<script>console.error" not in dom


def test_a_report_with_a_sizing_run_draws_the_heatmap_and_logs_nothing(tmp_path):
    from .test_sizing import sized

    page = tmp_path / "report.html"
    page.write_text(render_report_html(sized(example_plan())), encoding="utf-8")
    dom, messages = load(page, tmp_path / "profile")
    assert messages == []
    assert "Overlap heatmap" in dom and 'class="diagram heatmap"' in dom

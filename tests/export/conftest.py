"""Shared fixtures of the export tests: the worked example (the demo plan, finalized) and the time
its exports are evaluated at."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from personalization_engine.model import Plan

from ..render.helpers import example_plan

# The worked example's scenarios are evaluated at its own time; exports of it use the same instant.
EXAMPLE_AT = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def demo_plan() -> Plan:
    return example_plan()

"""The growthbook export (docs/exports.md): not built yet."""

from __future__ import annotations

from datetime import datetime

from ..errors import InputError
from ..model import Plan
from .common import ExportBundle


def export_growthbook(plan: Plan, *, exported_at: datetime, draft: bool) -> ExportBundle:
    raise InputError("the growthbook export is not built yet", field="target")

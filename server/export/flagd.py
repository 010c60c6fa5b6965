"""The flagd export (docs/exports.md): not built yet."""

from __future__ import annotations

from datetime import datetime

from ..errors import InputError
from ..model import Plan
from .common import ExportBundle


def export_flagd(plan: Plan, *, exported_at: datetime, draft: bool) -> ExportBundle:
    raise InputError("the flagd export is not built yet", field="target")

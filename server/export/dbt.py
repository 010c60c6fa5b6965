"""The dbt export (docs/exports.md): not built yet."""

from __future__ import annotations

from datetime import datetime

from ..errors import InputError
from ..model import Plan
from .common import ExportBundle


def export_dbt(plan: Plan, *, exported_at: datetime, draft: bool, dialect: str = "duckdb") -> ExportBundle:
    raise InputError("the dbt export is not built yet", field="target")

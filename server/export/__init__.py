"""The export layer: a plan's profiles and activations as destination artefacts (docs/exports.md).

Each target is a pure function of a plan: `export_<target>(plan, exported_at=..., draft=...)`
returns an ExportBundle (files as text, what it carries, what it refused and which relative windows
it froze). Nothing here writes or reads files; core.export_op does that.
"""

from __future__ import annotations

from datetime import datetime

from ..errors import InputError
from ..model import Plan
from ..model.targets import EXPORT_TARGETS
from .common import ExportBundle

__all__ = ["EXPORT_TARGETS", "ExportBundle", "build_export"]


def build_export(
    plan: Plan, target: str, *, exported_at: datetime, draft: bool, dialect: str | None = None
) -> ExportBundle:
    """The target's bundle for `plan`; the target's module loads on first use."""
    if target not in EXPORT_TARGETS:
        raise InputError(
            f"export target {target!r} is not one of {', '.join(EXPORT_TARGETS)}", field="target"
        )
    if dialect is not None and target != "dbt":
        raise InputError(
            f"dialect applies to the dbt target only, not {target}; leave it out", field="dialect"
        )
    if target == "dbt":
        from .dbt import export_dbt

        return export_dbt(plan, exported_at=exported_at, draft=draft, dialect=dialect or "duckdb")
    if target == "flagd":
        from .flagd import export_flagd

        return export_flagd(plan, exported_at=exported_at, draft=draft)
    if target == "launchdarkly":
        from .launchdarkly import export_launchdarkly

        return export_launchdarkly(plan, exported_at=exported_at, draft=draft)
    from .growthbook import export_growthbook

    return export_growthbook(plan, exported_at=exported_at, draft=draft)

"""The render layer: a plan revision as stakeholder documents, each a pure function of the plan.

`render_deliverables(plan)` returns every file by name; the `render_*` functions render one. See
docs/deliverables.md for what each file holds and how escaping keeps plan values inert.
"""

from __future__ import annotations

import csv
import io
from typing import get_args

from ..model import Plan
from ..model.stages import Purpose
from .contract import contract_context
from .environment import render_template
from .escaping import csv_cell, plain
from .readiness import status_word
from .view import PlanView, build_view

DELIVERABLES = (
    "profile-schema.md",
    "profile-schema.csv",
    "profiles.md",
    "activation-checklist.md",
    "plan.md",
    "data-contract.odcs.yaml",
    "report.html",
)
# One column per consent purpose, each holding the lawful basis (or nothing), so a spreadsheet can filter.
PURPOSES: tuple[str, ...] = get_args(Purpose)
CSV_COLUMNS = (
    "attribute",
    "type",
    "description",
    "source_id",
    "source_system",
    "refresh_cadence",
    "freshness_sla",
    *(f"consent_{purpose}" for purpose in PURPOSES),
    "pii_class",
    "owner",
    "required",
    "used_by_profiles",
    "plan_status",
)


def _view(plan: Plan | PlanView) -> PlanView:
    return plan if isinstance(plan, PlanView) else build_view(plan)


def render_profile_schema_md(plan: Plan | PlanView) -> str:
    view = _view(plan)
    return render_template("profile-schema.md.j2", plan=view.plan, view=view)


def render_profile_schema_csv(plan: Plan | PlanView) -> str:
    view = _view(plan)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    status = status_word(view.plan)
    for row in view.attributes:
        a = row.attribute
        bases: dict[str, list[str]] = {}
        for grant in a.consent:
            bases.setdefault(grant.purpose, []).append(grant.lawful_basis)
        values = (
            a.name,
            a.type,
            a.description,
            a.source_id,
            row.source.system if row.source else None,
            a.refresh_cadence,
            a.freshness_sla,
            *("; ".join(bases.get(purpose, [])) for purpose in PURPOSES),
            a.pii_class,
            a.owner,
            "true" if a.required else "false",
            " ".join(row.used_by),
            status,
        )
        writer.writerow([csv_cell(plain(v)) for v in values])
    return out.getvalue()


def render_profiles_md(plan: Plan | PlanView) -> str:
    view = _view(plan)
    return render_template("profiles.md.j2", plan=view.plan, view=view)


def render_activation_checklist_md(plan: Plan | PlanView) -> str:
    view = _view(plan)
    return render_template("activation-checklist.md.j2", plan=view.plan, view=view)


def render_plan_md(plan: Plan | PlanView) -> str:
    view = _view(plan)
    return render_template("plan.md.j2", plan=view.plan, view=view)


def render_data_contract(plan: Plan | PlanView) -> str:
    view = _view(plan)
    return render_template(
        "data-contract.odcs.yaml.j2", plan=view.plan, view=view, contract=contract_context(view.plan)
    )


def render_report_html(plan: Plan | PlanView) -> str:
    view = _view(plan)
    return render_template("report.html.j2", plan=view.plan, view=view)


_RENDERERS = {
    "profile-schema.md": render_profile_schema_md,
    "profile-schema.csv": render_profile_schema_csv,
    "profiles.md": render_profiles_md,
    "activation-checklist.md": render_activation_checklist_md,
    "plan.md": render_plan_md,
    "data-contract.odcs.yaml": render_data_contract,
    "report.html": render_report_html,
}


def render_deliverables(plan: Plan) -> dict[str, str]:
    """Every deliverable of one plan revision, by file name; the checks and SQL are computed once."""
    view = build_view(plan)
    return {name: _RENDERERS[name](view) for name in DELIVERABLES}


__all__ = [
    "CSV_COLUMNS",
    "DELIVERABLES",
    "PURPOSES",
    "PlanView",
    "build_view",
    "render_activation_checklist_md",
    "render_data_contract",
    "render_deliverables",
    "render_plan_md",
    "render_profile_schema_csv",
    "render_profile_schema_md",
    "render_profiles_md",
    "render_report_html",
]

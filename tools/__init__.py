"""The MCP tools, one module per group; server.py registers `ALL` in this order."""

from __future__ import annotations

from . import audience, impact, ledger, measure, plans, qa, render, review, rules, stages
from ._common import ToolSpec

ALL: tuple[ToolSpec, ...] = (
    *plans.TOOLS,
    *stages.TOOLS,
    *ledger.TOOLS,
    *qa.TOOLS,
    *rules.TOOLS,
    *audience.TOOLS,
    *measure.TOOLS,
    *impact.TOOLS,
    *render.TOOLS,
    *review.TOOLS,
)

"""Each MCP tool's CLI command: the CLI is a peer of MCP (a test fails when a tool has no twin)."""

from __future__ import annotations

TOOL_COMMANDS: dict[str, str] = {
    "create_plan": "plans new",
    "list_plans": "plans list",
    "read_plan": "plans show",
    "write_plan": "plans write",
    "validate_plan": "plans validate",
    "plan_history": "plans log",
    "plan_diff": "plans diff",
    "record_intake": "plans intake",
    "inventory_attributes": "plans attributes",
    "define_profiles": "plans profiles",
    "map_activation": "plans activation",
    "plan_governance": "plans governance",
    "record_blocker": "plans blocker",
    "resolve_blocker": "plans resolve",
    "record_approval": "plans record-approval",
    "record_qa_result": "plans qa-result",
    "simulate_profiles": "plans simulate",
    "compile_rules": "plans compile",
    "size_audiences": "plans size",
    "measure_lift": "plans lift",
    "record_impact": "plans impact",
    "render_deliverables": "plans render",
    "export_activation": "plans export",
    "finalize_plan": "plans finalize",
}

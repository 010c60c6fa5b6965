"""The rules layer: the canonical rule tree, checked against the inventory, evaluated, and compiled.

See docs/rules.md for the language and its semantics (three-valued logic, window boundaries, decay,
eligible_by modes).
"""

from .compile_jsonlogic import HALF_LIFE_OP, NOW_VAR, compile_jsonlogic, half_life_decay, jsonlogic_data
from .compile_sql import SQL_DIALECTS, ProfileSql, compile_sql, output_columns, profile_sql_expressions
from .findings import RULE_FINDING_CODES, overlap_findings, rule_findings
from .parse import parse_rule
from .records import load_records
from .scenarios import ScenarioResult, run_scenarios
from .simulate import (
    MAX_EXPLAINED,
    ConditionOutcome,
    FallbackApplied,
    ProfileExplanation,
    RecordVerdict,
    SimulationResult,
    simulate,
)
from .tree import MAX_CONDITIONS, MAX_DEPTH, check_rule_limits

__all__ = [
    "HALF_LIFE_OP",
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "MAX_EXPLAINED",
    "NOW_VAR",
    "RULE_FINDING_CODES",
    "SQL_DIALECTS",
    "ConditionOutcome",
    "FallbackApplied",
    "ProfileExplanation",
    "ProfileSql",
    "RecordVerdict",
    "ScenarioResult",
    "SimulationResult",
    "check_rule_limits",
    "compile_jsonlogic",
    "compile_sql",
    "half_life_decay",
    "jsonlogic_data",
    "load_records",
    "output_columns",
    "overlap_findings",
    "parse_rule",
    "profile_sql_expressions",
    "rule_findings",
    "run_scenarios",
    "simulate",
]

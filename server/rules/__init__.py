"""The rules layer: the canonical rule tree, checked against the inventory, evaluated, and compiled.

See docs/rules.md for the language and its semantics (three-valued logic, window boundaries, decay,
eligible_by modes).
"""

from typing import TYPE_CHECKING, Any

from .compile_jsonlogic import HALF_LIFE_OP, NOW_VAR, compile_jsonlogic, half_life_decay, jsonlogic_data
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

if TYPE_CHECKING:
    from .sql_compiler import SQL_DIALECTS, ProfileSql, compile_sql, output_columns, profile_sql_expressions

# The SQL compiler pulls in sqlglot (~100 ms to import); its names load on first use (PEP 562) so the
# server and the CLI start without it.
_SQL_NAMES = {"SQL_DIALECTS", "ProfileSql", "compile_sql", "output_columns", "profile_sql_expressions"}


def __getattr__(name: str) -> Any:
    if name not in _SQL_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import sql_compiler

    value = getattr(sql_compiler, name)
    globals()[name] = value
    return value


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

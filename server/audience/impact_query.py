"""One query that evaluates two revisions' rules over the same records: the impact of a change.

The inner SELECT computes one membership flag per distinct profile rule (a profile whose rules are
the same in both revisions compiles to the same SQL and is evaluated once), one flag per condition
that differs between the revisions, and the record id. The middle SELECT gives each revision's
winner index (its own priority order; -1 when no profile wins). The outer SELECT groups by the pair
of winners, so its rows are the flow matrix, and counts in each group the members of every profile
and the records every cause explains, with the smallest such id as an example (docs/impact.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from ..errors import InputError
from ..model import Plan
from ..rules.condition_sql import ConditionSql, condition_sqls
from ..rules.sql_names import column as rule_column
from .query import count_where

Side = Literal["a", "b"]


@dataclass
class CauseSql:
    """A candidate cause of a profile's moves, and the SQL (over the inner flags) of the records
    it explains."""

    profile_id: str
    cause: str
    side: Side  # the revision the pointer points into
    pointer: str
    condition: str | None
    explains: str


@dataclass
class ImpactQuery:
    sql: str
    order_a: list[str]  # profile ids in revision A's priority order (the winner index)
    order_b: list[str]
    net_a: dict[str, int]  # profile id -> index of its membership flag
    net_b: dict[str, int]
    flags: int
    causes: list[CauseSql] = field(default_factory=list)


_PRECEDENCE = "membership unchanged; a profile earlier in priority order wins them in one revision only"


def _sql_list(items: list[str]) -> str:
    return ",\n    ".join(items)


def _winner(order: list[str], flag_of: dict[str, int]) -> str:
    if not order:
        return "-1"
    whens = " ".join(f"WHEN pe_f{flag_of[p]} THEN {i}" for i, p in enumerate(order))
    return f"CASE {whens} ELSE -1 END"


def _paired(conds_a: list[ConditionSql], conds_b: list[ConditionSql]):
    """(A's condition or None, B's condition or None) for every condition that differs.

    A condition present in both revisions (same part, test and neutral value) is unchanged
    wherever it moved; of the rest, two at the same place are one condition changed.
    """
    remaining = list(conds_b)
    only_a = []
    for cond in conds_a:
        same = next((other for other in remaining if other.key == cond.key), None)
        if same is None:
            only_a.append(cond)
        else:
            remaining.remove(same)
    at_b = {cond.relative: cond for cond in remaining}
    for cond in only_a:
        yield cond, at_b.pop(cond.relative, None)
    yield from ((None, cond) for cond in at_b.values())


def _neutral(value: bool) -> str:
    return "TRUE" if value else "FALSE"


class _Builder:
    def __init__(self, plan_a: Plan, plan_b: Plan, dialect: str, now: datetime) -> None:
        from ..rules import profile_sql_expressions

        self.dialect = dialect
        self.plans = {"a": plan_a, "b": plan_b}
        self.exprs = {side: profile_sql_expressions(p, dialect, now=now) for side, p in self.plans.items()}
        self.conds = {side: condition_sqls(p, dialect, now=now) for side, p in self.plans.items()}
        self.flag_sql: list[str] = []
        self.differs: list[str] = []
        self.causes: list[CauseSql] = []

    def flag(self, sql: str) -> int:
        if sql not in self.flag_sql:
            self.flag_sql.append(sql)
        return self.flag_sql.index(sql)

    def pointer(self, side: Side, profile_id: str, suffix: str = "") -> str:
        index = next(i for i, p in enumerate(self.plans[side].profiles) if p.id == profile_id)
        return f"/profiles/{index}{suffix}"

    def add(self, profile_id: str, cause: str, side: Side, pointer: str, words: str | None, sql: str) -> None:
        self.causes.append(CauseSql(profile_id, cause, side, pointer, words, sql))

    def condition_causes(self, profile_id: str, changed: str) -> None:
        explained = []
        for before, after in _paired(self.conds["a"][profile_id], self.conds["b"][profile_id]):
            old = before.sql if before else _neutral(after.neutral)  # type: ignore[union-attr]
            new = after.sql if after else _neutral(before.neutral)  # type: ignore[union-attr]
            self.differs.append(f"(({old}) IS DISTINCT FROM ({new})) AS pe_x{len(self.differs)}")
            flag = f"pe_x{len(self.differs) - 1}"
            explained.append(flag)
            explains = f"{changed} AND {flag}"
            if before and after:
                words = f"{before.words} -> {after.words}"
                self.add(profile_id, "condition changed", "b", after.pointer, words, explains)
            elif before:
                self.add(profile_id, "condition removed", "a", before.pointer, before.words, explains)
            elif after:
                self.add(profile_id, "condition added", "b", after.pointer, after.words, explains)
        unexplained = f" AND NOT ({' OR '.join(explained)})" if explained else ""
        words = "rule structure, scoring, threshold, decay or eligible_by"
        where = self.pointer("b", profile_id)
        self.add(profile_id, "other rule change", "b", where, words, changed + unexplained)

    def profile_causes(self, profile_id: str, flag_a: int | None, flag_b: int | None) -> None:
        if flag_a is None:
            self.add(profile_id, "profile added", "b", self.pointer("b", profile_id), None, "TRUE")
            return
        if flag_b is None:
            self.add(profile_id, "profile removed", "a", self.pointer("a", profile_id), None, "TRUE")
            return
        same_members = "TRUE"
        if flag_a != flag_b:
            self.condition_causes(profile_id, f"pe_f{flag_a} <> pe_f{flag_b}")
            same_members = f"pe_f{flag_a} = pe_f{flag_b}"
        before, after = (self.exprs[s][profile_id].priority for s in ("a", "b"))
        words = f"priority {before} -> {after}" if before != after else _PRECEDENCE
        self.add(
            profile_id, "priority order", "b", self.pointer("b", profile_id, "/priority"), words, same_members
        )


def build_impact_query(
    plan_a: Plan,
    plan_b: Plan,
    dialect: str,
    relation: str,
    *,
    id_column: str,
    now: datetime,
    materialize_flags: bool = False,
) -> ImpactQuery:
    """The impact SQL over `relation` (the same FROM as sizing), both revisions evaluated at `now`."""
    build = _Builder(plan_a, plan_b, dialect, now)
    net_a = {pid: build.flag(p.net) for pid, p in build.exprs["a"].items()}
    net_b = {pid: build.flag(p.net) for pid, p in build.exprs["b"].items()}
    for profile_id in dict.fromkeys([*net_a, *net_b]):
        build.profile_causes(profile_id, net_a.get(profile_id), net_b.get(profile_id))
    if not build.flag_sql:
        raise InputError("neither revision has profiles; there is no impact to measure", field="to_revision")
    order_a, order_b = list(net_a), list(net_b)  # profile_sql_expressions is in priority order
    flags = [f"({sql}) AS pe_f{m}" for m, sql in enumerate(build.flag_sql)]
    identity = rule_column(id_column, dialect).sql(dialect=dialect)
    inner = [*flags, *build.differs, f"{identity} AS pe_id"]
    passed = [f"pe_f{m}" for m in range(len(flags))] + [f"pe_x{k}" for k in range(len(build.differs))]
    middle = [f"{_winner(order_a, net_a)} AS pe_wa", f"{_winner(order_b, net_b)} AS pe_wb", *passed, "pe_id"]
    outer = ["pe_wa", "pe_wb", "COUNT(*) AS pe_records"]
    outer += [f"{count_where(f'pe_f{m}', dialect)} AS pe_n{m}" for m in range(len(flags))]
    for k, cause in enumerate(build.causes):
        outer += [
            f"{count_where(cause.explains, dialect)} AS pe_c{k}",
            f"MIN(CASE WHEN {cause.explains} THEN pe_id END) AS pe_e{k}",
        ]
    fence = " OFFSET 0" if materialize_flags else ""
    sql = (
        f"SELECT\n    {_sql_list(outer)}\nFROM (\n  SELECT\n    {_sql_list(middle)}\n  FROM (\n"
        f"    SELECT\n    {_sql_list(inner)}\n    FROM {relation}{fence}\n  ) AS pe_flags\n) AS pe_winners\n"
        "GROUP BY pe_wa, pe_wb\n"
    )
    return ImpactQuery(sql, order_a, order_b, net_a, net_b, len(flags), build.causes)
